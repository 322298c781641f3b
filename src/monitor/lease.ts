// One monitor per manager on a store: a lease row in the store itself (monitor_lease), taken
// and renewed in a transaction, so that it holds across network namespaces, containers and
// hosts (an abstract unix socket or a pid file does not). The holder writes a heartbeat every
// third of monitor.lease_s; a monitor that finds the row expired takes it over. A holder that
// died on this very host (same boot, same pid namespace, its pid gone) is taken over at once,
// so that a restart after a crash does not wait for the expiry; anywhere else the expiry decides.
//
// Every decision and action of the monitor re-checks the lease inside its own transaction
// (holds()), so that a monitor that lost it (paused past the expiry, cut off from the store)
// claims nothing more. On SQLite there is one manager ('default'): the store is one host's file,
// so a second monitor there would add no availability, only a second writer to the one lock. A
// PostgreSQL store shared by several managers keeps one row per manager (managerName()), each
// monitor holding its own; two monitors of the same manager still exclude each other, and the
// live rows are the members of the polling ring (ring.ts).
//
// Every time written here and every expiry decided is the store's clock (dialect.ts storeNow),
// in SQL: a monitor whose host's clock runs ahead would otherwise find every other lease
// expired, take the whole ring and run the others' chains as orphans.
import type { Db } from '../store/db.js';
import { managerName } from '../store/manager-name.js';
import { isPostgresStore } from '../store/tables.js';
import { deadHere, identityField as field, processIdentity } from '../store/process-identity.js';
import { prepared } from '../store/statements.js';
import { storeNow } from '../store/dialect.js';

export const DEFAULT_MANAGER = 'default';

export interface LeaseInfo { holder: string; pid: string; host: string; expiresAt: string }

/** A monitor's lease row as the other managers see it. */
export interface LeaseRow extends LeaseInfo { manager: string; takenAt: string; heartbeatAt: string; live: boolean }

function info(r: { holder: string; expires_at: string }): LeaseInfo {
  return { holder: r.holder, pid: field(r.holder, 'pid') ?? '?', host: field(r.holder, 'host') ?? '?', expiresAt: r.expires_at };
}

/**
 * Whose lease a monitor on this store takes: its manager's on a PostgreSQL store (KANRI_MANAGER,
 * else the host name), 'default' on SQLite (one monitor per store).
 */
export function monitorManager(db: Db, env: NodeJS.ProcessEnv = process.env): string {
  // Checked on SQLite too: the monitor's engine owns its jobs under this name, and a name it
  // refuses there must stop the monitor before it takes a lease.
  const name = managerName(env);
  return isPostgresStore(db) ? name : DEFAULT_MANAGER;
}

/** Every monitor's lease row, by manager name; live: not expired by the store's clock. */
export function leaseRows(db: Db): LeaseRow[] {
  const rows = prepared(db, `SELECT manager, holder, taken_at AS takenAt, heartbeat_at AS heartbeatAt, expires_at,
      CASE WHEN expires_at > ${storeNow(db)} THEN 1 ELSE 0 END AS live FROM monitor_lease ORDER BY manager`).all() as
    Array<{ manager: string; holder: string; takenAt: string; heartbeatAt: string; expires_at: string; live: number }>;
  return rows.map((r) => ({ ...info(r), manager: r.manager, takenAt: r.takenAt, heartbeatAt: r.heartbeatAt, live: Number(r.live) === 1 }));
}

/** The monitors whose lease is unexpired: the members of the polling ring, the runners whose chains are not orphans. */
export const liveLeases = (db: Db): LeaseRow[] => leaseRows(db).filter((r) => r.live);

/**
 * For the monitor `me`: whether work a runner claimed (a chain, a mail being sent, a schedule
 * run) is an orphan — neither `me`'s nor a live monitor's; a claim naming no runner (written by
 * an older kanri) is one. The leases are read once, at the first runner that needs them.
 */
export function orphanedFor(db: Db, me: string): (runner: string | null) => boolean {
  let live: Set<string> | undefined;
  return (runner) => {
    if (runner === me) return false;
    if (runner === null) return true;
    live ??= new Set(liveLeases(db).map((l) => l.holder));
    return !live.has(runner);
  };
}

/** Inside a claiming transaction: whether `holder` still holds an unexpired lease (by the store's clock). */
export function holdsLease(db: Db, holder: string): boolean {
  return prepared(db, `SELECT 1 AS ok FROM monitor_lease WHERE holder = ? AND expires_at > ${storeNow(db)}`).get(holder) !== undefined;
}

export class Lease {
  readonly holder = processIdentity();

  private constructor(private readonly db: Db, readonly manager: string, private readonly seconds: number) {}

  /** Takes the manager's lease, or says who holds it. */
  static take(db: Db, seconds: number, manager = monitorManager(db)): Lease | { heldBy: LeaseInfo } {
    const l = new Lease(db, manager, seconds);
    return db.transaction((): Lease | { heldBy: LeaseInfo } => {
      const now = storeNow(db);
      const r = prepared(db, `SELECT holder, expires_at FROM monitor_lease WHERE manager = ? AND expires_at > ${now}`).get(manager) as { holder: string; expires_at: string } | undefined;
      if (r && !deadHere(r.holder, l.holder)) return { heldBy: info(r) };
      prepared(db,
        `INSERT INTO monitor_lease (manager, holder, taken_at, heartbeat_at, expires_at) VALUES (?, ?, ${now}, ${now}, ${storeNow(db, seconds)})
         ON CONFLICT (manager) DO UPDATE SET holder = excluded.holder, taken_at = excluded.taken_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(manager, l.holder);
      return l;
    }).immediate();
  }

  /** The heartbeat: false when the lease is no longer this process's (another monitor took it). */
  renew(): boolean {
    return prepared(this.db, `UPDATE monitor_lease SET heartbeat_at = ${storeNow(this.db)}, expires_at = ${storeNow(this.db, this.seconds)} WHERE manager = ? AND holder = ?`)
      .run(this.manager, this.holder).changes === 1;
  }

  /** Inside a claiming transaction: whether this process still holds an unexpired lease. */
  holds(): boolean {
    return holdsLease(this.db, this.holder);
  }

  release(): void {
    prepared(this.db, 'DELETE FROM monitor_lease WHERE manager = ? AND holder = ?').run(this.manager, this.holder);
  }
}
