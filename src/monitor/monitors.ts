// The monitors of a store as every process sees them: one per manager holding a lease row
// (lease.ts), its heartbeat and expiry, and the machines it polls — its share of the hash ring
// (ring.ts). kanri monitor status prints it; kanri manager list can print the same.
import type { Db } from '../store/db.js';
import { leaseRows } from './lease.js';
import { HashRing, POLLED_MACHINES, machineKey } from './ring.js';

export interface MonitorView {
  /** The manager the monitor speaks for ('default' on SQLite). */
  manager: string;
  /** Its process: host, pid, pid namespace, boot, token. */
  holder: string;
  host: string;
  pid: string;
  heartbeatAt: string;
  expiresAt: string;
  /** The lease is unexpired: the monitor is a member of the ring. */
  live: boolean;
  /** The machines it polls (by name, in id order); none when its lease expired. */
  polls: string[];
}

/** Every monitor with a lease row, by manager name, with what it polls now. */
export function monitorsOf(db: Db): MonitorView[] {
  const rows = leaseRows(db);
  const ring = new HashRing(rows.filter((r) => r.live).map((r) => r.manager));
  const machines = db.prepare(`SELECT id, name FROM machines WHERE ${POLLED_MACHINES} ORDER BY id`).all() as Array<{ id: number; name: string }>;
  const polls = new Map<string, string[]>();
  for (const m of machines) {
    const owner = ring.owner(machineKey(m.id));
    if (owner === undefined) continue;
    const list = polls.get(owner);
    if (list) list.push(m.name);
    else polls.set(owner, [m.name]);
  }
  return rows.map((r) => ({
    manager: r.manager, holder: r.holder, host: r.host, pid: r.pid, heartbeatAt: r.heartbeatAt, expiresAt: r.expiresAt, live: r.live,
    polls: polls.get(r.manager) ?? [],
  }));
}
