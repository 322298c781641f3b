// The settings table: one key, one text value (delays, folders, defaults, limits). A secret
// setting (declared with type 'secret', e.g. monitor.communities) is kept only sealed with the
// store's key file, bound to its key, like the drivers' secrets.
import type { Db } from './db.js';
import { openSecret, sealSecret } from './secrets.js';
import { prepared } from './statements.js';

export function getSetting(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

/** Two settings in one query: a key and the key it refines (sim.delay_ms.power-on and sim.delay_ms). */
export function getSettingPair(db: Db, key: string, base: string): [string | undefined, string | undefined] {
  const rows = prepared(db, 'SELECT key, value FROM settings WHERE key IN (?, ?)').all(key, base) as Array<{ key: string; value: string }>;
  return [rows.find((r) => r.key === key)?.value, rows.find((r) => r.key === base)?.value];
}

export function putSetting(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** The purpose a sealed setting is bound to, so that its value copied to another key does not open. */
const purpose = (key: string): string => `setting:${key}`;

export function sealSettingValue(db: Db, key: string, plaintext: string): string {
  return sealSecret(db, plaintext, purpose(key));
}

export function openSettingValue(db: Db, key: string, stored: string): string {
  return openSecret(db, stored, purpose(key));
}

export function putSecretSetting(db: Db, key: string, plaintext: string): void {
  putSetting(db, key, sealSettingValue(db, key, plaintext));
}
