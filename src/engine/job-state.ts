// The one place where jobs and their steps change state. A transition table says which
// changes exist; every status written to `jobs` or `job_steps` goes through it, and a
// change the table does not have is a programming error, reported as one.
//
//   (new) ──► held ──► running ──► completed
//               │  ▲       ├─────► failed       (a step failed, or the job could not start)
//               └──┘       ├─────► canceled     (ascancel, a signal, an earlier job of a /seq run)
//          held ──► failed/canceled/abandoned
//          held, running ──► abandoned          (its process died or its lease ran out: any manager may decide)
import type { Db } from '../store/db.js';
import { formatJobId } from './plan.js';
import { ownIdentity, ownManager } from './managers.js';
import { storeNow } from '../store/dialect.js';

export type JobStatus = 'held' | 'running' | 'completed' | 'failed' | 'canceled' | 'abandoned';
export type StepStatus = 'running' | 'completed' | 'failed' | 'canceled';
/** How a job ended, as the engine reports it; 'not-started' is recorded as failed. */
export type JobOutcome = 'completed' | 'failed' | 'canceled' | 'not-started';

const JOB_TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  held: ['held', 'running', 'failed', 'canceled', 'abandoned'],
  running: ['completed', 'failed', 'canceled', 'abandoned'],
  completed: [],
  failed: [],
  canceled: [],
  abandoned: [],
};

const STEP_TRANSITIONS: Record<StepStatus, readonly StepStatus[]> = {
  running: ['completed', 'failed', 'canceled'],
  completed: [],
  failed: [],
  canceled: [],
};

/**
 * The result code the journal keeps with a finished job, as SystemProvisioning's job
 * history shows it: 0 completed, 6 could not start, 7 failed, canceled or abandoned.
 * Commands do not read it; each front end maps a change's result to its own code.
 */
const RESULT_CODE: Record<JobOutcome | 'abandoned', number> = { completed: 0, 'not-started': 6, failed: 7, canceled: 7, abandoned: 7 };

export const ACTIVE: readonly JobStatus[] = ['held', 'running'];

const now = (): string => new Date().toISOString();

class TransitionError extends Error {
  constructor(what: string, from: string, to: string) {
    super(`internal: ${what} cannot go from ${from} to ${to}`);
    this.name = 'TransitionError';
  }
}

function statusOf(db: Db, id: number): JobStatus {
  const r = db.prepare('SELECT status FROM jobs WHERE id = ?').get(id) as { status: JobStatus } | undefined;
  if (!r) throw new Error(`internal: job ${formatJobId(id)} does not exist`);
  return r.status;
}

function check(id: number, from: JobStatus, to: JobStatus): void {
  if (!JOB_TRANSITIONS[from].includes(to)) throw new TransitionError(`job ${formatJobId(id)}`, from, to);
}

export interface NewJob {
  sequence: string;
  params: Record<string, string>;
  origin: string;
  command: string;
  resources?: unknown;
  main: boolean;
  parentId: number | null;
}

/**
 * A job enters the journal held or running, owned by this process of this manager (whose row
 * in managers the caller writes in the same transaction: engine/managers.ts, enlist). Its
 * heartbeat_at is by the store's clock, like the row's: the sweep compares it with that clock
 * should the row be gone.
 */
export function createJob(db: Db, j: NewJob, status: 'held' | 'running'): number {
  return Number(db.prepare(
    `INSERT INTO jobs (sequence, params, status, origin, command, created_at, started_at, pid, heartbeat_at, resources, main, parent_id, phase, manager, owner)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${storeNow(db)}, ?, ?, ?, ?, ?, ?)`,
  ).run(j.sequence, JSON.stringify(j.params), status, j.origin, j.command, now(), status === 'running' ? now() : null, process.pid,
    JSON.stringify(j.resources ?? []), j.main ? 1 : 0, j.parentId, status === 'held' ? 'Waiting for resources' : '', ownManager(), ownIdentity()).lastInsertRowid);
}

/** A held job planned again (same or another selection): it stays held or starts running. */
export function replanJob(db: Db, id: number, p: { sequence?: string; params?: Record<string, string>; resources?: unknown }, status: 'held' | 'running'): void {
  check(id, statusOf(db, id), status);
  db.prepare(
    `UPDATE jobs SET sequence = coalesce(?, sequence), params = coalesce(?, params), resources = coalesce(?, resources), status = ?,
            heartbeat_at = ${storeNow(db)}, phase = ?, started_at = CASE WHEN ? = 'running' THEN ? ELSE started_at END WHERE id = ?`,
  ).run(p.sequence ?? null, p.params ? JSON.stringify(p.params) : null, p.resources !== undefined ? JSON.stringify(p.resources) : null, status,
    status === 'held' ? 'Waiting for resources' : '', status, now(), id);
}

/** A held job whose plan no longer exists (the command's plan count changed) leaves the journal. */
export function discardHeld(db: Db, id: number): void {
  const from = statusOf(db, id);
  if (from !== 'held') throw new TransitionError(`job ${formatJobId(id)}`, from, 'discarded');
  db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
}

/** A job that waited for a slot (parallel limit, /seq) starts now, not when it was reserved. */
export function markStarted(db: Db, id: number): void {
  db.prepare('UPDATE jobs SET started_at = ? WHERE id = ?').run(now(), id);
}

export function setPhase(db: Db, id: number, phase: string, progress: number): void {
  db.prepare('UPDATE jobs SET phase = ?, progress = ? WHERE id = ?').run(phase, progress, id);
}

/**
 * Ends a job. Returns false, changing nothing, when another invocation declared it
 * abandoned meanwhile: that verdict stands and its reservations are already free.
 */
export function finishJob(db: Db, id: number, outcome: JobOutcome, error: string | null): boolean {
  const from = statusOf(db, id);
  if (from === 'abandoned') return false;
  const to: JobStatus = outcome === 'completed' ? 'completed' : outcome === 'canceled' ? 'canceled' : 'failed';
  check(id, from, to);
  db.prepare('UPDATE jobs SET status = ?, ended_at = ?, error = ?, exit_code = ?, progress = CASE WHEN ? THEN 100 ELSE progress END WHERE id = ?')
    .run(to, now(), error, RESULT_CODE[outcome], outcome === 'completed' ? 1 : 0, id);
  return true;
}

/** A job whose process is gone: it and its running step end as abandoned. */
export function abandonJob(db: Db, id: number, why: string): boolean {
  const from = statusOf(db, id);
  if (!ACTIVE.includes(from)) return false;
  check(id, from, 'abandoned');
  db.prepare("UPDATE jobs SET status = 'abandoned', ended_at = ?, error = ?, exit_code = ? WHERE id = ?").run(now(), why, RESULT_CODE.abandoned, id);
  db.prepare("UPDATE job_steps SET status = 'failed', ended_at = ?, output = output || ? WHERE job_id = ? AND status = 'running'").run(now(), `abandoned: ${why}\n`, id);
  return true;
}

// ---- steps ------------------------------------------------------------------------------

export function startStep(db: Db, jobId: number, seq: number, s: { name: string; tag: string; target: string }): void {
  db.prepare("INSERT INTO job_steps (job_id, seq, name, tag, target, status, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?)")
    .run(jobId, seq, s.name, s.tag, s.target, now());
}

export function endStep(db: Db, jobId: number, seq: number, to: StepStatus, output: string): void {
  // The usual change, running to its end, in one statement: it changes nothing unless the step
  // still runs (on a PostgreSQL store a read before the write would be one round trip more).
  if (STEP_TRANSITIONS.running.includes(to)
    && db.prepare("UPDATE job_steps SET status = ?, ended_at = ?, output = ? WHERE job_id = ? AND seq = ? AND status = 'running'").run(to, now(), output, jobId, seq).changes > 0) return;
  const r = db.prepare('SELECT status FROM job_steps WHERE job_id = ? AND seq = ?').get(jobId, seq) as { status: StepStatus } | undefined;
  if (!r) throw new Error(`internal: step ${seq} of job ${formatJobId(jobId)} does not exist`);
  // A step of a job declared abandoned meanwhile was already closed by that verdict.
  if (r.status === 'failed' && statusOf(db, jobId) === 'abandoned') return;
  if (!STEP_TRANSITIONS[r.status].includes(to)) throw new TransitionError(`step ${seq} of job ${formatJobId(jobId)}`, r.status, to);
  db.prepare('UPDATE job_steps SET status = ?, ended_at = ?, output = ? WHERE job_id = ? AND seq = ?').run(to, now(), output, jobId, seq);
}
