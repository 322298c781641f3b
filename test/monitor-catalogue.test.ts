// The event catalogue and the standard policies as the spec tables list them, and how a
// data-centre description selects a standard policy by name.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATEGORIES, RECOVERY_OF, bmcEvent, canonicalCategory, catalogue, lookup, normalizeEvent } from '../src/monitor/catalogue.js';
import { STANDARD_POLICIES, standardPolicy } from '../src/monitor/templates.js';
import { readDataCentre } from '../src/config/validate.js';
import { POLICY_ACTIONS } from '../src/domain/policy-actions.js';
import { ACTIONS } from '../src/monitor/actions.js';
import { withCommunity } from '../src/monitor/forwarding.js';
import { run } from './support/cli.js';

describe('event catalogue', () => {
  it('has every row of §2 (95), §3 (17) and §4 (60)', () => {
    const by = (s: string) => catalogue().filter((e) => e.source === s && !/^kanri/.test(e.event)).length;
    expect(by('SystemMonitorEvent')).toBe(95);
    // kanri's own sources: schedules, SNMP checks, the UPS.
    expect(catalogue().filter((e) => /^kanri(Schedule|SnmpCheck|UPS)\[0x[0-9A-F]{8}\]$/.test(e.event))).toHaveLength(9);
    expect(by('SystemMonitorPerf')).toBe(17);
    expect(by('VMwareProvider')).toBe(60);
  });

  it('keys events by source and ID; names with and without spaces are distinct sources, ESMDsikArray is ESMDiskArray', () => {
    expect(lookup('SystemMonitorEvent', 'esmdsvnt[0xc0000002]')).toMatchObject({ event: 'ESMDSVNT[0xC0000002]', category: 'マシンアクセス不可能障害', summaryJa: 'サーバアクセス不能' });
    expect(lookup('SystemMonitorEvent', 'ESM Mylex Service[0x80040205]')?.category).toBe('ハードディスク復旧可能障害');
    expect(lookup('SystemMonitorEvent', 'ESMMylexService[0x80040205]')).toBeUndefined();
    expect(lookup('SystemMonitorEvent', 'ESMDiskArray[0x400403E8]')?.category).toBe('ハードディスク復旧可能障害の回復');
    expect(lookup('SystemMonitorEvent', 'ESM Storage Service[0xC00423F6]')?.category).toBe('ハードディスク交換障害');
    expect(lookup('SystemMonitorPerf', '1000000a')).toMatchObject({ category: 'マシン用カスタム通報', summaryJa: 'マシン用カスタム通報10', scope: 'machine' });
    expect(lookup('SystemMonitorPerf', '11000001')).toMatchObject({ summaryJa: 'グループ用カスタム通報１', scope: 'group' });
    expect(lookup('VMwareProvider', 'Alarm Host CPU Usage on VMS changed from red to yellow')?.category).toBe('その他');
    expect(lookup('VMwareProvider', 'Alarm Virtual Machine Heartbeat on VM changed from green to red')?.category).toBe('ターゲットアクセス不可能障害');
    expect(lookup('VMwareProvider', 'Alarm Host Memory Usage on VMS changed from red to green')?.category).toBe('その他');
    expect(normalizeEvent('SystemMonitorEvent', 'ESMDSVNT 0xC0000002')).toBeUndefined();
  });

  it('categorises BMC events by sensor type and offset; aliases of the standard policy are the same categories', () => {
    expect(bmcEvent(0x07, 0x6f, 0x00, false)).toBe('BMC[0x00076F00]');
    expect(lookup('SystemMonitorEvent', 'BMC[0x00076F00]')).toMatchObject({ category: 'CPU障害' });
    expect(lookup('SystemMonitorEvent', 'BMC[0x000C6F01]')?.category).toBe('メモリ障害');
    expect(lookup('SystemMonitorEvent', 'BMC[0x00076F80]')?.category).toBeNull();
    expect(canonicalCategory('ディスク交換障害')).toBe('ハードディスク交換障害');
    expect(canonicalCategory('CPU高負荷障害')).toBe('CPU負荷障害');
    expect(RECOVERY_OF['マシンアクセス不可能障害']).toBe('マシンアクセス復旧');
    expect(CATEGORIES).toContain('VMサーバ用通報');
  });
});

describe('standard policies (§7)', () => {
  it('ship as the spec tables list them, odd rows included', () => {
    expect(STANDARD_POLICIES.map((p) => [p.name, p.rules.length])).toEqual([['標準ポリシー', 29], ['標準ポリシー (仮想マシンサーバ)', 5], ['標準ポリシー (仮想マシンサーバ 省電力)', 6]]);
    const std = standardPolicy('標準ポリシー')!;
    const row = (n: number) => std.rules[n - 1]!;
    expect(row(5)).toMatchObject({ event: 'ディスク交換障害', action_name: '故障ステータス設定', actions: ['notify', 'status-degraded'] });
    expect(row(7)).toMatchObject({ event: 'ディスク復旧可能障害', actions: ['status-degraded'] });
    expect(row(13)).toMatchObject({ event: 'クラスタ: ノード障害', action_name: '故障ステータス設定' });
    expect(row(3).triggers).toEqual(expect.arrayContaining([{ source: 'SystemMonitorEvent', event: 'ESMCpuPerf[0x80000065]' }, { source: 'VMwareProvider', category: 'CPU負荷障害' }]));
    expect(std.rules.slice(19).map((r) => r.event)).toEqual(['マシン用カスタム通報1', 'マシン用カスタム通報10', ...[2, 3, 4, 5, 6, 7, 8, 9].map((i) => `マシン用カスタム通報${i}`)]);
    expect(row(15)).toMatchObject({ action_name: '何もしない', actions: ['none'] });
    const vms = standardPolicy('標準ポリシー (仮想マシンサーバ)')!;
    expect(vms.rules[0]).toMatchObject({ action_name: 'なにもしない' });
    expect(vms.rules[3]!.actions).toEqual(['notify', 'status-faulted', 'vms-migrate-all-failover']);
    expect(standardPolicy('標準ポリシー (仮想マシンサーバ 省電力)')!.rules[5]).toMatchObject({ event: '低負荷検出 (SysmonPerf)', actions: ['vms-power-save'] });
    for (const p of STANDARD_POLICIES) for (const r of p.rules) for (const a of r.actions) expect(Object.keys(POLICY_ACTIONS)).toContain(a);
  });

  it('every action of §6 is in the action table', () => {
    expect(Object.keys(POLICY_ACTIONS).filter((a) => !ACTIONS[a])).toEqual([]);
    expect(Object.keys(ACTIONS).filter((a) => !POLICY_ACTIONS[a])).toEqual([]);
  });

  it('a description selects one by name: as template of a policy (own rules replace the same event), or named by a group', () => {
    const doc = (text: string) => readDataCentre(parse(text));
    const a = doc(`kanri: 1
policies:
  - { template: 標準ポリシー, rules: [{ event: メモリ障害, triggers: [{ source: SystemMonitorEvent, category: メモリ障害 }], actions: [notify, machine-replace] }, { event: extra, triggers: [{ source: SystemMonitorPerf, event: "10000003" }], actions: [none] }] }
`);
    expect(a.errors).toEqual([]);
    const p = a.dc!.policies[0]!;
    expect(p.name).toBe('標準ポリシー');
    expect(p.rules).toHaveLength(30);
    expect(p.rules[11]).toMatchObject({ event: 'メモリ障害', actions: ['notify', 'machine-replace'] });
    const b = doc('kanri: 1\ngroups:\n  - { name: G, type: vmserver, policy: 標準ポリシー (仮想マシンサーバ), models: [{ name: m }] }\n');
    expect(b.errors).toEqual([]);
    expect(b.dc!.policies.map((x) => [x.name, x.rules.length])).toEqual([['標準ポリシー (仮想マシンサーバ)', 5]]);
    const c = doc('kanri: 1\npolicies:\n  - { name: X, template: nope }\n  - { name: Y, rules: [{ event: e, triggers: [{ source: SystemMonitorEvent, category: ディスク壊れ }, { source: SystemMonitorEvent, event: "ESMDSVNT" }], actions: [none] }] }\n');
    expect(c.errors).toEqual([
      expect.stringMatching(/^policies\[0\]\.template: unknown standard policy 'nope' \(known: 標準ポリシー, /),
      expect.stringMatching(/^policies\[1\]\.rules\[0\]\.triggers\[0\]\.category: unknown event category 'ディスク壊れ'/),
      "policies[1].rules[0].triggers[1].event: 'ESMDSVNT' is not Source[0xID] (e.g. ESMDSVNT[0xC0000002])",
    ]);
  });

  it('kanri policy templates lists them', () => {
    const r = run('kanri', ['policy', 'templates']);
    expect(r.out.split('\n')[0]).toBe('標準ポリシー\t29 rules\t物理マシン・仮想マシン用の標準ポリシー');
    expect(run('kanri', ['policy', 'templates', '標準ポリシー (仮想マシンサーバ)']).out).toMatch(/^ 4\. ターゲットアクセス不可 \[SystemMonitorEvent ESMDSVNT\[0xC0000002\]\] VMS上の全VM移動: notify, status-faulted, vms-migrate-all-failover$/m);
  });
});

describe('forwarding', () => {
  it('replaces only the community of a v1/v2c message', () => {
    const msg = Buffer.from('3026020101040670756' + '26c6963a719020101020100020100300e300c06082b060102010105000400', 'hex');
    const out = withCommunity(msg, 'fwd')!;
    expect(out.toString('hex')).toBe('3023020101040366776' + '4a719020101020100020100300e300c06082b060102010105000400');
    expect(withCommunity(Buffer.from('00ff', 'hex'), 'x')).toBeUndefined();
  });
});
