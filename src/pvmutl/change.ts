// Running a configuration change: plan and reserve atomically, wait while held,
// run the jobs (machines in parallel), and turn their outcome into the exit code.
import type { Db } from '../store/db.js';
import { L } from '../cli/locale.js';
import { KNOWN_DRIVERS } from '../adapters/registry.js';
import { type Job, finishParent, submit } from '../engine/jobs.js';
import { writeJobEvent } from '../engine/events.js';
import type { JobPlan } from '../engine/plan.js';
import { JobRunner, driversOf, exitCodeOf, type JobOutcome } from '../engine/runner.js';
import { Exit, PvmError } from './exit-codes.js';
import { formatJobId } from './format.js';
import type { Io } from './io.js';
import { getSetting } from '../store/settings.js';

/** Jobs one command runs at the same time; more wait for a free slot. */
const DEFAULT_PARALLEL = 64;

/** Exit 6 before anything is reserved when a step has no driver to run it. */
export function checkDrivers(db: Db, plan: JobPlan): void {
  for (const d of driversOf(db, plan)) {
    if (d.driver === undefined) {
      throw new PvmError(Exit.START_FAILED, L(
        `${plan.sequence} cannot start: no ${d.iface} driver is configured for ${d.target || 'the group'} (step '${d.step.name}')`,
        `${plan.sequence} を開始できません: ${d.target || 'グループ'} に ${d.iface} ドライバが設定されていません (ステップ '${d.step.name}')`,
      ));
    }
    if (!KNOWN_DRIVERS.includes(d.driver)) {
      throw new PvmError(Exit.START_FAILED, L(
        `${plan.sequence} cannot start: unknown ${d.iface} driver '${d.driver}' for ${d.target || 'the group'} (known: ${KNOWN_DRIVERS.join(', ')})`,
        `${plan.sequence} を開始できません: 不明な ${d.iface} ドライバ '${d.driver}' (${d.target || 'グループ'})`,
      ));
    }
  }
}

function parallelism(db: Db): number {
  const n = Number(getSetting(db, 'engine.parallel'));
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : DEFAULT_PARALLEL;
}

/** Runs jobs one after another; after a failure the rest are canceled without running. */
async function inTurn(db: Db, runner: JobRunner, jobs: Job[]): Promise<JobOutcome[]> {
  const out: JobOutcome[] = [];
  for (const job of jobs) {
    if (out.some((o) => o !== 'completed')) {
      db.prepare("UPDATE jobs SET status = 'canceled', ended_at = ?, error = ?, exit_code = 7 WHERE id = ?")
        .run(new Date().toISOString(), 'not run: an earlier machine did not complete', job.id);
      db.prepare('DELETE FROM reservations WHERE job_id = ?').run(job.id);
      out.push('canceled');
      continue;
    }
    out.push(await runner.run(job));
  }
  return out;
}

async function limited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface ChangeOptions {
  /** A group-level job the planned jobs belong to. */
  parent?: { sequence: string; params: Record<string, string>; event: { group: string; machine: string } };
  /** One job at a time, in plan order, stopping at the first failure (deploygrp /seq). */
  sequential?: boolean;
}

export async function runChange(db: Db, io: Io, command: string, build: () => JobPlan[], opts: ChangeOptions = {}): Promise<number> {
  const verbose = !!process.stderr.isTTY;
  const submitted = await submit(db, () => {
    const plans = build();
    for (const p of plans) checkDrivers(db, p);
    return plans;
  }, {
    origin: 'pvmutl',
    command,
    ...(opts.parent ? { parent: opts.parent } : {}),
    onHeld: (ids, blockers) => {
      if (verbose) io.err(`pvmutl: job ${ids.map(formatJobId).join(', ')} held: waiting for ${blockers.map(([k, id]) => `${k} ${id}`).join(', ')} used by another job\n`);
    },
  });
  if (submitted === 'canceled') {
    io.err(`pvmutl: ${L('the job was canceled while it was held', '保留中のジョブがキャンセルされました')}\n`);
    return Exit.EXEC_FAILED;
  }
  const { jobs, parentId } = submitted;
  const runner = new JobRunner(db, verbose ? (id, line) => io.err(`job ${formatJobId(id)}: ${line}\n`) : undefined);
  if (parentId !== null) writeJobEvent(db, opts.parent!.sequence, 'start', { jobId: parentId, ...opts.parent!.event });
  const outcomes: JobOutcome[] = opts.sequential ? await inTurn(db, runner, jobs) : await limited(jobs, parallelism(db), (j) => runner.run(j));
  if (parentId !== null) {
    const status = outcomes.includes('failed') || outcomes.includes('not-started') ? 'failed' : outcomes.includes('canceled') ? 'canceled' : 'completed';
    finishParent(db, parentId, status, status === 'completed' ? null : `${outcomes.filter((o) => o !== 'completed').length} of ${outcomes.length} machines did not complete`);
    writeJobEvent(db, opts.parent!.sequence, status === 'completed' ? 'complete' : status, { jobId: parentId, ...opts.parent!.event });
  }
  outcomes.forEach((o, i) => {
    if (o === 'completed') return;
    if (opts.sequential && outcomes.slice(0, i).some((x) => x !== 'completed')) return;
    const job = jobs[i]!;
    const row = db.prepare('SELECT error FROM jobs WHERE id = ?').get(job.id) as { error: string | null };
    const step = db.prepare("SELECT name FROM job_steps WHERE job_id = ? AND status IN ('failed', 'canceled') ORDER BY seq DESC LIMIT 1").get(job.id) as { name: string } | undefined;
    const what = o === 'canceled' ? L('was canceled', 'はキャンセルされました') : o === 'not-started' ? L('could not start', 'を開始できませんでした') : L('failed', 'は失敗しました');
    const at = step ? L(` at '${step.name}'`, ` (ステップ '${step.name}')`) : '';
    io.err(`pvmutl: job ${formatJobId(job.id)} (${job.plan.sequence}, ${job.plan.event.machine || job.plan.event.vmName || ''}) ${what}${at}${row.error ? ': ' + row.error : ''}\n`);
  });
  return exitCodeOf(outcomes);
}
