// The data centre at a glance: machines by status and by group, jobs running and held,
// recent failures, the newest alerts and events. One summary for `kanri status`, the
// API (/api/v1/summary) and the web console's first page.
import { alertRows } from '../dscli/events.js';
import { eventRows, machineLines } from '../kanri/inventory.js';
import { activeJobs, jobJson, jobsFailedSince } from '../kanri/jobs.js';
import type { Db } from '../store/db.js';

export interface GroupCount { group: string; machines: number; on: number; off: number; degraded: number; faulted: number; abnormal: number; maintenance: number }

export interface Summary {
  generated_at: string;
  machines: { total: number; power: Record<string, number>; hardware: Record<string, number>; management: Record<string, number>; maintenance: number; pooled: number };
  groups: GroupCount[];
  jobs: { running: Array<Record<string, unknown>>; held: number; failed_24h: number };
  alerts: Array<{ time: string; server: string; severity: string; event: string; message: string }>;
  events: Array<{ time: string; type: string; message: string; machine: string | null }>;
}

const bump = (o: Record<string, number>, k: string): void => { o[k] = (o[k] ?? 0) + 1; };

export function summary(db: Db, now = Date.now()): Summary {
  const lines = machineLines(db);
  const power: Record<string, number> = {};
  const hardware: Record<string, number> = {};
  const management: Record<string, number> = {};
  const groups = new Map<string, GroupCount>();
  let maintenance = 0;
  let pooled = 0;
  for (const m of lines) {
    bump(power, m.power);
    bump(hardware, m.hardware);
    bump(management, m.management);
    if (m.maintenance) maintenance++;
    if (m.group === null) { pooled++; continue; }
    let g = groups.get(m.group);
    if (!g) groups.set(m.group, (g = { group: m.group, machines: 0, on: 0, off: 0, degraded: 0, faulted: 0, abnormal: 0, maintenance: 0 }));
    g.machines++;
    if (m.power === 'on') g.on++;
    else if (m.power === 'off') g.off++;
    if (m.hardware === 'degraded') g.degraded++;
    if (m.hardware === 'faulted') g.faulted++;
    if (m.management === 'abnormal') g.abnormal++;
    if (m.maintenance) g.maintenance++;
  }
  const active = activeJobs(db);
  return {
    generated_at: new Date(now).toISOString(),
    machines: { total: lines.length, power, hardware, management, maintenance, pooled },
    groups: [...groups.values()].sort((a, b) => a.group.localeCompare(b.group)),
    jobs: {
      running: active.filter((j) => j.status === 'running').map(jobJson),
      held: active.filter((j) => j.status === 'held').length,
      failed_24h: jobsFailedSince(db, new Date(now - 86_400_000).toISOString()),
    },
    alerts: alertRows(db, undefined, 5).map((a) => ({ time: a.time, server: a.server, severity: a.severity, event: a.event, message: a.message })),
    events: eventRows(db, { limit: 10 }).map((e) => ({ time: e.time, type: e.type, message: e.message, machine: e.machine })),
  };
}
