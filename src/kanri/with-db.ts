// The store of a kanri command that reports its own failures: a store that cannot be
// opened is exit 70 (as every kanri command's) with its reason on stderr, never a stack trace.
import { EXIT } from './exit-codes.js';
import { complain } from '../cli/messages.js';
import type { Db } from '../store/db.js';
import { StoreError } from '../store/errors.js';
import { openStore } from '../open-store.js';

/** Runs fn on the store; a missing or unopenable store is exit 70 with its reason. */
export function withDb<T>(dbPath: string, readonly: boolean, fn: (db: Db) => T): T | number {
  let db: Db;
  try {
    db = openStore(dbPath, { readonly });
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    complain('kanri', err.message);
    return EXIT.STORE;
  }
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
