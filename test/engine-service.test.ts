// The engine as a service: one entry point that returns a result object, refusals with
// a reason, one state machine for jobs, and an engine that cancels or drains only the
// jobs it owns.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../src/engine/errors.js';
import { createJob, finishJob } from '../src/engine/job-state.js';
import { Engine } from '../src/engine/service.js';
import { type Db } from '../src/store/db.js';
import { openStore } from '../src/open-store.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { fixtureStore, queryAll as q } from './support/store.js';
import { until } from './support/until.js';

const starting = (db: Db): number => (db.prepare("SELECT count(*) AS n FROM job_steps WHERE name = 'Start machine' AND status = 'running'").get() as { n: number }).n;

const opts = { origin: 'test', command: 'engine-service test' };

async function withDb<T>(path: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openStore(path);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

describe('Engine.run', () => {
  it('returns what each job did: outcome, the failed step and the reason', async () => {
    const path = fixtureStore(ENGINE_DC);
    await withDb(path, async (db) => {
      const e = new Engine(db);
      let r = await e.run({ action: 'add', group: 'Bare', machine: 'pb1' }, opts);
      expect(r).toEqual({ canceledWhileHeld: false, jobs: [{ id: 1, sequence: 'MoveFromPoolToGroup', machine: 'pb1', outcome: 'completed' }] });
      db.prepare("INSERT INTO sim_faults (machine, operation, remaining, message) VALUES ('pb2', 'power-on', 1, 'no answer')").run();
      r = await e.run({ action: 'add', group: 'Bare', machine: 'pb2' }, opts);
      expect(r.jobs).toEqual([{ id: 2, sequence: 'MoveFromPoolToGroup', machine: 'pb2', outcome: 'failed', failedStep: 'Start machine', error: 'sim: power-on on pb2: no answer' }]);
      r = await e.run({ action: 'vmadd', group: 'VBare', vm: 'new-vm', existing: false }, opts);
      expect(r.jobs[0]).toMatchObject({ sequence: 'CreateMachineToGroup', machine: 'new-vm', outcome: 'completed' });
    });
    // The steps after the VM's creation act on the VM it created.
    expect(q(path, "SELECT name, target FROM job_steps WHERE job_id = 3 ORDER BY seq").map((s) => (s as { target: string }).target)).toEqual(['new-vm', 'new-vm', 'new-vm', 'new-vm', 'new-vm']);
    expect(q(path, "SELECT origin, command FROM jobs WHERE id = 1")).toEqual([{ origin: 'test', command: 'engine-service test' }]);
  });

  it('a peer\'s control bytes reach the journal and the result escaped, never as terminal sequences', async () => {
    const path = fixtureStore(ENGINE_DC);
    await withDb(path, async (db) => {
      db.prepare("INSERT INTO sim_faults (machine, operation, remaining, message) VALUES ('pb1', 'power-on', 1, ?)").run('no\x1b[2J answer\nFAKE: ok\r');
      const r = await new Engine(db).run({ action: 'add', group: 'Bare', machine: 'pb1' }, opts);
      expect(r.jobs[0]!.error).toBe('sim: power-on on pb1: no\\x1b[2J answer\\nFAKE: ok\\r');
    });
    const [job] = q(path, 'SELECT error FROM jobs WHERE id = 1') as Array<{ error: string }>;
    expect(job!.error).not.toMatch(/[\x00-\x1f]/);
    const steps = q(path, "SELECT output FROM job_steps WHERE job_id = 1 AND status = 'failed'") as Array<{ output: string }>;
    expect(steps[0]!.output).toBe('error: sim: power-on on pb1: no\\x1b[2J answer\\nFAKE: ok\\r\n');
  });

  it('refuses with a reason, writing nothing', async () => {
    const path = fixtureStore(ENGINE_DC);
    await withDb(path, async (db) => {
      const e = new Engine(db);
      await expect(e.run({ action: 'add', group: 'Nope' }, opts)).rejects.toMatchObject({ reason: 'group', message: 'group not found: Nope' });
      await expect(e.run({ action: 'replace', group: 'Bare', host: 'b9' }, opts)).rejects.toBeInstanceOf(EngineError);
      await expect(e.run({ action: 'add', group: 'Bare', count: 9 }, opts)).rejects.toMatchObject({ reason: 'machine' });
    });
    expect(q(path, 'SELECT count(*) AS n FROM jobs')).toEqual([{ n: 0 }]);
  });
});

describe('one state machine for jobs', () => {
  it('a transition the table does not have is a programming error naming the job and both states', () => {
    const db = openStore(':memory:');
    try {
      const id = createJob(db, { sequence: 'StartupMachine', params: {}, origin: 'test', command: 't', main: true, parentId: null }, 'running');
      expect(finishJob(db, id, 'completed', null)).toBe(true);
      expect(() => finishJob(db, id, 'failed', 'late')).toThrow('internal: job 00001 cannot go from completed to failed');
      expect(db.prepare('SELECT status, exit_code FROM jobs').get()).toEqual({ status: 'completed', exit_code: 0 });
    } finally {
      db.close();
    }
  });

  it('a verdict of abandoned stands when the job\'s own process finishes later', () => {
    const db = openStore(':memory:');
    try {
      const id = createJob(db, { sequence: 'StartupMachine', params: {}, origin: 'test', command: 't', main: true, parentId: null }, 'running');
      db.prepare("UPDATE jobs SET status = 'abandoned' WHERE id = ?").run(id);
      expect(finishJob(db, id, 'completed', null)).toBe(false);
      expect(db.prepare('SELECT status FROM jobs').get()).toEqual({ status: 'abandoned' });
    } finally {
      db.close();
    }
  });
});

describe('an engine owns its jobs', () => {
  it('cancelAll cancels this engine\'s jobs and no other\'s', async () => {
    const path = fixtureStore(ENGINE_DC);
    await withDb(path, async (db) => {
      db.prepare("INSERT INTO settings (key, value) VALUES ('sim.delay_ms.power-on', '1500')").run();
      const mine = new Engine(db);
      const other = new Engine(db);
      const a = mine.run({ action: 'add', group: 'Bare', machine: 'pb1' }, opts);
      const b = other.run({ action: 'add', group: 'Bare2', machine: 'pb2' }, opts);
      await until('both jobs to start their machines', () => starting(db) === 2, 15_000, 20);
      expect(mine.running()).toHaveLength(1);
      mine.cancelAll('canceled by the test');
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.jobs[0]).toMatchObject({ outcome: 'canceled', failedStep: 'Start machine' });
      expect(rb.jobs[0]).toMatchObject({ outcome: 'completed' });
    });
  });

  it('drain lets a job finish within the bound, then cancels what is still running, and takes no new change', async () => {
    const path = fixtureStore(ENGINE_DC);
    await withDb(path, async (db) => {
      db.prepare("INSERT INTO settings (key, value) VALUES ('sim.delay_ms.power-on', '300')").run();
      let e = new Engine(db);
      let job = e.run({ action: 'add', group: 'Bare', machine: 'pb1' }, opts);
      // (its machine starts within 300 ms: the job's row is what is waited for)
      await until('the job to be submitted', () => (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n === 1, 15_000, 20);
      expect(await e.drain(5000)).toEqual({ finished: 1, canceled: 0 });
      expect((await job).jobs[0]!.outcome).toBe('completed');
      await expect(e.run({ action: 'add', group: 'Bare', machine: 'pb2' }, opts)).rejects.toThrow(/shutting down/);

      db.prepare("UPDATE settings SET value = '20000' WHERE key = 'sim.delay_ms.power-on'").run();
      e = new Engine(db);
      job = e.run({ action: 'add', group: 'Bare', machine: 'pb2' }, opts);
      await until('the job to start its machine', () => starting(db) === 1, 15_000, 20);
      const t0 = Date.now();
      expect(await e.drain(200)).toEqual({ finished: 0, canceled: 1 });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect((await job).jobs[0]).toMatchObject({ outcome: 'canceled' });
    });
    expect(q(path, 'SELECT status FROM jobs ORDER BY id')).toEqual([{ status: 'completed' }, { status: 'canceled' }]);
    expect(q(path, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  });
});
