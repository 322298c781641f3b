// What the monitor's tables say about it, read by other processes (kanri serve's /metrics,
// kanri status): the queue of received events not yet decided, and the state of polling.
import type { Db } from '../store/db.js';

export interface PollStats { controllers: number; inaccessible: number; oldestPollAt: string | null; newestPollAt: string | null }

/** Received events waiting for a decision. */
export function queueDepth(db: Db): number {
  return (db.prepare("SELECT count(*) AS n FROM monitor_events WHERE state = 'new'").get() as { n: number }).n;
}

export function pollStats(db: Db): PollStats {
  const r = db.prepare('SELECT count(*) AS n, ifnull(sum(inaccessible), 0) AS bad, min(polled_at) AS oldest, max(polled_at) AS newest FROM monitor_poll_state').get() as { n: number; bad: number; oldest: string | null; newest: string | null };
  return { controllers: r.n, inaccessible: r.bad, oldestPollAt: r.oldest, newestPollAt: r.newest };
}

