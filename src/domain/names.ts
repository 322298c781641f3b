// How names compare: case-insensitively under Unicode case folding, everywhere — the
// validator, lookups from the command line and the store. SQLite's NOCASE folds ASCII
// only, so lookups use the index for the exact spelling and fold in kanri for the rest.
import type Database from 'better-sqlite3';
import { didYouMean } from '../util/nearest.js';

/**
 * The folded form of a name (Äpfel and äpfel, Straße, STRAẞE and STRASSE compare equal):
 * Unicode's full case mappings, lower then upper then lower, so that a letter whose capital
 * lowers to another one (ẞ → ß → SS) folds as that one does; NFC around it, so that a
 * mapping that decomposes (ΐ → Ϊ́) compares with the composed spelling. A PostgreSQL store
 * computes the same in SQL (kfold, store/dialect.ts) with ICU's mappings.
 */
export function foldName(s: string): string {
  return s.normalize('NFC').toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

/** Characters no name may hold: C0/C1 controls and the bidirectional overrides that reorder printed text. */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Why a name cannot be used, or undefined. */
export function nameProblem(s: string): string | undefined {
  const m = FORBIDDEN.exec(s);
  if (!m) return undefined;
  return `must not contain control characters (U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at position ${m.index + 1})`;
}

/** The longest VM name (seed 004 L8343). */
export const VM_NAME_MAX = 80;
const VM_NAME = /^[A-Za-z0-9_-]+$/;

/** Why a name cannot be a new VM's (seed 004 L8341–8344: at most 80 alphanumerics, '-' and '_'), or undefined. */
export function vmNameProblem(s: string): string | undefined {
  if (s.length > VM_NAME_MAX) return `is longer than ${VM_NAME_MAX} characters (${s.length})`;
  if (!VM_NAME.test(s)) return "may hold only letters A-Z a-z, digits, '-' and '_'";
  return undefined;
}

/** The SQL function kfold(name) for lookups that must fold beyond ASCII. */
export function registerNameFunctions(db: Database.Database): void {
  db.function('kfold', { deterministic: true }, (v: unknown) => (typeof v === 'string' ? foldName(v) : v));
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Looks a row up by a name column: first the exact spelling (the NOCASE index, which
 * folds ASCII), then, for a name with other letters, under full case folding.
 * `sql` holds `{name}` where the comparison goes, e.g. "SELECT * FROM machines WHERE {name}".
 */
export function byName<T>(db: Database.Database, sql: string, column: string, name: string, ...args: unknown[]): T | undefined {
  const exact = db.prepare(sql.replace('{name}', `${column} = ?`)).get(...args, name) as T | undefined;
  if (exact !== undefined || ASCII.test(name)) return exact;
  return db.prepare(sql.replace('{name}', `kfold(${column}) = kfold(?)`)).get(...args, name) as T | undefined;
}

/** All rows matching a name, as byName does. */
export function allByName<T>(db: Database.Database, sql: string, column: string, name: string, ...args: unknown[]): T[] {
  const exact = db.prepare(sql.replace('{name}', `${column} = ?`)).all(...args, name) as T[];
  if (exact.length || ASCII.test(name)) return exact;
  return db.prepare(sql.replace('{name}', `kfold(${column}) = kfold(?)`)).all(...args, name) as T[];
}

/** " (did you mean X?)" naming the closest of the names a query returns (column `name`), or nothing. */
export function closestName(db: Database.Database, sql: string, name: string, ...args: unknown[]): string {
  return didYouMean(name, (db.prepare(sql).all(...args) as Array<{ name: string }>).map((r) => r.name));
}
