// End to end, with no command typed once the monitor runs: an active machine's BMC (ipmi_sim)
// stops answering → polling raises ESMDSVNT[0xC0000002] → the standard policy (its access rule
// customised with a replace) marks it failed, mails the operators (aiosmtpd) and a pool machine
// takes over its host setting; the pool machine's ipmi_sim is powered on (checked with ipmitool).
// Also: a new SEL entry of a BMC becomes one event, once.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer, skipReason } from './support/peers.js';
import { run } from './support/cli.js';
import { fixtureStore, queryAll } from './support/store.js';
import { openStore } from '../src/open-store.js';
import { type RunningMonitor, chainEnded, counter, counterReaches, eventDecided, lastEventId, startMonitor } from './support/monitor.js';
import { bodyOf, PY, type SmtpPeer, startSmtp } from './support/smtp.js';

const haveSmtp = spawnSync(PY, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
if (!haveSmtp) skipReason('monitor end to end', 'python3-aiosmtpd not installed (run scripts/peers.sh as root)');
const havePeers = haveSmtp && requirePeer('ipmi_sim', 'monitor end to end') && requirePeer('ipmitool', 'monitor end to end');

const yaml = (smtpPort: number): string => `
kanri: 1
settings:
  sim.delay_ms: "0"
  ipmi.on_wait_s: "10"
  ipmi.soft_off_wait_s: "10"
  monitor.listen: "127.0.0.1:0"
  monitor.poll_s: "1"
  monitor.poll_failures: "2"
  monitor.poll_timeout_s: "1"
  mail.smtp_host: 127.0.0.1
  mail.smtp_port: "${smtpPort}"
  mail.from: kanri@example.test
  mail.to: ops@example.test
policies:
  - name: 標準ポリシー
    template: 標準ポリシー
    rules:
      - event: マシンアクセス不可能障害
        triggers: [{ source: SystemMonitorEvent, event: "ESMDSVNT[0xC0000002]" }]
        action_name: マシン置換
        actions: [notify, status-faulted, machine-replace]
groups:
  - name: Web
    type: physical
    policy: 標準ポリシー
    drivers: { power: ipmi, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings:
      - { host: web01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }
      - { host: web02, nics: [{ addresses: [{ ip: 10.9.0.12, netmask: 255.255.255.0 }] }] }
    pool: [act-1, act-2, pool-1]
machines:
  - { name: act-1, kind: physical, power: on, active: { group: Web, model: M, host: web01, from: group_pool } }
  - { name: act-2, kind: physical, power: on, active: { group: Web, model: M, host: web02, from: group_pool } }
  - { name: pool-1, kind: physical, power: off }
`;

describe.runIf(havePeers)('kanri monitor end to end: a dead BMC is replaced from the pool', () => {
  let dead: SimRack, live: SimRack;
  let smtp: SmtpPeer;
  let db: string;
  let mon: RunningMonitor;

  beforeAll(async () => {
    [dead, live, smtp] = await Promise.all([startSims(1, { power: 'on', rich: false }), startSims(2, { power: 'off', console: true }), startSmtp()]);
    db = fixtureStore(yaml(smtp.port));
    const reg = (name: string, port: number, pw: string): void => {
      const r = run('dscli', ['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`], { db });
      expect(r.code, r.err).toBe(0);
    };
    const [a, b] = live.bmcs as [typeof live.bmcs[0], typeof live.bmcs[0]];
    a.writePower('on');
    reg('act-1', dead.bmcs[0]!.port, dead.bmcs[0]!.passwordFile('admin'));
    reg('act-2', a.port, a.passwordFile('admin'));
    reg('pool-1', b.port, b.passwordFile('admin'));
    // The source machine's own power goes through the sim driver: a machine whose BMC is dead
    // cannot be shut down over IPMI, and the replace sequence shuts the source down first
    // (its step fails with a network error and the job with it). Its controller stays registered:
    // polling is what finds it dead.
    const w = openStore(db);
    w.prepare("UPDATE machine_drivers SET driver = 'sim' WHERE interface = 'power' AND machine_id = (SELECT id FROM machines WHERE name = 'act-1')").run();
    w.close();
    mon = await startMonitor(db);
  }, 120_000);

  afterAll(async () => {
    await mon?.stop();
    await Promise.all([dead?.stop(), live?.stop(), smtp?.stop()]);
  });

  it('polls, then replaces the machine whose BMC stopped, mails, and powers the pool machine on', async () => {
    // Two rounds of polling see every controller answer: nothing happens.
    await counterReaches(db, 'poll_rounds', counter(db, 'poll_rounds') + 2);
    expect(queryAll(db, 'SELECT count(*) AS n FROM monitor_events')).toEqual([{ n: 0 }]);
    await dead.stop();
    expect(await eventDecided(db, { origin: 'poll', source: 'SystemMonitorEvent', event: 'ESMDSVNT[0xC0000002]', machine: 'act-1' }, 0, 20_000)).toMatchObject({
      chain_id: 1, decision: expect.stringMatching(/^chain 1: policy 標準ポリシー rule 9 マシンアクセス不可能障害: notify, status-faulted, machine-replace/),
    });
    expect(await chainEnded(db, 1, 60_000)).toMatchObject({ status: 'completed' });
    const at = queryAll<{ name: string; hardware_status: string }>(db, "SELECT m.name, m.hardware_status FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = 'web01'");
    expect(at).toEqual([{ name: 'pool-1', hardware_status: 'normal' }]);
    expect(queryAll(db, "SELECT hardware_status, group_id FROM machines WHERE name = 'act-1'")).toEqual([{ hardware_status: 'faulted', group_id: null }]);
    const power = await live.bmcs[1]!.ipmitool(['chassis', 'power', 'status']);
    expect(power.stdout.trim()).toBe('Chassis Power is on');
    const mails = smtp.messages();
    expect(mails.length).toBeGreaterThanOrEqual(3);
    expect(bodyOf(mails[0]!)).toMatch(/^通報を受信しました。\(“SystemMonitorEvent ESMDSVNT\[0xC0000002\] マシンアクセス不可能障害 act-1: no answer from the controller in 2 polls/);
    expect(mails.map(bodyOf).some((b) => /通報によるアクション\(“マシン操作 \/ マシン置換 \(act-1\)”\)を完了しました。/.test(b))).toBe(true);
    const ev = queryAll<{ event_id: number }>(db, "SELECT event_id FROM events WHERE source = 'PVM' AND event_id IN (502, 2042, 2043) ORDER BY id").map((e) => e.event_id);
    expect(ev).toEqual(expect.arrayContaining([502, 2042, 2043]));
  }, 120_000);

  it('a new SEL entry of a BMC becomes one event, once', async () => {
    const b = live.bmcs[0]!;
    const from = lastEventId(db);
    // Processor IERR (sensor type 07h, sensor-specific 6Fh, offset 0), added on the emulator console.
    await b.emu('sel_add 0x20 0x02 0x00 0x00 0x00 0x00 0x20 0x00 0x04 0x07 0x01 0x6f 0x00 0xff 0xff');
    expect((await eventDecided(db, { origin: 'poll', source: 'SystemMonitorEvent', event: 'BMC[0x00076F00]', machine: 'act-2' }, from, 20_000)).decision).toMatch(/rule 2 CPU障害/);
    // Two more rounds read the same SEL: the entry is not taken again.
    await counterReaches(db, 'poll_rounds', counter(db, 'poll_rounds') + 2);
    expect(queryAll(db, "SELECT count(*) AS n FROM monitor_events WHERE event = 'BMC[0x00076F00]'")).toEqual([{ n: 1 }]);
    expect(queryAll(db, "SELECT hardware_status FROM machines WHERE name = 'act-2'")).toEqual([{ hardware_status: 'faulted' }]);
  }, 60_000);
});
