// Jobs across real processes: concurrent commands never assign a machine or a
// host setting twice, a held job starts when the blocking one ends, a killed
// process's job is found abandoned, and ascancel stops a job within a second.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { binaries } from './support/cli.js';
import { fixtureStore, queryAll as q } from './support/store.js';
import { until } from './support/until.js';

const DRIVERS = '{ power: sim, deploy: sim, vm: sim, storage: sim, vlan: sim, lb: sim, monitor: sim }';

function rack(hosts: number, machines: number, delayMs: number): string {
  const hs = Array.from({ length: hosts }, (_, i) => `      - { host: h${String(i + 1).padStart(2, '0')} }`).join('\n');
  const pool = Array.from({ length: machines }, (_, i) => `m${String(i + 1).padStart(2, '0')}`);
  return `
kanri: 1
settings: { sim.delay_ms: "${delayMs}" }
groups:
  - name: G
    type: physical
    drivers: ${DRIVERS}
    models: [{ name: std }]
    host_settings:
${hs}
    pool: [${pool.join(', ')}]
machines:
${pool.map((m) => `  - { name: ${m}, kind: physical }`).join('\n')}
`;
}

interface Proc { code: Promise<number | null>; out: () => string; err: () => string; pid: number; kill: (s: NodeJS.Signals) => void }

function start(db: string, args: string[]): Proc {
  const child = spawn(join(binaries(), 'pvmutl'), args, { env: { ...process.env, KANRI_DB: db, LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  return {
    code: new Promise((resolve) => child.on('exit', (c) => resolve(c))),
    out: () => out, err: () => err, pid: child.pid!, kill: (s) => child.kill(s),
  };
}

async function run(db: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = start(db, args);
  const code = await p.code;
  return { code, out: p.out(), err: p.err() };
}

function set(db: string, key: string, value: string): void {
  const d = openStore(db);
  d.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  d.close();
}

const runningStep = (db: string, name: string): { job_id: number } | undefined =>
  q<{ job_id: number }>(db, "SELECT job_id FROM job_steps WHERE name = ? AND status = 'running'", name)[0];

describe('concurrency across processes', () => {
  it('20 adds at once on 10 free host settings and 20 pool machines: exactly 10 succeed, the rest exit 4', async () => {
    const db = fixtureStore(rack(10, 20, 20));
    const adds = Array.from({ length: 20 }, () => start(db, ['add', 'G']));
    const listings: Array<{ code: number | null; out: string }> = [];
    let done = false;
    const all = Promise.all(adds.map((a) => a.code)).finally(() => { done = true; });
    while (!done) listings.push(await run(db, ['asjob', '-d']));
    const codes = await all;

    expect(codes.filter((c) => c === 0)).toHaveLength(10);
    expect(codes.filter((c) => c === 4)).toHaveLength(10);
    for (const a of adds.filter((_, i) => codes[i] === 4)) expect(a.err()).toBe('pvmutl: host settings of G are insufficient: 1 needed, 0 unused\n');
    const active = q<{ name: string; host_setting_id: number }>(db, 'SELECT name, host_setting_id FROM machines WHERE group_id IS NOT NULL');
    expect(active).toHaveLength(10);
    expect(new Set(active.map((m) => m.host_setting_id)).size).toBe(10);
    expect(q(db, 'SELECT count(*) AS n FROM jobs')).toEqual([{ n: 10 }]);
    expect(q(db, "SELECT count(DISTINCT json_extract(params, '$.machine')) AS n FROM jobs")).toEqual([{ n: 10 }]);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
    expect(listings.length).toBeGreaterThan(0);
    for (const l of listings) {
      expect(l.code).toBe(0);
      expect(l.out).toMatch(/^JobID Progress\(%\) StartTime {10}ActionSequence Name\n-----\+----------\+------------------\+------------------\n/);
      expect(l.out).toMatch(/\nTotal job : \d+\n$/);
    }
  }, 60_000);

  it('a job that needs a machine another job holds is held, then starts when that job ends', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    // Long enough for the second process to start and plan while A runs, even on a loaded machine.
    set(db, 'sim.delay_ms.power-on', '5000');
    const a = start(db, ['add', 'G', 'm01']);
    await until('job A to start the machine', () => runningStep(db, 'Start machine'), 15_000, 25);
    const b = start(db, ['shutdown', 'G', 'h01']);
    const held = await until('job B to be held', () => q<{ id: number }>(db, "SELECT id FROM jobs WHERE status = 'held'")[0], 15_000, 25);
    const listing = await run(db, ['asjob']);
    expect(listing.out).toMatch(new RegExp(`\\n${String(held.id).padStart(5, '0')} 0 {10}\\S+ \\S+ ShutdownMachine\\n`));
    expect(await a.code).toBe(0);
    expect(await b.code).toBe(0);
    const [ja, jb] = q<{ status: string; started_at: string; ended_at: string }>(db, 'SELECT status, started_at, ended_at FROM jobs ORDER BY id');
    expect(ja!.status).toBe('completed');
    expect(jb!.status).toBe('completed');
    expect(Date.parse(jb!.started_at)).toBeGreaterThanOrEqual(Date.parse(ja!.ended_at));
    expect(q(db, "SELECT power_state FROM machines WHERE name = 'm01'")).toEqual([{ power_state: 'off' }]);
  }, 30_000);
});

describe('a killed job process', () => {
  it('leaves a job that the next invocation reports abandoned, with its reservations freed', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    set(db, 'sim.delay_ms.power-on', '30000');
    const a = start(db, ['add', 'G', 'm01']);
    const { job_id } = await until('the job to start the machine', () => runningStep(db, 'Start machine'), 15_000, 25);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 2 }]);
    a.kill('SIGKILL');
    await a.code;

    const listing = await run(db, ['asjob']);
    expect(listing).toEqual({ code: 0, err: '', out: 'JobID Progress(%) StartTime          ActionSequence Name\n-----+----------+------------------+------------------\n\nTotal job : 0\n' });
    expect(q(db, 'SELECT status, exit_code FROM jobs WHERE id = ?', job_id)).toEqual([{ status: 'abandoned', exit_code: 7 }]);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
    expect(q(db, "SELECT management_status FROM machines WHERE name = 'm01'")).toEqual([{ management_status: 'abnormal' }]);
    expect(q(db, "SELECT status FROM job_steps WHERE name = 'Start machine'")).toEqual([{ status: 'failed' }]);
    expect(q<{ event_id: number }>(db, 'SELECT event_id FROM events ORDER BY id').map((e) => e.event_id)).toEqual([2033, 2035]);
    // The freed host settings serve the next command.
    set(db, 'sim.delay_ms.power-on', '0');
    expect((await run(db, ['add', 'G', '/c', '2'])).code).toBe(0);
  }, 30_000);

  it('killed before any step that changes a machine (its drivers still preparing): the machine is left as it was, not abnormal', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    set(db, 'sim.delay_ms.start', '30000');
    const a = start(db, ['add', 'G', 'm01']);
    const { id } = await until('the job to be running with no step yet', () => q<{ id: number; steps: number }>(db,
      "SELECT j.id, (SELECT count(*) FROM job_steps s WHERE s.job_id = j.id) AS steps FROM jobs j WHERE j.status = 'running'")
      .find((j) => j.steps === 0), 15_000, 25);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 2 }]);
    a.kill('SIGKILL');
    await a.code;

    expect((await run(db, ['asjob'])).code).toBe(0);
    expect(q(db, 'SELECT status, exit_code FROM jobs WHERE id = ?', id)).toEqual([{ status: 'abandoned', exit_code: 7 }]);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
    expect(q(db, "SELECT management_status FROM machines WHERE name = 'm01'")).toEqual([{ management_status: 'normal' }]);
    set(db, 'sim.delay_ms.start', '0');
    expect((await run(db, ['add', 'G', 'm01'])).code).toBe(0);
  }, 30_000);
});

describe('a hung job process', () => {
  it('whose heartbeat is older than the limit is abandoned although the process exists', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    const sleeper = spawn('sleep', ['30']);
    try {
      const d = openStore(db);
      const old = new Date(Date.now() - 121_000).toISOString();
      const fresh = new Date().toISOString();
      d.prepare("INSERT INTO jobs (id, sequence, status, created_at, pid, heartbeat_at, params) VALUES (7, 'StartupMachine', 'running', ?, ?, ?, '{}')").run(old, sleeper.pid, old);
      d.prepare("INSERT INTO jobs (id, sequence, status, created_at, pid, heartbeat_at, params) VALUES (8, 'StartupMachine', 'running', ?, ?, ?, '{}')").run(fresh, sleeper.pid, fresh);
      d.prepare("INSERT INTO reservations (resource, resource_id, job_id) VALUES ('machine', '1', 7), ('machine', '2', 8)").run();
      d.close();
      const listing = await run(db, ['asjob']);
      expect(listing.out).toMatch(/\n00008 0 +\S+ \S+ StartupMachine\n\nTotal job : 1\n$/);
      expect(q(db, 'SELECT id, status, error FROM jobs ORDER BY id')).toEqual([
        { id: 7, status: 'abandoned', error: `heartbeat of process ${sleeper.pid} lost` },
        { id: 8, status: 'running', error: null },
      ]);
      expect(q(db, 'SELECT job_id FROM reservations')).toEqual([{ job_id: 8 }]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});

describe('ascancel', () => {
  it('lists running jobs, and cancels one within a second: the command exits 7 and the journal shows where it stopped', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    set(db, 'sim.delay_ms.power-on', '30000');
    const a = start(db, ['add', 'G', 'm02']);
    const { job_id } = await until('the job to start the machine', () => runningStep(db, 'Start machine'), 15_000, 25);
    const id = String(job_id).padStart(5, '0');

    expect(await run(db, ['ascancel'])).toEqual({ code: 0, err: '', out: `========================================\nActionSequence List\n========================================\n${id}\n` });
    const detail = await run(db, ['asjob', '-d']);
    expect(detail.out).toMatch(new RegExp(`\\n${id} \\d{1,2} +\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d MoveFromPoolToGroup Start machine\\n      GroupName=G\\n      MachineName=m02\\n      HostName=h01\\n`));

    const asked = Date.now();
    expect(await run(db, ['ascancel', id])).toEqual({ code: 0, out: '', err: '' });
    const canceledAt = await until('the job to end', () => {
      const j = q<{ status: string; ended_at: string }>(db, 'SELECT status, ended_at FROM jobs WHERE id = ?', job_id)[0]!;
      return j.status === 'canceled' ? Date.parse(j.ended_at) : undefined;
    }, 15_000, 25);
    expect(canceledAt - asked).toBeLessThan(1000 + 500 /* the ascancel process's own start-up */);
    expect(await a.code).toBe(7);
    expect(a.err()).toMatch(new RegExp(`^pvmutl: job ${id} \\(MoveFromPoolToGroup, m02\\) was canceled at 'Start machine'`));
    expect(q(db, 'SELECT name, status FROM job_steps WHERE job_id = ? ORDER BY seq', job_id)).toEqual([
      { name: 'Assign host setting', status: 'completed' },
      { name: 'Distribute activation-time software', status: 'completed' },
      { name: 'Start machine', status: 'canceled' },
    ]);
    expect(q<{ event_id: number }>(db, 'SELECT event_id FROM events ORDER BY id').map((e) => e.event_id)).toEqual([2033, 2036]);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  }, 30_000);

  it('SIGHUP (the terminal went away) cancels the command\'s jobs as SIGTERM does', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    set(db, 'sim.delay_ms.power-on', '30000');
    const a = start(db, ['add', 'G', 'm02']);
    const { job_id } = await until('the job to start the machine', () => runningStep(db, 'Start machine'), 15_000, 25);
    a.kill('SIGHUP');
    expect(await a.code).toBe(7);
    expect(q(db, 'SELECT status FROM jobs WHERE id = ?', job_id)).toEqual([{ status: 'canceled' }]);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  }, 30_000);

  it('SIGTERM to the command cancels its jobs instead of abandoning them', async () => {
    const db = fixtureStore(rack(3, 3, 0));
    set(db, 'sim.delay_ms.power-on', '30000');
    const a = start(db, ['add', 'G', 'm03']);
    const { job_id } = await until('the job to start the machine', () => runningStep(db, 'Start machine'), 15_000, 25);
    a.kill('SIGTERM');
    expect(await a.code).toBe(7);
    expect(q(db, 'SELECT status FROM jobs WHERE id = ?', job_id)).toEqual([{ status: 'canceled' }]);
  }, 30_000);
});
