// The configuration store: one SQLite file, WAL, busy timeout, foreign keys,
// numbered migrations, created 0600 because it holds credentials and hashes.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { componentsBehind, migrateComponents } from './components.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Open an existing store read-only and fail if it is missing. */
  readonly?: boolean;
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

export function openStore(path: string, opts: OpenOptions = {}): Db {
  const fresh = path !== ':memory:' && !existsSync(path);
  if (fresh) {
    if (opts.readonly) throw new StoreError(`store not found: ${path}`);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so that it never exists with a wider mode, not even briefly.
    closeSync(openSync(path, 'wx', 0o600));
  }
  let db: Db;
  try {
    // SQLite's busy wait is not fair: with dozens of commands writing at once on a busy
    // machine one can lose the lock for seconds, so the wait is generous.
    db = new Database(path, { readonly: !!opts.readonly, timeout: 30_000 });
  } catch (err) {
    throw new StoreError(`cannot open store ${path}: ${(err as Error).message}`);
  }
  db.pragma('foreign_keys = ON');
  // WAL with NORMAL sync: commits survive a crash of the process (not of the
  // machine's power); every job step commits several times.
  db.pragma('synchronous = NORMAL');
  if (!opts.readonly) {
    if (fresh) db.pragma('journal_mode = WAL');
    migrate(db);
    if (fresh) chmodSync(path, 0o600);
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  const target = MIGRATIONS.length;
  if (current > target) {
    throw new StoreError(`store schema ${current} is newer than this kanri (${target}); upgrade kanri`);
  }
  if (current === target && !componentsBehind(db)) return;
  // BEGIN IMMEDIATE so that two first invocations do not both migrate.
  const run = db.transaction(() => {
    const now = schemaVersion(db);
    for (let v = now; v < target; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
    try {
      migrateComponents(db);
    } catch (err) {
      throw new StoreError((err as Error).message);
    }
  });
  run.immediate();
}

/** Opens the store for one command and closes it whatever happens. */
export function withStore<T>(path: string, fn: (db: Db) => T): T {
  const db = openStore(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
