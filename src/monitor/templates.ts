// The three standard policies of spec/events-and-policies.md §7, as data, row for row as
// the spec tables list them, odd rows included:
//  - 標準ポリシー row 5 is named 故障ステータス設定 but sets 一部故障 (note a): the listed
//    recovery action is what the template reproduces;
//  - row 7 has no notification (note b);
//  - row 13's action-setting name is printed 故障ステータス設定x (note c): the stray x is dropped;
//  - rows 20-29 keep the source's order (custom notification 1, 10, 2 … 9);
//  - the two spellings of "do nothing" (何もしない in §7.1, なにもしない in §7.2/7.3) stay.
// A data-centre description selects one by name (`policies: [{ name: …, template: … }]`, or a
// group or model naming a template no policy of the file defines); kanri policy templates lists them.
import type { PolicyDoc, RuleDoc, TriggerDoc } from '../config/document.js';

const SME = 'SystemMonitorEvent';
const PERF = 'SystemMonitorPerf';
const VMW = 'VMwareProvider';

const cat = (source: string, category: string): TriggerDoc => ({ source, category });
const ev = (source: string, event: string): TriggerDoc => ({ source, event });
const rule = (event: string, triggers: TriggerDoc[], action_name: string, actions: string[]): RuleDoc =>
  ({ event, triggers, action_name, actions, suppress: false, enabled: true });

const N = 'notify';
const OK = 'status-normal';
const PART = 'status-degraded';
const FAIL = 'status-faulted';

const nothing = (event: string, perf: string): RuleDoc => rule(event, [ev(PERF, perf)], '何もしない', ['none']);

const STANDARD: PolicyDoc = {
  name: '標準ポリシー',
  description: '物理マシン・仮想マシン用の標準ポリシー',
  suppression_seconds: 0,
  rules: [
    rule('CPU縮退障害', [cat(SME, 'CPU縮退障害')], '一部故障ステータス設定', [N, PART]),
    rule('CPU障害', [cat(SME, 'CPU障害')], '故障ステータス設定', [N, FAIL]),
    // Kept for compatibility with SSC1.3: two recovery events of ESMCpuPerf run the fault rule.
    rule('CPU負荷障害', [cat(SME, 'CPU負荷障害'), cat(VMW, 'CPU負荷障害'), ev(SME, 'ESMCpuPerf[0x80000065]'), ev(SME, 'ESMCpuPerf[0x80000069]')], '故障ステータス設定', [N, FAIL]),
    rule('CPU負荷障害回復', [ev(SME, 'ESMCpuPerf[0x40000067]'), ev(SME, 'ESMCpuPerf[0x4000006B]'), cat(VMW, 'CPU負荷障害回復')], '正常ステータス設定', [N, OK]),
    rule('ディスク交換障害', [cat(SME, 'ディスク交換障害')], '故障ステータス設定', [N, PART]),
    rule('ディスク障害', [cat(SME, 'ディスク障害')], '故障ステータス設定', [N, FAIL]),
    rule('ディスク復旧可能障害', [cat(SME, 'ディスク復旧可能障害')], '一部故障ステータス設定', [PART]),
    rule('ディスク復旧可能障害回復', [cat(SME, 'ディスク復旧可能障害回復')], '正常ステータス設定', [N, OK]),
    rule('マシンアクセス不可能障害', [ev(SME, 'ESMDSVNT[0xC0000002]'), cat(VMW, 'ターゲットアクセス不可能障害')], '故障ステータス設定', [N, FAIL]),
    rule('マシン起動報告', [ev(SME, 'ESMDSVNT[0x40000001]'), cat(VMW, 'ターゲットアクセス復旧')], '正常ステータス設定', [N, OK]),
    rule('メモリ縮退障害', [cat(SME, 'メモリ縮退障害'), cat(VMW, 'メモリ縮退障害')], '一部故障ステータス設定', [N, PART]),
    rule('メモリ障害', [cat(SME, 'メモリ障害')], '故障ステータス設定', [N, FAIL]),
    rule('クラスタ: ノード障害', [ev(SME, 'CLUSTERPRO[0xC00008A4]')], '故障ステータス設定', [N, FAIL]),
    rule('クラスタ: パブリックLAN障害', [ev(SME, 'CLUSTERPRO[0xC0005217]')], '故障ステータス設定', [N, FAIL]),
    nothing('グループ用カスタム通報1', '11000001'),
    nothing('グループ用カスタム通報2', '11000002'),
    nothing('グループ用カスタム通報3', '11000003'),
    nothing('グループ用カスタム通報4', '11000004'),
    nothing('グループ用カスタム通報5', '11000005'),
    nothing('マシン用カスタム通報1', '10000001'),
    nothing('マシン用カスタム通報10', '1000000A'),
    ...[2, 3, 4, 5, 6, 7, 8, 9].map((i) => nothing(`マシン用カスタム通報${i}`, `1000000${i}`)),
  ],
};

const VMS_RULES: RuleDoc[] = [
  rule('VMSアクセス回復', [ev(VMW, 'Alarm Host connection state on VMS changed from gray to green'), ev(VMW, 'Alarm Host connection state on VMS changed from red to green')], 'なにもしない', ['none']),
  rule('VMSアクセス不可', [ev(VMW, 'Alarm Host connection state on VMS changed from gray to red'), ev(VMW, 'Alarm Host connection state on VMS changed from green to red')], 'なにもしない', ['none']),
  rule('ターゲットアクセス回復', [ev(SME, 'ESMDSVNT[0x40000001]')], '正常ステータス設定', [N, OK]),
  rule('ターゲットアクセス不可', [ev(SME, 'ESMDSVNT[0xC0000002]')], 'VMS上の全VM移動', [N, FAIL, 'vms-migrate-all-failover']),
  rule('高負荷検出 (SysmonPerf)', [ev(PERF, '11000006')], '負荷分散', ['vms-load-balance']),
];

const VMS: PolicyDoc = {
  name: '標準ポリシー (仮想マシンサーバ)',
  description: '仮想マシンサーバ用の標準ポリシー',
  suppression_seconds: 0,
  rules: VMS_RULES,
};

const VMS_POWER_SAVE: PolicyDoc = {
  name: '標準ポリシー (仮想マシンサーバ 省電力)',
  description: '仮想マシンサーバ用の標準ポリシー (省電力)',
  suppression_seconds: 0,
  rules: [...VMS_RULES, rule('低負荷検出 (SysmonPerf)', [ev(PERF, '11000007')], '省電力', ['vms-power-save'])],
};

export const STANDARD_POLICIES: readonly PolicyDoc[] = [STANDARD, VMS, VMS_POWER_SAVE];

/** A copy of the template of that name (case-insensitive), so that callers may change it. */
export function standardPolicy(name: string): PolicyDoc | undefined {
  const t = STANDARD_POLICIES.find((p) => p.name.toLowerCase() === name.trim().toLowerCase());
  return t ? structuredClone(t) : undefined;
}
