// Secrets at rest (BMC passwords): AES-256-GCM with kanri's key file. The key file lives
// next to the store (<store dir>/kanri.key, KANRI_KEY_FILE overrides), holds 32 random
// bytes and is created 0600; a key file readable by others is refused. A stored secret is
// "v1:<iv>:<tag>:<ciphertext>" (base64), bound to its purpose through the GCM AAD so that a
// value copied from one row to another does not decrypt there. The store records which key
// seals its secrets (store/key-check.ts): a key file that is not that key is refused before
// it seals or opens anything, so that managers sharing a store never drift apart.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Db } from './db.js';
import { TtlCache } from '../util/cache.js';
import { SecretError } from './errors.js';
import { keyMatches, missingKeyMessage, recordKeyCheck, recordedKeyCheck, wrongKeyMessage } from './key-check.js';
import { isStoreUri } from './location.js';
import { defaultStorePath } from './paths.js';

// Defined with the store's errors, so that a front end can recognise it without loading crypto.

export const KEY_BYTES = 32;
/** Key files read; a long-running process reads the file again after ten minutes. */
const keys = new TtlCache<string, Buffer>(10 * 60_000);

/**
 * The key file of a store: KANRI_KEY_FILE, else kanri.key in the store's directory. A
 * PostgreSQL store has no directory here: its key is where the default SQLite store's would be
 * (/var/lib/kanri/kanri.key for root), never inside the store.
 */
export function keyFilePath(storePath: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.KANRI_KEY_FILE) return env.KANRI_KEY_FILE;
  if (isStoreUri(storePath)) return join(dirname(defaultStorePath({ ...env, KANRI_DB: undefined })), 'kanri.key');
  return join(dirname(storePath), 'kanri.key');
}

/** The key file for an open store (better-sqlite3 keeps the file name in db.name). */
export function keyFileFor(db: Db, env: NodeJS.ProcessEnv = process.env): string {
  if (env.KANRI_KEY_FILE) return env.KANRI_KEY_FILE;
  if (!db.name || db.name === ':memory:') throw new SecretError('an in-memory store has no key file; set KANRI_KEY_FILE');
  return keyFilePath(db.name, env);
}

/**
 * Where sealed values are kept. A store that holds any must never get a new key: the
 * values would become unreadable for good.
 */
const SEALED = [
  'SELECT count(*) AS n FROM machines WHERE bmc_secret IS NOT NULL',
  'SELECT count(*) AS n FROM driver_settings WHERE sealed = 1',
  // Secret global settings (store/settings.ts) are kept in the settings table in sealed form.
  "SELECT count(*) AS n FROM settings WHERE value LIKE 'v1:%:%:%'",
];

export function sealedValues(db: Db): number {
  return SEALED.reduce((n, sql) => n + (db.prepare(sql).get() as { n: number }).n, 0);
}

/**
 * Reads the key; with create, makes a new one (0600, exclusive create) when none exists —
 * unless `sealed` values exist already, which a new key could never open.
 */
export function loadKey(path: string, create: boolean, sealed = 0): Buffer {
  const cached = keys.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    if (!create) throw new SecretError(`key file ${path} not found: stored secrets cannot be read`);
    if (sealed > 0) {
      throw new SecretError(`key file ${path} is missing, but the store holds ${sealed} sealed secret${sealed > 1 ? 's' : ''} made with it: `
        + "restore that file (or point KANRI_KEY_FILE at it, or copy it from another manager: 'kanri store key export' there, 'kanri store key import' here); a new key would make them unreadable for good");
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(KEY_BYTES));
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SecretError(`cannot create key file ${path}: ${(e as Error).message}`);
    }
  }
  let key: Buffer;
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o077) !== 0) throw new SecretError(`key file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    key = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  if (key.length !== KEY_BYTES) throw new SecretError(`key file ${path} does not hold a ${KEY_BYTES}-byte key`);
  keys.set(path, key);
  return key;
}

export function encryptWith(key: Buffer, plaintext: string, purpose: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(purpose, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return `v1:${iv.toString('base64')}:${c.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
}

/**
 * Each key as node:crypto's key object, made once: opening the passwords of a ServerList
 * of hundreds otherwise checks and copies the same key for every one.
 */
const keyObjects = new WeakMap<Buffer, KeyObject>();

function keyObject(key: Buffer): KeyObject {
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = createSecretKey(key)));
  return k;
}

export function decryptWith(key: Buffer, stored: string, purpose: string): string {
  const parts = stored.split(':');
  if (parts.length !== 4 || parts[0] !== 'v1') throw new SecretError('stored secret has an unknown format');
  try {
    const d = createDecipheriv('aes-256-gcm', keyObject(key), Buffer.from(parts[1]!, 'base64'));
    d.setAAD(Buffer.from(purpose, 'utf8'));
    d.setAuthTag(Buffer.from(parts[2]!, 'base64'));
    return Buffer.concat([d.update(Buffer.from(parts[3]!, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new SecretError('stored secret cannot be decrypted with this key file (wrong or replaced key)');
  }
}

/**
 * Keys found to be their store's, by open store, with the key file each was read from and
 * the KANRI_KEY_FILE it was found under: the check is read once per key read, and the path
 * worked out again only when KANRI_KEY_FILE changed (dscli opens a password per BMC, and
 * the path's joins were a visible part of a large fan-out).
 */
const verified = new WeakMap<object, { key: Buffer; path: string; keyFileEnv: string | undefined; checked: boolean }>();

/**
 * The key of an open store, compared with the check value the store recorded. With `create`
 * (sealing) a missing key file is made — unless the store already uses a key — and a store
 * without a check value and without sealed values records this key's. A store that holds
 * sealed values but no check value (sealed before kanri recorded one) records a key only once
 * it has opened one of them (openSecret): sealing with a key proves nothing about theirs, and
 * the first manager to seal, with another key, would have locked the right ones out.
 */
function storeKey(db: Db, create: boolean): Buffer {
  const known = verified.get(db);
  if (known && (known.checked || !create) && known.keyFileEnv === process.env.KANRI_KEY_FILE && keys.get(known.path) === known.key) return known.key;
  const path = keyFileFor(db);
  const recorded = recordedKeyCheck(db);
  if (recorded && !existsSync(path)) throw new SecretError(missingKeyMessage(path));
  const sealed = recorded ? 0 : sealedValues(db);
  const key = loadKey(path, create, existsSync(path) ? 0 : sealed);
  const holds = recorded ?? (create && sealed === 0 ? recordKeyCheck(db, key) : undefined);
  if (holds !== undefined && !keyMatches(key, holds)) throw new SecretError(wrongKeyMessage(path));
  verified.set(db, { key, path, keyFileEnv: process.env.KANRI_KEY_FILE, checked: holds !== undefined });
  return key;
}

/**
 * A key that opened one of the store's secrets is the store's: recorded when the store has no
 * check value yet and this process may write it. Best effort: a store busy now, or written by
 * a manager that recorded first, is left as it is, and the next open tries again.
 */
function proveKey(db: Db, key: Buffer): void {
  const known = verified.get(db);
  if (!known || known.checked || (db as { readonly?: boolean }).readonly) return;
  try {
    known.checked = keyMatches(key, recordKeyCheck(db, key));
  } catch {
    // Busy or refused: the secret was opened all the same; recorded at a later open.
  }
}

/**
 * What a daemon (kanri monitor, kanri serve) calls at its start, before it could need a secret:
 * refuses a key file that is not the one the store recorded, or none when it recorded one.
 */
export function requireStoreKey(db: Db): void {
  if (recordedKeyCheck(db)) storeKey(db, false);
}

/** The store's key, made when missing, and its check value recorded (kanri store init). */
export function settleStoreKey(db: Db): string {
  storeKey(db, true);
  return keyFileFor(db);
}

/** Encrypts a secret for the store `db` (creates the key file on first use). */
export function sealSecret(db: Db, plaintext: string, purpose: string): string {
  return encryptWith(storeKey(db, true), plaintext, purpose);
}

export function openSecret(db: Db, stored: string, purpose: string): string {
  const key = storeKey(db, false);
  const plain = decryptWith(key, stored, purpose);
  proveKey(db, key);
  return plain;
}
