// What the monitor counted (datagrams, traps, ignored datagrams by reason, unclassified
// alerts, sweeps of its chains, …): kept in memory as it happens and added to
// monitor_counters at most once a second and when the monitor stops, so that counting costs
// no write per trap. Other processes (kanri monitor status, /metrics, tests) read them there:
// chain_sweeps going up is the proof that the monitor looked at its chains since.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { withBusyTimeout } from '../store/busy.js';

const FLUSH_EVERY_MS = 1000;

export class Counters {
  private pending = new Map<string, number>();
  private flushedAt = 0;

  constructor(private readonly db: Db) {}

  add(name: string, n = 1): void {
    this.pending.set(name, (this.pending.get(name) ?? 0) + n);
  }

  /** Writes what was counted, unless it was written less than a second ago (`now`: at once, as at a stop). */
  flush(now = false): void {
    if (this.pending.size === 0) return;
    const t = Date.now();
    if (!now && t - this.flushedAt < FLUSH_EVERY_MS) return;
    this.flushedAt = t;
    const p = this.pending;
    this.pending = new Map();
    // The row's own n named with its table: PostgreSQL takes a bare n beside excluded.n as ambiguous.
    const up = prepared(this.db, 'INSERT INTO monitor_counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = monitor_counters.n + excluded.n');
    try {
      withBusyTimeout(this.db, 50, () => this.db.transaction(() => { for (const [k, v] of p) up.run(k, v); })());
    } catch {
      // The store is busy: the counts are added again and written with the next flush.
      for (const [k, v] of p) this.add(k, v);
    }
  }
}

export function readCounters(db: Db): Record<string, number> {
  const rows = prepared(db, 'SELECT name, n FROM monitor_counters ORDER BY name').all() as Array<{ name: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}
