// The one place where kanri's SQL differs between SQLite and PostgreSQL. Every module keeps
// its SQL as it is (SQLite's, portable where a standard form exists); the PostgreSQL back end
// (postgres.ts) passes each statement through toPostgres() once, when it is prepared:
//
// - placeholders: ? and @name/:name/$name become $1, $2, … (a named one keeps one number);
//   `? IS [NOT] NULL` gets a type (::text), which PostgreSQL cannot infer from IS NULL;
// - SQLite-only forms: ifnull → coalesce; INSERT OR IGNORE → ON CONFLICT DO NOTHING;
//   INSERT OR REPLACE → ON CONFLICT (primary key) DO UPDATE of the other columns;
// - x IS ? → IS NOT DISTINCT FROM (SQLite's IS compares values, NULL equal to NULL);
// - LIKE → ILIKE under the "C" collation (SQLite's LIKE folds ASCII case only);
// - json_extract(x, '$.key') → (x::jsonb ->> 'key');
// - a mixed-case alias (AS machineId) is quoted wherever it appears: PostgreSQL would fold it;
// - a condition that is a bare 1 or 0 becomes TRUE or FALSE; a negative LIMIT (SQLite: no
//   limit) becomes none;
// - truths added up ((a IS NULL) + (b IS NULL)) are cast to integers;
// - names: in a statement, X COLLATE NOCASE (a comparison or an order) becomes
//   lower(X COLLATE "C"), on both sides of a comparison: ASCII letters lowered, then compared
//   byte by byte, which is exactly SQLite's NOCASE. A name column (schema: COLLATE NOCASE)
//   gets kanri_nocase, a nondeterministic ICU collation at level 2: it equates what foldName()
//   does (case, compatibility forms, kana, ignorable characters; domain/names.ts) save the
//   differences docs/architecture.md lists and test/store-postgres.test.ts pins, and orders
//   punctuation and non-ASCII letters otherwise than NOCASE. PostgreSQL has no collation that
//   is NOCASE (citext lowers under the database's locale). kfold(x), which lookups fall back
//   on (Ｗｅｂ = Web, Straße = STRASSE), is an SQL function of the prelude computing what
//   foldName() does with ICU's mappings (ignorables removed, NFKC, lower, upper, lower,
//   NFKC, kana as katakana: the ignorables and kana from the same tables as foldName's);
//   a change to it comes with a migration, or stores already at the schema keep the old one;
// - the column names PostgreSQL reserves (user, window) are quoted;
// - in schema text (migrations): INTEGER → BIGINT (SQLite's integers are 64-bit: times in
//   ms), REAL → DOUBLE PRECISION, BLOB → BYTEA, INTEGER PRIMARY KEY AUTOINCREMENT (and a
//   column `id INTEGER PRIMARY KEY`, SQLite's rowid) → an identity column; an index on an
//   expression gets the parentheses PostgreSQL requires.
// Strings, quoted names and comments are never rewritten.
import { ignorableClass, KANA_FOLD } from '../domain/names.js';
import type { Db } from './db.js';
import { isPostgresStore } from './tables.js';

/**
 * What a claiming SELECT adds to lock the rows it returns, so that each row (an event to
 * decide, a chain to start) is taken by one process only, whichever manager it runs on. On
 * PostgreSQL: FOR UPDATE SKIP LOCKED, the rows another transaction holds are passed over
 * (their claimer re-checks them). SQLite has no row locks: a write transaction holds the one
 * writer lock from its start, which is the same guarantee, so nothing is added.
 */
export function claimRows(db: Db): string {
  return isPostgresStore(db) ? ' FOR UPDATE SKIP LOCKED' : '';
}

/**
 * The store's clock as an SQL expression, `plusSeconds` ahead: ISO-8601 UTC text with
 * milliseconds, exactly as new Date().toISOString() writes the time columns
 * (2026-12-06T09:23:29.123Z), so that it compares as text with what they hold. Every
 * liveness decision across managers (heartbeats, leases, their expiry) is taken in SQL
 * against it, never against a process's clock: a manager whose clock is ahead by more than a
 * lease would otherwise find every other's lease expired. On PostgreSQL it is the server's
 * clock when the statement arrived (statement_timestamp(): now() would stand still for a whole
 * transaction); on SQLite the one host's. On both it is one instant for the whole statement,
 * so that a heartbeat and the lease end written together are exactly the lease apart.
 */
export function storeNow(db: Db, plusSeconds = 0): string {
  if (!Number.isFinite(plusSeconds)) throw new Error(`storeNow: ${plusSeconds} is no number of seconds`);
  const plus = plusSeconds.toFixed(3);
  return isPostgresStore(db)
    ? `to_char((statement_timestamp() + interval '${plus} seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '${plus} seconds')`;
}

/** The collation that stands for SQLite's NOCASE, created by the PostgreSQL back end. */
export const NOCASE_COLLATION = 'kanri_nocase';

/**
 * SQL run on a PostgreSQL store before its migrations (db.ts runs it only when a migration is
 * due): a change here must come with a migration, or stores already at the schema never see it.
 */
export const POSTGRES_PRELUDE = `
CREATE COLLATION IF NOT EXISTS ${NOCASE_COLLATION} (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION IF NOT EXISTS kanri_fold (provider = icu, locale = 'und');
CREATE OR REPLACE FUNCTION kfold(name text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN translate(normalize(lower(upper(lower(normalize(regexp_replace(name, '${ignorableClass((cp) => (cp > 0xffff ? `\\U${hex(cp, 8)}` : `\\u${hex(cp, 4)}`))}', '', 'g'), NFKC)
    COLLATE kanri_fold) COLLATE kanri_fold) COLLATE kanri_fold), NFKC), '${KANA_FOLD.from}', '${KANA_FOLD.to}');
`;

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

interface Piece {
  code: boolean;
  text: string;
}

/** Splits SQL into code and the parts never rewritten (strings, quoted names, comments). */
function pieces(sql: string): Piece[] {
  const out: Piece[] = [];
  let code = '';
  let i = 0;
  const flush = (): void => {
    if (code) out.push({ code: true, text: code });
    code = '';
  };
  while (i < sql.length) {
    const c = sql[i]!;
    let end = -1;
    if (c === "'" || c === '"') {
      end = i + 1;
      for (;;) {
        const j = sql.indexOf(c, end);
        if (j < 0) { end = sql.length; break; }
        if (sql[j + 1] === c) { end = j + 2; continue; }
        end = j + 1;
        break;
      }
    } else if (c === '-' && sql[i + 1] === '-') {
      const j = sql.indexOf('\n', i);
      end = j < 0 ? sql.length : j;
    } else if (c === '/' && sql[i + 1] === '*') {
      const j = sql.indexOf('*/', i + 2);
      end = j < 0 ? sql.length : j + 2;
    }
    if (end < 0) {
      code += c;
      i++;
    } else {
      flush();
      out.push({ code: false, text: sql.slice(i, end) });
      i = end;
    }
  }
  flush();
  return out;
}

function mapCode(sql: string, fn: (code: string) => string): string {
  const parts = pieces(sql);
  // PostgreSQL folds an unquoted name to lower case, SQLite keeps it: a mixed-case alias
  // (AS machineId) is quoted, and so is every other use of it in the statement.
  const aliases = new Set<string>();
  for (const p of parts) if (p.code) for (const m of p.text.matchAll(/\bAS\s+([A-Za-z_]\w*)/gi)) if (/[A-Z]/.test(m[1]!)) aliases.add(m[1]!);
  const quoteAliases = (code: string): string =>
    aliases.size ? code.replace(/(?<![."\w$@:])[A-Za-z_]\w*(?![\w"(])/g, (w) => (aliases.has(w) ? `"${w}"` : w)) : code;
  return parts.map((p) => (p.code ? fn(quoteAliases(p.text)) : p.text)).join('');
}

/**
 * Words PostgreSQL reserves that kanri's tables use as column names (SQLite takes them as
 * names where a name can stand); kanri's SQL never uses them as keywords.
 */
const RESERVED = /(?<![."\w])(?:user|window)(?![\w"(])/gi;

/** Forms common to statements and schema text. */
function common(code: string): string {
  return code
    .replace(/\bifnull\s*\(/gi, 'coalesce(')
    .replace(/\bCOLLATE\s+NOCASE\b/gi, `COLLATE ${NOCASE_COLLATION}`)
    .replace(RESERVED, (w) => `"${w.toLowerCase()}"`)
    // SQLite's LIKE ignores the case of ASCII letters: ILIKE under the "C" collation does just
    // that (and a name column's nondeterministic collation cannot take LIKE before PostgreSQL 18).
    .replace(/([\w."]+)\s+(NOT\s+)?LIKE\b/gi, (_m, operand: string, not?: string) => `${operand} COLLATE "C" ${not ?? ''}ILIKE`)
    // SQLite's IS compares any two values, NULL equal to NULL.
    .replace(/\bIS\s+NOT\s+(?=[?@:$])/gi, 'IS DISTINCT FROM ')
    .replace(/\bIS\s+(?=[?@:$])/gi, 'IS NOT DISTINCT FROM ')
    // A condition that is the number 1 or 0 (WHERE 1): PostgreSQL wants a boolean.
    .replace(/\b(WHERE|AND|OR|NOT)\s+([01])\b(?!\s*(?:[=<>!+\-*/|%]|IS\b|BETWEEN\b|IN\b))/gi, (_m, k: string, v: string) => `${k} ${v === '1' ? 'TRUE' : 'FALSE'}`)
    // SQLite counts truths by adding them ((a IS NULL) + (b IS NULL) = 1); PostgreSQL adds numbers.
    .replace(/\((\w+\s+IS\s+(?:NOT\s+)?NULL)\)(?=\s*\+)|(?<=\+\s*)\((\w+\s+IS\s+(?:NOT\s+)?NULL)\)/gi, (_m, a?: string, b?: string) => `(${a ?? b})::int`);
}

/** SQLite's NOCASE in a statement: ASCII letters lowered, then byte order (the "C" collation). */
function nocase(code: string): string {
  const lowered = (x: string): string => `lower(${x} COLLATE "C")`;
  return code
    // SQLite applies the COLLATE of either operand to the comparison.
    .replace(/([\w."]+|\?\d*)\s+COLLATE\s+NOCASE\s*(=|<>|!=|<=|>=|<|>)\s*([\w."]+|\?\d*)/gi, (_m, a: string, op: string, b: string) => `${lowered(a)} ${op} ${lowered(b)}`)
    .replace(/([\w."]+|\?\d*)\s*(=|<>|!=|<=|>=|<|>)\s*([\w."]+|\?\d*)\s+COLLATE\s+NOCASE\b/gi, (_m, a: string, op: string, b: string) => `${lowered(a)} ${op} ${lowered(b)}`)
    .replace(/([\w."]+|\?\d*)\s+COLLATE\s+NOCASE\b/gi, (_m, x: string) => lowered(x));
}

export interface Translated {
  text: string;
  /** Number of $n parameters. */
  count: number;
  /** For named parameters: the name of $1, $2, …; undefined for positional ones. */
  names?: string[];
}

/**
 * What every rewrite of translate() needs in a statement, one of them at least: a placeholder,
 * a word of a SQLite-only form (json_extract, ifnull, COLLATE, user, window, LIKE, IS, a
 * condition's WHERE/AND/OR/NOT, INSERT OR), or a mixed-case alias (the second expression:
 * AS case-blind, the alias's capital not). Strings and comments are not told apart here: a
 * word in one only sends the statement the long way.
 */
const REWRITTEN = /[?@:$]|\b(?:json_extract|ifnull|collate|user|window|like|is|where|and|or|not|insert)\b/i;
const MIXED_CASE_ALIAS = /\b[Aa][Ss]\s+\w*[A-Z]/;

/**
 * A statement in PostgreSQL's dialect. `primaryKey(table)` names a table's primary-key
 * columns (needed for INSERT OR REPLACE only). A statement none of the rewrites applies to
 * is PostgreSQL's as it is: V8 compiles a regular expression at its first use, and the twenty
 * of translate() cost a start-up about 1 ms for the four statements of `pvmutl list group`.
 */
export function toPostgres(sql: string, primaryKey?: (table: string) => string[]): Translated {
  return REWRITTEN.test(sql) || MIXED_CASE_ALIAS.test(sql) ? translate(sql, primaryKey) : { text: sql, count: 0 };
}

/** Every rewrite applied to a statement (toPostgres skips a statement none applies to). */
export function translate(sql: string, primaryKey: (table: string) => string[] = () => []): Translated {
  let n = 0;
  const named = new Map<string, number>();
  const replaceMode = /^\s*INSERT\s+OR\s+REPLACE\b/i.test(sql);
  const ignoreMode = /^\s*INSERT\s+OR\s+IGNORE\b/i.test(sql);
  // json_extract(x, '$.key'): one level of a JSON text column, as text.
  sql = sql.replace(/\bjson_extract\(\s*([\w."]+)\s*,\s*'\$\.(\w+)'\s*\)/gi, "(($1)::jsonb ->> '$2')");
  let text = mapCode(sql, (code) =>
    common(nocase(code))
      .replace(/^(\s*INSERT)\s+OR\s+(?:IGNORE|REPLACE)\b/i, '$1')
      .replace(/(\?(\d*)|(?<![:\w])[@:$]([A-Za-z_]\w*))(\s+IS\s+(?:NOT\s+)?NULL\b)?/g, (_m, _p, num: string | undefined, name: string | undefined, isNull: string | undefined) => {
        let k: number;
        if (name !== undefined) {
          k = named.get(name) ?? named.size + 1;
          named.set(name, k);
          n = Math.max(n, k);
        } else if (num) {
          k = Number(num);
          n = Math.max(n, k);
        } else {
          k = ++n;
        }
        return `$${k}${isNull ? `::text${isNull}` : ''}`;
      }),
  );
  // SQLite's LIMIT -1 (any negative limit) is no limit; PostgreSQL refuses a negative one.
  text = text.replace(/\bLIMIT\s+\$(\d+)/gi, (_m, k: string) => `LIMIT nullif(greatest($${k}::bigint, -1), -1)`);
  if (ignoreMode || replaceMode) {
    const trimmed = text.replace(/[\s;]+$/, '');
    if (ignoreMode) text = `${trimmed} ON CONFLICT DO NOTHING`;
    else {
      const m = /^\s*INSERT\s+INTO\s+("?[\w]+"?)\s*\(([^)]*)\)/i.exec(trimmed);
      if (!m) throw new Error(`INSERT OR REPLACE needs a column list: ${sql}`);
      const table = m[1]!.replace(/"/g, '');
      const cols = m[2]!.split(',').map((c) => c.trim());
      const key = primaryKey(table);
      if (!key.length) throw new Error(`INSERT OR REPLACE into ${table}, which has no primary key`);
      const rest = cols.filter((c) => !key.includes(c.replace(/"/g, '')));
      text = `${trimmed} ON CONFLICT (${key.join(', ')}) ${rest.length ? `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}` : 'DO NOTHING'}`;
    }
  }
  if (named.size) return { text, count: n, names: [...named.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k) };
  return { text, count: n };
}

/** Schema text (a migration) in PostgreSQL's dialect. */
export function schemaToPostgres(sql: string): string {
  return mapCode(sql, (code) =>
    common(code)
      .replace(/\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b/gi, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
      .replace(/(^\s*|[(,]\s*)(id\s+)INTEGER\s+PRIMARY\s+KEY\b/gim, '$1$2BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
      .replace(/\bINTEGER\b/gi, 'BIGINT')
      .replace(/\bREAL\b/gi, 'DOUBLE PRECISION')
      .replace(/\bBLOB\b/gi, 'BYTEA')
      .replace(/(CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\w+\s+ON\s+\w+\s*)\(((?:[^()]|\([^()]*\))*)\)/gi, (_m, head: string, list: string) => {
        // PostgreSQL wants an expression in an index's column list in parentheses of its own.
        const parts: string[] = [];
        let depth = 0;
        let cur = '';
        for (const ch of list) {
          if (ch === '(') depth++;
          if (ch === ')') depth--;
          if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
        }
        parts.push(cur);
        return `${head}(${parts.map((p) => (/\(/.test(p) && !/^\s*\(/.test(p) ? ` (${p.trim()})` : p)).join(',').trim()})`;
      }),
  );
}
