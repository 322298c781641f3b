// The alerts the trap receiver really received, for dscli getAlertList (table dscli_alerts,
// read by dscli/events.ts): written in one transaction per turn of the event loop and kept
// to the newest monitor.alerts_kept. A batch the store does not take (busy) is kept, bounded,
// and tried again; add() says when its alert is committed, for a sender acknowledged after it.
// An alert with a deduplication key (the same trap or Redfish record received by several
// managers' monitors) is listed once: its key is claimed in monitor_alert_keys in the same
// transaction, and a second receipt lists nothing. The receipt that lists it is the one that
// forwards the trap (add()'s committed, traps.ts), so that a destination gets it once too.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { withBusyTimeout } from '../store/busy.js';
import { storeNow } from '../store/dialect.js';
import { digestKey } from './intake.js';

export interface Alert {
  machineId: number | null; source: string; kind: 'pet' | 'snmp' | 'redfish' | 'unclassified'; severity: string; event: string; message: string;
  /** What the sender sent that names this alert wherever it is received (intake.ts IncomingEvent.dedupKey). */
  dedupKey?: string;
}

/**
 * How long an alert's key is kept: a copy sent to another manager arrives within seconds.
 * Written and pruned by the store's clock (dialect.ts storeNow), as every time several
 * managers compare: a monitor whose clock ran a day ahead would drop the others' fresh keys.
 */
const KEY_KEPT_S = 24 * 3600;

const MAX_PENDING = 50_000;

type Pending = Alert & { time: string; waiters?: Array<(ok: boolean) => void>; committed?: (listed: boolean) => void; listed?: boolean; done?: boolean };

export class Alerts {
  private pending: Pending[] = [];
  private scheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private written = 0;
  /** Alerts dropped because the store stayed busy past the bound. */
  dropped = 0;

  private readonly write;

  constructor(private readonly db: Db, private readonly keep: () => number, private readonly busyMs = 50) {
    const ins = prepared(db, 'INSERT INTO dscli_alerts (time, machine_id, source, kind, severity, event, message) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const claim = prepared(db, `INSERT INTO monitor_alert_keys (dedup_key, seen_at) VALUES (?, ${storeNow(db)}) ON CONFLICT DO NOTHING`);
    this.write = db.transaction((batch: Pending[]) => {
      for (const a of batch) {
        const key = digestKey(a.dedupKey);
        // Set on every run of the transaction: a run that failed and was tried again leaves no trace.
        a.listed = key === null || claim.run(key).changes === 1;
        if (a.listed) ins.run(a.time, a.machineId, a.source, a.kind, a.severity, a.event, a.message);
      }
    });
  }

  /**
   * Queues an alert; the promise says whether it was committed (false: dropped, the queue was
   * full). `committed` runs once it is committed, told whether this receipt is the one listed
   * (false: another monitor listed its deduplication key first).
   */
  add(a: Alert, committed?: (listed: boolean) => void): { written(): Promise<boolean> } {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return { written: () => Promise.resolve(false) };
    }
    const p: Pending = { ...a, time: new Date().toISOString(), ...(committed ? { committed } : {}) };
    this.pending.push(p);
    if (!this.scheduled && !this.retry) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return { written: () => (p.done ? Promise.resolve(true) : new Promise<boolean>((r) => { (p.waiters ??= []).push(r); })) };
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      withBusyTimeout(this.db, this.busyMs, () => this.write(batch));
    } catch {
      // The store is busy: kept, in order, and tried again shortly.
      this.pending = batch.concat(this.pending);
      if (!this.retry) this.retry = setTimeout(() => { this.retry = undefined; this.flush(); }, 200);
      return;
    }
    for (const p of batch) {
      p.done = true;
      for (const w of p.waiters?.splice(0) ?? []) w(true);
      p.committed?.(p.listed === true);
    }
    this.written += batch.length;
    if (this.written >= 1000) {
      this.written = 0;
      try {
        withBusyTimeout(this.db, this.busyMs, () => this.db.transaction(() => {
          prepared(this.db, 'DELETE FROM dscli_alerts WHERE id <= (SELECT max(id) FROM dscli_alerts) - ?').run(this.keep());
          prepared(this.db, `DELETE FROM monitor_alert_keys WHERE seen_at < ${storeNow(this.db, -KEY_KEPT_S)}`).run();
        })());
      } catch {
        this.written = 1000;
      }
    }
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }
}
