// Several managers on one PostgreSQL store (a private cluster on a unix socket): processes
// of two and three managers (KANRI_MANAGER=a/b/c) change the same groups at once and every
// invariant holds, every command succeeding; a manager's process killed in the middle of a
// job leaves it to another manager, which abandons it and frees its reservations — at once
// when the death is provable on this host, within the lease when it is not (another pid
// namespace, as another host would be).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { binaries, run } from './support/cli.js';
import { BIN, fixtureStore, queryAll as q, storeDigest, tempDir } from './support/store.js';
import { postgresBin, requirePostgres, startCluster, type PgCluster } from './support/postgres.js';
import { WRITER_LOCK } from '../src/store/postgres.js';
import { canUnshare, childOf, libfaketime, shiftedClock } from './support/peers.js';
import { until } from './support/until.js';
import { startServe } from './support/serve.js';

const have = requirePostgres('several managers on PostgreSQL');
let cluster: PgCluster;
let keyFile: string;

beforeAll(() => {
  if (!have) return;
  cluster = startCluster();
  keyFile = join(tempDir(), 'kanri.key');
}, 180_000);
afterAll(() => { cluster?.stop(); });

const DRIVERS = '{ power: sim, deploy: sim, vm: sim, storage: sim, vlan: sim, lb: sim, monitor: sim }';
const num = (p: string, i: number): string => `${p}${String(i).padStart(2, '0')}`;
const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/**
 * Groups A and B whose pools both hold every machine: 40 standing by, 10 active in A (a01-a10)
 * and 10 in B (b11-b20); A has 20 more free host settings, B 10.
 */
function dataCentre(delayMs: number): string {
  const spare = range(40).map((i) => num('m', i));
  const inA = range(10).map((i) => num('xa', i));
  const inB = range(10).map((i) => num('xb', i));
  const all = [...spare, ...inA, ...inB];
  const group = (name: string, hosts: string[]): string => `
  - name: ${name}
    type: physical
    drivers: ${DRIVERS}
    models: [{ name: std }]
    host_settings:
${hosts.map((h) => `      - { host: ${h} }`).join('\n')}
    pool: [${all.join(', ')}]`;
  const since = '2026-10-01T09:00:00.000Z';
  return `
kanri: 1
settings: { sim.delay_ms: "${delayMs}" }
groups:${group('A', range(30).map((i) => num('a', i)))}${group('B', range(20).map((i) => num('b', i)))}
machines:
${spare.map((m) => `  - { name: ${m}, kind: physical }`).join('\n')}
${inA.map((m, i) => `  - { name: ${m}, kind: physical, power: on, active: { group: A, model: std, host: ${num('a', i + 1)}, from: group_pool, since: "${since}" } }`).join('\n')}
${inB.map((m, i) => `  - { name: ${m}, kind: physical, power: on, active: { group: B, model: std, host: ${num('b', i + 11)}, from: group_pool, since: "${since}" } }`).join('\n')}
`;
}

interface Proc { code: Promise<number | null>; out: () => string; err: () => string; pid: number; kill: (s: NodeJS.Signals) => void }

/** pvmutl (or kanri) as a process of manager `manager`, optionally through a wrapper (unshare). */
function start(db: string, manager: string, name: 'pvmutl' | 'kanri', args: string[], wrapper: string[] = []): Proc {
  const env = { ...process.env, KANRI_DB: db, KANRI_KEY_FILE: keyFile, KANRI_MANAGER: manager, LANG: 'C', LC_ALL: '' };
  const argv = wrapper.length ? [...wrapper, process.execPath, BIN, ...(name === 'kanri' ? [] : [name]), ...args] : [join(binaries(), name), ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  return { code: new Promise((resolve) => child.on('exit', (c) => resolve(c))), out: () => out, err: () => err, pid: child.pid!, kill: (s) => child.kill(s) };
}

function store(delayMs: number): string {
  process.env.KANRI_KEY_FILE = keyFile;
  return fixtureStore(dataCentre(delayMs), cluster.createDatabase('managers'));
}

function setting(db: string, key: string, value: string): void {
  const d = openStore(db);
  d.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  d.close();
}

/** Every invariant of the store after a burst of changes. */
function checkInvariants(db: string): void {
  // A host setting serves one machine; a machine is active in one group at most, with its host setting.
  const active = q<{ name: string; group_id: number; host_setting_id: number | null }>(db, 'SELECT name, group_id, host_setting_id FROM machines WHERE group_id IS NOT NULL');
  expect(active.filter((m) => m.host_setting_id === null)).toEqual([]);
  expect(new Set(active.map((m) => m.host_setting_id)).size).toBe(active.length);
  const hostGroup = q<{ id: number; group_id: number }>(db, 'SELECT id, group_id FROM host_settings');
  for (const m of active) expect(hostGroup.find((h) => h.id === m.host_setting_id)?.group_id, m.name).toBe(m.group_id);
  // Nothing is left reserved, and no two jobs ever held one machine at the same time.
  expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  const jobs = q<{ id: number; machine: string; started_at: string; ended_at: string }>(db,
    "SELECT id, json_extract(params, '$.machine') AS machine, started_at, ended_at FROM jobs ORDER BY id");
  for (const a of jobs) {
    for (const b of jobs) {
      if (a.id >= b.id || a.machine !== b.machine) continue;
      const overlap = Date.parse(a.started_at) < Date.parse(b.ended_at) && Date.parse(b.started_at) < Date.parse(a.ended_at);
      expect(overlap, `jobs ${a.id} and ${b.id} both held ${a.machine}`).toBe(false);
    }
  }
}

async function burst(managers: string[]): Promise<void> {
  const db = store(20);
  // 40 changes: 10 adds to A, 10 adds to B, 10 deletes from A, 10 moves from B to A, dealt out over the managers.
  const commands = [
    ...range(10).map(() => ['add', 'A']),
    ...range(10).map(() => ['add', 'B']),
    ...range(10).map((i) => ['delete', 'A', num('a', i)]),
    ...range(10, 11).map((i) => ['move', 'A', 'B', num('b', i)]),
  ];
  // Interleaved so that each kind of change runs on every manager at the same time.
  const order = range(40, 0).map((i) => commands[(i % 4) * 10 + Math.floor(i / 4)]!);
  const procs = order.map((args, i) => ({ args, manager: managers[i % managers.length]!, p: start(db, managers[i % managers.length]!, 'pvmutl', args) }));
  const codes = await Promise.all(procs.map((x) => x.p.code));
  const failed = procs.filter((_, i) => codes[i] !== 0).map((x, i) => `${x.manager}: pvmutl ${x.args.join(' ')} → ${codes[i]} ${x.p.err()}`);
  expect(failed).toEqual([]);

  checkInvariants(db);
  const groups = q<{ name: string; n: number }>(db, 'SELECT g.name, count(m.id) AS n FROM groups g LEFT JOIN machines m ON m.group_id = g.id GROUP BY g.name ORDER BY g.name');
  expect(groups).toEqual([{ name: 'A', n: 20 }, { name: 'B', n: 10 }]);
  for (const i of range(10)) expect(q(db, 'SELECT group_id FROM machines WHERE name = ?', num('xa', i))).toEqual([{ group_id: null }]);
  // Every job completed, owned by the manager of the process that ran it; every manager ran some.
  const jobs = q<{ status: string; manager: string }>(db, 'SELECT status, manager FROM jobs');
  expect(jobs).toHaveLength(40);
  expect(jobs.filter((j) => j.status !== 'completed')).toEqual([]);
  expect([...new Set(jobs.map((j) => j.manager))].sort()).toEqual([...managers].sort());
  for (const m of managers) expect(jobs.filter((j) => j.manager === m), m).toHaveLength(procs.filter((x) => x.manager === m).length);
  // A command's heartbeat ends with it: no process of any manager is left alive.
  expect(q(db, 'SELECT count(*) AS n FROM managers')).toEqual([{ n: 0 }]);
}

const runningStep = (db: string, name: string): { job_id: number } | undefined =>
  q<{ job_id: number }>(db, "SELECT job_id FROM job_steps WHERE name = ? AND status = 'running'", name)[0];

/**
 * A store whose machines take two minutes to start, with a 5 s lease, and manager a's
 * `pvmutl add A m01` in a pid namespace of its own (as on another host: its death is provable
 * nowhere here, only its lease tells), once its job is in that step.
 */
async function farAway(): Promise<{ db: string; a: Proc; ja: number }> {
  const db = store(0);
  setting(db, 'sim.delay_ms.power-on', '120000');
  setting(db, 'manager.lease_s', '5');
  const a = start(db, 'a', 'pvmutl', ['add', 'A', 'm01'], ['unshare', '--pid', '--fork', '--mount-proc']);
  const { job_id: ja } = await until('manager a\'s job to start the machine', () => runningStep(db, 'Start machine'), 60_000);
  return { db, a, ja };
}

describe.skipIf(!have)('several managers on one PostgreSQL store', () => {
  it('40 concurrent changes from two managers (add, delete, move across groups): every command exits 0, every invariant holds', async () => {
    await burst(['a', 'b']);
  }, 240_000);

  it('40 concurrent changes from three managers: the same', async () => {
    await burst(['a', 'b', 'c']);
  }, 240_000);

  it('a process of manager a killed in a step on this host: a process of manager b abandons its job at once and frees its reservations', async () => {
    const db = store(0);
    setting(db, 'sim.delay_ms.power-on', '120000');
    const a = start(db, 'a', 'pvmutl', ['add', 'A', 'm01']);
    const { job_id: ja } = await until('manager a\'s job to start the machine', () => runningStep(db, 'Start machine'), 60_000);
    expect(q(db, 'SELECT manager, role FROM managers')).toEqual([{ manager: 'a', role: 'cli' }]);
    const listed = run('kanri', ['manager', 'list', '--json'], { db, env: { KANRI_KEY_FILE: keyFile } });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject({ manager: 'a', role: 'cli', pid: a.pid, jobs: 1, monitor: null });
    // b's job waits in the same step: its process beats and sweeps while it runs.
    const b = start(db, 'b', 'pvmutl', ['add', 'B', 'm02']);
    await until('manager b\'s job to start the machine', () => q<{ job_id: number }>(db, "SELECT job_id FROM job_steps WHERE name = 'Start machine' AND status = 'running' AND job_id <> ?", ja)[0], 60_000);
    a.kill('SIGKILL');
    await a.code;
    const killedAt = Date.now();
    const job = await until('manager a\'s job to be abandoned', () => q<{ status: string; error: string; ended_at: string }>(db, "SELECT status, error, ended_at FROM jobs WHERE id = ? AND status = 'abandoned'", ja)[0], 30_000);
    expect(job.error).toBe(`process ${a.pid} ended without finishing the job`);
    // At once: the next beat of b's process (one a second), not the lease (60 s).
    expect(Date.parse(job.ended_at) - killedAt).toBeLessThan(60_000);
    expect(q(db, 'SELECT resource FROM reservations WHERE job_id = ?', ja)).toEqual([]);
    expect(q(db, "SELECT management_status FROM machines WHERE name = 'm01'")).toEqual([{ management_status: 'abnormal' }]);
    expect(q<{ event_id: number }>(db, 'SELECT event_id FROM events WHERE job_id = ? ORDER BY id', ja).map((e) => e.event_id)).toEqual([2033, 2035]);
    b.kill('SIGTERM');
    expect(await b.code).toBe(7);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  }, 180_000);

  it('a process of manager a killed where its death cannot be proven (another pid namespace, as on another host): manager b abandons its job once its lease runs out', async () => {
    if (!canUnshare('several managers: a death not provable here')) return;
    const { db, a, ja } = await farAway();
    const b = start(db, 'b', 'pvmutl', ['add', 'B', 'm02']);
    await until('manager b\'s job to start the machine', () => q<{ job_id: number }>(db, "SELECT job_id FROM job_steps WHERE name = 'Start machine' AND status = 'running' AND job_id <> ?", ja)[0], 60_000);
    const inner = childOf(a.pid);
    expect(inner).toBeDefined();
    // In its own namespace the process is pid 1: its identity proves nothing on this host.
    expect(q<{ owner: string }>(db, 'SELECT owner FROM jobs WHERE id = ?', ja)[0]!.owner).toMatch(/ pid=1 /);
    process.kill(inner!, 'SIGKILL');
    await a.code;
    const killedAt = Date.now();
    const { expires_at } = q<{ expires_at: string }>(db, "SELECT expires_at FROM managers WHERE manager = 'a'")[0]!;
    const job = await until('manager a\'s job to be abandoned', () => q<{ status: string; error: string; ended_at: string }>(db, "SELECT status, error, ended_at FROM jobs WHERE id = ? AND status = 'abandoned'", ja)[0], 60_000);
    expect(job.error).toMatch(/^heartbeat of process 1 \(manager a on \S+\) lost$/);
    // Not before its lease ran out, and within the lease of the kill (plus one beat of b's process).
    expect(Date.parse(job.ended_at)).toBeGreaterThanOrEqual(Date.parse(expires_at));
    expect(Date.parse(job.ended_at) - killedAt).toBeLessThan(5_000 + 2_000);
    expect(q(db, 'SELECT resource FROM reservations WHERE job_id = ?', ja)).toEqual([]);
    // The row of the dead process goes with its jobs; b's stays while it runs.
    expect(q(db, 'SELECT manager FROM managers ORDER BY manager')).toEqual([{ manager: 'b' }]);
    b.kill('SIGTERM');
    expect(await b.code).toBe(7);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  }, 180_000);

  it('a daemon heartbeats from start to stop and frees a dead manager\'s reservations within the lease while no command runs', async () => {
    if (!canUnshare('several managers: a daemon frees a dead manager\'s jobs')) return;
    const db = store(0);
    setting(db, 'sim.delay_ms.power-on', '120000');
    setting(db, 'manager.lease_s', '5');
    const served = await startServe(db, { KANRI_MANAGER: 'c', KANRI_KEY_FILE: keyFile });
    try {
      const listed = () => run('kanri', ['manager', 'list', '--json'], { db, env: { KANRI_KEY_FILE: keyFile } }).out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(listed()).toMatchObject([{ manager: 'c', role: 'serve', pid: served.d.child.pid, jobs: 0 }]);
      const a = start(db, 'a', 'pvmutl', ['add', 'A', 'm01'], ['unshare', '--pid', '--fork', '--mount-proc']);
      const { job_id: ja } = await until('manager a\'s job to start the machine', () => runningStep(db, 'Start machine'), 60_000);
      expect(listed().map((p) => `${p.manager} ${p.role} ${p.jobs}`)).toEqual(['a cli 1', 'c serve 0']);
      process.kill(childOf(a.pid)!, 'SIGKILL');
      await a.code;
      const killedAt = Date.now();
      // Only kanri serve of manager c runs now: its beat frees a's job once a's lease has run out.
      const job = await until('manager a\'s job to be abandoned', () => q<{ ended_at: string }>(db, "SELECT ended_at FROM jobs WHERE id = ? AND status = 'abandoned'", ja)[0], 60_000);
      expect(Date.parse(job.ended_at) - killedAt).toBeLessThan(5_000 + 2_000);
      expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
      expect(listed().map((p) => `${p.manager} ${p.role}`)).toEqual(['c serve']);
    } finally {
      await served.stop();
    }
    // A daemon's row goes when it stops.
    expect(q(db, 'SELECT count(*) AS n FROM managers')).toEqual([{ n: 0 }]);
  }, 180_000);

  it('a manager whose clock runs an hour ahead (libfaketime) abandons no live job of another; once that one dies, it abandons its job within the lease', async () => {
    const lib = libfaketime('several managers: a clock ahead');
    if (!lib) return;
    if (!canUnshare('several managers: a clock ahead')) return;
    const { db, a, ja } = await farAway();
    // b's process sees a clock an hour ahead (libfaketime; its timers keep the real monotonic clock).
    const b = start(db, 'b', 'pvmutl', ['add', 'B', 'm02'], shiftedClock(lib, '+1h'));
    const { id: jb, created_at } = await until('manager b\'s job to start the machine', () => q<{ id: number; created_at: string }>(db,
      "SELECT j.id, j.created_at FROM jobs j JOIN job_steps s ON s.job_id = j.id WHERE s.name = 'Start machine' AND s.status = 'running' AND j.id <> ?", ja)[0], 60_000);
    // The clock of b's process is ahead indeed (a job's creation time is the process's) ...
    expect(Date.parse(created_at) - Date.now()).toBeGreaterThan(50 * 60_000);
    // ... while the rows that decide liveness carry the store's: b's heartbeat is now, its lease five seconds on.
    const beat = (): { heartbeat_at: string; expires_at: string } | undefined => q<{ heartbeat_at: string; expires_at: string }>(db, "SELECT heartbeat_at, expires_at FROM managers WHERE manager = 'b'")[0];
    const first = beat()!;
    expect(Math.abs(Date.parse(first.heartbeat_at) - Date.now())).toBeLessThan(60_000);
    expect(Date.parse(first.expires_at) - Date.parse(first.heartbeat_at)).toBe(5_000);
    // Three beats of b since: its process swept the jobs at each (every second, a beat every sixth of the lease).
    let seen = first.heartbeat_at;
    let beats = 0;
    await until('three heartbeats of manager b', () => {
      const now = beat()!.heartbeat_at;
      if (now !== seen) { seen = now; beats++; }
      return beats >= 3;
    }, 60_000);
    // a lives: its job runs, unabandoned by b, whose clock is past a's lease by an hour.
    expect(q(db, 'SELECT id, status FROM jobs ORDER BY id')).toEqual([{ id: ja, status: 'running' }, { id: jb, status: 'running' }]);

    process.kill(childOf(a.pid)!, 'SIGKILL');
    await a.code;
    const killedAt = Date.now();
    const job = await until('manager a\'s job to be abandoned', () => q<{ error: string }>(db, "SELECT error FROM jobs WHERE id = ? AND status = 'abandoned'", ja)[0], 60_000);
    expect(job.error).toMatch(/^heartbeat of process 1 \(manager a on \S+\) lost$/);
    // Within the lease of the kill (plus one beat of b's process), by the real clock.
    expect(Date.now() - killedAt).toBeLessThan(5_000 + 2_000);
    expect(q(db, 'SELECT resource FROM reservations WHERE job_id = ?', ja)).toEqual([]);
    b.kill('SIGTERM');
    expect(await b.code).toBe(7);
  }, 180_000);

  it('a held command paused past its lease: another manager abandons its held job; resumed, it ends with exit 6, having run no step', async () => {
    const db = store(0);
    setting(db, 'sim.delay_ms.power-on', '120000');
    setting(db, 'manager.lease_s', '5');
    const a = start(db, 'a', 'pvmutl', ['add', 'A', 'm01']);
    const { job_id: ja } = await until('manager a\'s job to start the machine', () => runningStep(db, 'Start machine'), 60_000);
    const host = q<{ host: string }>(db, "SELECT json_extract(params, '$.HostName') AS host FROM jobs WHERE id = ?", ja)[0]!.host;
    const b = start(db, 'b', 'pvmutl', ['shutdown', 'A', host]);
    const { id: jb } = await until('manager b\'s job to be held', () => q<{ id: number }>(db, "SELECT id FROM jobs WHERE status = 'held'")[0], 60_000);
    b.kill('SIGSTOP');
    // Alive but silent: only its lease can tell; a's process sweeps while its job runs.
    await until('manager b\'s held job to be abandoned', () => q(db, "SELECT id FROM jobs WHERE id = ? AND status = 'abandoned'", jb)[0], 60_000);
    expect(q(db, 'SELECT status FROM jobs WHERE id = ?', ja)).toEqual([{ status: 'running' }]);
    b.kill('SIGCONT');
    expect(await b.code).toBe(6);
    expect(b.err()).toBe('pvmutl: the held job was abandoned by another manager: this process did not renew its lease (manager.lease_s) while it waited\n');
    expect(q(db, "SELECT status FROM job_steps WHERE job_id = ?", jb)).toEqual([]);
    expect(q(db, 'SELECT DISTINCT job_id FROM reservations')).toEqual([{ job_id: ja }]);
    a.kill('SIGTERM');
    expect(await a.code).toBe(7);
  }, 180_000);

  it('kanri store status names the live managers and their processes', async () => {
    const db = store(0);
    setting(db, 'sim.delay_ms.power-on', '120000');
    const a = start(db, 'a', 'pvmutl', ['add', 'A', 'm01']);
    await until('the job to start the machine', () => runningStep(db, 'Start machine'), 60_000);
    const status = run('kanri', ['store', 'status'], { db, env: { KANRI_KEY_FILE: keyFile } });
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/\nmanagers: a \(cli 1\)\n$/);
    a.kill('SIGTERM');
    expect(await a.code).toBe(7);
    expect(run('kanri', ['store', 'status'], { db, env: { KANRI_KEY_FILE: keyFile } }).out).toMatch(/\nmanagers: none alive/);
  }, 120_000);
});

/** A psql session of the test that holds the store's writer lock until release(). */
function holdWriterLock(db: string): { release: () => Promise<void> } {
  const name = /^postgresql:\/\/kanri@\/([^?]+)/.exec(db)![1]!;
  const psql = spawn(join(postgresBin()!, 'psql'), ['-h', cluster.socketDir, '-U', 'kanri', '-d', name, '-XAtq', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'ignore', 'inherit'] });
  psql.stdin.write(`BEGIN;\nSELECT pg_advisory_xact_lock(${WRITER_LOCK});\n`);
  const ended = new Promise<void>((resolve) => psql.on('exit', () => resolve()));
  return { release: async () => { psql.stdin.end('COMMIT;\n'); await ended; } };
}

const advisory = (db: string, granted: boolean): number => {
  const name = /^postgresql:\/\/kanri@\/([^?]+)/.exec(db)![1]!;
  return Number(cluster.psql('postgres', `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted = ${granted} AND d.datname = '${name}'`).trim());
};

describe.skipIf(!have)('the writer lock of a PostgreSQL store', () => {
  it('a change queues behind the writer lock held on another connection, and runs once it is free', async () => {
    const db = store(0);
    const lock = holdWriterLock(db);
    await until('the test to hold the writer lock', () => advisory(db, true) === 1, 30_000);
    const a = start(db, 'a', 'pvmutl', ['add', 'A', 'm01']);
    await until('the command to wait for the lock', () => advisory(db, false) === 1, 30_000);
    // Readers are not held up meanwhile, and the waiting command has written nothing.
    expect(q(db, 'SELECT count(*) AS n FROM jobs')).toEqual([{ n: 0 }]);
    await lock.release();
    expect(await a.code).toBe(0);
    expect(q(db, "SELECT status, manager FROM jobs")).toEqual([{ status: 'completed', manager: 'a' }]);
  }, 120_000);

  it('held past the busy timeout: the command says the store is busy (70) and changes nothing', async () => {
    const db = store(0);
    const before = storeDigest(db);
    const lock = holdWriterLock(db);
    await until('the test to hold the writer lock', () => advisory(db, true) === 1, 30_000);
    const r = run('pvmutl', ['add', 'A', 'm01'], { db, env: { KANRI_KEY_FILE: keyFile, KANRI_MANAGER: 'a', KANRI_BUSY_TIMEOUT_S: '1' } });
    await lock.release();
    expect(r.code).toBe(70);
    expect(r.err).toMatch(/^pvmutl: store \S+ is busy: other commands have held it for more than the busy timeout \(1 s\); try again when they are done \(SQLITE_BUSY\)\n$/);
    expect(storeDigest(db)).toBe(before);
  }, 120_000);
});

describe('one manager on SQLite: nothing changes for a single host', () => {
  it('a command that reads writes nothing; a change leaves no process row behind; its jobs name this host as their manager', () => {
    const db = fixtureStore(dataCentre(0), join(tempDir(), 'kanri.db'));
    const env = { KANRI_MANAGER: '' };
    const before = storeDigest(db);
    expect(run('pvmutl', ['list', 'group'], { db, env }).code).toBe(0);
    expect(run('kanri', ['manager', 'list'], { db, env })).toEqual({ code: 0, out: '', err: '' });
    expect(run('kanri', ['job', 'list'], { db, env }).code).toBe(0);
    expect(storeDigest(db)).toBe(before);
    expect(run('pvmutl', ['add', 'A', 'm01'], { db, env })).toEqual({ code: 0, out: '', err: '' });
    expect(q(db, 'SELECT count(*) AS n FROM managers')).toEqual([{ n: 0 }]);
    const [job] = q<{ manager: string; owner: string; pid: number }>(db, 'SELECT manager, owner, pid FROM jobs');
    expect(job!.manager).toBe(hostname().split('.')[0]);
    expect(job!.owner).toMatch(new RegExp(`^host=${hostname().replace(/\./g, '\\.')} pid=${job!.pid} ns=\\d+ boot=\\S+ token=[0-9a-f]{12}$`));
    expect(run('kanri', ['store', 'status'], { db, env }).out).toMatch(/\nmanagers: none alive /);
    const short = hostname().split('.')[0]!;
    expect(run('kanri', ['job', 'show', 'last'], { db, env }).out.split('\n')[1]).toBe(`  manager: ${short} (process ${job!.pid} on ${hostname()})`);
    expect(JSON.parse(run('kanri', ['job', 'list', '--json'], { db, env }).out)).toMatchObject({ id: 1, manager: short });
  }, 60_000);
});
