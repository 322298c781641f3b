// kanri store status and kanri store copy: which store this is, and moving a whole store
// between the back ends (SQLite → PostgreSQL when managers start sharing one, and back).
import { schemaVersion, type Db } from '../store/db.js';
import { openStore, SCHEMA_COMPONENTS as COMPONENTS } from '../open-store.js';
import { MIGRATIONS } from '../store/migrations.js';
import { keyMatches, recordedKeyCheck } from '../store/key-check.js';
import { keyFilePath, loadKey } from '../store/secrets.js';
import { isPostgresStore, storeTables } from '../store/tables.js';
import { EXIT } from './exit-codes.js';
import { managersLine } from './managers-cli.js';

const isPostgres = isPostgresStore;

/**
 * Tables kept by the store's own bookkeeping: a new store has them filled, a copy never carries
 * them. managers holds the heartbeats of processes that work on this store, not on the copy.
 */
const BOOKKEEPING = new Set(['schema_components', 'store_version', 'managers']);

/**
 * The key check value (store/key-check.ts) travels with the sealed secrets it vouches for. A
 * target made by kanri store init holds one already: the same is no obstacle, another is.
 */
const KEY_CHECK = 'key_check';

function tables(db: Db): string[] {
  return storeTables(db).filter((t) => !BOOKKEEPING.has(t));
}

/** table → the tables its foreign keys reference, and its columns that reference itself. */
function foreignKeys(db: Db, names: string[]): Map<string, { refs: Set<string>; self: string[] }> {
  const out = new Map<string, { refs: Set<string>; self: string[] }>();
  for (const t of names) out.set(t, { refs: new Set(), self: [] });
  const rows = isPostgres(db)
    ? (db.prepare(`SELECT c.conrelid::regclass::text AS t, c.confrelid::regclass::text AS ref, a.attname AS col
        FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`).all() as Array<{ t: string; ref: string; col: string }>)
    : names.flatMap((t) => (db.prepare('SELECT "table" AS ref, "from" AS col FROM pragma_foreign_key_list(?)').all(t) as Array<{ ref: string; col: string }>).map((r) => ({ ...r, t })));
  for (const r of rows) {
    const e = out.get(r.t);
    if (!e) continue;
    if (r.ref === r.t) e.self.push(r.col);
    else e.refs.add(r.ref);
  }
  return out;
}

/** Tables ordered so that every table comes after those it references. */
function copyOrder(fks: Map<string, { refs: Set<string> }>): string[] {
  const done: string[] = [];
  const seen = new Set<string>();
  const visit = (t: string): void => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const r of fks.get(t)?.refs ?? []) if (fks.has(r)) visit(r);
    done.push(t);
  };
  for (const t of [...fks.keys()].sort()) visit(t);
  return done;
}

const count = (db: Db, t: string): number => Number((db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);

/** Rows a new store holds in each table (seeded by the migrations). */
function seeded(): Map<string, number> {
  const fresh = openStore(':memory:');
  try {
    return new Map(tables(fresh).map((t) => [t, count(fresh, t)]));
  } finally {
    fresh.close();
  }
}

/** Whether this manager's key file is the key the store's secrets are sealed with. */
function keyState(db: Db, path: string): string {
  const recorded = recordedKeyCheck(db);
  if (!recorded) return 'the store has recorded no key yet';
  try {
    return keyMatches(loadKey(path, false), recorded) ? "the store's key" : "NOT the store's key: kanri store key import the right one";
  } catch (e) {
    return (e as Error).message.replace(/^key file \S+ /, '');
  }
}

export function storeStatus(dbPath: string): number {
  const db = openStore(dbPath, { readonly: true });
  try {
    const pg = isPostgres(db);
    const server = pg
      ? `PostgreSQL ${String((db.prepare("SELECT current_setting('server_version') AS v").get() as { v: string }).v)}`
      : `SQLite ${String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v)}`;
    // A store older than schema 5 (read as it is, not migrated) has no components yet.
    const present = storeTables(db);
    const components = present.includes('schema_components')
      ? db.prepare('SELECT name, version FROM schema_components ORDER BY name').all() as Array<{ name: string; version: number }>
      : [];
    const lines = [
      `store: ${dbPath}`,
      `back end: ${server}`,
      `schema: ${schemaVersion(db)} (this kanri: ${MIGRATIONS.length})`,
      `components: ${components.map((c) => `${c.name} ${c.version}`).join(', ')} (this kanri: ${[...COMPONENTS].sort((a, b) => a.name.localeCompare(b.name)).map((c) => `${c.name} ${c.migrations.length}`).join(', ')})`,
      `key file: ${keyFilePath(dbPath)} (${keyState(db, keyFilePath(dbPath))})`,
      managersLine(db, present),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return EXIT.OK;
  } finally {
    db.close();
  }
}

/**
 * Copies every row of FROM into TO, which must hold no data (a new store, or one that only
 * has what its migrations put there). Both are brought to this kanri's schema first; the copy
 * is one transaction on TO, read from one snapshot of FROM. Sealed values are copied as they
 * are: TO needs the same key file.
 */
export function storeCopy(from: string, to: string): number {
  if (from === to) {
    process.stderr.write('kanri: store copy needs two different stores\n');
    return EXIT.USAGE;
  }
  const src = openStore(from);
  try {
    const dst = openStore(to, { create: true });
    try {
      const names = tables(src);
      const fresh = seeded();
      for (const t of tables(dst)) {
        if (t === KEY_CHECK) continue;
        const n = count(dst, t);
        if (n > (fresh.get(t) ?? 0)) {
          process.stderr.write(`kanri: store ${to} is not empty (${n} rows in ${t}); store copy writes only into an empty store\n`);
          return EXIT.USAGE;
        }
      }
      const missing = names.filter((t) => !tables(dst).includes(t));
      if (missing.length) {
        process.stderr.write(`kanri: store ${to} has no table ${missing.join(', ')}; both stores must be at this kanri's schema\n`);
        return EXIT.USAGE;
      }
      const [srcKey, dstKey] = [recordedKeyCheck(src), recordedKeyCheck(dst)];
      if (srcKey && dstKey && srcKey !== dstKey) {
        process.stderr.write(`kanri: store ${to} records another key than ${from}: the secrets copied could not be opened there; copy into a store made with ${from}'s key (or none)\n`);
        return EXIT.USAGE;
      }
      const fks = foreignKeys(src, names);
      const order = copyOrder(fks);
      let rows = 0;
      const read = src.transaction(() => order.map((t) => [t, src.prepare(`SELECT * FROM ${t} ORDER BY 1`).all() as Array<Record<string, unknown>>] as const));
      const data = read.deferred();
      dst.transaction(() => {
        for (const [t, list] of data) {
          // A store without a key check value leaves the target's (the same key's, or a new store's).
          if (t === KEY_CHECK && !list.length) continue;
          dst.prepare(`DELETE FROM ${t}`).run();
          if (!list.length) continue;
          const cols = Object.keys(list[0]!);
          // A column referencing its own table is filled in once every row is there.
          const self = fks.get(t)!.self;
          const ins = dst.prepare(`INSERT INTO ${t} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
          for (const r of list) ins.run(...cols.map((c) => (self.includes(c) ? null : r[c] ?? null)));
          if (self.length) {
            const key = cols[0]!;
            const upd = dst.prepare(`UPDATE ${t} SET ${self.map((c) => `${c} = ?`).join(', ')} WHERE ${key} = ?`);
            for (const r of list) if (self.some((c) => r[c] != null)) upd.run(...self.map((c) => r[c] ?? null), r[key]);
          }
          rows += list.length;
        }
        if (isPostgres(dst)) {
          // Identity columns continue after the copied ids.
          const idents = dst.prepare("SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE is_identity = 'YES' AND table_schema = current_schema()").all() as Array<{ t: string; c: string }>;
          for (const { t, c } of idents) dst.prepare(`SELECT setval(pg_get_serial_sequence('${t}', '${c}'), coalesce((SELECT max(${c}) FROM ${t}), 0) + 1, false)`).get();
        }
      })();
      process.stdout.write(`copied ${rows} rows in ${data.filter(([, l]) => l.length).length} tables from ${from} to ${to}\n`);
      const [kf, kt] = [keyFilePath(from), keyFilePath(to)];
      if (kf !== kt) process.stdout.write(`sealed secrets and the key check value were copied as they are: ${to} needs the key file ${kf} (at ${kt}, or named by KANRI_KEY_FILE: kanri store key export, then import)\n`);
      return EXIT.OK;
    } finally {
      dst.close();
    }
  } finally {
    src.close();
  }
}
