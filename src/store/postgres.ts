// The PostgreSQL back end: the part of better-sqlite3's API that kanri's modules use —
// prepare().run/get/all, transaction(fn) with .immediate/.deferred, exec, pragma, close —
// over the synchronous libpq binding (npm libpq; why synchronous: docs/architecture.md,
// bench/pg-roundtrip.mjs). Each statement is translated once by dialect.ts, sent as text on
// its first run and prepared on the server at its second; results come back as SQLite's would (integers and counts as numbers, booleans
// as 1/0, bytea as Buffer, a missing row as undefined), and errors carry SQLite's codes so
// that storeProblem() and isBusy() read them unchanged.
//
// A failed write inside a transaction is undone alone (a savepoint around it), as SQLite does.
// Writers queue as they do on SQLite: every write transaction (and every write outside one)
// first takes one transaction-scoped advisory lock, the store's writer lock, waiting at most
// the busy timeout (lock_timeout). So a transaction that plans and reserves still runs alone
// among writers, on any number of hosts, and readers are never blocked (MVCC, as WAL).
//
// Round trips are what a command waits for on a loaded machine: what must precede a write (the
// writer lock, its savepoint, the transaction's BEGIN) is sent with it in one pipeline, libpq's
// pipeline mode (execute()), where the binding was built against a libpq that has it.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { Connection as Libpq, loadLibpq } from './libpq.js';
import { StoreError } from './errors.js';
import { conninfo, type PostgresLocation } from './location.js';
import { schemaToPostgres, toPostgres, type Translated, POSTGRES_PRELUDE } from './dialect.js';

/** Statements a connection keeps prepared on the server at most. */
const MAX_PREPARED = 2000;

/** The store's writer lock: one advisory lock key ('kanri' in ASCII). */
export const WRITER_LOCK = 0x6b616e7269;
/** Takes the writer lock until the transaction ends. */
const TAKE_WRITER_LOCK = `SELECT pg_advisory_xact_lock(${WRITER_LOCK})`;
/** A write transaction's start: BEGIN and the writer lock in one round trip. */
const BEGIN_WRITE = `BEGIN; ${TAKE_WRITER_LOCK}`;

/** SQLSTATE → the SQLite code the rest of kanri understands. */
const CODES: Record<string, string> = {
  '23505': 'SQLITE_CONSTRAINT_UNIQUE',
  '23503': 'SQLITE_CONSTRAINT_FOREIGNKEY',
  '23514': 'SQLITE_CONSTRAINT_CHECK',
  '23502': 'SQLITE_CONSTRAINT_NOTNULL',
  '55P03': 'SQLITE_BUSY',
  '40001': 'SQLITE_BUSY',
  '40P01': 'SQLITE_BUSY',
  '53100': 'SQLITE_FULL',
  '25006': 'SQLITE_READONLY',
  '42501': 'SQLITE_PERM',
};

export class PostgresError extends Error {
  constructor(message: string, readonly code: string, readonly sqlState: string) {
    super(message);
    this.name = 'PostgresError';
  }
}

/** A statement as the server runs it: prepared under a name, or sent as text. */
type ServerStatement = { name: string } | { text: string };

/** What went before a statement in a pipeline failed: the statement never ran. */
class PipelineError extends Error {
  constructor(override readonly cause: PostgresError, readonly index: number) {
    super(cause.message);
  }
}

type Param = string | number | bigint | Buffer | null | undefined;

function param(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  throw new TypeError('a PostgreSQL store binds only numbers, strings, bigints, buffers and null');
}

/** A value as better-sqlite3 would return it, by the column's type OID. */
function value(pq: Libpq, row: number, col: number, oid: number): unknown {
  if (pq.getisnull(row, col)) return null;
  const v = pq.getvalue(row, col);
  switch (oid) {
    case 16: return v === 't' ? 1 : 0;
    case 20: case 21: case 23: case 26: case 700: case 701: case 1700: return Number(v);
    case 17: return Buffer.from(v.slice(2), 'hex');
    default: return v;
  }
}

function rows(pq: Libpq): Array<Record<string, unknown>> {
  const n = pq.ntuples();
  const f = pq.nfields();
  const names: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < f; i++) { names.push(pq.fname(i)); types.push(pq.ftype(i)); }
  const out: Array<Record<string, unknown>> = [];
  for (let r = 0; r < n; r++) {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < f; i++) o[names[i]!] = value(pq, r, i, types[i]!);
    out.push(o);
  }
  return out;
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP)\b/i;
const INSERT = /^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+"?(\w+)/i;

/** What a statement gave, read before anything else runs on the connection. */
interface Result {
  changes: number;
  rows: Array<Record<string, unknown>>;
}

function result(pq: Libpq): Result {
  return { changes: Number(pq.cmdTuples() || 0), rows: rows(pq) };
}

export class PostgresStatement {
  private translated?: Translated;
  /** An INSERT into a table with an identity column returns it: SQLite's lastInsertRowid. */
  private returnsId = false;
  constructor(private readonly db: PostgresDb, readonly source: string) {}

  private exec(args: unknown[]): Result {
    if (!this.translated) {
      const t = toPostgres(this.source, (table) => this.db.primaryKey(table));
      const insert = INSERT.exec(this.source);
      const id = insert ? this.db.identityColumn(insert[1]!) : undefined;
      if (id && !/\bRETURNING\b/i.test(t.text)) {
        t.text += ` RETURNING ${id} AS kanri_rowid`;
        this.returnsId = true;
      }
      this.translated = t;
    }
    const t = this.translated;
    let values: Array<string | null>;
    if (t.names) {
      const o = (args[0] ?? {}) as Record<string, Param>;
      values = t.names.map((k) => param(o[k]));
    } else {
      const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
      if (flat.length !== t.count) throw new RangeError(`Too ${flat.length < t.count ? 'few' : 'many'} parameter values were provided`);
      values = flat.map(param);
    }
    const r = this.db.execute(this.db.serverStatement(t), values, WRITE.test(this.source));
    if (this.returnsId) {
      if (r.rows.length) this.db.lastRowid = Number(r.rows[r.rows.length - 1]!.kanri_rowid);
      r.rows = [];
    }
    return r;
  }

  run(...args: unknown[]): { changes: number; lastInsertRowid: number } {
    const r = this.exec(args);
    return { changes: r.changes, lastInsertRowid: this.db.lastRowid };
  }

  get(...args: unknown[]): unknown {
    return this.exec(args).rows[0];
  }

  all(...args: unknown[]): unknown[] {
    return this.exec(args).rows;
  }
}

interface TransactionFn<A extends unknown[], R> {
  (...args: A): R;
  immediate(...args: A): R;
  exclusive(...args: A): R;
  deferred(...args: A): R;
}

export class PostgresDb {
  readonly name: string;
  readonly dialect = 'postgresql';
  open = true;
  readonly readonly: boolean;
  private depth = 0;
  /** Round trips to the server so far (what a statement costs beyond its own work: tests, benchmarks). */
  roundTrips = 0;
  /** The BEGIN (and writer lock) of a transaction that has run no statement yet. */
  private pendingBegin?: string[];
  /** Why the current transaction could not begin or take the writer lock: every statement of it fails, and so does its end. */
  private failedBegin?: PostgresError;
  /** A write's savepoint is still open (released with the next one, or by the transaction's end). */
  private statementSavepoint = false;
  /** Whether the open transaction holds the writer lock (a deferred one takes it at its first write). */
  private locked = false;
  private statements = 0;
  private readonly named = new Map<string, string>();
  /** Statements run once, as text: the next run prepares them. */
  private readonly seen = new Set<string>();
  private lockTimeoutMs: number;
  private identity?: Map<string, string>;
  /** SQLite's last_insert_rowid(): the id of the last row an INSERT gave an identity. */
  lastRowid = 0;
  private readonly keys = new Map<string, string[]>();
  /** The schema version read last outside a transaction, and roundTrips just after (schemaVersion()). */
  private versionRead?: { version: number; at: number };

  constructor(private readonly pq: Libpq, location: PostgresLocation, opts: { readonly: boolean; timeoutMs: number }) {
    this.name = location.uri;
    this.readonly = opts.readonly;
    this.lockTimeoutMs = opts.timeoutMs;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Runs SQL without parameters (simple protocol); throws PostgresError. */
  simple(sql: string): Libpq {
    if (this.failedBegin) throw this.failedBegin;
    this.beginNow();
    this.roundTrips++;
    this.pq.exec(sql);
    return this.check();
  }

  private check(): Libpq {
    const e = this.failure();
    if (e) throw e;
    return this.pq;
  }

  /** Runs a transaction's BEGIN still waiting for its first statement, before anything else runs. */
  private beginNow(): void {
    const begin = this.pendingBegin;
    if (!begin) return;
    this.pendingBegin = undefined;
    try {
      this.simple(begin.join('; '));
    } catch (e) {
      this.failedBegin = e as PostgresError;
      throw e;
    }
  }

  /** The error the current result reports, if it is one. */
  private failure(): PostgresError | undefined {
    const s = this.pq.resultStatus();
    if (s !== 'PGRES_FATAL_ERROR' && s !== 'PGRES_BAD_RESPONSE' && s !== 'PGRES_NONFATAL_ERROR') return undefined;
    const f = this.pq.resultErrorFields() ?? {};
    const state = f.sqlState ?? '';
    const code = CODES[state] ?? (state.startsWith('08') || state === '' ? 'SQLITE_CANTOPEN' : `PG_${state}`);
    return new PostgresError(f.messagePrimary ?? (this.pq.errorMessage().trim() || 'PostgreSQL error'), code, state);
  }

  /**
   * How the server is to run a statement: by the name it was prepared under, or by its text.
   * Its first run goes as text (parsed, planned and run in one round trip: most statements of
   * a command run once), its second prepares it. Modules call prepare() for the same SQL again
   * and again: the server keeps one statement per text, and a process that has made very many
   * (SQL with values written in) starts afresh instead of growing.
   */
  serverStatement(t: Translated): ServerStatement {
    let name = this.named.get(t.text);
    if (name) return { name };
    if (!this.seen.has(t.text)) {
      if (this.seen.size >= MAX_PREPARED) this.seen.clear();
      this.seen.add(t.text);
      return { text: t.text };
    }
    if (this.named.size >= MAX_PREPARED) {
      this.simple('DEALLOCATE ALL');
      this.named.clear();
    }
    if (this.failedBegin) throw this.failedBegin;
    name = `k${++this.statements}`;
    this.roundTrips++;
    this.pq.prepare(name, t.text, t.count);
    this.check();
    this.named.set(t.text, name);
    return { name };
  }

  execPrepared(st: ServerStatement, values: Array<string | null>): Libpq {
    if (this.failedBegin) throw this.failedBegin;
    this.roundTrips++;
    if ('name' in st) this.pq.execPrepared(st.name, values);
    else this.pq.execParams(st.text, values);
    return this.check();
  }

  /**
   * Runs one prepared statement; a write outside a transaction takes the writer lock in one of
   * its own, a write inside one is undone alone when it fails (run() says why). Where libpq has
   * pipeline mode, what goes before a write (the writer lock, the savepoint) is sent with it:
   * one round trip instead of three outside a transaction and two inside one.
   */
  execute(st: ServerStatement, values: Array<string | null>, write: boolean): Result {
    if (this.failedBegin) throw this.failedBegin;
    const writes = write && !this.readonly;
    if (!this.pq.pipelines) return this.run(() => result(this.execPrepared(st, values)), writes);
    if (this.depth === 0) {
      if (!writes) return result(this.execPrepared(st, values));
      // Statements before a Sync run in one implicit transaction, committed (or, after an
      // error, rolled back) by the Sync: the writer lock is held until the write commits.
      try {
        return this.pipeline([TAKE_WRITER_LOCK], st, values);
      } catch (e) {
        throw e instanceof PipelineError ? e.cause : e;
      }
    }
    const begin = this.pendingBegin ?? [];
    this.pendingBegin = undefined;
    // A deferred transaction takes the writer lock at its first write (run() says why).
    const lock = writes && !this.locked ? [TAKE_WRITER_LOCK] : [];
    if (writes) this.locked = true;
    // SQLite undoes a failed statement alone (run() says why): a write goes after a savepoint.
    const savepoint = !writes ? [] : this.statementSavepoint ? ['RELEASE SAVEPOINT kanri_statement', 'SAVEPOINT kanri_statement'] : ['SAVEPOINT kanri_statement'];
    if (writes) this.statementSavepoint = true;
    const before = [...begin, ...lock, ...savepoint];
    if (!before.length) return result(this.execPrepared(st, values));
    try {
      return this.pipeline(before, st, values);
    } catch (e) {
      if (e instanceof PipelineError) {
        // The BEGIN or the writer lock failed (not had in time): the whole transaction fails with
        // it. A failed savepoint fails the transaction too: the statement never ran.
        if (e.index < begin.length + lock.length) this.failedBegin = e.cause;
        throw e.cause;
      }
      if (writes) {
        try {
          this.simple('ROLLBACK TO SAVEPOINT kanri_statement');
        } catch {
          // the connection is gone: the transaction fails with the error below
        }
      }
      throw e;
    }
  }

  /**
   * Sends `before` (statements without parameters) and then the prepared statement in one
   * pipeline, ended by a Sync, and reads their results: the statement's result, or the first
   * error (a PipelineError when one of `before` failed, so the statement never ran).
   */
  private pipeline(before: readonly string[], st: ServerStatement, values: Array<string | null>): Result {
    const pq = this.pq;
    if (!pq.enterPipelineMode()) {
      // Refused (the connection is not idle): the same statements, one round trip each; execute()
      // has counted what they do (begun, locked, the savepoint). Outside a transaction the lock
      // must be held until the write commits: run() gives the write a transaction of its own.
      if (this.depth === 0) return this.run(() => result(this.execPrepared(st, values)), true);
      before.forEach((sql, i) => {
        try {
          this.simple(sql);
        } catch (e) {
          throw e instanceof PostgresError ? new PipelineError(e, i) : e;
        }
      });
      return result(this.execPrepared(st, values));
    }
    let failed: PostgresError | undefined;
    let failedAt = -1;
    let out: Result | undefined;
    try {
      for (const sql of before) pq.sendQueryParams(sql, []);
      if ('name' in st) pq.sendQueryPrepared(st.name, values);
      else pq.sendQueryParams(st.text, values);
      this.roundTrips++;
      if (!pq.pipelineSync()) throw this.lost();
      for (let i = 0; i <= before.length; i++) {
        if (!pq.getResult()) throw this.lost();
        const e = this.failure();
        if (e && !failed) {
          failed = e;
          failedAt = i;
        } else if (!e && i === before.length && pq.resultStatus() !== 'PGRES_PIPELINE_ABORTED') out = result(pq);
        // Each statement's results end with a null one.
        if (pq.getResult()) throw this.lost();
      }
      if (!pq.getResult() || pq.resultStatus() !== 'PGRES_PIPELINE_SYNC') throw this.lost();
    } finally {
      pq.exitPipelineMode();
    }
    if (failed) throw failedAt < before.length ? new PipelineError(failed, failedAt) : failed;
    return out!;
  }

  /** The connection failed mid-pipeline. */
  private lost(): PostgresError {
    return this.failure() ?? new PostgresError(this.pq.errorMessage().trim() || 'PostgreSQL connection lost', 'SQLITE_CANTOPEN', '');
  }

  /** Runs one statement; a write outside a transaction takes the writer lock in one of its own. */
  run<T>(fn: () => T, write: boolean): T {
    if (!write || this.readonly) return fn();
    if (this.depth > 0) {
      // A deferred transaction that writes queues behind the other writers from its first write
      // on, as SQLite's does: without the lock its reads and writes could interleave with a
      // transaction that plans and reserves.
      if (!this.locked) this.lockWriters();
      // SQLite undoes a failed statement alone and the transaction goes on (a module may catch
      // a constraint error and carry on); PostgreSQL would abort the whole transaction. The
      // savepoint of the previous write is released with the next one's, in one round trip
      // (or by the end of the transaction): a write costs one round trip more, not two.
      this.simple(this.statementSavepoint ? 'RELEASE SAVEPOINT kanri_statement; SAVEPOINT kanri_statement' : 'SAVEPOINT kanri_statement');
      this.statementSavepoint = true;
      try {
        return fn();
      } catch (e) {
        try {
          this.simple('ROLLBACK TO SAVEPOINT kanri_statement');
        } catch {
          // the connection is gone: the transaction fails with the error below
        }
        throw e;
      }
    }
    try {
      this.simple(BEGIN_WRITE);
      const r = fn();
      this.simple('COMMIT');
      return r;
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  /** Takes the writer lock for the open transaction, waiting at most the busy timeout (lock_timeout). */
  private lockWriters(): void {
    this.simple(`SELECT pg_advisory_xact_lock(${WRITER_LOCK})`);
    this.locked = true;
  }

  private rollback(): void {
    this.statementSavepoint = false;
    if (this.pendingBegin) {
      this.pendingBegin = undefined;
      return;
    }
    try {
      this.simple('ROLLBACK');
    } catch {
      // the connection is gone: nothing to roll back
    }
  }

  /** Ends the savepoint of the last write before another savepoint or the end of a transaction. */
  private settled(sql: string): string {
    const pending = this.statementSavepoint;
    this.statementSavepoint = false;
    // COMMIT releases it, ROLLBACK (TO) undoes it — and must run even in a failed transaction.
    return pending && /^(SAVEPOINT|RELEASE)/.test(sql) ? `RELEASE SAVEPOINT kanri_statement; ${sql}` : sql;
  }

  primaryKey(table: string): string[] {
    let k = this.keys.get(table);
    if (!k) {
      const pq = this.simple(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(${quote(table)}) AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`);
      k = rows(pq).map((r) => String(r.attname));
      this.keys.set(table, k);
    }
    return k;
  }

  /** The identity column of a table (SQLite's rowid alias), if it has one. */
  identityColumn(table: string): string | undefined {
    this.identity ??= new Map(rows(this.simple("SELECT table_name, column_name FROM information_schema.columns WHERE is_identity = 'YES' AND table_schema = current_schema()")).map((r) => [String(r.table_name), String(r.column_name)]));
    return this.identity.get(table);
  }

  prepare(sql: string): PostgresStatement {
    return new PostgresStatement(this, sql);
  }

  /** Schema text (migrations): translated, run as one batch. */
  exec(sql: string): this {
    this.run(() => this.simple(schemaToPostgres(sql)), true);
    this.identity = undefined;
    this.keys.clear();
    return this;
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): TransactionFn<A, R> {
    const make = (lock: boolean) => (...args: A): R => {
      const outer = this.depth === 0;
      const savepoint = `s${this.depth}`;
      // A savepoint of a write taken before this one is released first: released later, it would take this one with it.
      try {
        const begin = lock && !this.readonly ? ['BEGIN', TAKE_WRITER_LOCK] : ['BEGIN'];
        // With pipeline mode the BEGIN goes with the transaction's first statement (execute()).
        if (outer && this.pq.pipelines) this.pendingBegin = begin;
        else this.simple(this.settled(outer ? begin.join('; ') : `SAVEPOINT ${savepoint}`));
      } catch (e) {
        // BEGIN ran but the writer lock was not had (busy timeout): nothing of it may stay open.
        if (outer) this.rollback();
        throw e;
      }
      this.depth++;
      let inside = true;
      // The BEGIN takes the writer lock; a deferred transaction takes it at its first write.
      if (outer) this.locked = lock && !this.readonly;
      try {
        const r = fn(...args);
        // A BEGIN that failed (the writer lock not had) fails the transaction even where fn caught its error.
        if (outer && this.failedBegin) throw this.failedBegin;
        this.depth--;
        inside = false;
        // A transaction that ran no statement began nothing: nothing to commit.
        if (outer && this.pendingBegin) this.pendingBegin = undefined;
        else this.simple(this.settled(outer ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`));
        if (outer) this.locked = false;
        return r;
      } catch (e) {
        if (inside) this.depth--;
        if (outer) {
          this.locked = false;
          this.failedBegin = undefined;
          this.rollback();
        } else {
          try {
            this.simple(this.settled(`ROLLBACK TO SAVEPOINT ${savepoint}`));
          } catch {
            // the outer transaction fails with the error below
          }
        }
        throw e;
      }
    };
    const t = make(true) as TransactionFn<A, R>;
    t.immediate = t;
    t.exclusive = t;
    t.deferred = make(false);
    return t;
  }

  /** The SQLite pragmas kanri uses, in PostgreSQL's terms. */
  pragma(source: string, opts: { simple?: boolean } = {}): unknown {
    const m = /^\s*(\w+)\s*(?:=\s*(\S+))?\s*$/.exec(source);
    if (!m) throw new Error(`unsupported pragma: ${source}`);
    const [, key, set] = m;
    let v: unknown;
    switch (key) {
      case 'user_version':
        if (set !== undefined) {
          this.run(() => this.simple(`UPDATE store_version SET version = ${Number(set)}`), true);
          return [];
        }
        v = this.schemaVersion();
        break;
      case 'busy_timeout':
        if (set !== undefined) {
          this.lockTimeoutMs = Math.max(0, Math.floor(Number(set)));
          // 0 means "never wait" for SQLite but "no limit" for PostgreSQL: 1 ms is the nearest.
          this.simple(`SET lock_timeout = ${this.lockTimeoutMs || 1}`);
          return [];
        }
        v = this.lockTimeoutMs;
        break;
      case 'journal_mode':
        v = 'wal';
        break;
      case 'foreign_keys': case 'synchronous':
        if (set !== undefined) return [];
        v = 1;
        break;
      default:
        throw new Error(`unsupported pragma on a PostgreSQL store: ${key}`);
    }
    return opts.simple ? v : [{ [key!]: v }];
  }

  /** The core schema version; 0 when the database holds no kanri store yet. */
  schemaVersion(): number {
    if (this.depth === 0) {
      // Asked again before any other statement ran (opening a store asks twice in a row), the
      // answer is the one just read: one round trip less at every start-up.
      if (this.versionRead?.at === this.roundTrips) return this.versionRead.version;
      // One round trip where the store exists (every start but the first). Inside a transaction
      // the missing table's error would end it: there the table is looked for first.
      try {
        const r = rows(this.simple('SELECT version FROM store_version'))[0];
        const version = r ? Number(r.version) : 0;
        this.versionRead = { version, at: this.roundTrips };
        return version;
      } catch (e) {
        if (e instanceof PostgresError && e.sqlState === '42P01') return 0;
        throw e;
      }
    }
    const exists = rows(this.simple("SELECT to_regclass('store_version') IS NOT NULL AS e"))[0]!.e;
    if (!exists) return 0;
    const r = rows(this.simple('SELECT version FROM store_version'))[0];
    return r ? Number(r.version) : 0;
  }

  /** What a new store needs before its first migration (the collation, the version row). */
  prelude(): void {
    this.simple(POSTGRES_PRELUDE);
    this.simple('CREATE TABLE IF NOT EXISTS store_version (version BIGINT NOT NULL)');
    this.simple('INSERT INTO store_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM store_version)');
  }

  /** SQLite's user functions: kfold is the collation's work on PostgreSQL (dialect.ts). */
  function(): this {
    return this;
  }

  close(): this {
    if (this.open) {
      this.open = false;
      this.pq.finish();
    }
    return this;
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The password in password_file: the file must be its owner's alone, as the key file. */
function readPasswordFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new StoreError(`password_file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o077) !== 0) throw new StoreError(`password_file ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${path}`);
    return readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
  } finally {
    closeSync(fd);
  }
}

/** A connection to a PostgreSQL store (not yet migrated). */
export function connectPostgres(location: PostgresLocation, opts: { readonly: boolean; timeoutMs: number }): PostgresDb {
  const native = loadLibpq();
  // An optional dependency: a SQLite-only installation needs neither it nor libpq-dev.
  if (!native) throw new StoreError(`store ${location.uri}: PostgreSQL stores need the libpq binding, which is not installed (Debian: apt-get install libpq-dev, then npm install libpq)`);
  // NOTICEs (e.g. "already exists, skipping") would reach stderr through libpq. A process
  // that stops between two statements of a transaction (paused, its host cut off) would hold
  // the writer lock, and every manager with it: the server ends such a session after 30 s idle
  // in its transaction, and finds a vanished peer by TCP keepalives within about 25 s. The
  // session's lock timeout and read-only mode go with the connection too: no round trip of their own.
  // Options the URI names go between (the server applies the last of a name): they may tune the
  // bounds but never drop them, and the lock timeout and read-only mode stay this process's, as
  // the store's busy timeout and the command say.
  const bounds = ['client_min_messages=warning', 'idle_in_transaction_session_timeout=30000', 'tcp_keepalives_idle=10', 'tcp_keepalives_interval=5', 'tcp_keepalives_count=3'];
  const own = [`lock_timeout=${opts.timeoutMs}`, ...(opts.readonly ? ['default_transaction_read_only=on'] : [])];
  const option = (o: string): string => `-c ${o}`;
  // The same bounds on this side (over TCP; a unix socket ignores them): a synchronous call on a
  // connection whose server vanished fails within about 30 s instead of the system's TCP
  // timeouts (hours), long after the process's lease ran out.
  const params: Record<string, string> = {
    connect_timeout: '10',
    keepalives_idle: '10',
    keepalives_interval: '5',
    keepalives_count: '3',
    tcp_user_timeout: '30000',
    application_name: 'kanri',
    ...location.params,
    options: [...bounds.map(option), ...(location.params.options ? [location.params.options] : []), ...own.map(option)].join(' '),
  };
  if (location.passwordFile) params.password = readPasswordFile(location.passwordFile);
  let pq: Libpq;
  try {
    pq = new Libpq(native, conninfo(params));
  } catch (e) {
    // libpq's message names host and user, never the password.
    throw new StoreError(`store ${location.uri} cannot be reached: ${(e as Error).message.trim().split('\n')[0]}`);
  }
  return new PostgresDb(pq, location, opts);
}
