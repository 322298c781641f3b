// kanri job list | show | watch: the job journal (every step's start, end, result and
// driver output), and following one job to its end.
import { EXIT } from './exit-codes.js';
import { type Column, listingMode, localTime, renderListing } from '../cli/listing.js';
import type { Db } from '../store/db.js';
import { withStore } from '../open-store.js';
import { sweepAbandoned } from '../engine/jobs.js';
import { formatJobId } from '../engine/plan.js';
import { complain } from '../cli/messages.js';
import { wait } from '../util/wait.js';
import { didYouMean } from '../util/nearest.js';
import { isoWithOffset } from '../util/time.js';
import { identityField } from '../store/process-identity.js';

export interface JobRow {
  id: number; sequence: string; status: string; progress: number; phase: string; origin: string; command: string; params: string;
  created_at: string; started_at: string | null; ended_at: string | null; error: string | null; exit_code: number | null;
  /** The manager whose process owns (or owned) the job; null for a job of a kanri before issue 22. */
  manager: string | null; owner: string | null;
}

const param = (j: JobRow, k: string): string | null => (JSON.parse(j.params) as Record<string, string>)[k] ?? null;

const JOB_COLUMNS: Array<Column<JobRow>> = [
  { header: 'JOB', key: 'id', value: (j) => formatJobId(j.id) },
  { header: 'STATUS', key: 'status', value: (j) => j.status, status: true },
  { header: 'PROGRESS', key: 'progress', value: (j) => `${j.progress}%` },
  { header: 'CREATED', key: 'created_at', value: (j) => j.created_at, time: true },
  { header: 'SEQUENCE', key: 'sequence', value: (j) => j.sequence },
  { header: 'GROUP', key: 'group', value: (j) => param(j, 'group') },
  { header: 'MACHINE', key: 'machine', value: (j) => param(j, 'machine') },
  { header: 'ERROR', key: 'error', value: (j) => j.error },
];

const JOB_JSON: Array<Column<JobRow>> = [
  { header: '', key: 'id', value: (j) => j.id },
  { header: '', key: 'status', value: (j) => j.status },
  { header: '', key: 'progress', value: (j) => j.progress },
  { header: '', key: 'phase', value: (j) => j.phase },
  { header: '', key: 'sequence', value: (j) => j.sequence },
  { header: '', key: 'group', value: (j) => param(j, 'group') },
  { header: '', key: 'machine', value: (j) => param(j, 'machine') },
  { header: '', key: 'origin', value: (j) => j.origin },
  { header: '', key: 'manager', value: (j) => j.manager },
  { header: '', key: 'command', value: (j) => j.command },
  { header: '', key: 'created_at', value: (j) => j.created_at, time: true },
  { header: '', key: 'started_at', value: (j) => j.started_at, time: true },
  { header: '', key: 'ended_at', value: (j) => j.ended_at, time: true },
  { header: '', key: 'exit_code', value: (j) => j.exit_code },
  { header: '', key: 'error', value: (j) => j.error },
];

/** A job as `kanri job list --json` prints it (params as text). */
export function jobJson(j: JobRow): Record<string, unknown> {
  return JSON.parse(renderListing([j], JOB_JSON, listingMode(true)).split('\n')[0]!) as Record<string, unknown>;
}

/** A job with its parameters and steps, as `kanri job show --json` prints it. */
export function jobDocument(job: JobRow, ss: StepRow[]): Record<string, unknown> {
  const doc = jobJson(job);
  doc.params = JSON.parse(job.params);
  doc.steps = ss.map((s) => ({
    seq: s.seq, name: s.name, tag: s.tag, target: s.target || null, status: s.status,
    started_at: isoWithOffset(s.started_at), ended_at: isoWithOffset(s.ended_at), output: s.output.split('\n').filter(Boolean),
  }));
  return doc;
}

/** The newest `limit` jobs, oldest first. */
export function recentJobs(db: Db, limit: number): JobRow[] {
  return (db.prepare(`${JOB_SELECT} ORDER BY id DESC LIMIT ?`).all(limit) as JobRow[]).reverse();
}

/** The newest `limit` jobs whose parameters name the machine, oldest first. */
export function jobsOfMachine(db: Db, machine: string, limit: number): JobRow[] {
  const like = `%"machine":${JSON.stringify(machine).replace(/[!%_]/g, '!$&')}%`;
  return (db.prepare(`${JOB_SELECT} WHERE params LIKE ? ESCAPE '!' ORDER BY id DESC LIMIT ?`).all(like, limit) as JobRow[]).reverse();
}

/** Jobs running or held now, oldest first. */
export function activeJobs(db: Db): JobRow[] {
  return db.prepare(`${JOB_SELECT} WHERE status IN ('running', 'held') ORDER BY id`).all() as JobRow[];
}

/** How many jobs ended failed or canceled since `since` (ISO time). */
export function jobsFailedSince(db: Db, since: string): number {
  return (db.prepare("SELECT count(*) AS n FROM jobs WHERE status IN ('failed', 'canceled', 'abandoned') AND ended_at >= ?").get(since) as { n: number }).n;
}

/** Jobs by sequence and status, for metrics. */
export function jobCounts(db: Db): Array<{ sequence: string; status: string; n: number }> {
  return db.prepare('SELECT sequence, status, count(*) AS n FROM jobs GROUP BY sequence, status ORDER BY sequence, status').all() as Array<{ sequence: string; status: string; n: number }>;
}

/** Start and end of every finished job (by sequence) or step (by name), for duration histograms. */
export function finishedSpans(db: Db, of: 'jobs' | 'steps'): Array<{ name: string; started_at: string; ended_at: string }> {
  return of === 'jobs'
    ? db.prepare('SELECT sequence AS name, started_at, ended_at FROM jobs WHERE started_at IS NOT NULL AND ended_at IS NOT NULL').all() as Array<{ name: string; started_at: string; ended_at: string }>
    : db.prepare("SELECT name, started_at, ended_at FROM job_steps WHERE ended_at IS NOT NULL AND status <> 'skipped'").all() as Array<{ name: string; started_at: string; ended_at: string }>;
}

const JOB_SELECT = 'SELECT id, sequence, status, progress, phase, origin, command, params, created_at, started_at, ended_at, error, exit_code, manager, owner FROM jobs';

export function jobList(dbPath: string, limit: number, json = false): number {
  return withStore(dbPath, (db) => {
    sweepAbandoned(db);
    process.stdout.write(renderListing(recentJobs(db, limit), json ? JOB_JSON : JOB_COLUMNS, listingMode(json)));
    return EXIT.OK;
  });
}

/** A job by its management ID (00011 or 11), or `last`: the newest main job. */
export function findJob(db: Db, id: string): JobRow | undefined {
  if (id === 'last') return db.prepare(`${JOB_SELECT} WHERE main = 1 ORDER BY id DESC LIMIT 1`).get() as JobRow | undefined;
  if (!/^\d{1,9}$/.test(id)) return undefined;
  return db.prepare(`${JOB_SELECT} WHERE id = ?`).get(Number(id)) as JobRow | undefined;
}

export interface StepRow { seq: number; name: string; tag: string; target: string; status: string; started_at: string; ended_at: string | null; output: string }

export function steps(db: Db, jobId: number): StepRow[] {
  return db.prepare('SELECT seq, name, tag, target, status, started_at, ended_at, output FROM job_steps WHERE job_id = ? ORDER BY seq').all(jobId) as StepRow[];
}

function notFound(id: string): number {
  complain('kanri', `job not found: ${id}${id === 'last' ? ' (no job has run yet)' : didYouMean(id, ['last'])}`);
  return EXIT.NOT_FOUND;
}

export function jobShow(dbPath: string, id: string, json = false): number {
  return withStore(dbPath, (db) => {
    sweepAbandoned(db);
    const job = findJob(db, id);
    if (!job) return notFound(id);
    const ss = steps(db, job.id);
    if (json) {
      process.stdout.write(JSON.stringify(jobDocument(job, ss)) + '\n');
      return EXIT.OK;
    }
    process.stdout.write(`job ${formatJobId(job.id)} ${job.sequence} ${job.status} (${job.command})\n`);
    if (job.manager) process.stdout.write(`  manager: ${job.manager}${job.owner ? ` (process ${identityField(job.owner, 'pid') ?? '?'} on ${identityField(job.owner, 'host') ?? '?'})` : ''}\n`);
    for (const [k, v] of Object.entries(JSON.parse(job.params) as Record<string, string>)) process.stdout.write(`  ${k}=${v}\n`);
    if (job.error) process.stdout.write(`  error: ${job.error}\n`);
    for (const s of ss) {
      process.stdout.write(`  ${String(s.seq).padStart(2)}. [${s.tag}] ${s.name}${s.target ? ` (${s.target})` : ''}: ${s.status}\n`);
      for (const line of s.output.split('\n').filter(Boolean)) process.stdout.write(`        ${line}\n`);
    }
    return EXIT.OK;
  });
}

const WATCH_POLL_MS = 300;

/** The exit code a watched job ends with: 0 completed, 6 could not start, 7 otherwise (as pvmutl). */
const outcomeCode = (j: JobRow): number => (j.status === 'completed' ? EXIT.OK : j.exit_code === EXIT.NOT_STARTABLE ? EXIT.NOT_STARTABLE : EXIT.JOB_FAILED);

/**
 * Follows a job until it ends, printing each step as it starts and ends (on a terminal
 * with the elapsed time), and exits with the job's outcome.
 */
export async function jobWatch(dbPath: string, id: string): Promise<number> {
  const { openStore } = await import('../open-store.js');
  const db = openStore(dbPath);
  try {
    const first = findJob(db, id);
    if (!first) return notFound(id);
    const t0 = Date.parse(first.started_at ?? first.created_at);
    const tty = !!process.stdout.isTTY;
    process.stdout.write(`job ${formatJobId(first.id)} ${first.sequence}${param(first, 'machine') ? ` (${param(first, 'machine')})` : ''}: ${first.status}\n`);
    const printed = new Map<number, string>();
    for (;;) {
      sweepAbandoned(db);
      const job = findJob(db, String(first.id))!;
      const ss = steps(db, job.id);
      for (const s of ss) {
        if (printed.get(s.seq) === s.status) continue;
        printed.set(s.seq, s.status);
        const at = tty ? ` +${Math.round((Date.parse(s.ended_at ?? s.started_at) - t0) / 1000)}s` : ` ${localTime(s.ended_at ?? s.started_at)}`;
        process.stdout.write(`  ${String(s.seq).padStart(2)}. ${s.name}${s.target ? ` (${s.target})` : ''}: ${s.status}${at}\n`);
      }
      if (job.status !== 'running' && job.status !== 'held') {
        process.stdout.write(`job ${formatJobId(job.id)} ${job.status}${job.error ? `: ${job.error}` : ''}\n`);
        return outcomeCode(job);
      }
      await wait(WATCH_POLL_MS);
    }
  } finally {
    db.close();
  }
}
