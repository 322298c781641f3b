// Accepted SSH host keys, kept in the store (table ssh_known_hosts) per
// address and port. A key is accepted only by an administrator (kanri ssh
// trust); the driver never adds one by itself.
import { createHash } from 'node:crypto';
import type { Db } from '../../store/db.js';

export interface KnownHost {
  host: string;
  port: number;
  keyType: string;
  /** Base64 of the public host key blob, as in a known_hosts line. */
  key: string;
  fingerprint: string;
  addedAt: string;
}

/** The fingerprint `ssh-keygen -l` prints: SHA256: and the unpadded base64 of the blob's digest. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of a public key blob (a length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return 'unknown';
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** Normalises a fingerprint given by a person: a missing SHA256: prefix or trailing '=' are tolerated. */
export function normaliseFingerprint(text: string): string {
  const t = text.trim().replace(/=+$/, '');
  return t.startsWith('SHA256:') ? t : `SHA256:${t}`;
}

interface Row { host: string; port: number; key_type: string; key: string; fingerprint: string; added_at: string }

const toKnown = (r: Row): KnownHost => ({ host: r.host, port: r.port, keyType: r.key_type, key: r.key, fingerprint: r.fingerprint, addedAt: r.added_at });

export function knownKeys(db: Db, host: string, port: number): KnownHost[] {
  return (db.prepare('SELECT * FROM ssh_known_hosts WHERE host = ? AND port = ? ORDER BY key_type').all(host, port) as Row[]).map(toKnown);
}

export function allKnownKeys(db: Db): KnownHost[] {
  return (db.prepare('SELECT * FROM ssh_known_hosts ORDER BY host, port, key_type').all() as Row[]).map(toKnown);
}

export function addKnownKey(db: Db, host: string, port: number, blob: Buffer): KnownHost {
  const row: Row = {
    host, port, key_type: keyTypeOf(blob), key: blob.toString('base64'), fingerprint: fingerprintOf(blob), added_at: new Date().toISOString(),
  };
  db.prepare(`INSERT INTO ssh_known_hosts (host, port, key_type, key, fingerprint, added_at) VALUES (@host, @port, @key_type, @key, @fingerprint, @added_at)
    ON CONFLICT (host, port, key_type) DO UPDATE SET key = excluded.key, fingerprint = excluded.fingerprint, added_at = excluded.added_at`).run(row);
  return toKnown(row);
}

export function forgetKeys(db: Db, host: string, port: number): number {
  return db.prepare('DELETE FROM ssh_known_hosts WHERE host = ? AND port = ?').run(host, port).changes;
}

export type Verdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'changed'; fingerprint: string; keyType: string; expected?: string };

/** Checks an offered host key against the accepted ones of host:port. */
export function verifyHostKey(db: Db, host: string, port: number, blob: Buffer): Verdict {
  const keyType = keyTypeOf(blob);
  const fingerprint = fingerprintOf(blob);
  const known = knownKeys(db, host, port);
  if (known.length === 0) return { ok: false, reason: 'unknown', fingerprint, keyType };
  const offered = blob.toString('base64');
  if (known.some((k) => k.key === offered)) return { ok: true };
  // Either the key of an accepted type differs, or the server offers a type we
  // have no key for although we accepted others: both mean the host changed.
  const sameType = known.find((k) => k.keyType === keyType);
  return { ok: false, reason: 'changed', fingerprint, keyType, expected: (sameType ?? known[0]!).fingerprint };
}

/** ssh2's host key algorithms for the accepted key types, so that the server presents a key we know. */
export function hostKeyAlgorithms(known: KnownHost[]): string[] {
  const algs: string[] = [];
  for (const k of known) {
    if (k.keyType === 'ssh-rsa') algs.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else if (['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-dss'].includes(k.keyType)) algs.push(k.keyType);
  }
  return [...new Set(algs)];
}
