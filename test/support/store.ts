// Temporary stores for tests: each test gets its own directory and store file, or (on
// PostgreSQL, KANRI_TEST_STORE=postgresql) its own database of the file's private cluster.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { afterAll } from 'vitest';
import { openStore } from '../../src/open-store.js';
import { readDataCentre } from '../../src/config/validate.js';
import { applyDataCentre } from '../../src/config/apply.js';
import { runPvmutl } from '../../src/pvmutl/main.js';
import { storeTables } from '../../src/store/tables.js';
import { type PostgresDb, WRITER_LOCK } from '../../src/store/postgres.js';
import { databaseOf, startCluster, type PgCluster } from './postgres.js';
import type { Io } from '../../src/pvmutl/io.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE = join(ROOT, 'fixtures', 'datacentre.yaml');
export const BIN = join(ROOT, 'bin', 'kanri.js');

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kanri-t-'));
  dirs.push(d);
  return d;
}

// KANRI_TEST_STORE=postgresql: the stores fixtureStore() makes are databases of one private
// PostgreSQL cluster per test file (test/support/postgres.ts) instead of SQLite files; the
// key that seals secrets is then a file of the test's own (KANRI_KEY_FILE).
let cluster: PgCluster | undefined;
afterAll(() => { cluster?.stop(); cluster = undefined; });

/** Where a new store goes: an SQLite path, or (KANRI_TEST_STORE=postgresql) an empty database's URI. */
export function newStoreLocation(): string {
  if (process.env.KANRI_TEST_STORE !== 'postgresql') return join(tempDir(), 'kanri.db');
  cluster ??= startCluster();
  // Set again for every store: a test may have pointed it elsewhere for a store of its own.
  process.env.KANRI_KEY_FILE ??= join(tempDir(), 'kanri.key');
  return cluster.createDatabase('t');
}

/** A copy of a store no connection has open: a file copied, or a database made from it as template. */
export function copyStore(template: string): string {
  if (cluster && template.startsWith('postgresql:')) return cluster.createDatabase('t', template);
  const path = join(tempDir(), 'kanri.db');
  copyFileSync(template, path);
  return path;
}

/**
 * Every byte a store keeps at rest, for tests that prove a secret is never written in clear:
 * the SQLite file and its WAL; on PostgreSQL, after a checkpoint, the files of the store's
 * database and the cluster's WAL.
 */
export function storeBytes(location: string): Buffer {
  if (!location.startsWith('postgresql:')) return Buffer.concat([location, `${location}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
  if (!cluster) throw new Error(`${location} is not a store of this file's cluster`);
  const name = databaseOf(location);
  cluster.psql('postgres', 'CHECKPOINT');
  const oid = cluster.psql('postgres', `SELECT oid FROM pg_database WHERE datname = '${name}'`).trim();
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(dir, e.name));
  return Buffer.concat([...files(join(cluster.dataDir, 'base', oid)), ...files(join(cluster.dataDir, 'pg_wal'))].map((f) => readFileSync(f)));
}

/**
 * Another process's write transaction on a store, held from hold() to release(): the store is
 * busy for every writer meanwhile (SQLite: BEGIN IMMEDIATE; PostgreSQL: the writer lock).
 */
export function storeHolder(location: string): { hold(): void; release(): void; close(): void } {
  const d = openStore(location);
  const pg = location.startsWith('postgresql:') ? (d as unknown as PostgresDb) : undefined;
  return {
    hold: () => {
      if (!pg) return void d.exec('BEGIN IMMEDIATE');
      pg.simple('BEGIN');
      pg.simple(`SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
    },
    release: () => void (pg ? pg.simple('COMMIT') : d.exec('COMMIT')),
    close: () => void d.close(),
  };
}

/** A new store holding the fixture data centre (or another YAML text), at a new location or the one given. */
export function fixtureStore(yamlText?: string, at?: string): string {
  return storeAt(at ?? newStoreLocation(), yamlText);
}

/** The fixture data centre (or another YAML text) applied to a new store at `path` (a file or an empty database's URI). */
export function storeAt(path: string, yamlText?: string): string {
  const { dc, errors } = readDataCentre(parse(yamlText ?? readFileSync(FIXTURE, 'utf8')));
  if (!dc) throw new Error(errors.join('\n'));
  const db = openStore(path, { create: true });
  applyDataCentre(db, dc);
  db.close();
  return path;
}

/** A digest of every row of every table (but `except`): equal digests mean an unchanged store. */
export function storeDigest(path: string, except: readonly string[] = []): string {
  const db = openStore(path, { readonly: true });
  const h = createHash('sha256');
  for (const name of storeTables(db)) {
    if (except.includes(name)) continue;
    h.update(name);
    // Sorted here, not by the store: the same rows give the same digest on either back end.
    for (const row of (db.prepare(`SELECT * FROM "${name}"`).all() as unknown[]).map((r) => JSON.stringify(r)).sort()) h.update(row);
  }
  db.close();
  return h.digest('hex');
}

export interface RunResult { code: number; out: string; err: string }

/** Runs pvmutl in-process against a store, answering a confirmation with `answer`. */
export async function pvmutl(dbPath: string, args: string[], answer?: string): Promise<RunResult> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => { out += t; },
    err: (t) => { err += t; },
    ask: async (q) => { err += q + ' '; return answer; },
  };
  const code = await runPvmutl(['--db', dbPath, ...args], io, { ...process.env, LANG: 'C', LC_ALL: '', LC_MESSAGES: '' });
  return { code, out, err };
}

/** Rows of a query against a store, opened read-only for the moment of the query. */
/** Runs one statement on a store file: a test's setup, or a fault it injects. The one helper for it. */
export function exec(path: string, sql: string, ...args: unknown[]): void {
  const d = openStore(path);
  try {
    d.prepare(sql).run(...args);
  } finally {
    d.close();
  }
}

export function queryAll<T = Record<string, unknown>>(path: string, sql: string, ...args: unknown[]): T[] {
  const db = openStore(path, { readonly: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}
