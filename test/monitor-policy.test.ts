// The policy engine of `kanri monitor` (the real process) on sim-driver machines: rule
// matching, actions in order through the engine, guards, maintenance, suppression windows
// that survive a restart, a storm of identical traps, a failing action, SIGKILL in the
// middle of a chain (and before its action changed anything), a store held by another
// process while a chain's job runs, SIGTERM draining, the lock, kanri event raise, the Alertmanager
// webhook, kanri policy explain and kanri events --follow.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { binaries, run } from './support/cli.js';
import { fixtureStore, queryAll, storeDigest, storeHolder } from './support/store.js';
import { requirePeer } from './support/peers.js';
import { until } from './support/until.js';
import { type RunningMonitor, chainEnded, chainJob, chainsSwept, eventDecided, lastEventId, petTrapArgs, snmptrap, startMonitor } from './support/monitor.js';

const YAML = (settings = ''): string => `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.http_listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.drain_s: "10", monitor.trap_relays: "127.0.0.1"${settings.includes('coalesce') ? '' : ', monitor.coalesce_s: "0"'}${settings} }
policies:
  - name: P
    template: 標準ポリシー
    suppression_seconds: 6
    rules:
      - { event: マシンアクセス不可能障害, triggers: [{ source: SystemMonitorEvent, event: "ESMDSVNT[0xC0000002]" }], action_name: 置換, actions: [notify, status-faulted, machine-replace], suppress: true }
      - { event: マシン用カスタム通報1, triggers: [{ source: SystemMonitorPerf, event: "10000001" }], action_name: 停止, actions: [machine-shutdown, status-degraded] }
      - { event: マシン用カスタム通報2, triggers: [{ source: SystemMonitorPerf, event: "10000002" }], action_name: 再起動, actions: [machine-reboot, status-normal] }
      - { event: グループ用カスタム通報1, triggers: [{ source: SystemMonitorPerf, event: "11000001" }], action_name: 追加, actions: [group-add] }
      - { event: グループ用カスタム通報2, triggers: [{ source: SystemMonitorPerf, event: "11000002" }], action_name: 休止, actions: [group-suspend, group-add] }
groups:
  - name: Web
    type: physical
    policy: P
    drivers: { power: sim, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings:
      - { host: h01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }
      - { host: h02, nics: [{ addresses: [{ ip: 10.9.0.12, netmask: 255.255.255.0 }] }] }
      - { host: h03, nics: [{ addresses: [{ ip: 10.9.0.13, netmask: 255.255.255.0 }] }] }
    pool: [web-a, web-b, spare-1, spare-2]
machines:
  - { name: web-a, kind: physical, uuid: 4c4c4544-0000-0000-0000-00000000000a, power: on, active: { group: Web, model: M, host: h01, from: group_pool } }
  - { name: web-b, kind: physical, uuid: 4c4c4544-0000-0000-0000-00000000000b, power: on, active: { group: Web, model: M, host: h02, from: group_pool } }
  - { name: spare-1, kind: physical, power: off }
  - { name: spare-2, kind: physical, power: off }
`;

const k = (db: string, args: string[]) => run('kanri', args, { db });
const raise = (db: string, source: string, event: string, on: string[]) => {
  const r = k(db, ['event', 'raise', source, event, ...on]);
  expect(r.code, r.err).toBe(0);
  return r;
};
const machine = (db: string, name: string) => queryAll<{ hardware_status: string; power_state: string; host: string | null; maintenance: number }>(db,
  'SELECT m.hardware_status, m.power_state, h.host_name AS host, m.maintenance FROM machines m LEFT JOIN host_settings h ON h.id = m.host_setting_id WHERE m.name = ?', name)[0]!;
const chains = (db: string) => queryAll<{ id: number; status: string; rule_event: string; error: string | null; next_action: number }>(db, 'SELECT id, status, rule_event, error, next_action FROM monitor_chains ORDER BY id');
const actionsOf = (db: string, chain: number) => queryAll<{ idx: number; action: string; status: string; detail: string }>(db, 'SELECT idx, action, status, detail FROM monitor_chain_actions WHERE chain_id = ? ORDER BY idx', chain);

let mons: RunningMonitor[] = [];
afterEach(async () => {
  await Promise.all(mons.map((m) => m.stop('SIGKILL')));
  mons = [];
});
const start = async (db: string): Promise<RunningMonitor> => {
  const m = await startMonitor(db);
  mons.push(m);
  return m;
};

describe('kanri monitor: policies', () => {
  it('policy explain names the rule, the actions in order and the guard, and changes nothing', () => {
    const db = fixtureStore(YAML());
    const before = storeDigest(db);
    const r = k(db, ['policy', 'explain', 'Web', 'SystemMonitorEvent', 'esmdsvnt[0xc0000002]', '--machine', 'web-a']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('policy: P (of the group)');
    expect(r.out).toContain('rule 9: マシンアクセス不可能障害 (matched by SystemMonitorEvent ESMDSVNT[0xC0000002]), action setting 置換');
    expect(r.out).toContain('suppression: waits 6 s for a マシンアクセス復旧 event of the same machine; if it comes, nothing runs');
    expect(r.out).toMatch(/1\. notify 通報[^\n]*\n\s+2\. status-faulted [^\n]*\n\s+3\. machine-replace マシン操作 \/ マシン置換: engine request \{"action":"replace","group":"Web","host":"h01"\}/);
    const g = k(db, ['policy', 'explain', 'Web', 'SystemMonitorPerf', '10000001', '--machine', 'web-b']);
    expect(g.out).toMatch(/1\. machine-shutdown [^\n]*\n\s+guard: not executed when exactly one machine runs normally in Web \(now 2\)/);
    expect(k(db, ['policy', 'explain', 'Web', 'SystemMonitorPerf', '11000002']).out)
      .toMatch(/1\. group-suspend [^\n]*: engine request \{"action":"suspend","group":"Web","hosts":\["h02"\]\}\n\s+guard: not executed when exactly one machine runs normally in Web \(now 2\)/);
    expect(k(db, ['policy', 'explain', 'Nope', 'SystemMonitorPerf', '11000002']).code).toBe(2);
    expect(storeDigest(db)).toBe(before);
  });

  it('runs actions in order through the engine; the guard skips, maintenance stops, a failure stops its chain', async () => {
    const db = fixtureStore(YAML());
    await start(db);
    // Two machines run normally: the shutdown runs, then the status is set.
    raise(db, 'SystemMonitorPerf', '10000001', ['--machine', 'web-b']);
    expect(await chainEnded(db, 1)).toMatchObject({ status: 'completed' });
    expect(machine(db, 'web-b')).toMatchObject({ power_state: 'off', hardware_status: 'degraded' });
    expect(actionsOf(db, 1).map((a) => `${a.action} ${a.status}`)).toEqual(['machine-shutdown completed', 'status-degraded completed']);
    expect(queryAll(db, "SELECT origin, command FROM jobs WHERE sequence = 'ShutdownMachine'")).toEqual([{ origin: 'policy', command: 'policy chain 1 action 1: machine-shutdown web-b' }]);
    // Now only web-a runs normally: its shutdown is not executed, the chain goes on.
    raise(db, 'SystemMonitorPerf', '10000001', ['--machine', 'web-a']);
    expect(await chainEnded(db, 2)).toMatchObject({ status: 'completed' });
    expect(actionsOf(db, 2)[0]).toMatchObject({ action: 'machine-shutdown', status: 'skipped', detail: 'not executed: only one machine is running normally in Web' });
    expect(machine(db, 'web-a').power_state).toBe('on');
    // A failing reboot stops the chain: status-normal does not run.
    expect(k(db, ['sim', 'fail', 'web-a', 'reboot', '--times', '1', '--message', 'BMC did not answer']).code).toBe(0);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-a']);
    expect(await chainEnded(db, 3)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^action 1 machine-reboot failed/) });
    expect(actionsOf(db, 3).map((a) => a.action)).toEqual(['machine-reboot']);
    expect(machine(db, 'web-a').hardware_status).toBe('degraded');
    // An action the engine refuses stops the chain where it stands, saying why: group-add does not run.
    raise(db, 'SystemMonitorPerf', '11000002', ['--group', 'Web']);
    expect(await chainEnded(db, 4)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^action 1 group-suspend failed: web-a is a physical machine: kanri suspends virtual machines/) });
    expect(actionsOf(db, 4).map((a) => `${a.action} ${a.status}`)).toEqual(['group-suspend failed']);
    // A machine in maintenance: the event is recorded, no policy runs.
    const m = run('pvmutl', ['maintenance', 'On', 'Web', 'h02'], { db });
    expect(m.code, m.err).toBe(0);
    const from = lastEventId(db);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-b']);
    expect(await eventDecided(db, { event: '10000002', machine: 'web-b' }, from)).toMatchObject({ decision: 'web-b is in maintenance: no policy runs', chain_id: null });
    expect(chains(db)).toHaveLength(4);
  });

  it('suppression: a recovery within the window runs nothing; without it the chain runs, also after a restart', async () => {
    const db = fixtureStore(YAML());
    let mon = await start(db);
    raise(db, 'SystemMonitorEvent', 'ESMDSVNT[0xC0000002]', ['--machine', 'web-a']);
    expect(await eventDecided(db, { event: 'ESMDSVNT[0xC0000002]' })).toMatchObject({ chain_id: 1, decision: expect.stringMatching(/^chain 1: policy P rule 9 [^\n]*after 6 s unless the recovery arrives$/) });
    const from = lastEventId(db);
    raise(db, 'SystemMonitorEvent', 'ESMDSVNT[0x40000001]', ['--machine', 'web-a']);
    expect((await eventDecided(db, { event: 'ESMDSVNT[0x40000001]' }, from)).decision).toMatch(/ends 1 suppressed fault\(s\)/);
    // The window's end passes and the monitor sweeps its chains after it: still nothing runs.
    const [{ wait_until: end }] = queryAll<{ wait_until: string }>(db, 'SELECT wait_until FROM monitor_chains WHERE id = 1');
    await until('the end of the suppression window', () => Date.now() > Date.parse(end!), 15_000);
    await chainsSwept(db);
    // (the recovery's own rule, マシン起動報告, makes a chain of its own)
    expect(chains(db).filter((c) => c.rule_event === 'マシンアクセス不可能障害')).toMatchObject([{ id: 1, status: 'suppressed' }]);
    expect(queryAll(db, "SELECT count(*) AS n FROM jobs WHERE origin = 'policy'")).toEqual([{ n: 0 }]);
    expect(machine(db, 'web-a').hardware_status).toBe('normal');
    // A fault without recovery; the monitor is killed while the window is open and started again.
    raise(db, 'SystemMonitorEvent', 'ESMDSVNT[0xC0000002]', ['--machine', 'web-a']);
    const fault = await eventDecided(db, { event: 'ESMDSVNT[0xC0000002]' }, from);
    expect(fault.decision).toMatch(/^chain \d+: policy P rule 9 [^\n]*after 6 s/);
    expect(await mon.stop('SIGKILL')).toBe('SIGKILL');
    mon = await start(db);
    expect(await chainEnded(db, fault.chain_id!)).toMatchObject({ status: 'completed' });
    const replaced = queryAll<{ name: string }>(db, "SELECT m.name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = 'h01'");
    expect(replaced).toEqual([{ name: 'spare-1' }]);
    expect(machine(db, 'web-a')).toMatchObject({ hardware_status: 'faulted', host: null });
    const e502 = queryAll<{ message: string }>(db, 'SELECT message FROM events WHERE event_id = 502 ORDER BY id').map((e) => e.message);
    expect(e502.filter((m) => /^Notification received\. \(SystemMonitorEvent ESMDSVNT\[0xC0000002\] マシンアクセス不可能障害 web-a/.test(m))).toHaveLength(1);
    expect(e502.some((m) => /^Started the action \(Machine operation \/ Replace machine \(web-a\)\) triggered by the notification\. Management ID: \d{5}$/.test(m))).toBe(true);
    expect(e502.some((m) => /^Completed the action \(Machine operation \/ Replace machine \(web-a\)\)/.test(m))).toBe(true);
  });

  it('a storm of 1,000 identical traps makes one chain', async () => {
    const db = fixtureStore(YAML(', monitor.coalesce_s: "300"'));
    const mon = await start(db);
    const args = petTrapArgs({ port: 1, guid: '4c4c4544-0000-0000-0000-00000000000a', sensorType: 0x07, offset: 0x00 });
    const cap = createSocket('udp4');
    await new Promise<void>((r) => cap.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<Buffer>((r) => cap.once('message', (b) => r(b)));
    args[args.indexOf('127.0.0.1:1')] = `127.0.0.1:${cap.address().port}`;
    if (!requirePeer('snmptrap', 'monitor storm')) return;
    snmptrap(args);
    const raw = await got;
    for (let i = 0; i < 1000; i++) {
      cap.send(raw, mon.port, '127.0.0.1');
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 2));
    }
    cap.close();
    const deadline = Date.now() + 20_000;
    while (queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM monitor_events WHERE state = 'decided'")[0]!.n < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM monitor_events WHERE state = 'decided'")[0]!.n).toBe(1000);
    expect(chains(db)).toHaveLength(1);
    expect(queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM monitor_events WHERE decision LIKE '%coalesced into chain 1%'")[0]!.n).toBe(999);
  }, 60_000);

  it('SIGKILL in the middle of a chain: after the restart the chain is abandoned, no action runs twice', async () => {
    const db = fixtureStore(YAML(', sim.delay_ms.power-on: "4000"'));
    let mon = await start(db);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-a']);
    // machine-reboot of a running machine: sim reboot is quick; make the chain's engine job slow instead.
    expect(await chainEnded(db, 1)).toMatchObject({ status: 'completed' });
    k(db, ['sim', 'delay', '4000', '--operation', 'reboot']);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-b']);
    await chainJob(db, 2, 1);
    expect(await mon.stop('SIGKILL')).toBe('SIGKILL');
    mon = await start(db);
    expect(await chainEnded(db, 2)).toMatchObject({ status: 'abandoned', error: expect.stringMatching(/^the monitor stopped during action 1 machine-reboot \(job \d+ abandoned\); it is not run again$/) });
    expect(queryAll(db, "SELECT status FROM jobs WHERE sequence = 'RebootMachine' AND command LIKE 'policy chain 2 %'")).toEqual([{ status: 'abandoned' }]);
    // The restarted monitor sweeps its chains: the abandoned action is not run again.
    await chainsSwept(db);
    expect(queryAll(db, "SELECT count(*) AS n FROM jobs WHERE command LIKE 'policy chain 2 %'")).toEqual([{ n: 1 }]);
    expect(actionsOf(db, 2).map((a) => `${a.action} ${a.status}`)).toEqual(['machine-reboot failed']);
  }, 60_000);

  it('SIGKILL before the engine action changed anything: its job is abandoned, the machine left normal, and the action runs again', async () => {
    // The sim driver's prepare (before the first step) waits sim.delay_ms.start.
    const db = fixtureStore(YAML(', sim.delay_ms.start: "600000"'));
    let mon = await start(db);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-b']);
    const { id } = await until('the reboot job running with no step yet', () => queryAll<{ id: number; steps: number }>(db,
      "SELECT j.id, (SELECT count(*) FROM job_steps s WHERE s.job_id = j.id) AS steps FROM jobs j WHERE j.status = 'running' AND j.command LIKE 'policy chain 1 %'")
      .find((j) => j.steps === 0));
    expect(await mon.stop('SIGKILL')).toBe('SIGKILL');
    expect(k(db, ['sim', 'delay', '0', '--operation', 'start']).code).toBe(0);
    mon = await start(db);
    await until('chain 1 to complete', () => chains(db)[0]?.status === 'completed', 30_000);
    expect(queryAll(db, 'SELECT status FROM jobs WHERE command LIKE ? ORDER BY id', 'policy chain 1 %')).toEqual([{ status: 'abandoned' }, { status: 'completed' }]);
    expect(queryAll(db, 'SELECT status FROM jobs WHERE id = ?', id)).toEqual([{ status: 'abandoned' }]);
    expect(queryAll(db, "SELECT management_status FROM machines WHERE name = 'web-b'")).toEqual([{ management_status: 'normal' }]);
    expect(queryAll(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
    expect(actionsOf(db, 1).map((a) => `${a.action} ${a.status}`)).toEqual(['machine-reboot completed', 'status-normal completed']);
  }, 60_000);

  it('a store held by another process past the busy timeout while a chain job runs: health answered throughout, the job and chain complete', async () => {
    // The reboot step waits 12 s at the (simulated) controller; the store is held 7 s of it, longer than the 5 s busy timeout.
    const db = fixtureStore(YAML(', sim.delay_ms.reboot: "12000"'));
    const mon = await startMonitor(db, { KANRI_BUSY_TIMEOUT_S: '5' });
    mons.push(mon);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-b']);
    await until('the reboot step running', () => queryAll(db, "SELECT 1 FROM job_steps WHERE name = 'Reboot machine' AND status = 'running'").length > 0);
    const holder = storeHolder(db);
    holder.hold();
    let slowest = 0;
    // A delivery during the hold: acknowledged (200) only once committed, else refused (503).
    const body = { version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { kanri_event: '10000001', kanri_machine: 'web-a', alertname: 'held' }, annotations: {} }] };
    const delivery = fetch(`http://127.0.0.1:${mon.httpPort}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    try {
      const end = Date.now() + 7000;
      while (Date.now() < end) {
        const t0 = Date.now();
        const r = await fetch(`http://127.0.0.1:${mon.httpPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
        expect(r.status).toBe(200);
        slowest = Math.max(slowest, Date.now() - t0);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      holder.release();
      holder.close();
    }
    // The lease's heartbeat may wait up to 1 s once; the job's heartbeat must not wait the busy timeout.
    expect(slowest).toBeLessThan(1500);
    const acked = (await delivery).status;
    expect([200, 503]).toContain(acked);
    expect(queryAll(db, "SELECT count(*) AS n FROM monitor_events WHERE origin = 'webhook' AND detail = 'held'")).toEqual([{ n: acked === 200 ? 1 : 0 }]);
    await until('chain 1 to complete', () => chains(db)[0]?.status === 'completed', 30_000);
    expect(queryAll(db, "SELECT status FROM jobs WHERE command LIKE 'policy chain 1 %'")).toEqual([{ status: 'completed' }]);
    expect(actionsOf(db, 1).map((a) => `${a.action} ${a.status}`)).toEqual(['machine-reboot completed', 'status-normal completed']);
    expect(mon.proc.exitCode).toBe(null);
  }, 60_000);

  it('SIGTERM: intake stops, a running job ends within monitor.drain_s, the monitor exits 0; one monitor per store', async () => {
    const db = fixtureStore(YAML(', sim.delay_ms.reboot: "1500"'));
    const mon = await start(db);
    const second = run('kanri', ['monitor'], { db, timeout: 10_000 });
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/another monitor \(pid \d+\) already runs on /);
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'web-a']);
    await chainJob(db, 1, 1);
    const t0 = Date.now();
    expect(await mon.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(actionsOf(db, 1).map((a) => `${a.action} ${a.status}`)).toEqual(['machine-reboot completed']);
    // The second action was not started: it runs when the monitor starts again.
    expect(chains(db)[0]).toMatchObject({ status: 'pending', next_action: 1 });
    await start(db);
    expect(await chainEnded(db, 1)).toMatchObject({ status: 'completed' });
    expect(machine(db, 'web-a').hardware_status).toBe('normal');
    expect(queryAll(db, "SELECT event_id, source FROM events WHERE event_id IN (101, 106) AND source = 'PVM' ORDER BY id")).toEqual([
      { event_id: 101, source: 'PVM' }, { event_id: 106, source: 'PVM' }, { event_id: 101, source: 'PVM' },
    ]);
  }, 60_000);

  it('the Alertmanager webhook and kanri events --follow', async () => {
    const db = fixtureStore(YAML());
    const mon = await start(db);
    const follow = spawn(join(binaries(), 'kanri'), ['events', '--follow', '--machine', 'web-b', '-n', '5'], { env: { ...process.env, KANRI_DB: db, LANG: 'C' } });
    let followed = '';
    follow.stdout.on('data', (d: Buffer) => { followed += d.toString(); });
    const payload = {
      version: '4', status: 'firing', receiver: 'kanri', groupKey: '{}:{}',
      alerts: [
        { status: 'firing', labels: { alertname: 'NodeLoad', kanri_event: '10000001', kanri_machine: 'web-b' }, annotations: { summary: 'load 40' }, startsAt: new Date().toISOString() },
        { status: 'firing', labels: { alertname: 'Other' } },
        { status: 'resolved', labels: { alertname: 'NodeLoad', kanri_event: '10000001', kanri_machine: 'web-b' } },
      ],
    };
    const res = await fetch(`http://127.0.0.1:${mon.httpPort}/alertmanager`, { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1, refused: [{ alert: 1, reason: 'no kanri_event label' }] });
    expect((await fetch(`http://127.0.0.1:${mon.httpPort}/alertmanager`, { method: 'POST', body: '{not json' })).status).toBe(400);
    expect(await eventDecided(db, { origin: 'webhook', source: 'SystemMonitorPerf', event: '10000001' })).toMatchObject({ sender: expect.stringMatching(/^alertmanager\b/), chain_id: 1 });
    expect(await chainEnded(db, 1)).toMatchObject({ status: 'completed' });
    const deadline = Date.now() + 5000;
    while (!/Completed the process of stopping a machine/.test(followed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    follow.kill('SIGINT');
    expect(followed).toMatch(/PVM\s2025\sinformation\sStarted the process of stopping a machine\.[^\n]*\(web-b\)/);
    expect(followed).toMatch(/PVM\s2026\sinformation\sCompleted the process of stopping a machine/);
    expect(followed).not.toMatch(/web-a/);
  }, 60_000);
  it('VM-server actions: a fault on a VM server moves its VMs by failover; a low load empties one and stops it', async () => {
    const SIM = '{ power: sim, deploy: sim, vm: sim, monitor: sim }';
    const vm = (n: number, server: string, host: string) =>
      `  - { name: vm${n}, kind: virtual, vm_server: ${server}, datastore: ds, cost: 10, power: on, active: { group: V, model: vm, host: ${host}, from: common_pool } }`;
    const db = fixtureStore(`
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0" }
software: [{ name: T, kind: template, cost: 10 }]
policies:
  - name: VMS
    template: 標準ポリシー (仮想マシンサーバ)
    rules:
      - { event: マシン用カスタム通報1, triggers: [{ source: SystemMonitorPerf, event: "10000001" }], action_name: 退避, actions: [vms-failover-all, status-faulted] }
      - { event: マシン用カスタム通報2, triggers: [{ source: SystemMonitorPerf, event: "10000002" }], action_name: 省電力, actions: [vms-power-save] }
groups:
  - name: Hosts
    type: vmserver
    policy: VMS
    drivers: ${SIM}
    models: [{ name: esx, placement: { high: 60, target_high: 50, target_low: 30, low: 25 } }]
    host_settings: [{ host: h1 }, { host: h2 }, { host: h3 }]
  - name: V
    type: virtual
    template: T
    drivers: ${SIM}
    models: [{ name: vm, vm_server_model: Hosts/esx }]
    host_settings: [{ host: v1 }, { host: v2 }, { host: v3 }]
machines:
  - { name: vs1, kind: vmserver, power: on, capacity: 100, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h1, from: master } }
  - { name: vs2, kind: vmserver, power: on, capacity: 100, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h2, from: master } }
  - { name: vs3, kind: vmserver, power: on, capacity: 100, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h3, from: master } }
${vm(1, 'vs1', 'v1')}
${vm(2, 'vs1', 'v2')}
${vm(3, 'vs3', 'v3')}
`);
    const serverOf = (name: string) => queryAll<{ server: string }>(db, 'SELECT s.name AS server FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.name = ?', name)[0]!.server;
    await start(db);
    raise(db, 'SystemMonitorPerf', '10000001', ['--machine', 'vs1']);
    expect(await chainEnded(db, 1, 30_000)).toMatchObject({ status: 'completed' });
    expect(actionsOf(db, 1).map((a) => `${a.action} ${a.status}`)).toEqual(['vms-failover-all completed', 'status-faulted completed']);
    expect(queryAll(db, "SELECT origin FROM jobs WHERE sequence = 'FailoverVMServer'")).toEqual([{ origin: 'policy' }]);
    expect([serverOf('vm1'), serverOf('vm2')].every((s) => s === 'vs2' || s === 'vs3')).toBe(true);
    expect(machine(db, 'vs1').hardware_status).toBe('faulted');
    // vs3 now runs little: power saving moves what it runs elsewhere and stops it.
    raise(db, 'SystemMonitorPerf', '10000002', ['--machine', 'vs3']);
    expect(await chainEnded(db, 2, 30_000)).toMatchObject({ status: 'completed' });
    expect(queryAll(db, "SELECT origin FROM jobs WHERE sequence = 'LoadBalanceVMServer'")).toEqual([{ origin: 'policy' }]);
    expect(['vm1', 'vm2', 'vm3'].map(serverOf).filter((s) => s === 'vs3')).toEqual([]);
    expect(machine(db, 'vs3').power_state).toBe('off');
  }, 90_000);
});
