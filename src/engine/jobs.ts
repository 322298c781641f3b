// Jobs across processes and managers: reserving resources atomically, holding a job whose
// resources another job has, and finding jobs whose owner died or stopped heartbeating. The
// store is the only shared state; every change of a job's status goes through job-state.ts,
// and the heartbeat is the owner's row in managers (managers.ts).
import type { Db } from '../store/db.js';
import { deadHere, identityField } from '../store/process-identity.js';
import { EngineError, refuse } from './errors.js';
import { writeJobEvent } from './events.js';
import { ACTIVE, abandonJob, createJob, discardHeld, finishJob, replanJob } from './job-state.js';
import type { JobPlan, Resource } from './plan.js';
import { insertClaims, releaseClaims } from './capacity.js';
import { forgetDead, leaseSeconds, ownIdentity } from './managers.js';
import { wait } from '../util/wait.js';
import { storeNow } from '../store/dialect.js';
import { prepared } from '../store/statements.js';
import { READ_ONLY_STEPS } from './steps.js';

/** How often a process looks for cancel requests of its jobs (cancel is honoured within 1 s). */
export const CANCEL_POLL_MS = 200;
const HOLD_POLL_MS = 200;

export interface Job { id: number; plan: JobPlan }
export interface Submitted { jobs: Job[]; parentId: number | null }

const inList = (ids: number[]): string => ids.map((i) => String(Math.trunc(i))).join(',');

interface ActiveJob {
  id: number; sequence: string; params: string; owner: string | null; pid: number | null;
  manager: string | null;
  /** 1 when the store's clock has passed its owner's lease (0 or 1 on both back ends). */
  expired: number;
}

/**
 * The running and held jobs (or one of them), each with whether its owner's lease ran out by
 * the store's clock (dialect.ts storeNow), never this process's: a manager whose clock is ahead
 * would find every other's lease expired. A job without an owner's row (written by an older
 * kanri, or its row lost) is judged by its own last heartbeat plus the lease.
 */
function activeJobs(db: Db, oneId?: number): ActiveJob[] {
  const now = storeNow(db);
  const lease = leaseSeconds(db);
  const expired = `CASE WHEN m.expires_at IS NOT NULL THEN (CASE WHEN m.expires_at < ${now} THEN 1 ELSE 0 END)
      WHEN j.heartbeat_at IS NOT NULL THEN (CASE WHEN j.heartbeat_at < ${storeNow(db, -lease)} THEN 1 ELSE 0 END) ELSE 1 END`;
  const sql = `SELECT j.id, j.sequence, j.params, j.owner, j.pid, j.manager, ${expired} AS expired
       FROM jobs j LEFT JOIN managers m ON m.owner = j.owner WHERE j.status IN ('running', 'held')`;
  return (oneId === undefined ? prepared(db, sql).all() : prepared(db, `${sql} AND j.id = ?`).all(oneId)) as ActiveJob[];
}

/**
 * Why a running or held job is abandoned, or undefined while its owner lives. An owner proven
 * dead on this host (same boot and pid namespace, its pid gone) is dead at once; anywhere else
 * — another host, another container — only its lease says so, by the store's clock.
 */
function abandonedBecause(j: ActiveJob, me: string): string | undefined {
  if (j.owner === me) return undefined;
  const pid = j.owner ? identityField(j.owner, 'pid') : j.pid === null ? undefined : String(j.pid);
  if (j.owner && deadHere(j.owner, me)) return `process ${pid ?? '?'} ended without finishing the job`;
  if (Number(j.expired) === 1) {
    const who = j.owner ? ` (manager ${j.manager ?? '?'} on ${identityField(j.owner, 'host') ?? '?'})` : '';
    return `heartbeat of process ${pid ?? '?'}${who} lost`;
  }
  return undefined;
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
 * Marks running or held jobs whose owner is gone (or silent for its lease) as abandoned and
 * frees their reservations, whichever manager owned them. Their machines are flagged abnormal
 * only when a step that changes a machine had started (spec event 2085: a machine left "in
 * use" by an action ends abnormally); a job abandoned before any such step leaves them as they
 * were. Any invocation of any manager may call it; it writes only when it finds such a job.
 */
export function sweepAbandoned(db: Db): number[] {
  const rows = activeJobs(db);
  if (rows.length === 0) return [];
  const me = ownIdentity();
  const dead = rows.flatMap((j) => {
    const why = abandonedBecause(j, me);
    return why === undefined ? [] : [{ ...j, why }];
  });
  if (dead.length === 0) return [];
  const done: number[] = [];
  db.transaction(() => {
    for (const j of dead) {
      const machines = db.prepare("SELECT resource_id FROM reservations WHERE job_id = ? AND resource = 'machine'").all(j.id) as Array<{ resource_id: string }>;
      // Decided again inside the transaction: another manager may have swept it, or its owner beaten, since the read.
      const [fresh] = activeJobs(db, j.id);
      if (!fresh || abandonedBecause(fresh, me) === undefined) continue;
      if (!abandonJob(db, j.id, j.why)) continue;
      if (changedMachines(db, j.id)) for (const m of machines) if (/^\d+$/.test(m.resource_id)) db.prepare("UPDATE machines SET management_status = 'abnormal' WHERE id = ?").run(Number(m.resource_id));
      releaseReservations(db, j.id);
      const p = JSON.parse(j.params) as Record<string, string>;
      writeJobEvent(db, j.sequence, 'failed', { jobId: j.id, machine: p.machine ?? '', group: p.group ?? '' });
      done.push(j.id);
    }
    forgetDead(db, dead.flatMap((j) => (j.owner && deadHere(j.owner, me) ? [j.owner] : [])));
  }).immediate();
  return done;
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
  /**
   * Runs inside the transaction that writes the jobs (each planning attempt): writes this
   * process's row in managers (ManagerBeat.enlist), so that no job exists without its owner's
   * heartbeat, and a held job's owner beats while it waits.
   */
  enlist?: () => void;
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
      // Another manager gave up on this process while it waited (paused, or cut off from the
      // store, past its lease): its held jobs are abandoned, and the command ends without them.
      if (all.length && (db.prepare(`SELECT count(*) AS n FROM jobs WHERE id IN (${inList(all)}) AND status = 'abandoned'`).get() as { n: number }).n > 0) {
        throw refuse('not-startable', 'the held job was abandoned by another manager: this process did not renew its lease (manager.lease_s) while it waited');
      }
      const plans = build();
      opts.check?.(plans);
      const blockers = reservedByOthers(db, plans.flatMap((p) => p.resources), rowIds);
      const status = blockers.length ? 'held' : 'running';
      opts.enlist?.();
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
 * The owning process's watch over its jobs: turns a cancel request (set by `ascancel` from
 * any process), or another manager's verdict of abandoned, into an abort. It installs no
 * signal handlers: a front end decides what a signal means (cancel for a command, drain for a
 * daemon) and calls cancelAll().
 */
export class JobWatch {
  private readonly controllers = new Map<number, AbortController>();
  private timer: NodeJS.Timeout | undefined;

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
      // The heartbeat is the owner's row in managers (ManagerBeat); this looks for verdicts only.
      const flagged = this.db.prepare(
        `SELECT id, status FROM jobs WHERE id IN (${inList(ids)}) AND (cancel_requested = 1 OR status NOT IN ('running', 'held'))`,
      ).all() as Array<{ id: number; status: string }>;
      for (const { id, status } of flagged) {
        // A job another manager declared abandoned (this process looked dead or hung) must stop too.
        this.controllers.get(id)?.abort(new Error(status === 'abandoned' ? 'abandoned: the heartbeat of this process was lost' : 'canceled by ascancel'));
      }
    } catch {
      // A store that cannot be read now is read again at the next tick.
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
