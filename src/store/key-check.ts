// The key check value: which key seals a store's secrets, told without giving the key away.
// Several managers share one PostgreSQL store, and each has its own key file (the key never
// travels inside the store); a manager whose file holds another key would seal secrets that
// the others cannot open, and fail to open theirs. So the store keeps an HMAC-SHA256 of a
// fixed label under the key — recorded when the key is first used on it (kanri store init,
// the first secret sealed) — and every use of the key compares with it first. An HMAC under a
// random 256-bit key reveals nothing of the key and cannot be turned into a key that matches.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from './db.js';
import { MIGRATIONS } from './migrations.js';

const LABEL = 'kanri key check v1';

/** The check value of a key. */
export function keyCheckValue(key: Buffer): string {
  return `v1:${createHmac('sha256', key).update(LABEL, 'utf8').digest('hex')}`;
}

/** The check value the store recorded, if any. */
export function recordedKeyCheck(db: Db): string | undefined {
  if (!hasKeyCheck.has(db)) {
    // A store at an older schema, opened read-only (not migrated), has no such table: no check.
    if ((db.pragma('user_version', { simple: true }) as number) < KEY_CHECK_SCHEMA) return undefined;
    hasKeyCheck.add(db);
  }
  const r = db.prepare('SELECT value FROM key_check WHERE id = 1').get() as { value: string } | undefined;
  return r?.value;
}

/** The core schema version that made the key_check table (found, not numbered: migrations may be renumbered). */
const KEY_CHECK_SCHEMA = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE key_check')) + 1;
const hasKeyCheck = new WeakSet<object>();

/** Whether `key` is the key whose check value is `recorded`. */
export function keyMatches(key: Buffer, recorded: string): boolean {
  const mine = Buffer.from(keyCheckValue(key));
  const theirs = Buffer.from(recorded);
  return mine.length === theirs.length && timingSafeEqual(mine, theirs);
}

/**
 * Records the key's check value unless the store has one; returns the value the store holds
 * afterwards (another manager's, when it recorded first: the caller compares).
 */
export function recordKeyCheck(db: Db, key: Buffer): string {
  db.prepare('INSERT INTO key_check (id, value, recorded_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING').run(keyCheckValue(key), new Date().toISOString());
  return recordedKeyCheck(db)!;
}

/** How to get the right key onto this manager: said by every refusal about the key. */
const HOW = "copy the store's key here ('kanri store key export' on a manager whose key works, 'kanri store key import' here) or point KANRI_KEY_FILE at it";

/** The refusal when the key file is not the one the store's secrets are sealed with. */
export function wrongKeyMessage(path: string): string {
  return `key file ${path} is not the key this store's secrets are sealed with: ${HOW}`;
}

/** The refusal when there is no key file but the store has recorded a key. */
export function missingKeyMessage(path: string): string {
  return `key file ${path} is missing, but this store's secrets are sealed with a key: ${HOW}; a new key would make them unreadable for good`;
}
