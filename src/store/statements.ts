// Prepared statements kept per connection: code that runs one statement many times (an
// apply over a large store, a driver setting read per machine) prepares it once.
import type Database from 'better-sqlite3';
import type { Db } from './db.js';

type Statement = Database.Statement<unknown[]>;
const byDb = new WeakMap<Db, Map<string, Statement>>();

export function prepared(db: Db, sql: string): Statement {
  let cache = byDb.get(db);
  if (!cache) byDb.set(db, (cache = new Map()));
  let st = cache.get(sql);
  if (!st) cache.set(sql, (st = db.prepare<unknown[]>(sql)));
  return st;
}
