// Jobs across processes: reserving resources atomically, holding a job whose
// resources another job has, the heartbeat of the owning process, and finding
// jobs whose process died. The store is the only shared state; every change of a
// job's status goes through job-state.ts.
import type { Db } from '../store/db.js';
import { withBusyTimeout } from '../store/busy.js';
import { EngineError } from './errors.js';
import { writeJobEvent } from './events.js';
import { ACTIVE, abandonJob, createJob, discardHeld, finishJob, replanJob } from './job-state.js';
import type { JobPlan, Resource } from './plan.js';
import { insertClaims, releaseClaims } from './capacity.js';
import { wait } from '../util/wait.js';
import { READ_ONLY_STEPS } from './steps.js';

/**
 * A job is abandoned at once when its process is gone. A process that still
 * exists but has not written its heartbeat for this long is taken as hung.
 */
export const HEARTBEAT_STALE_MS = 120_000;
export const HEARTBEAT_EVERY_MS = 1_000;
/** How often a process looks for cancel requests of its jobs (cancel is honoured within 1 s). */
export const CANCEL_POLL_MS = 200;
/** How long one heartbeat waits for a store another process holds (then the next tick tries). */
const HEARTBEAT_WAIT_MS = 50;
const HOLD_POLL_MS = 200;

export interface Job { id: number; plan: JobPlan }
export interface Submitted { jobs: Job[]; parentId: number | null }

const inList = (ids: number[]): string => ids.map((i) => String(Math.trunc(i))).join(',');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a job started a step that changes a machine (journal of job_steps). A job that did
 * not — abandoned while its drivers prepared, or in a step that only reads — left its
 * machines as they were.
 */
export function changedMachines(db: Db, jobId: number): boolean {
  const names = db.prepare('SELECT name FROM job_steps WHERE job_id = ?').all(jobId) as Array<{ name: string }>;
  return names.some((s) => !READ_ONLY_STEPS.has(s.name));
}

/**
 * Marks running or held jobs whose process is gone (or silent) as abandoned and frees
 * their reservations. Their machines are flagged abnormal only when a step that changes a
 * machine had started (spec event 2085: a machine left "in use" by an action ends
 * abnormally); a job abandoned before any such step leaves them as they were. Any
 * invocation may call it.
 */
export function sweepAbandoned(db: Db): number[] {
  const rows = db.prepare("SELECT id, sequence, pid, heartbeat_at, params FROM jobs WHERE status IN ('running', 'held')").all() as
    Array<{ id: number; sequence: string; pid: number | null; heartbeat_at: string | null; params: string }>;
  const dead = rows.filter((j) => j.pid !== process.pid && (j.pid === null || !pidAlive(j.pid) || (j.heartbeat_at !== null && Date.now() - Date.parse(j.heartbeat_at) > HEARTBEAT_STALE_MS)));
  // (A pid reused by an unrelated process keeps a dead job "alive" only until its heartbeat is stale.)
  if (dead.length === 0) return [];
  db.transaction(() => {
    for (const j of dead) {
      const why = j.pid !== null && pidAlive(j.pid) ? `heartbeat of process ${j.pid} lost` : `process ${j.pid ?? '?'} ended without finishing the job`;
      const machines = db.prepare("SELECT resource_id FROM reservations WHERE job_id = ? AND resource = 'machine'").all(j.id) as Array<{ resource_id: string }>;
      if (!abandonJob(db, j.id, why)) continue;
      if (changedMachines(db, j.id)) for (const m of machines) if (/^\d+$/.test(m.resource_id)) db.prepare("UPDATE machines SET management_status = 'abnormal' WHERE id = ?").run(Number(m.resource_id));
      releaseReservations(db, j.id);
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

/** The resources some job holds, as ids, for selection to skip. */
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
  /**
   * Runs inside the planning transaction once the plans are known, before anything is
   * written: a throw refuses the command with the store untouched.
   */
  check?: (plans: JobPlan[]) => void;
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
  const mine = (): number[] => [...ids, ...(parentId === null ? [] : [parentId])];
  for (;;) {
    let result: Job[] | 'held' | 'canceled';
    try {
      result = plan();
    } catch (err) {
      // A job held earlier whose command is no longer valid ends here, visibly.
      if (mine().length) {
        const outcome = err instanceof EngineError && err.reason === 'not-startable' ? 'not-started' : 'failed';
        db.transaction(() => { for (const id of mine()) finishJob(db, id, outcome, (err as Error).message); }).immediate();
      }
      throw err;
    }
    if (result !== 'held') return result === 'canceled' ? result : { jobs: result, parentId };
    attempts++;
    await wait(HOLD_POLL_MS);
  }

  function plan(): Job[] | 'held' | 'canceled' {
    // The rows this attempt writes count only once its transaction has committed.
    let rowIds = ids;
    let rowParent = parentId;
    const result = db.transaction((): Job[] | 'held' | 'canceled' => {
      sweepAbandoned(db);
      const all = [...rowIds, ...(rowParent === null ? [] : [rowParent])];
      if (all.length && (db.prepare(`SELECT count(*) AS n FROM jobs WHERE id IN (${inList(all)}) AND cancel_requested = 1`).get() as { n: number }).n > 0) {
        for (const id of all) finishJob(db, id, 'canceled', null);
        return 'canceled';
      }
      const plans = build();
      opts.check?.(plans);
      const blockers = reservedByOthers(db, plans.flatMap((p) => p.resources), rowIds);
      const status = blockers.length ? 'held' : 'running';
      if (opts.parent && rowParent === null) {
        rowParent = createJob(db, { sequence: opts.parent.sequence, params: opts.parent.params, origin: opts.origin, command: opts.command, main: true, parentId: null }, status);
      } else if (rowParent !== null) {
        replanJob(db, rowParent, {}, status);
      }
      // Reuse the held rows on a retry; a plan count that changed while held gets fresh rows.
      if (rowIds.length !== plans.length) {
        for (const id of rowIds) discardHeld(db, id);
        const parent = rowParent;
        rowIds = plans.map((p) => createJob(db, {
          sequence: p.sequence, params: p.params, origin: opts.origin, command: opts.command, resources: p.resources, main: parent === null, parentId: parent,
        }, status));
      } else {
        plans.forEach((p, i) => replanJob(db, rowIds[i]!, { sequence: p.sequence, params: p.params, resources: p.resources }, status));
      }
      if (blockers.length) return 'held';
      const ins = db.prepare('INSERT INTO reservations (resource, resource_id, job_id) VALUES (?, ?, ?)');
      plans.forEach((p, i) => {
        for (const [kind, id] of p.resources) ins.run(kind, id, rowIds[i]);
        if (p.claims) insertClaims(db, rowIds[i]!, p.claims);
      });
      return plans.map((p, i) => ({ id: rowIds[i]!, plan: p }));
    }).immediate();
    ids = rowIds;
    parentId = rowParent;
    if (result === 'held' && attempts === 0) opts.onHeld?.(ids, reservedFor(db, ids));
    return result;
  }
}

/** What other jobs hold of what these held jobs need, for the held notice. */
function reservedFor(db: Db, ids: number[]): Resource[] {
  const wanted = db.prepare(`SELECT resources FROM jobs WHERE id IN (${inList(ids)})`).all() as Array<{ resources: string }>;
  return reservedByOthers(db, wanted.flatMap((w) => JSON.parse(w.resources) as Resource[]), ids);
}

export function releaseReservations(db: Db, jobId: number): void {
  db.prepare('DELETE FROM reservations WHERE job_id = ?').run(jobId);
  releaseClaims(db, jobId);
}

/**
 * The owning process's watch over its jobs: writes the heartbeat and turns a
 * cancel request (set by `ascancel` from any process) into an abort. It installs
 * no signal handlers: a front end decides what a signal means (cancel for a
 * command, drain for a daemon) and calls cancelAll().
 */
export class JobWatch {
  private readonly controllers = new Map<number, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(private readonly db: Db) {}

  add(jobId: number): AbortSignal {
    const c = new AbortController();
    this.controllers.set(jobId, c);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), CANCEL_POLL_MS);
      this.timer.unref();
    }
    return c.signal;
  }

  remove(jobId: number): void {
    this.controllers.delete(jobId);
    if (this.controllers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** The jobs this watch runs now. */
  running(): number[] {
    return [...this.controllers.keys()];
  }

  /** Aborts every job this watch runs (and only those). */
  cancelAll(reason: string): void {
    for (const c of this.controllers.values()) c.abort(new Error(reason));
  }

  private tick(): void {
    const ids = [...this.controllers.keys()];
    if (ids.length === 0) return;
    try {
      if (++this.ticks % Math.round(HEARTBEAT_EVERY_MS / CANCEL_POLL_MS) === 0) {
        // Every unfinished job of this process, group-level jobs included. A short wait: while
        // another process holds the store the beat is tried again next tick, instead of
        // stopping this process's event loop (a daemon's HTTP) for the whole busy timeout.
        withBusyTimeout(this.db, HEARTBEAT_WAIT_MS, () =>
          this.db.prepare("UPDATE jobs SET heartbeat_at = ? WHERE pid = ? AND status IN ('running', 'held')").run(new Date().toISOString(), process.pid));
      }
      const flagged = this.db.prepare(
        `SELECT id, status FROM jobs WHERE id IN (${inList(ids)}) AND (cancel_requested = 1 OR status NOT IN ('running', 'held'))`,
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
  const r = db.prepare(`UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status IN (${ACTIVE.map((s) => `'${s}'`).join(', ')})`).run(jobId);
  // Canceling a group-level job cancels the jobs it is made of.
  if (r.changes === 1) db.prepare("UPDATE jobs SET cancel_requested = 1 WHERE parent_id = ? AND status IN ('running', 'held')").run(jobId);
  return r.changes === 1 ? 'requested' : 'not-found';
}
