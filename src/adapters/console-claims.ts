// Who holds a machine's serial console: one row per machine in the store (table
// console_claims, its own schema component), so that a second console is refused with the
// holder's name from any host sharing the store. A holder refreshes its row while it runs;
// a row not refreshed for the stale time (a holder that died) may be taken over.
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';

// The table's schema is in ./console-claims-schema.ts: opening a store loads that module,
// not this one (and with it node:crypto) — see src/open-store.ts.

/** A claim is refreshed every REFRESH_MS; one older than STALE_MS has no live holder. */
export const REFRESH_MS = 5_000;
export const STALE_MS = 20_000;

export interface ConsoleHolder { holder: string; since: string; seenAt: string }

export type ClaimResult = { ok: true; token: string; tookOver?: ConsoleHolder } | { ok: false; held: ConsoleHolder };

interface Row { holder: string; token: string; since: string; seen_at: string }

/** Claims the console of a machine for `holder` unless a live holder has it. */
export function claimConsole(db: Db, machineId: number, holder: string, now = Date.now()): ClaimResult {
  return db.transaction((): ClaimResult => {
    const row = db.prepare('SELECT holder, token, since, seen_at FROM console_claims WHERE machine_id = ?').get(machineId) as Row | undefined;
    const prior = row ? { holder: row.holder, since: row.since, seenAt: row.seen_at } : undefined;
    if (row && now - Date.parse(row.seen_at) < STALE_MS) return { ok: false, held: prior! };
    const token = randomBytes(16).toString('hex');
    const at = new Date(now).toISOString();
    db.prepare(`INSERT INTO console_claims (machine_id, holder, token, since, seen_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (machine_id) DO UPDATE SET holder = excluded.holder, token = excluded.token, since = excluded.since, seen_at = excluded.seen_at`)
      .run(machineId, holder, token, at, at);
    return prior ? { ok: true, token, tookOver: prior } : { ok: true, token };
  })();
}

/** Keeps a claim alive; false when it is no longer ours (taken over after we went quiet). */
export function refreshConsole(db: Db, machineId: number, token: string, now = Date.now()): boolean {
  return db.prepare('UPDATE console_claims SET seen_at = ? WHERE machine_id = ? AND token = ?').run(new Date(now).toISOString(), machineId, token).changes === 1;
}

export function releaseConsole(db: Db, machineId: number, token: string): void {
  db.prepare('DELETE FROM console_claims WHERE machine_id = ? AND token = ?').run(machineId, token);
}

