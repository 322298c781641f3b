// Jobs across processes: reserving resources atomically, holding a job whose
// resources another job has, the heartbeat of the owning process, and finding
// jobs whose process died. The store is the only shared state.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../store/db.js';
import { writeJobEvent } from './events.js';
import type { JobPlan, Resource } from './plan.js';

/**
 * A job is abandoned at once when its process is gone. A process that still
 * exists but has not written its heartbeat for this long is taken as hung.
 */
export const HEARTBEAT_STALE_MS = 120_000;
export const HEARTBEAT_EVERY_MS = 1_000;
/** How often a process looks for cancel requests of its jobs (cancel is honoured within 1 s). */
export const CANCEL_POLL_MS = 200;
const HOLD_POLL_MS = 200;

export interface Job { id: number; plan: JobPlan }
export interface Submitted { jobs: Job[]; parentId: number | null }

const now = (): string => new Date().toISOString();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks running or held jobs whose process is gone (or silent) as abandoned,
 * frees their reservations and flags their machines. Any invocation may call it.
 */
export function sweepAbandoned(db: Db): number[] {
  const rows = db.prepare("SELECT id, sequence, pid, heartbeat_at, params FROM jobs WHERE status IN ('running', 'held')").all() as
    Array<{ id: number; sequence: string; pid: number | null; heartbeat_at: string | null; params: string }>;
  const dead = rows.filter((j) => j.pid !== process.pid && (j.pid === null || !pidAlive(j.pid) || (j.heartbeat_at !== null && Date.now() - Date.parse(j.heartbeat_at) > HEARTBEAT_STALE_MS)));
  // (A pid reused by an unrelated process keeps a dead job "alive" only until its heartbeat is stale.)
  if (dead.length === 0) return [];
  db.transaction(() => {
    for (const j of dead) {
      const cur = db.prepare('SELECT status FROM jobs WHERE id = ?').get(j.id) as { status: string };
      if (cur.status !== 'running' && cur.status !== 'held') continue;
      const why = j.pid !== null && pidAlive(j.pid) ? `heartbeat of process ${j.pid} lost` : `process ${j.pid ?? '?'} ended without finishing the job`;
      const machines = db.prepare("SELECT resource_id FROM reservations WHERE job_id = ? AND resource = 'machine'").all(j.id) as Array<{ resource_id: string }>;
      for (const m of machines) if (/^\d+$/.test(m.resource_id)) db.prepare("UPDATE machines SET management_status = 'abnormal' WHERE id = ?").run(Number(m.resource_id));
      db.prepare('DELETE FROM reservations WHERE job_id = ?').run(j.id);
      db.prepare("UPDATE jobs SET status = 'abandoned', ended_at = ?, error = ?, exit_code = 7 WHERE id = ?").run(now(), why, j.id);
      db.prepare("UPDATE job_steps SET status = 'failed', ended_at = ?, output = output || ? WHERE job_id = ? AND status = 'running'").run(now(), `abandoned: ${why}\n`, j.id);
      const p = JSON.parse(j.params) as Record<string, string>;
      writeJobEvent(db, j.sequence, 'failed', { jobId: j.id, machine: p.machine ?? '', group: p.group ?? '' });
    }
  }).immediate();
  return dead.map((j) => j.id);
}

function reservedByOthers(db: Db, resources: Resource[], own: number[]): Resource[] {
  const q = db.prepare('SELECT job_id FROM reservations WHERE resource = ? AND resource_id = ?');
  return resources.filter(([kind, id]) => {
    const r = q.get(kind, id) as { job_id: number } | undefined;
    return r !== undefined && !own.includes(r.job_id);
  });
}

/** The resources some job other than `own` holds, as "kind:id" keys, for selection to skip. */
export function reservedKeys(db: Db, kind: Resource[0]): Set<string> {
  const rows = db.prepare('SELECT resource_id FROM reservations WHERE resource = ?').all(kind) as Array<{ resource_id: string }>;
  return new Set(rows.map((r) => r.resource_id));
}

export interface SubmitOptions {
  origin: string;
  command: string;
  /**
   * A group-level job that the planned jobs belong to (e.g. distribution to all
   * machines of a group): it is listed by plain `asjob`, its children by `asjob -a`.
   */
  parent?: { sequence: string; params: Record<string, string> };
  /** Called once when the jobs must wait for another job's resources. */
  onHeld?: (jobIds: number[], blockers: Resource[]) => void;
}

/**
 * Validates and plans inside one IMMEDIATE transaction, so that no two processes
 * can choose the same machine or host setting, and reserves what the plans need.
 * When another job holds a named resource, the jobs are recorded as held and the
 * planning is repeated until the resources are free (spec §2.2): a held job
 * starts when the blocking one ends, re-validated against the state it left.
 */
export async function submit(db: Db, build: () => JobPlan[], opts: SubmitOptions): Promise<Submitted | 'canceled'> {
  let ids: number[] = [];
  let parentId: number | null = null;
  let attempts = 0;
  for (;;) {
    let result: Job[] | 'held' | 'canceled';
    try {
      result = plan();
    } catch (err) {
      // A job held earlier whose command is no longer valid ends here, visibly.
      const all = [...ids, ...(parentId === null ? [] : [parentId])];
      if (all.length) {
        db.prepare(`UPDATE jobs SET status = 'failed', ended_at = ?, error = ?, exit_code = ? WHERE id IN (${all.join(',')})`)
          .run(now(), (err as Error).message, (err as { code?: number }).code ?? 7);
      }
      throw err;
    }
    if (result !== 'held') return result === 'canceled' ? result : { jobs: result, parentId };
    attempts++;
    await sleep(HOLD_POLL_MS);
  }

  function plan(): Job[] | 'held' | 'canceled' {
    return db.transaction((): Job[] | 'held' | 'canceled' => {
      sweepAbandoned(db);
      const all = [...ids, ...(parentId === null ? [] : [parentId])];
      if (all.length && (db.prepare(`SELECT count(*) AS n FROM jobs WHERE id IN (${all.join(',')}) AND cancel_requested = 1`).get() as { n: number }).n > 0) {
        db.prepare(`UPDATE jobs SET status = 'canceled', ended_at = ?, exit_code = 7 WHERE id IN (${all.join(',')})`).run(now());
        return 'canceled';
      }
      const plans = build();
      const blockers = reservedByOthers(db, plans.flatMap((p) => p.resources), ids);
      const status = blockers.length ? 'held' : 'running';
      // Reuse the held rows on a retry; a plan count that changed while held gets fresh rows.
      if (opts.parent && parentId === null) {
        parentId = Number(db.prepare(
          `INSERT INTO jobs (sequence, params, status, origin, command, created_at, pid, heartbeat_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(opts.parent.sequence, JSON.stringify(opts.parent.params), status, opts.origin, opts.command, now(), process.pid, now()).lastInsertRowid);
      }
      if (ids.length !== plans.length) {
        if (ids.length) db.prepare(`DELETE FROM jobs WHERE id IN (${ids.join(',')})`).run();
        ids = plans.map((p) => Number(db.prepare(
          `INSERT INTO jobs (sequence, params, status, origin, command, created_at, pid, heartbeat_at, resources, main, parent_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(p.sequence, JSON.stringify(p.params), status, opts.origin, opts.command, now(), process.pid, now(), JSON.stringify(p.resources),
          parentId === null ? 1 : 0, parentId).lastInsertRowid));
      }
      if (parentId !== null) {
        db.prepare('UPDATE jobs SET status = ?, heartbeat_at = ?, started_at = CASE WHEN ? THEN ? ELSE started_at END WHERE id = ?')
          .run(status, now(), status === 'running' ? 1 : 0, now(), parentId);
      }
      plans.forEach((p, i) => db.prepare('UPDATE jobs SET sequence = ?, params = ?, status = ?, resources = ?, heartbeat_at = ?, phase = ? WHERE id = ?')
        .run(p.sequence, JSON.stringify(p.params), status, JSON.stringify(p.resources), now(), blockers.length ? 'Waiting for resources' : '', ids[i]));
      if (blockers.length) {
        if (attempts === 0) opts.onHeld?.(ids, blockers);
        return 'held';
      }
      const ins = db.prepare('INSERT INTO reservations (resource, resource_id, job_id) VALUES (?, ?, ?)');
      plans.forEach((p, i) => {
        for (const [kind, id] of p.resources) ins.run(kind, id, ids[i]);
        db.prepare('UPDATE jobs SET started_at = ? WHERE id = ?').run(now(), ids[i]);
      });
      return plans.map((p, i) => ({ id: ids[i]!, plan: p }));
    }).immediate();
  }
}

/** Ends a group-level job with the outcome of its children, and its events. */
export function finishParent(db: Db, parentId: number, status: 'completed' | 'failed' | 'canceled', error: string | null): void {
  db.prepare('UPDATE jobs SET status = ?, ended_at = ?, error = ?, exit_code = ?, progress = CASE WHEN ? THEN 100 ELSE progress END WHERE id = ?')
    .run(status, now(), error, status === 'completed' ? 0 : 7, status === 'completed' ? 1 : 0, parentId);
}

export function releaseReservations(db: Db, jobId: number): void {
  db.prepare('DELETE FROM reservations WHERE job_id = ?').run(jobId);
}

/**
 * The owning process's watch over its jobs: writes the heartbeat and turns a
 * cancel request (set by `ascancel` from any process) into an abort.
 */
export class JobWatch {
  private readonly controllers = new Map<number, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(private readonly db: Db) {}

  private readonly onSignal = (): void => {
    for (const c of this.controllers.values()) c.abort(new Error('canceled by a signal to the process'));
  };

  add(jobId: number): AbortSignal {
    const c = new AbortController();
    this.controllers.set(jobId, c);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), CANCEL_POLL_MS);
      // Ctrl-C or a scheduler's SIGTERM cancels the jobs instead of abandoning them.
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
    return c.signal;
  }

  remove(jobId: number): void {
    this.controllers.delete(jobId);
    if (this.controllers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
  }

  private tick(): void {
    const ids = [...this.controllers.keys()];
    if (ids.length === 0) return;
    try {
      if (++this.ticks % Math.round(HEARTBEAT_EVERY_MS / CANCEL_POLL_MS) === 0) {
        // Every unfinished job of this process, group-level jobs included.
        this.db.prepare("UPDATE jobs SET heartbeat_at = ? WHERE pid = ? AND status IN ('running', 'held')").run(now(), process.pid);
      }
      const flagged = this.db.prepare(
        `SELECT id, status FROM jobs WHERE id IN (${ids.join(',')}) AND (cancel_requested = 1 OR status NOT IN ('running', 'held'))`,
      ).all() as Array<{ id: number; status: string }>;
      for (const { id, status } of flagged) {
        // A job another invocation declared abandoned (this process looked hung) must stop too.
        this.controllers.get(id)?.abort(new Error(status === 'abandoned' ? 'abandoned: the heartbeat of this process was lost' : 'canceled by ascancel'));
      }
    } catch {
      // A busy store delays the heartbeat by one tick; the staleness limit allows for it.
    }
  }
}

export type CancelResult = 'requested' | 'not-found';

/** `ascancel`: flags a running or held job; its process stops it within a second. */
export function requestCancel(db: Db, jobId: number): CancelResult {
  sweepAbandoned(db);
  const r = db.prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status IN ('running', 'held')").run(jobId);
  // Canceling a group-level job cancels the jobs it is made of.
  if (r.changes === 1) db.prepare("UPDATE jobs SET cancel_requested = 1 WHERE parent_id = ? AND status IN ('running', 'held')").run(jobId);
  return r.changes === 1 ? 'requested' : 'not-found';
}
