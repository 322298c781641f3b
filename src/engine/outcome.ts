// What a change came to, computed once from its jobs' outcomes: the engine records it
// as the parent job's outcome, the monitor as its chain action's, and each front end maps
// it to its own codes (pvmutl/exit-codes.ts). No caller looks at the jobs for it again.
import type { JobOutcome } from './job-state.js';

/**
 * A job that failed (or one that could not start beside one that was canceled) makes the
 * change failed; otherwise one that could not start makes it not started, one that was
 * canceled (or a change canceled while it waited for resources) canceled.
 */
export function changeOutcome(r: { jobs: ReadonlyArray<{ outcome: JobOutcome }>; canceledWhileHeld: boolean }): JobOutcome {
  if (r.canceledWhileHeld) return 'canceled';
  const o = r.jobs.map((j) => j.outcome);
  if (o.includes('failed')) return 'failed';
  if (o.includes('not-started')) return o.includes('canceled') ? 'failed' : 'not-started';
  if (o.includes('canceled')) return 'canceled';
  return 'completed';
}

/** The outcome as the monitor records it (a chain's action, a schedule's run): a change that could not start failed. */
export function settledOutcome(r: Parameters<typeof changeOutcome>[0]): 'completed' | 'failed' | 'canceled' {
  const o = changeOutcome(r);
  return o === 'not-started' ? 'failed' : o;
}
