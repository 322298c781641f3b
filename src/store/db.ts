// The configuration store: one SQLite file, WAL, busy timeout, foreign keys,
// numbered migrations, 0600 because it holds credentials and hashes. Only commands
// that create a configuration create a store; every other command on a path that
// holds no store says so, naming the path, instead of starting an empty one.
import type Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { type SchemaComponent, componentsBehind, migrateComponents } from './components.js';
import { StoreError, storeProblem } from './errors.js';
import { busyTimeoutProblem, busyTimeoutSeconds } from './busy.js';
import { registerNameFunctions } from '../domain/names.js';
import { openSqlite } from './sqlite.js';
import { isStoreUri, parsePostgresUri } from './location.js';
import { connectPostgres } from './postgres.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Open an existing store read-only. */
  readonly?: boolean;
  /** Create the store when the path holds none (config apply, store init). */
  create?: boolean;
  /** How long to wait for a busy store, when not the busy timeout (a Tab press waits 100 ms). */
  busyTimeoutMs?: number;
  /**
   * With readonly: a store whose schema is behind this kanri's is brought up to date first
   * (opened for writing, as every other command opens it), so that a command that only
   * reads still reads the schema it was written for. When the schema is current, which one
   * query says, the connection stays read-only: it neither sets up nor removes the store's
   * WAL files at every start (about 1.5 ms of a `pvmutl list`).
   */
  current?: boolean;
}


/** What is at `path`: nothing, an empty file (a store never written), or a file to open. */
function inspect(path: string): 'missing' | 'empty' | 'file' {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    throw new StoreError(storeProblem(err, path) ?? `cannot open store ${path}: ${(err as Error).message}`);
  }
  if (st.isSymbolicLink()) {
    try {
      st = statSync(path);
    } catch {
      throw new StoreError(`store ${path} is a symbolic link to nothing (a dangling link)`);
    }
  }
  if (st.isDirectory()) throw new StoreError(`store ${path} is a directory, not a store file`);
  if (!st.isFile()) throw new StoreError(`store ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new StoreError(`store ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); it holds password hashes and sealed credentials: chmod 600 ${path}`);
  }
  return st.size === 0 ? 'empty' : 'file';
}

/**
 * Opens (or creates) a store with the schema components of the layers above, which the
 * composition root hands in (src/open-store.ts: every caller opens a store through it).
 */
export function openDb(path: string, components: readonly SchemaComponent[], opts: OpenOptions = {}): Db {
  if (opts.readonly && opts.current) {
    const db = openDb(path, components, { readonly: true });
    let behind;
    try {
      behind = schemaBehind(db, components);
    } catch (err) {
      db.close();
      throw err instanceof StoreError ? err : new StoreError(storeProblem(err, path) ?? `cannot open store ${path}: ${(err as Error).message}`);
    }
    if (!behind) return db;
    db.close();
    return openDb(path, components, { create: opts.create });
  }
  // A URI is never a path: checked before anything could create a directory from it.
  if (isStoreUri(path)) return openPostgres(path, components, opts);
  const memory = path === ':memory:';
  const found = memory ? 'missing' : inspect(path);
  if (found === 'missing' && !memory) {
    if (opts.readonly || !opts.create) {
      throw new StoreError(`store not found: ${path}; create it with 'kanri store init', or load a description with 'kanri config apply FILE' (--db PATH or KANRI_DB names another store)`);
    }
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file ourselves so that it never exists with a wider mode, not even briefly.
      closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      throw new StoreError(storeProblem(err, path) ?? `cannot create store ${path}: ${(err as Error).message}`);
    }
  }
  const fresh = memory || found !== 'file';
  const badTimeout = busyTimeoutProblem();
  if (badTimeout) throw new StoreError(badTimeout);
  let db: Db;
  try {
    db = openSqlite(path, { readonly: !!opts.readonly, timeout: opts.busyTimeoutMs ?? busyTimeoutSeconds() * 1000 });
    db.pragma('foreign_keys = ON');
    // WAL with NORMAL sync: commits survive a crash of the process (not of the
    // machine's power); every job step commits several times.
    db.pragma('synchronous = NORMAL');
    registerNameFunctions(db);
    if (!opts.readonly) {
      // Every transaction takes the write lock when it begins. A deferred one that reads and
      // then writes, after another command committed in between, fails at once in WAL mode
      // (SQLITE_BUSY_SNAPSHOT) without waiting: concurrent commands would fail instead of
      // queueing. .deferred() stays available for a transaction that only reads.
      const transaction = db.transaction.bind(db);
      db.transaction = ((fn: Parameters<Db['transaction']>[0]) => transaction(fn).immediate) as Db['transaction'];
      if (!memory && db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      migrate(db, components);
      if (fresh && !memory) chmodSync(path, 0o600);
    }
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(storeProblem(err, path) ?? `cannot open store ${path}: ${(err as Error).message}`);
  }
  return db;
}

function openPostgres(uri: string, components: readonly SchemaComponent[], opts: OpenOptions): Db {
  const loc = parsePostgresUri(uri);
  const badTimeout = busyTimeoutProblem();
  if (badTimeout) throw new StoreError(badTimeout);
  const pg = connectPostgres(loc, { readonly: !!opts.readonly, timeoutMs: opts.busyTimeoutMs ?? busyTimeoutSeconds() * 1000 });
  const db = pg as unknown as Db;
  try {
    const version = pg.schemaVersion();
    if (version === 0 && (opts.readonly || !opts.create)) {
      const empty = Number((db.prepare("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()").get() as { n: number }).n) === 0;
      throw new StoreError(empty ? `store not found: ${loc.uri} holds no kanri store (create it with kanri store init)` : `store ${loc.uri} is not a kanri store (its database holds other tables)`);
    }
    // The prelude (collations, kfold) comes with the schema, in the migrating transaction: a
    // store already at this kanri's schema has it, so opening one writes nothing and takes no
    // writer lock (it did at every command's start-up, queueing each one behind the writers of
    // every manager).
    if (!opts.readonly) migrate(db, components, () => pg.prelude());
  } catch (err) {
    pg.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(storeProblem(err, loc.uri) ?? `cannot open store ${loc.uri}: ${(err as Error).message}`);
  }
  return db;
}

/** Whether a store is there: an SQLite file, or a PostgreSQL database that holds a kanri store. */
export function storeExists(path: string): boolean {
  if (!isStoreUri(path)) return existsSync(path);
  const pg = connectPostgres(parsePostgresUri(path), { readonly: true, timeoutMs: busyTimeoutSeconds() * 1000 });
  try {
    return pg.schemaVersion() > 0;
  } finally {
    pg.close();
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * True when the store's schema or one of its components has migrations the store has not
 * run; a store newer than this kanri is refused.
 */
function schemaBehind(db: Db, components: readonly SchemaComponent[]): boolean {
  const current = schemaVersion(db);
  const target = MIGRATIONS.length;
  if (current > target) {
    throw new StoreError(`store schema ${current} is newer than this kanri (${target}); upgrade kanri`);
  }
  return current < target || componentsBehind(db, components);
}

/** Brings the store up to this kanri's schema; `first` runs in the same transaction before the migrations (PostgreSQL's prelude). */
function migrate(db: Db, components: readonly SchemaComponent[], first?: () => void): void {
  const target = MIGRATIONS.length;
  if (!schemaBehind(db, components)) return;
  // BEGIN IMMEDIATE so that two first invocations do not both migrate.
  const run = db.transaction(() => {
    first?.();
    const now = schemaVersion(db);
    for (let v = now; v < target; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
    try {
      migrateComponents(db, components);
    } catch (err) {
      throw new StoreError((err as Error).message);
    }
  });
  run.immediate();
}
