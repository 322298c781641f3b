// The alerts the trap receiver really received, for dscli getAlertList (table dscli_alerts,
// read by dscli/events.ts): written in one transaction per turn of the event loop and kept
// to the newest monitor.alerts_kept.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';

export interface Alert { machineId: number | null; source: string; kind: 'pet' | 'snmp' | 'redfish' | 'unclassified'; severity: string; event: string; message: string }

export class Alerts {
  private pending: Array<Alert & { time: string }> = [];
  private scheduled = false;
  private written = 0;

  private readonly write;

  constructor(private readonly db: Db, private readonly keep: () => number) {
    const ins = prepared(db, 'INSERT INTO dscli_alerts (time, machine_id, source, kind, severity, event, message) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.write = db.transaction((batch: Array<Alert & { time: string }>) => { for (const a of batch) ins.run(a.time, a.machineId, a.source, a.kind, a.severity, a.event, a.message); });
  }

  add(a: Alert): void {
    this.pending.push({ ...a, time: new Date().toISOString() });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.write(batch);
    this.written += batch.length;
    if (this.written >= 1000) {
      this.written = 0;
      prepared(this.db, 'DELETE FROM dscli_alerts WHERE id <= (SELECT max(id) FROM dscli_alerts) - ?').run(this.keep());
    }
  }
}
