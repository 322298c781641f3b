// The processes of the managers that share a store (table managers): one row per live process
// that owns work — a command while it runs jobs, a daemon (monitor, serve) while it runs —
// with its manager's name (KANRI_MANAGER, default the host name), its identity as an owner of
// rows (store/process-identity.ts), its role, and a heartbeat that keeps a lease
// (manager.lease_s). A job names its owner (jobs.manager, jobs.owner); a job whose owner's
// lease ran out is abandoned by any process of any manager (jobs.ts, sweepAbandoned).
//
// A command that only reads, or that is refused, writes nothing here: the row is written in
// the transaction that creates its first job, so start-up costs no store write.
import type { Db } from '../store/db.js';
import { settingNumber } from '../adapters/setting-reader.js';
import { CORE_SETTINGS } from '../domain/settings.js';
import { managerName } from '../store/manager-name.js';
import { identityField, processIdentity } from '../store/process-identity.js';
import { withBusyTimeout } from '../store/busy.js';
import { prepared } from '../store/statements.js';
import { storeNow } from '../store/dialect.js';

/** What a process of a manager does: a command that runs jobs, or one of the daemons. */
export type Role = 'cli' | 'monitor' | 'serve';

/** How often the beat looks at the clock; the row itself is renewed every sixth of the lease. */
const TICK_MS = 1_000;
/** How long one beat waits for a store another process holds (then the next tick tries again). */
const BEAT_WAIT_MS = 50;

let identity: string | undefined;
let manager: string | undefined;

/** This process as the owner of its jobs: one identity for the life of the process. */
export function ownIdentity(): string {
  return (identity ??= processIdentity());
}

/** The manager this process speaks for (KANRI_MANAGER, default the host name), read once. */
export function ownManager(): string {
  return (manager ??= managerName());
}

/** The lease: without a heartbeat for this long, a process's jobs are abandoned by any other. */
export function leaseSeconds(db: Db): number {
  return settingNumber(db, CORE_SETTINGS, 'manager.lease_s');
}

/**
 * Writes (or renews) this process's row: heartbeat now, lease until now + manager.lease_s,
 * both by the store's clock (dialect.ts storeNow: the clock every manager compares them with).
 * Called inside the transaction that creates or re-plans this process's jobs, so that a job
 * never exists without its owner's row. Returns the lease it wrote, in seconds.
 */
export function enlist(db: Db, role: Role): number {
  const lease = leaseSeconds(db);
  const now = storeNow(db);
  prepared(db,
    `INSERT INTO managers (owner, manager, role, started_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ${now}, ${now}, ${storeNow(db, lease)})
     ON CONFLICT (owner) DO UPDATE SET role = excluded.role, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
  ).run(ownIdentity(), ownManager(), role);
  return lease;
}

/** Removes this process's row, unless it still owns a running or held job (another Engine of this process). */
export function retire(db: Db): void {
  const me = ownIdentity();
  prepared(db, "DELETE FROM managers WHERE owner = ? AND NOT EXISTS (SELECT 1 FROM jobs WHERE owner = ? AND status IN ('running', 'held'))").run(me, me);
}

/**
 * Housekeeping of the sweep: the rows of owners whose lease ran out, or who were proven dead
 * on this host (`gone`), once they own no running or held job any more.
 */
export function forgetDead(db: Db, gone: readonly string[] = []): void {
  const idle = "NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.owner = managers.owner AND jobs.status IN ('running', 'held'))";
  prepared(db, `DELETE FROM managers WHERE expires_at < ${storeNow(db)} AND ${idle}`).run();
  for (const owner of gone) prepared(db, `DELETE FROM managers WHERE owner = ? AND ${idle}`).run(owner);
}

export interface ManagerProcess {
  manager: string;
  owner: string;
  role: Role;
  host: string;
  pid: number | null;
  startedAt: string;
  heartbeatAt: string;
  expiresAt: string;
  /** Running or held jobs this process owns. */
  jobs: number;
}

/** Every process whose lease runs now (by the store's clock), by manager and start. */
export function liveProcesses(db: Db): ManagerProcess[] {
  const rows = db.prepare(
    `SELECT m.owner, m.manager, m.role, m.started_at, m.heartbeat_at, m.expires_at,
            (SELECT count(*) FROM jobs j WHERE j.owner = m.owner AND j.status IN ('running', 'held')) AS jobs
       FROM managers m WHERE m.expires_at > ${storeNow(db)} ORDER BY m.manager, m.started_at, m.owner`,
  ).all() as Array<{ owner: string; manager: string; role: Role; started_at: string; heartbeat_at: string; expires_at: string; jobs: number }>;
  return rows.map((r) => {
    const pid = Number(identityField(r.owner, 'pid'));
    return {
      manager: r.manager, owner: r.owner, role: r.role, host: identityField(r.owner, 'host') ?? '?', pid: Number.isInteger(pid) && pid > 0 ? pid : null,
      startedAt: r.started_at, heartbeatAt: r.heartbeat_at, expiresAt: r.expires_at, jobs: Number(r.jobs),
    };
  });
}

/**
 * The heartbeat of one Engine's process: enlist() writes the row (in the caller's transaction)
 * and starts a timer that renews it every sixth of the lease and runs `onTick` (the sweep of
 * other processes' abandoned jobs) every second; retire() stops it and removes the row. A
 * daemon keeps its row while it runs, jobs or not; a command's row goes with its last job.
 * The timer is unref'd, and each beat waits at most 50 ms for a store another process holds:
 * a missed beat is tried at the next tick, and the lease allows for five of them. When to beat
 * is this process's business (its monotonic clock); what the row says, the store's clock.
 */
export class ManagerBeat {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  /** Whether enlist() ran since the last retire(): a command refused before its first job writes nothing at all. */
  private enlisted = false;

  constructor(private readonly db: Db, readonly role: Role, private readonly onTick?: () => void) {}

  /** Writes the row now (inside the caller's transaction, if any) and keeps it alive. */
  enlist(): void {
    const lease = enlist(this.db, this.role);
    this.enlisted = true;
    this.due = performance.now() + (lease * 1000) / 6;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  /** Stops the heartbeat and removes the row (kept while another Engine of this process owns jobs). */
  retire(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.enlisted || !this.db.open) return;
    this.enlisted = false;
    retire(this.db);
  }

  private tick(): void {
    if (!this.db.open) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    try {
      withBusyTimeout(this.db, BEAT_WAIT_MS, () => {
        if (performance.now() >= this.due) {
          this.db.transaction(() => {
            this.enlist();
            forgetDead(this.db);
          })();
        }
        this.onTick?.();
      });
    } catch {
      // A store held by another process: the next tick tries again (a sixth of the lease apart at most).
    }
  }
}
