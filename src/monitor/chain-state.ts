// The one place where policy chains (monitor_chains) change status, as engine/job-state.ts
// is for jobs. The table says which changes exist; a change it does not have is a
// programming error, reported as one. Each change is conditional on the status it comes
// from (UPDATE … WHERE status = from), so that a chain another monitor (or an earlier turn)
// moved already is not moved again: the caller learns it lost the claim. A chain that starts
// running records its runner (the monitor's lease holder), so that with several monitors on
// one store only the chains of a monitor whose lease is gone are taken over (chains.ts).
//
//   (new) ──► waiting ──► pending ──► running ──► completed
//               │            ▲  │        │  ├───► failed     (an action failed)
//               │            │  │        │  ├───► canceled   (its job was canceled)
//               │            └──┼────────┘  └───► abandoned  (an action of unknown effect was interrupted)
//               │               │   running ──► pending: stopped between actions, or interrupted in
//               │               │   one that is safe to repeat; it goes on after the restart
//               └──► suppressed (the recovery arrived within the window)
//                               └──► failed  (it cannot start: its target is gone)
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';

export type ChainStatus = 'waiting' | 'pending' | 'running' | 'completed' | 'failed' | 'canceled' | 'abandoned' | 'suppressed';

export const CHAIN_TRANSITIONS: Readonly<Record<ChainStatus, readonly ChainStatus[]>> = {
  waiting: ['pending', 'suppressed'],
  pending: ['running', 'failed'],
  running: ['pending', 'completed', 'failed', 'canceled', 'abandoned'],
  completed: [],
  failed: [],
  canceled: [],
  abandoned: [],
  suppressed: [],
};

/** A chain starts waiting (its rule suppresses) or pending. */
export const INITIAL: readonly ChainStatus[] = ['waiting', 'pending'];
export const ACTIVE: readonly ChainStatus[] = ['waiting', 'pending', 'running'];
const ENDED = (s: ChainStatus): boolean => CHAIN_TRANSITIONS[s].length === 0;

class ChainTransitionError extends Error {
  constructor(id: number, from: ChainStatus, to: ChainStatus) {
    super(`internal: chain ${id} cannot go from ${from} to ${to}`);
    this.name = 'ChainTransitionError';
  }
}

const now = (): string => new Date().toISOString();

/**
 * Moves chain `id` from `from` to `to`; false when it is no longer `from` (someone else moved
 * it: the claim is lost, nothing was written). An ending status sets ended_at and error;
 * running sets started_at the first time and the runner (`by`).
 */
export function moveChain(db: Db, id: number, from: ChainStatus, to: ChainStatus, error: string | null = null, by: string | null = null): boolean {
  if (!CHAIN_TRANSITIONS[from].includes(to)) throw new ChainTransitionError(id, from, to);
  const t = now();
  if (ENDED(to)) {
    return prepared(db, 'UPDATE monitor_chains SET status = ?, ended_at = ?, error = ? WHERE id = ? AND status = ?').run(to, t, error, id, from).changes === 1;
  }
  if (to === 'running') {
    return prepared(db, 'UPDATE monitor_chains SET status = ?, started_at = coalesce(started_at, ?), runner = ? WHERE id = ? AND status = ?').run(to, t, by, id, from).changes === 1;
  }
  return prepared(db, 'UPDATE monitor_chains SET status = ? WHERE id = ? AND status = ?').run(to, id, from).changes === 1;
}

/** Whether a chain of this target (machine:<id>, group:<id>) runs now, on any monitor: one at a time per target. */
export function targetRunning(db: Db, target: string): boolean {
  return prepared(db, "SELECT 1 AS y FROM monitor_chains WHERE target = ? AND status = 'running' LIMIT 1").get(target) !== undefined;
}

/** The chains running now and who runs each (null: recorded before runners were). */
export function runningChains(db: Db): Array<{ id: number; runner: string | null }> {
  return prepared(db, "SELECT id, runner FROM monitor_chains WHERE status = 'running' ORDER BY id").all() as Array<{ id: number; runner: string | null }>;
}

/** The chain's status now. */
export function chainStatus(db: Db, id: number): ChainStatus | undefined {
  return (prepared(db, 'SELECT status FROM monitor_chains WHERE id = ?').get(id) as { status: ChainStatus } | undefined)?.status;
}

/** Checks that a new chain starts in an initial status (the INSERT is the decider's). */
export function initialStatus(s: ChainStatus): ChainStatus {
  if (!INITIAL.includes(s)) throw new Error(`internal: a chain cannot start ${s}`);
  return s;
}
