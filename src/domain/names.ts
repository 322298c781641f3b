// How names compare: case-insensitively under Unicode case folding, everywhere — the
// validator, lookups from the command line and the store. SQLite's NOCASE folds ASCII
// only, so lookups use the index for the exact spelling and fold in kanri for the rest.
import type Database from 'better-sqlite3';
import { didYouMean } from '../util/nearest.js';
import { prepared } from '../store/statements.js';

/**
 * Code points that a name column's ICU collation on PostgreSQL ignores, and so does foldName():
 * Unicode's default-ignorable code points (soft hyphen, zero-width space and joiners, word
 * joiner, variation selectors, the byte-order mark, tags…) less those nameProblem() refuses
 * anyway and the Hangul fillers, which ICU weighs as letters. One list for both back ends:
 * kfold() in SQL (store/dialect.ts) removes the same.
 */
export const IGNORABLE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00ad, 0x00ad], [0x034f, 0x034f], [0x061c, 0x061c], [0x17b4, 0x17b5], [0x180b, 0x180f],
  [0x200b, 0x200d], [0x2060, 0x2065], [0x206a, 0x206f], [0xfe00, 0xfe0f], [0xfeff, 0xfeff],
  [0xfff0, 0xfff8], [0x1bca0, 0x1bca3], [0x1d173, 0x1d17a], [0xe0000, 0xe0fff],
];

/** A regular-expression class of IGNORABLE_RANGES, as `\u{…}` (JS with the u flag) or `\U…` escapes (PostgreSQL). */
export function ignorableClass(escape: (cp: number) => string): string {
  return `[${IGNORABLE_RANGES.map(([a, b]) => (a === b ? escape(a) : `${escape(a)}-${escape(b)}`)).join('')}]`;
}

const IGNORABLE = new RegExp(ignorableClass((cp) => `\\u{${cp.toString(16)}}`), 'gu');

/** Small kana and the normal ones they are small forms of (katakana). */
const SMALL_KANA: ReadonlyArray<readonly [string, string]> = [
  ['ァィゥェォッャュョヮヵヶ', 'アイウエオツヤユヨワカケ'],
  ['ㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ', 'クシストヌハヒフヘホムラリルレロ'],
];

/**
 * What foldName() writes for a kana, as two strings of equal length (kfold's translate() on
 * PostgreSQL): ICU at level 2 tells neither hiragana from katakana (かな and カナ) nor a small
 * kana from its normal one (ぁ and あ), so both become the normal katakana. The iteration marks
 * ゝ ゞ and ヽ ヾ it does tell apart, and so do these.
 */
export const KANA_FOLD: { from: string; to: string } = (() => {
  const small = new Map(SMALL_KANA.flatMap(([from, to]) => [...from].map((c, i) => [c, [...to][i]!] as const)));
  const normal = (c: string): string => small.get(c) ?? c;
  let from = '';
  let to = '';
  for (let cp = 0x3041; cp <= 0x3096; cp++) {
    from += String.fromCharCode(cp);
    to += normal(String.fromCharCode(cp + 0x60));
  }
  for (const [c, n] of small) {
    from += c;
    to += n;
  }
  return { from, to };
})();

const KANA = new Map([...KANA_FOLD.from].map((c, i) => [c, [...KANA_FOLD.to][i]!]));

function katakana(s: string): string {
  return s.replace(/[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff]/g, (c) => KANA.get(c) ?? c);
}

/**
 * The folded form of a name: two names are the same name when these are equal, on both back
 * ends. It is what a name column's collation on PostgreSQL (kanri_nocase, ICU at level 2)
 * equates, so that the validator refuses on SQLite what PostgreSQL's unique index would:
 * - default-ignorable code points removed (Web and We\u200Bb);
 * - compatibility forms as their plain ones (NFKC: full-width Ｗｅｂ, the ligature ﬁ, Ǆ and DŽ,
 *   half-width ｶﾅ, circled and superscript letters and digits);
 * - case, with Unicode's full case mappings (Äpfel and äpfel, Straße, STRAẞE and STRASSE):
 *   lower then upper then lower, so that a letter whose capital lowers to another one
 *   (ẞ → ß → SS) folds as that one does, then NFKC again, so that a mapping that decomposes
 *   (ΐ → Ϊ́) compares with the composed spelling;
 * - hiragana as katakana and small kana as normal ones (かな, カナ and ｶﾅ; ぁ and あ).
 * Accents and other marks still count (Apfel is not Äpfel). A PostgreSQL store computes the
 * same in SQL (kfold, store/dialect.ts) with ICU's mappings.
 */
export function foldName(s: string): string {
  return katakana(s.replace(IGNORABLE, '').normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC'));
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

/**
 * Looks a row up by a name column: first the exact spelling (the name column's collation:
 * SQLite's NOCASE, which folds ASCII, or kanri_nocase on PostgreSQL), then under foldName()
 * (kfold), so that both back ends find the same row: Ｗｅｂ finds Web, and Web finds Ｗｅｂ.
 * For a plain ASCII name the second step looks only at names that are not (those are the
 * only ones NOCASE may have missed), so the usual miss calls kfold on no row.
 * `sql` holds `{name}` where the comparison goes, e.g. "SELECT * FROM machines WHERE {name}";
 * it is prepared once per store (statements.ts): a ServerList's range looks up hundreds of names.
 */
export function byName<T>(db: Database.Database, sql: string, column: string, name: string, ...args: unknown[]): T | undefined {
  const exact = prepared(db, sql.replace('{name}', `${column} = ?`)).get(...args, name) as T | undefined;
  if (exact !== undefined) return exact;
  return prepared(db, sql.replace('{name}', folded(column, name))).get(...args, name) as T | undefined;
}

/** All rows matching a name, as byName does. */
export function allByName<T>(db: Database.Database, sql: string, column: string, name: string, ...args: unknown[]): T[] {
  const exact = prepared(db, sql.replace('{name}', `${column} = ?`)).all(...args, name) as T[];
  if (exact.length) return exact;
  return prepared(db, sql.replace('{name}', folded(column, name))).all(...args, name) as T[];
}

const ASCII = /^[\x00-\x7f]*$/;

/** byName's second step: the column under full folding (for an ASCII name, its names that are not ASCII only). */
function folded(column: string, name: string): string {
  return `${ASCII.test(name) ? `octet_length(${column}) <> length(${column}) AND ` : ''}kfold(${column}) = kfold(?)`;
}

/**
 * How a description's names pair with a store's (config apply, and the plan it prints): a name
 * pairs with the entry spelt as it is, else with one that folds alike — of several (a store may
 * hold names written before they folded alike) the first in code-unit order, so that the plan
 * and the apply pick the same one, whatever order each reads the entries in.
 */
export function namePairing(existing: Iterable<string>): (name: string) => string | undefined {
  const spelt = new Set(existing);
  const folded = new Map<string, string>();
  for (const n of [...spelt].sort()) {
    const k = foldName(n);
    if (!folded.has(k)) folded.set(k, n);
  }
  return (name) => (spelt.has(name) ? name : folded.get(foldName(name)));
}

/** " (did you mean X?)" naming the closest of the names a query returns (column `name`), or nothing. */
export function closestName(db: Database.Database, sql: string, name: string, ...args: unknown[]): string {
  return didYouMean(name, (db.prepare(sql).all(...args) as Array<{ name: string }>).map((r) => r.name));
}
