// One monitor per manager on a store: a lease row in the store itself (monitor_lease), taken
// and renewed in a transaction, so that it holds across network namespaces, containers and
// hosts (an abstract unix socket or a pid file does not). The holder writes a heartbeat every
// third of monitor.lease_s; a monitor that finds the row expired takes it over. A holder that
// died on this very host (same boot, same pid namespace, its pid gone) is taken over at once,
// so that a restart after a crash does not wait for the expiry; anywhere else the expiry decides.
//
// Every decision and action of the monitor re-checks the lease inside its own transaction
// (holds()), so that a monitor that lost it (paused past the expiry, cut off from the store)
// claims nothing more. On SQLite there is one manager ('default'); a PostgreSQL store shared by
// several managers keeps one row per manager, each monitor holding its own.
import type { Db } from '../store/db.js';
import { deadHere, identityField as field, processIdentity } from '../store/process-identity.js';
import { prepared } from '../store/statements.js';

export const DEFAULT_MANAGER = 'default';

export interface LeaseInfo { holder: string; pid: string; host: string; expiresAt: string }

const iso = (ms: number): string => new Date(ms).toISOString();

function info(r: { holder: string; expires_at: string }): LeaseInfo {
  return { holder: r.holder, pid: field(r.holder, 'pid') ?? '?', host: field(r.holder, 'host') ?? '?', expiresAt: r.expires_at };
}

/** Who holds the manager's lease now (unexpired), if anyone: for kanri monitor status and kanri event raise. */
export function leaseHolder(db: Db, manager = DEFAULT_MANAGER): LeaseInfo | undefined {
  const r = prepared(db, 'SELECT holder, expires_at FROM monitor_lease WHERE manager = ? AND expires_at > ?').get(manager, iso(Date.now())) as { holder: string; expires_at: string } | undefined;
  return r ? info(r) : undefined;
}

export class Lease {
  readonly holder = processIdentity();

  private constructor(private readonly db: Db, readonly manager: string, private readonly seconds: number) {}

  /** Takes the manager's lease, or says who holds it. */
  static take(db: Db, seconds: number, manager = DEFAULT_MANAGER): Lease | { heldBy: LeaseInfo } {
    const l = new Lease(db, manager, seconds);
    return db.transaction((): Lease | { heldBy: LeaseInfo } => {
      const now = Date.now();
      const r = prepared(db, 'SELECT holder, expires_at FROM monitor_lease WHERE manager = ?').get(manager) as { holder: string; expires_at: string } | undefined;
      if (r && r.expires_at > iso(now) && !deadHere(r.holder, l.holder)) return { heldBy: info(r) };
      prepared(db,
        `INSERT INTO monitor_lease (manager, holder, taken_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (manager) DO UPDATE SET holder = excluded.holder, taken_at = excluded.taken_at, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(manager, l.holder, iso(now), iso(now), iso(now + seconds * 1000));
      return l;
    }).immediate();
  }

  /** The heartbeat: false when the lease is no longer this process's (another monitor took it). */
  renew(): boolean {
    const now = Date.now();
    return prepared(this.db, 'UPDATE monitor_lease SET heartbeat_at = ?, expires_at = ? WHERE manager = ? AND holder = ?')
      .run(iso(now), iso(now + this.seconds * 1000), this.manager, this.holder).changes === 1;
  }

  /** Inside a claiming transaction: whether this process still holds an unexpired lease. */
  holds(): boolean {
    return prepared(this.db, 'SELECT 1 AS ok FROM monitor_lease WHERE manager = ? AND holder = ? AND expires_at > ?').get(this.manager, this.holder, iso(Date.now())) !== undefined;
  }

  release(): void {
    prepared(this.db, 'DELETE FROM monitor_lease WHERE manager = ? AND holder = ?').run(this.manager, this.holder);
  }
}
