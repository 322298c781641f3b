// The API's bearer tokens: created with a level (operators read, administrators change),
// printed once, kept only hashed, listed without the secret, revoked by name.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { EXIT } from '../kanri/exit-codes.js';
import { byName } from '../domain/names.js';

export type Level = 'administrator' | 'operator';
export const LEVELS: readonly Level[] = ['administrator', 'operator'];
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$/;
/** What a token looks like: the prefix makes a leaked one easy to find by secret scanners. */
const TOKEN_FORM = /^kanri_[A-Za-z0-9_-]{43}$/;

export interface TokenInfo { name: string; level: Level; created_at: string; last_used_at: string | null }

export class TokenError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Creates a token; returns the secret, which is never stored nor shown again. */
export function createToken(db: Db, name: string, level: string): string {
  if (!TOKEN_NAME.test(name)) throw new TokenError(EXIT.USAGE, `token name '${name}' must be 1-63 letters, digits or ._@- starting with a letter or digit`);
  if (!LEVELS.includes(level as Level)) throw new TokenError(EXIT.USAGE, `--level must be administrator or operator, not '${level}'`);
  const token = `kanri_${randomBytes(32).toString('base64url')}`;
  const ok = db.transaction(() => {
    if (byName(db, 'SELECT 1 AS y FROM serve_tokens WHERE {name}', 'name', name)) return false;
    db.prepare('INSERT INTO serve_tokens (name, level, token_hash, created_at) VALUES (?, ?, ?, ?)').run(name, level, hash(token), new Date().toISOString());
    return true;
  }).immediate();
  if (!ok) throw new TokenError(EXIT.USAGE, `a token named '${name}' exists already (revoke it first)`);
  return token;
}

export function listTokens(db: Db): TokenInfo[] {
  return db.prepare('SELECT name, level, created_at, last_used_at FROM serve_tokens ORDER BY name COLLATE NOCASE').all() as TokenInfo[];
}

export function revokeToken(db: Db, name: string): void {
  // The name as typed (full-width, say) finds the token as every name does, on both back ends.
  const t = byName<{ id: number }>(db, 'SELECT id FROM serve_tokens WHERE {name}', 'name', name);
  if (!t || db.prepare('DELETE FROM serve_tokens WHERE id = ?').run(t.id).changes === 0) throw new TokenError(EXIT.NOT_FOUND, `token not found: ${name}`);
}

/** Who a presented token is, or undefined; compares hashes in constant time. */
export function tokenOwner(db: Db, token: string): { name: string; level: Level } | undefined {
  if (!TOKEN_FORM.test(token)) return undefined;
  const h = hash(token);
  const row = prepared(db, 'SELECT name, level, token_hash FROM serve_tokens WHERE token_hash = ?').get(h) as { name: string; level: Level; token_hash: string } | undefined;
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(h))) return undefined;
  return { name: row.name, level: row.level };
}

/** Records when tokens were last used (the server calls it at most once a minute per token). */
export function touchTokens(db: Db, used: Map<string, string>): void {
  // The names tokenOwner() read: the stored spelling.
  const up = prepared(db, 'UPDATE serve_tokens SET last_used_at = ? WHERE name = ?');
  db.transaction(() => { for (const [name, at] of used) up.run(at, name); })();
}
