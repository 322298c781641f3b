// A pvmutl configuration change: the engine runs it; this module says on stderr what
// happened to each job that did not complete, in pvmutl's words, and picks the exit code.
import { L } from '../cli/locale.js';
import { Engine, type ChangeRequest, type ChangeResult, type StepProgress } from '../engine/service.js';
import type { Db } from '../store/db.js';
import { exitCodeOf } from './exit-codes.js';
import { formatJobId } from '../engine/plan.js';
import type { Io } from './io.js';

/** The lines pvmutl prints for the jobs of a change that did not complete. */
export function reportLines(prefix: string, result: ChangeResult): string[] {
  if (result.canceledWhileHeld) return [`${prefix}: ${L('the job was canceled while it was held', '保留中のジョブがキャンセルされました')}`];
  return result.jobs.filter((j) => j.outcome !== 'completed' && !j.notRun).map((j) => {
    const what = j.outcome === 'canceled' ? L('was canceled', 'はキャンセルされました') : j.outcome === 'not-started' ? L('could not start', 'を開始できませんでした') : L('failed', 'は失敗しました');
    const at = j.failedStep ? L(` at '${j.failedStep}'`, ` (ステップ '${j.failedStep}')`) : '';
    return `${prefix}: job ${formatJobId(j.id)} (${j.sequence}, ${j.machine}) ${what}${at}${j.error ? ': ' + j.error : ''}`;
  });
}

/**
 * Runs a change as a command does: progress and held notices on a terminal's stderr,
 * SIGINT, SIGTERM and SIGHUP cancel the command's own jobs, one line per job that did
 * not complete, and the exit code of spec/pvmutl.md §2.
 */
export async function runCommandChange(db: Db, io: Io, request: ChangeRequest, command: string, prefix = 'pvmutl', onResult?: (result: ChangeResult) => void): Promise<number> {
  const verbose = !!process.stderr.isTTY;
  const engine = new Engine(db);
  const onSignal = (): void => engine.cancelAll('canceled by a signal to the process');
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  try {
    const result = await engine.run(request, { origin: prefix, command }, {
      onHeld: (ids, blockers) => {
        if (verbose) io.err(`${prefix}: job ${ids.map(formatJobId).join(', ')} held: waiting for ${blockers.map(([k, id]) => `${k} ${id}`).join(', ')} used by another job\n`);
      },
      // On a terminal: which job, which step of how many, how long so far. Nothing on a pipe.
      ...(verbose ? { onStep: (p: StepProgress) => io.err(`job ${formatJobId(p.jobId)} [${p.n}/${p.of} +${(p.elapsedMs / 1000).toFixed(1)}s] ${p.name}${p.target ? ` (${p.target})` : ''}\n`) } : {}),
    });
    for (const line of reportLines(prefix, result)) io.err(line + '\n');
    // pvmutl's stdout is the spec's (nothing on success); kanri says what it did.
    onResult?.(result);
    return exitCodeOf(result);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
