// Several managers' monitors on one PostgreSQL store (a private cluster), real `kanri monitor`
// processes with KANRI_MANAGER=a and b, both active:
// - the same trap (one datagram, sent over UDP to each monitor's port) and the same
//   Alertmanager alert (posted to each) are one event, decided once, its actions run once;
//   the second receipt is counted as a duplicate, the alert list shows the trap once, and a
//   forwarding destination (a UDP socket of the test) receives it once, while a trap only one
//   monitor received is forwarded by that one; a second monitor of manager a is refused;
// - a suppression window opened by a's decision is ended by a recovery b received, and a
//   window that ends without one runs its chain once;
// - polling is split by the hash ring: each machine (an ipmi_sim BMC) is polled by the one
//   monitor the ring gives it, as the store's poll records show; kill -9 of a, and within one
//   lease after its lease expired b polls a's machines and decides the event of the one whose
//   BMC died meanwhile: one event, one chain, one notification;
// - a chain a was running when it was killed is left alone by b while a lives, and taken over
//   by b within one lease after a's lease expired: its action, whose job had changed nothing,
//   runs once more and completes once;
// - a monitor whose clock runs an hour ahead (libfaketime) still sees the other's lease live
//   (leases go by the store's clock): each polls only its share of the ring;
// - scheduled operations: a run a is doing is left running when b starts, and marked
//   interrupted by b once a was killed and its lease ended (its job abandoned); a schedule
//   due once, with b's clock an hour ahead, is run once, at its time by the store's clock,
//   not early by b's; a schedule added in Asia/Tokyo runs once, at its time, on monitors
//   whose TZ are two other zones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { run } from './support/cli.js';
import { waitFor } from './support/daemon.js';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { type RunningMonitor, chainEnded, counter, monitorGroup, petTrapArgs, sendFrom, startMonitor } from './support/monitor.js';
import { canUnshare, childOf, libfaketime, requirePeer, shiftedClock } from './support/peers.js';
import { requirePostgres, startCluster, type PgCluster } from './support/postgres.js';
import { exec, queryAll, storeAt, tempDir } from './support/store.js';

const havePeers = requirePostgres('several managers\' monitors') && requirePeer('snmptrap', 'several managers\' monitors') && requirePeer('ipmi_sim', 'several managers\' monitors');

const G1 = '4c4c4544-0031-3010-8030-b4c04f303101';
const LEASE_S = 6;

interface MonitorJson { manager: string; running: boolean; pid: number | null; polls: number; polled_machines: string[]; expires_at: string }

const monitors = (db: string): MonitorJson[] => {
  const r = run('kanri', ['monitor', 'status', '--json'], { db });
  expect(r.code, r.err).toBe(0);
  return (JSON.parse(r.out) as { monitors: MonitorJson[] }).monitors;
};
const count = (db: string, sql: string, ...args: unknown[]): number => Number(queryAll<{ n: number }>(db, sql, ...args)[0]!.n);
const notifications = (db: string, machine: string): number =>
  queryAll<{ message: string }>(db, 'SELECT message FROM events WHERE event_id = 502').filter((e) => e.message.startsWith('Notification received.') && e.message.includes(` ${machine}`)).length;

/** The machines of the polling tests. */
const NAMES = ['n1', 'n2', 'n3', 'n4'];

interface PollState { name: string; polled_by: string | null; polls: number; polled_at: string | null; inaccessible: number }

/** The store's poll record of every machine: who polled it last, how many times in a row, when. */
const pollState = (db: string): PollState[] =>
  queryAll(db, 'SELECT m.name, p.polled_by, p.polls, p.polled_at, p.inaccessible FROM machines m LEFT JOIN monitor_poll_state p ON p.machine_id = m.id ORDER BY m.name');

describe.runIf(havePeers)('monitors of several managers on one PostgreSQL store', () => {
  let cluster: PgCluster;
  const running: RunningMonitor[] = [];
  const racks: SimRack[] = [];
  const start = async (db: string, manager: string, wrapper: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningMonitor> => {
    const m = await startMonitor(db, { KANRI_MANAGER: manager, ...env }, wrapper);
    running.push(m);
    return m;
  };

  /**
   * A store whose machines (NAMES) are polled every second, each through a BMC (ipmi_sim) of
   * a process of its own, so that one can die alone.
   */
  const polledStore = async (name: string): Promise<{ db: string; sims: SimRack[] }> => {
    const db = storeAt(cluster.createDatabase(name), `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "1", monitor.poll_failures: "1", monitor.poll_timeout_s: "2", monitor.coalesce_s: "0", monitor.lease_s: "${LEASE_S}" }
${monitorGroup(NAMES)}machines:
${NAMES.map((n, i) => `  - { name: ${n}, kind: physical, power: on, active: { group: G, model: M, host: h0${i + 1}, from: group_pool } }`).join('\n')}
`);
    const sims = await Promise.all(NAMES.map(() => startSims(1, { power: 'on', rich: false })));
    racks.push(...sims);
    NAMES.forEach((n, i) => {
      const bmc = sims[i]!.bmcs[0]!;
      const r = run('dscli', ['createServer', n, 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.port}`, 'user=admin', `password_file=${bmc.passwordFile('admin')}`], { db });
      expect(r.code, r.out + r.err).toBe(0);
    });
    return { db, sims };
  };

  beforeAll(() => {
    cluster = startCluster();
    process.env.KANRI_KEY_FILE ??= join(tempDir(), 'kanri.key');
  }, 180_000);
  afterAll(async () => {
    await Promise.all(running.map((m) => m.stop('SIGKILL')));
    await Promise.all(racks.map((r) => r.stop()));
    cluster?.stop();
  });

  it('the same trap and the same alert sent to both monitors are one event each: one decision, each action once', async () => {
    const db = storeAt(cluster.createDatabase('dedup'), `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.http_listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0", monitor.lease_s: "${LEASE_S}" }
${monitorGroup(['m1'])}machines:
  - { name: m1, kind: physical, uuid: ${G1}, power: on, bmc: { type: ipmi, address: 127.0.0.2 }, active: { group: G, model: M, host: h01, from: group_pool } }
`);
    // A forwarding destination (dscli setTrapForward): a socket of the test that keeps what it receives.
    const destination = createSocket('udp4');
    const received: Buffer[] = [];
    destination.on('message', (m) => received.push(m));
    await new Promise<void>((r) => destination.bind(0, '127.0.0.1', () => r()));
    const fw = run('dscli', ['setTrapForward', '1', `127.0.0.1:${destination.address().port}`, 'community=public'], { db });
    expect(fw.code, fw.out + fw.err).toBe(0);
    const copies = (raw: Buffer): number => received.filter((m) => m.equals(raw)).length;
    const a = await start(db, 'a');
    const b = await start(db, 'b');
    expect(monitors(db).map((m) => [m.manager, m.running, m.pid])).toEqual([['a', true, a.proc.pid], ['b', true, b.proc.pid]]);
    // Two monitors of one manager still exclude each other.
    const again = run('kanri', ['monitor'], { db, env: { KANRI_MANAGER: 'a' }, timeout: 15_000 });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/another monitor \(pid \d+\) already runs on \S+ for manager a \(host /);

    // One datagram (a CPU fault's PET from m1's BMC), sent to a's port and to b's.
    const fault = await sendFrom('127.0.0.2', [a.port, b.port], petTrapArgs({ port: 0, guid: G1, sensorType: 0x07, offset: 0x00 }));
    await waitFor(() => counter(db, 'traps') >= 2 && counter(db, 'duplicates') >= 1 && count(db, 'SELECT count(*) AS n FROM monitor_chains') >= 1, 20_000, () => `both monitors to take the trap (traps ${counter(db, "traps")}, duplicates ${counter(db, "duplicates")})`);
    expect(count(db, "SELECT count(*) AS n FROM monitor_events WHERE origin = 'trap'")).toBe(1);
    const [chain] = queryAll<{ id: number }>(db, 'SELECT id FROM monitor_chains');
    expect(await chainEnded(db, chain!.id)).toMatchObject({ status: 'completed' });
    expect(count(db, 'SELECT count(*) AS n FROM monitor_chains')).toBe(1);
    expect(queryAll(db, "SELECT state, chain_id FROM monitor_events WHERE origin = 'trap'")).toEqual([{ state: 'decided', chain_id: chain!.id }]);
    expect(queryAll(db, 'SELECT idx, action, status FROM monitor_chain_actions ORDER BY idx')).toEqual([
      { idx: 0, action: 'notify', status: 'completed' }, { idx: 1, action: 'status-faulted', status: 'completed' },
    ]);
    expect(notifications(db, 'm1')).toBe(1);
    // The alert list (dscli getAlertList) shows it once too.
    expect(queryAll(db, 'SELECT kind, event FROM dscli_alerts')).toEqual([{ kind: 'pet', event: 'BMC[0x00076F00]' }]);
    // Forwarded once: by the monitor whose receipt listed the alert; the other one counted that it did not.
    await waitFor(() => counter(db, 'forwarded_elsewhere') >= 1 && copies(fault) >= 1, 20_000, () => `the trap to be forwarded (copies ${copies(fault)}, forwarded_elsewhere ${counter(db, 'forwarded_elsewhere')})`);
    expect(copies(fault)).toBe(1);
    // A trap only b received (another sensor's): no other monitor lists it, b forwards it.
    const other = await sendFrom('127.0.0.2', b.port, petTrapArgs({ port: 0, guid: G1, sensorType: 0x07, offset: 0x01 }));
    expect(other.equals(fault)).toBe(false);
    await waitFor(() => copies(other) >= 1, 20_000, () => `b to forward the trap it alone received (copies ${copies(other)})`);
    expect([copies(fault), copies(other), counter(db, 'forwarded_elsewhere')]).toEqual([1, 1, 1]);
    destination.close();

    // The same Alertmanager alert (its fingerprint and startsAt) posted to both: one event.
    const alert = {
      version: '4', status: 'firing', receiver: 'kanri',
      alerts: [{ status: 'firing', labels: { alertname: 'Load', kanri_event: '10000001', kanri_machine: 'm1' }, annotations: { summary: 'load 40' }, fingerprint: 'c0ffee0123456789', startsAt: '2026-12-06T05:00:00Z' }],
    };
    for (const m of [a, b]) {
      const res = await fetch(`http://127.0.0.1:${m.httpPort}/alertmanager`, { method: 'POST', body: JSON.stringify(alert), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 1, refused: [] });
    }
    // Answered 200 only once committed: both receipts are in the store (or found there) by now.
    expect(count(db, "SELECT count(*) AS n FROM monitor_events WHERE origin = 'webhook'")).toBe(1);
    await waitFor(() => counter(db, 'duplicates') >= 2, 10_000, () => `the second alert to be counted (duplicates ${counter(db, 'duplicates')})`);
    await waitFor(() => count(db, "SELECT count(*) AS n FROM monitor_events WHERE state = 'new'") === 0, 10_000, () => 'the alert to be decided');
    expect(counter(db, 'duplicates')).toBe(2);
  }, 120_000);

  it('a suppression window opened by one monitor is ended by a recovery the other receives; a fault without recovery runs once after it', async () => {
    const db = storeAt(cluster.createDatabase('window'), `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0", monitor.lease_s: "${LEASE_S}", monitor.trap_sources: "1.3.6.1.4.1.119.2.2.4.4=ESMDSVNT" }
policies:
  - name: 標準ポリシー
    template: 標準ポリシー
    suppression_seconds: 4
    rules:
      - { event: マシンアクセス不可能障害, triggers: [{ source: SystemMonitorEvent, event: "ESMDSVNT[0xC0000002]" }], action_name: 故障, actions: [notify, status-faulted], suppress: true }
      - { event: マシン起動報告, triggers: [{ source: SystemMonitorEvent, event: "ESMDSVNT[0x40000001]" }], action_name: 何もしない, actions: [none] }
${monitorGroup(['m1'])}machines:
  - { name: m1, kind: physical, power: on, bmc: { type: ipmi, address: 127.0.0.2 }, active: { group: G, model: M, host: h01, from: group_pool } }
`);
    const a = await start(db, 'a');
    const b = await start(db, 'b');
    // ESMDSVNT traps from m1's BMC address: machine inaccessible (0xC0000002) and its recovery (0x40000001).
    const trap = (specific: number): string[] => ['-v', '2c', '-c', 'public', '127.0.0.1:0', '', `1.3.6.1.4.1.119.2.2.4.4.0.${specific}`];
    const chains = (): Array<{ id: number; status: string }> => queryAll(db, 'SELECT id, status FROM monitor_chains ORDER BY id');
    await sendFrom('127.0.0.2', a.port, trap(0xC0000002));
    await waitFor(() => chains()[0]?.status === 'waiting', 20_000, () => `the fault's chain to wait: ${JSON.stringify(chains())}`);
    await sendFrom('127.0.0.2', b.port, trap(0x40000001));
    // 'suppressed' is final: its actions can never run.
    await waitFor(() => chains()[0]?.status === 'suppressed', 20_000, () => `the recovery b received to end a's window: ${JSON.stringify(chains())}`);
    expect(queryAll<{ decision: string }>(db, "SELECT decision FROM monitor_events WHERE event = 'ESMDSVNT[0x40000001]'")[0]!.decision).toMatch(/ends 1 suppressed fault/);
    // A fault without recovery (received by b): after the window one monitor runs it, once.
    await sendFrom('127.0.0.2', b.port, trap(0xC0000002));
    await waitFor(() => chains().length === 2, 20_000, () => `the second fault's chain: ${JSON.stringify(chains())}`);
    expect(await chainEnded(db, chains()[1]!.id)).toMatchObject({ status: 'completed' });
    expect(chains().map((c) => c.status)).toEqual(['suppressed', 'completed']);
    expect(queryAll(db, 'SELECT chain_id, action, status FROM monitor_chain_actions ORDER BY chain_id, idx')).toEqual([
      { chain_id: chains()[1]!.id, action: 'notify', status: 'completed' }, { chain_id: chains()[1]!.id, action: 'status-faulted', status: 'completed' },
    ]);
    expect(notifications(db, 'm1')).toBe(1);
  }, 120_000);

  it('polling is split by the hash ring; kill -9 of a: within one lease b polls its machines and decides the new event of one of them, once', async () => {
    const { db, sims } = await polledStore('ring');
    const a = await start(db, 'a');
    const b = await start(db, 'b');

    // The ring's share of each monitor, as kanri monitor status --json shows it: every machine once.
    const share = monitors(db);
    expect(share.map((m) => m.manager)).toEqual(['a', 'b']);
    const ofA = share[0]!.polled_machines;
    const ofB = share[1]!.polled_machines;
    expect([...ofA, ...ofB].sort()).toEqual(NAMES);
    expect(ofA.length).toBeGreaterThan(0);
    expect(ofB.length).toBeGreaterThan(0);
    expect(share.map((m) => m.polls)).toEqual([ofA.length, ofB.length]);
    // kanri manager list shows each manager's monitor process with the same share.
    const listed = run('kanri', ['manager', 'list', '--json'], { db });
    expect(listed.code, listed.err).toBe(0);
    const procs = listed.out.trim().split('\n').map((l) => JSON.parse(l) as { manager: string; role: string; monitor: string | null }).filter((p) => p.role === 'monitor');
    const plural = (n: number): string => `polls ${n} machine${n === 1 ? '' : 's'}`;
    expect(procs.map((p) => [p.manager, p.monitor])).toEqual([['a', plural(ofA.length)], ['b', plural(ofB.length)]]);
    // The store's poll records: each machine polled three times in a row by the monitor the ring names
    // (a poll by the other would have reset its count and changed polled_by).
    const polls = (): PollState[] => pollState(db);
    const owner = (n: string): string => (ofA.includes(n) ? 'a' : 'b');
    await waitFor(() => polls().every((p) => p.polls >= 3), 60_000, () => `three polls of every machine: ${JSON.stringify(polls())}`);
    expect(polls().map((p) => [p.name, p.polled_by])).toEqual(NAMES.map((n) => [n, owner(n)]));

    // kill -9 of a; then the BMC of one of a's machines dies.
    const victim = ofA[0]!;
    const inaccessible = `SELECT count(*) AS n FROM monitor_events e JOIN machines m ON m.id = e.machine_id WHERE m.name = ? AND e.event = 'ESMDSVNT[0xC0000002]'`;
    expect(count(db, inaccessible, victim)).toBe(0);
    expect(await a.stop('SIGKILL')).toBe('SIGKILL');
    const expiry = Date.parse(queryAll<{ expires_at: string }>(db, "SELECT expires_at FROM monitor_lease WHERE manager = 'a'")[0]!.expires_at);
    await sims[NAMES.indexOf(victim)]!.stop();
    const bound = expiry + LEASE_S * 1000;
    const decided = (): boolean => count(db, `${inaccessible} AND e.state = 'decided'`, victim) >= 1;
    const takenOver = (): boolean => polls().filter((p) => ofA.includes(p.name)).every((p) => p.polled_by === 'b' && Date.parse(p.polled_at!) > expiry);
    await waitFor(() => decided() && takenOver(), Math.max(0, bound - Date.now()), () => `b to poll ${ofA.join(', ')} and decide ${victim}'s event within one lease after a's expired: ${JSON.stringify(polls())}`);
    expect(Date.now()).toBeLessThanOrEqual(bound + 1000);

    // Nothing lost or done twice: one event, one chain run by b, one notification; b polls everything.
    expect(count(db, inaccessible, victim)).toBe(1);
    const ofVictim = queryAll<{ id: number; runner: string }>(db, 'SELECT c.id, c.runner FROM monitor_chains c JOIN machines m ON m.id = c.machine_id WHERE m.name = ?', victim);
    expect(ofVictim).toHaveLength(1);
    const c = ofVictim[0];
    expect(c!.runner).toMatch(new RegExp(`pid=${b.proc.pid} `));
    expect(await chainEnded(db, c!.id)).toMatchObject({ status: 'completed' });
    expect(notifications(db, victim)).toBe(1);
    expect(queryAll<{ h: string }>(db, 'SELECT hardware_status AS h FROM machines WHERE name = ?', victim)[0]!.h).toBe('faulted');
    const after = monitors(db);
    expect(after.map((m) => [m.manager, m.running, m.polls])).toEqual([['a', false, 0], ['b', true, NAMES.length]]);
  }, 180_000);

  it('a monitor whose clock runs an hour ahead (libfaketime) sees the other alive: each polls only its share of the ring', async () => {
    const lib = libfaketime('several managers\' monitors: a clock ahead');
    if (!lib) return;
    const { db } = await polledStore('clock');
    await start(db, 'a');
    await start(db, 'b', shiftedClock(lib, '+1h'));
    const share = monitors(db);
    expect(share.map((m) => [m.manager, m.running])).toEqual([['a', true], ['b', true]]);
    const ofA = share[0]!.polled_machines;
    expect(ofA.length).toBeGreaterThan(0);
    expect(share[1]!.polled_machines.length).toBeGreaterThan(0);
    const polls = (): PollState[] => pollState(db);
    // Three polls in a row of every machine by the monitor the ring names: had b taken a's lease
    // for expired (its clock is past it by an hour), it would poll a's machines too, and each
    // poll by the other manager starts the count again.
    await waitFor(() => polls().every((p) => p.polls >= 3), 60_000, () => `three polls of every machine by one monitor: ${JSON.stringify(polls())}`);
    expect(polls().map((p) => p.polled_by)).toEqual(NAMES.map((n) => (ofA.includes(n) ? 'a' : 'b')));
    // b's clock is ahead indeed: a poll record carries the time of the process that polled.
    for (const p of polls().filter((x) => x.polled_by === 'b')) expect(Date.parse(p.polled_at!) - Date.now(), p.name).toBeGreaterThan(50 * 60_000);
    expect(monitors(db).map((m) => [m.manager, m.running, m.polls])).toEqual(share.map((m) => [m.manager, true, m.polls]));
  }, 180_000);

  /** A store whose machine m1 is rebooted by a custom notification's rule; the engine action's job waits before its first step. */
  const chainStore = (name: string, settings = ''): string => storeAt(cluster.createDatabase(name), `
kanri: 1
settings: { sim.delay_ms: "0", sim.delay_ms.start: "600000", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0", monitor.lease_s: "${LEASE_S}"${settings} }
policies:
  - name: 標準ポリシー
    template: 標準ポリシー
    rules:
      - { event: マシン用カスタム通報2, triggers: [{ source: SystemMonitorPerf, event: "10000002" }], action_name: 再起動, actions: [machine-reboot, status-normal] }
${monitorGroup(['m1'])}machines:
  - { name: m1, kind: physical, power: on, active: { group: G, model: M, host: h01, from: group_pool } }
`);
  type ChainState = { id: number; status: string; runner: string | null };
  const chainRow = (db: string): ChainState | undefined => queryAll<ChainState>(db, 'SELECT id, status, runner FROM monitor_chains')[0];
  /**
   * Raises the notification and waits until the chain runs with its action's job waiting before
   * its first step; then lets jobs started from now on run at once.
   */
  const chainRunningOn = async (db: string): Promise<void> => {
    // A custom notification whose rule reboots the machine: a chain whose engine action's job
    // waits before its first step (the sim driver's prepare waits sim.delay_ms.start).
    const r = run('kanri', ['event', 'raise', 'SystemMonitorPerf', '10000002', '--machine', 'm1'], { db });
    expect(r.code, r.err).toBe(0);
    const waiting = (): number => count(db, "SELECT count(*) AS n FROM jobs j WHERE j.origin = 'policy' AND j.status = 'running' AND NOT EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.id)");
    await waitFor(() => chainRow(db)?.status === 'running' && waiting() === 1, 20_000, () => `a to run the chain: ${JSON.stringify(chainRow(db))}`);
    expect(run('kanri', ['sim', 'delay', '0', '--operation', 'start'], { db }).code).toBe(0);
  };
  /** The chain ran its reboot again after a's job, which changed nothing, was abandoned: once, to completion. */
  const ranAgainOnce = async (db: string): Promise<void> => {
    expect(await chainEnded(db, chainRow(db)!.id, 60_000)).toMatchObject({ status: 'completed' });
    expect(queryAll(db, "SELECT status FROM jobs WHERE origin = 'policy' ORDER BY id")).toEqual([{ status: 'abandoned' }, { status: 'completed' }]);
    expect(queryAll(db, 'SELECT action, status FROM monitor_chain_actions ORDER BY idx')).toEqual([{ action: 'machine-reboot', status: 'completed' }, { action: 'status-normal', status: 'completed' }]);
    expect(queryAll(db, "SELECT management_status FROM machines WHERE name = 'm1'")).toEqual([{ management_status: 'normal' }]);
    expect(queryAll(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  };

  it('a chain a was running is left alone by b; a killed, b takes it over within one lease: its action runs once to completion', async () => {
    const db = chainStore('chain');
    const a = await start(db, 'a');
    await chainRunningOn(db);
    const row = (): ChainState | undefined => chainRow(db);
    expect(row()!.runner).toMatch(new RegExp(`pid=${a.proc.pid} `));
    const b = await start(db, 'b');
    // b leaves a live monitor's chain alone.
    expect(row()).toMatchObject({ status: 'running', runner: expect.stringMatching(new RegExp(`pid=${a.proc.pid} `)) });
    expect(await a.stop('SIGKILL')).toBe('SIGKILL');
    const expiry = Date.parse(queryAll<{ expires_at: string }>(db, "SELECT expires_at FROM monitor_lease WHERE manager = 'a'")[0]!.expires_at);
    // Taken over: run by b again, or ended by b's recovery (abandoned when the action may have taken effect).
    await waitFor(() => row()?.status !== 'running' || (row()?.runner ?? '').includes(`pid=${b.proc.pid} `), Math.max(0, expiry + LEASE_S * 1000 - Date.now()),
      () => `b to take the chain over within one lease: ${JSON.stringify(row())}`);
    // a's job died before any step: it changed nothing, so b runs the action again, once.
    await ranAgainOnce(db);
    expect(await b.stop()).toBe(0);
  }, 180_000);

  it('a monitor whose death is provable nowhere here (its own pid namespace) and whose manager\'s lease outlasts its monitor\'s: its chain waits for its job to be abandoned, then its action runs again, once', async () => {
    if (!canUnshare('several managers\' monitors: a death not provable here')) return;
    // The monitor's lease runs out first (chains are orphans then); the job stays its
    // manager's until manager.lease_s: the chain must not be judged by a job still running.
    const db = chainStore('chain_far', `, manager.lease_s: "${LEASE_S * 2}"`);
    const a = await start(db, 'a', ['unshare', '--pid', '--fork', '--mount-proc']);
    await chainRunningOn(db);
    const b = await start(db, 'b');
    process.kill(childOf(a.proc.pid!)!, 'SIGKILL');
    await ranAgainOnce(db);
    expect(queryAll(db, "SELECT error FROM jobs WHERE origin = 'policy' AND status = 'abandoned'")).toEqual([{ error: expect.stringMatching(/^heartbeat of process \d+ \(manager a on .*\) lost$/) }]);
    expect(await b.stop()).toBe(0);
  }, 180_000);
  /** A store with one machine (s1) in group G. */
  const oneMachineStore = (name: string, settings: string): string => storeAt(cluster.createDatabase(name), `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.lease_s: "${LEASE_S}", manager.lease_s: "${LEASE_S}", ${settings} }
${monitorGroup(['s1'])}machines:
  - { name: s1, kind: physical, power: on, active: { group: G, model: M, host: h01, from: group_pool } }
`);
  /** A store with one machine (s1) and a schedule that shuts it down at `at` (local time, as cron reads it), checked up to just before. */
  const scheduleStore = (name: string, at: Date, settings: string): string => {
    const db = oneMachineStore(name, settings);
    const before = new Date(at.getTime() - 1).toISOString();
    exec(db, `INSERT INTO schedules (group_id, group_path, operation, cron, run_late, created_at, checked_until) SELECT id, 'G', 'shutdown', ?, 0, ?, ? FROM groups WHERE name = 'G'`,
      `${at.getMinutes()} ${at.getHours()} * * *`, before, before);
    return db;
  };
  type Run = { due_at: string; status: string; runner: string | null; started_at: string | null; ended_at: string | null };
  const runs = (db: string): Run[] => queryAll<Run>(db, 'SELECT due_at, status, runner, started_at, ended_at FROM schedule_runs ORDER BY due_at');
  /** The minute boundary at or before now: due at once (within monitor.schedule_grace_s). */
  const thisMinute = (): Date => new Date(Math.floor(Date.now() / 60_000) * 60_000);

  /** a runs a schedule due now whose job waits before its first step (sim.delay_ms.start). */
  const runningOnA = async (name: string): Promise<{ db: string; a: RunningMonitor; due: Date }> => {
    const due = thisMinute();
    const db = scheduleStore(name, due, 'sim.delay_ms.start: "600000", monitor.schedule_grace_s: "600"');
    const a = await start(db, 'a');
    await waitFor(() => runs(db)[0]?.status === 'running' && count(db, "SELECT count(*) AS n FROM jobs WHERE origin = 'schedule' AND status = 'running'") === 1, 20_000,
      () => `a to run the schedule: ${JSON.stringify(runs(db))}`);
    expect(runs(db)).toEqual([expect.objectContaining({ due_at: due.toISOString(), status: 'running', runner: expect.stringMatching(new RegExp(`pid=${a.proc.pid} `)) })]);
    return { db, a, due };
  };
  /** b's lease heartbeat renewed twice: b has looked at the schedules for two seconds at least. */
  const beaten = async (db: string, manager: string): Promise<void> => {
    const first = queryAll<{ h: string }>(db, 'SELECT heartbeat_at AS h FROM monitor_lease WHERE manager = ?', manager)[0]!.h;
    let seen = 0;
    let last = first;
    await waitFor(() => {
      const h = queryAll<{ h: string }>(db, 'SELECT heartbeat_at AS h FROM monitor_lease WHERE manager = ?', manager)[0]!.h;
      if (h !== last) { seen++; last = h; }
      return seen >= 2;
    }, 20_000, () => `${manager}'s lease heartbeat to be renewed twice`);
  };

  it('a schedule a is running is left running when b starts, and while b runs', async () => {
    const { db, a } = await runningOnA('sched_live');
    await start(db, 'b');
    expect(runs(db)).toEqual([expect.objectContaining({ status: 'running', runner: expect.stringMatching(new RegExp(`pid=${a.proc.pid} `)) })]);
    await beaten(db, 'b');
    expect(runs(db)).toEqual([expect.objectContaining({ status: 'running', runner: expect.stringMatching(new RegExp(`pid=${a.proc.pid} `)) })]);
    expect(count(db, "SELECT count(*) AS n FROM jobs WHERE origin = 'schedule' AND status = 'running'")).toBe(1);
  }, 120_000);

  it('a killed monitor\'s schedule run is marked interrupted by the other once its lease ended, and its job abandoned', async () => {
    const { db, a } = await runningOnA('sched_dead');
    const b = await start(db, 'b');
    expect(await a.stop('SIGKILL')).toBe('SIGKILL');
    const expiresAt = queryAll<{ expires_at: string }>(db, "SELECT expires_at FROM monitor_lease WHERE manager = 'a'")[0]!.expires_at;
    const bound = Date.parse(expiresAt) + LEASE_S * 1000;
    await waitFor(() => runs(db)[0]?.status === 'interrupted', Math.max(0, bound - Date.now()), () => `b to take the run over within one lease after a's ended: ${JSON.stringify(runs(db))}`);
    // Not before a's lease ended (both times are the store's clock, as text).
    expect(runs(db)[0]!.ended_at! >= expiresAt).toBe(true);
    await waitFor(() => count(db, "SELECT count(*) AS n FROM jobs WHERE origin = 'schedule' AND status = 'abandoned'") === 1, 20_000, () => 'a\'s job to be abandoned');
    expect(queryAll(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
    expect(await b.stop()).toBe(0);
  }, 120_000);

  it('with b\'s clock an hour ahead (libfaketime), a schedule due once runs once, at its time by the store\'s clock, not early', async () => {
    const lib = libfaketime('several managers\' monitors: a schedule and a clock ahead');
    if (!lib) return;
    // The next minute boundary at least 15 s away: b looks at the schedule many times before it.
    const due = new Date(Math.ceil((Date.now() + 15_000) / 60_000) * 60_000);
    const db = scheduleStore('sched_clock', due, 'sim.delay_ms.start: "0"');
    await start(db, 'a');
    await start(db, 'b', shiftedClock(lib, '+1h'));
    // Until it is due, nothing is recorded: b, by its clock an hour past it, would have taken the
    // due time at once (missed, or run early within the grace).
    await waitFor(() => {
      if (Date.now() < due.getTime() - 1000) expect(runs(db), 'nothing before the due time').toEqual([]);
      return Date.now() >= due.getTime() - 1000;
    }, Math.max(0, due.getTime() - Date.now()) + 5_000, () => 'the due time to come');
    await waitFor(() => runs(db)[0]?.status === 'completed', 90_000, () => `the schedule to run at its time: ${JSON.stringify(runs(db))}`);
    const [r] = runs(db);
    expect(runs(db)).toHaveLength(1);
    expect(r).toMatchObject({ due_at: due.toISOString(), status: 'completed' });
    // Started by the store's clock at or after its time (b's own clock would say an hour later).
    expect(Date.parse(r!.started_at!)).toBeGreaterThanOrEqual(due.getTime());
    expect(Date.parse(r!.started_at!)).toBeLessThan(due.getTime() + 30 * 60_000);
    expect(queryAll(db, "SELECT status FROM jobs WHERE origin = 'schedule'")).toEqual([{ status: 'completed' }]);
    expect(queryAll(db, "SELECT power_state FROM machines WHERE name = 's1'")).toEqual([{ power_state: 'off' }]);
  }, 180_000);

  it('a schedule added in Asia/Tokyo runs once, at its time, on monitors whose TZ are America/New_York and Asia/Kolkata', async () => {
    // The next minute boundary at least 15 s away, as a time of day in Tokyo (UTC+9, no DST).
    const due = new Date(Math.ceil((Date.now() + 15_000) / 60_000) * 60_000);
    const db = oneMachineStore('sched_zones', 'sim.delay_ms.start: "0"');
    const add = run('kanri', ['schedule', 'add', 'G', 'shutdown', '--at', `${due.getUTCMinutes()} ${(due.getUTCHours() + 9) % 24} * * *`],
      { db, env: { ...process.env, TZ: 'Asia/Tokyo' } });
    expect(add.code, add.err).toBe(0);
    expect(queryAll(db, 'SELECT time_zone FROM schedules')).toEqual([{ time_zone: 'Asia/Tokyo' }]);
    // Each reading the expression in its own zone would find it 14 h (a) and 3.5 h (b) away.
    await start(db, 'a', [], { TZ: 'America/New_York' });
    await start(db, 'b', [], { TZ: 'Asia/Kolkata' });
    await waitFor(() => runs(db)[0]?.status === 'completed', Math.max(0, due.getTime() - Date.now()) + 90_000, () => `the schedule to run at its time: ${JSON.stringify(runs(db))}`);
    expect(runs(db)).toEqual([expect.objectContaining({ due_at: due.toISOString(), status: 'completed' })]);
    expect(Date.parse(runs(db)[0]!.started_at!)).toBeGreaterThanOrEqual(due.getTime());
    expect(queryAll(db, "SELECT status FROM jobs WHERE origin = 'schedule'")).toEqual([{ status: 'completed' }]);
  }, 180_000);
});
