// Fencing before a takeover (engine/fencing.ts), against ipmi_sim BMCs: the replacement of
// a machine whose BMC does not answer waits, visibly, until an operator confirms the machine
// off (kanri machine confirm-off, recorded with who and when); only then does the pool
// machine take over the host setting. A canceled wait leaves the pool machine untouched.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackHole, startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer } from './support/peers.js';
import { binaries, run } from './support/cli.js';
import { fixtureStore, queryAll } from './support/store.js';
import { type Ovsdb, startOvsdb } from './support/ovsdb.js';
import { until } from './support/until.js';

const havePeers = requirePeer('ipmi_sim', 'fencing') && requirePeer('ipmitool', 'fencing');

const YAML = `
kanri: 1
settings:
  ipmi.on_wait_s: "15"
  ipmi.soft_off_wait_s: "15"
  ipmi.deadline_s: "1"
  kanri.fence_poll_s: "0.2"
  kanri.fence_retry_s: "600"
groups:
  - name: Web
    type: physical
    drivers: { power: ipmi, deploy: local }
    models: [{ name: M }]
    host_settings:
      - { host: web01, nics: [{ addresses: [{ ip: 10.9.2.11, netmask: 255.255.255.0 }] }] }
      - { host: web02, nics: [{ addresses: [{ ip: 10.9.2.12, netmask: 255.255.255.0 }] }] }
    pool: [act-1, act-2, pool-1]
machines:
  - { name: act-1, kind: physical, power: on, active: { group: Web, model: M, host: web01, from: group_pool } }
  - { name: act-2, kind: physical, power: on, active: { group: Web, model: M, host: web02, from: group_pool } }
  - { name: pool-1, kind: physical, power: off }
`;

/** pvmutl as a child process: its exit code when it ends, and a way to interrupt it. */
function start(db: string, args: string[]): { done: Promise<{ code: number | null; err: string }>; interrupt(): void } {
  const child = spawn(join(binaries(), 'pvmutl'), args, { env: { ...process.env, LANG: 'C', LC_ALL: '', KANRI_DB: db }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout.resume();
  return { done: new Promise((r) => child.once('exit', (code) => r({ code, err }))), interrupt: () => child.kill('SIGINT') };
}

/** Until the job waits for fencing; a job that ends first fails the test with what it said. */
async function waitingOrEnded(job: ReturnType<typeof start>): Promise<void> {
  const ended = job.done.then((r) => { throw new Error(`the job ended (${r.code}) instead of waiting: ${r.err}`); });
  ended.catch(() => undefined);
  await Promise.race([ended, until('the takeover to wait for fencing', () => (waiting(dbOf!).length ? true : undefined))]);
}

let dbOf: string | undefined;

const waiting = (db: string): Array<{ name: string }> => queryAll<{ name: string }>(db, 'SELECT m.name FROM fencing_waits f JOIN machines m ON m.id = f.machine_id WHERE f.confirmed_at IS NULL');

describe.runIf(havePeers)('fencing before a takeover (ipmi_sim)', () => {
  let rack: SimRack;
  let dead: Awaited<ReturnType<typeof blackHole>>;
  let db: string;

  beforeAll(async () => {
    [rack, dead] = await Promise.all([startSims(2, { power: 'off', rich: false }), blackHole()]);
    rack.bmcs[0]!.writePower('on');
    db = fixtureStore(YAML);
    dbOf = db;
    const reg = (name: string, port: number, pw: string): void => {
      const r = run('dscli', ['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`], { db });
      expect(r.code, r.err).toBe(0);
    };
    // act-1's BMC is dead (a port that never answers); act-2 and pool-1 have live ones.
    reg('act-1', dead.port, rack.bmcs[0]!.passwordFile('admin'));
    reg('act-2', rack.bmcs[0]!.port, rack.bmcs[0]!.passwordFile('admin'));
    reg('pool-1', rack.bmcs[1]!.port, rack.bmcs[1]!.passwordFile('admin'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([rack?.stop(), dead?.close()]);
  });

  it('a canceled wait leaves the pool machine off, in the pool, and the host setting where it was', async () => {
    const job = start(db, ['replace', 'Web', 'web01']);
    await waitingOrEnded(job);
    job.interrupt();
    const r = await job.done;
    expect(r.code).toBe(7);
    expect(waiting(db)).toEqual([]);
    expect((await rack.bmcs[1]!.ipmitool(['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is off');
    expect(queryAll(db, "SELECT m.name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = 'web01'")).toEqual([{ name: 'act-1' }]);
    expect(queryAll(db, "SELECT count(*) AS n FROM pool_members p JOIN machines m ON m.id = p.machine_id WHERE m.name = 'pool-1'")).toEqual([{ n: 1 }]);
    // The operator clears the abnormal mark the canceled job left.
    expect(run('kanri', ['machine', 'reset', 'act-1'], { db }).code).toBe(0);
  }, 90_000);

  it('waits visibly for fencing, then takes over once an operator confirms the machine off', async () => {
    expect(run('kanri', ['machine', 'confirm-off', 'act-1'], { db })).toMatchObject({ code: 1, err: 'kanri: act-1 is not waiting for fencing: nothing to confirm\n' });
    const job = start(db, ['replace', 'Web', 'web01']);
    await waitingOrEnded(job);
    // Visible: kanri machine list and kanri monitor status say so; nothing was taken over.
    const list = run('kanri', ['machine', 'list'], { db });
    expect(list.out).toMatch(/^act-1\tphysical\tWeb as web01\t[^\t]*\t[^\t]*\twaiting for fencing\t/m);
    expect(run('kanri', ['monitor', 'status'], { db }).out).toMatch(/^waiting for fencing: act-1 \(job \d{5}\) since [^:]+:[^ ]+ ?[^:]*: the controller does not answer: .*; kanri machine confirm-off act-1$/m);
    const j = JSON.parse(run('kanri', ['monitor', 'status', '--json'], { db }).out) as { waiting_for_fencing: Array<{ machine: string; job: number | null; reason: string }> };
    expect(j.waiting_for_fencing).toEqual([expect.objectContaining({ machine: 'act-1', job: expect.any(Number), reason: expect.stringContaining('the controller does not answer') })]);
    expect(queryAll<{ event_id: number; type: string }>(db, "SELECT event_id, type FROM events WHERE source = 'kanri' ORDER BY id")).toEqual([{ event_id: 9101, type: 'warning' }, { event_id: 9101, type: 'warning' }]);
    expect((await rack.bmcs[1]!.ipmitool(['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is off');
    expect(queryAll(db, "SELECT m.name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = 'web01'")).toEqual([{ name: 'act-1' }]);

    const c = run('kanri', ['machine', 'confirm-off', 'act-1'], { db });
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/^act-1: confirmed off at \d{4}-\d\d-\d\dT[\d:.]+Z; job \d{5} goes on\n$/);
    const r = await job.done;
    expect(r).toEqual({ code: 0, err: '' });
    // The pool machine took over: its BMC says on, and it holds the host setting.
    expect((await rack.bmcs[1]!.ipmitool(['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is on');
    expect(queryAll(db, "SELECT m.name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = 'web01'")).toEqual([{ name: 'pool-1' }]);
    const confirmed = queryAll<{ message: string }>(db, "SELECT message FROM events WHERE source = 'kanri' AND event_id = 9103");
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0]!.message).toMatch(/^Machine \(act-1\) was confirmed off by \S+ at \d{4}-\d\d-\d\dT/);
    expect(waiting(db)).toEqual([]);
    expect(run('kanri', ['machine', 'list'], { db }).out).not.toMatch(/waiting for fencing/);
  }, 90_000);
});

describe.runIf(havePeers && requirePeer('ovsdb-server', 'fencing by the group\'s vlan driver'))('fencing by the group\'s vlan driver (ovsdb-server)', () => {
  let rack: SimRack;
  let dead: Awaited<ReturnType<typeof blackHole>>;
  let o: Ovsdb;
  let db: string;

  beforeAll(async () => {
    [rack, dead, o] = await Promise.all([startSims(1, { power: 'off', rich: false }), blackHole(), startOvsdb(['p1', 'p2'])]);
    db = fixtureStore(`
kanri: 1
settings: { ipmi.on_wait_s: "15", ipmi.deadline_s: "1", ovsdb.timeout_s: "3", kanri.fence_poll_s: "0.2" }
groups:
  - name: Web
    type: physical
    vlan: VLAN-web
    drivers: { power: ipmi, deploy: local, vlan: ovsdb }
    driver_settings:
      ovsdb: { switch: "${o.remote}", vid: 100 }
      kanri: { fence: vlan }
    models: [{ name: M }]
    host_settings:
      - { host: web01, nics: [{ addresses: [{ ip: 10.9.3.11, netmask: 255.255.255.0 }] }] }
    pool: [act-1, pool-1]
machines:
  - { name: act-1, kind: physical, power: on, driver_settings: { ovsdb: { nic1.port: p1 } }, active: { group: Web, model: M, host: web01, from: group_pool } }
  - { name: pool-1, kind: physical, power: off, driver_settings: { ovsdb: { nic1.port: p2 } } }
`);
    const reg = (name: string, port: number, pw: string): void => {
      const r = run('dscli', ['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`], { db });
      expect(r.code, r.err).toBe(0);
    };
    reg('act-1', dead.port, rack.bmcs[0]!.passwordFile('admin'));
    reg('pool-1', rack.bmcs[0]!.port, rack.bmcs[0]!.passwordFile('admin'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([rack?.stop(), dead?.close(), o?.stop()]);
  });

  it('a source whose BMC is dead is fenced on the switch (its port out of the VLAN): the takeover goes on without waiting', async () => {
    const r = await start(db, ['replace', 'Web', 'web01']).done;
    expect(r).toEqual({ code: 0, err: '' });
    expect(queryAll<{ event_id: number }>(db, "SELECT event_id FROM events WHERE source = 'kanri' ORDER BY id").map((e) => e.event_id)).toEqual([9102]);
    expect(queryAll(db, 'SELECT count(*) AS n FROM fencing_waits')).toEqual([{ n: 0 }]);
    // On the switch itself: act-1's port carries no VLAN, pool-1's the group's.
    expect(o.vlans('p1').tag).toBe('');
    expect(o.vlans('p2').tag).toBe('100');
    expect(queryAll(db, "SELECT m.name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = 'web01'")).toEqual([{ name: 'pool-1' }]);
    expect((await rack.bmcs[0]!.ipmitool(['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is on');
  }, 90_000);
});
