// The libpq binding (npm libpq) as the PostgreSQL store uses it: the compiled addon, loaded by
// its path, and its native methods ($exec, $getvalue, …) behind a small typed connection.
//
// The package's index.js is skipped because a start-up paid for it: it finds the addon with
// `bindings` (a stack trace to learn its own directory, then a dozen paths tried) and loads
// `assert` for argument checks, about 3 ms of a PostgreSQL start-up (issue 22's goal: within
// 1.5× of SQLite's). Its wrappers add nothing the store needs beyond what Connection does here:
// the store passes strings and arrays only, and it never starts the socket reader (the
// wrappers' `connected` flag guards that alone). Where the addon is not where the package
// builds it, the package as it is finds it; its exports are the same native class.
import { requireModule } from '../util/require.js';
import { addonPath } from './addon.js';

/** The error fields of a failed result (libpq's PQresultErrorField). */
export interface ErrorFields {
  sqlState?: string;
  messagePrimary?: string;
  messageDetail?: string;
}

/** The addon's connection class, its methods as src/*.cc of the package defines them. */
interface Native {
  $connectSync(conninfo: string): boolean;
  $finish(): void;
  $getLastErrorMessage(): string;
  $exec(sql: string): void;
  $execParams(sql: string, params: Array<string | null>): void;
  $prepare(name: string, sql: string, n: number): void;
  $execPrepared(name: string, params: Array<string | null>): void;
  $resultStatus(): string;
  $resultErrorFields(): ErrorFields | null;
  $ntuples(): number;
  $nfields(): number;
  $fname(i: number): string;
  $ftype(i: number): number;
  $getvalue(row: number, col: number): string;
  $getisnull(row: number, col: number): boolean;
  $cmdTuples(): string;
  // Pipeline mode: only where the addon was built against libpq 14 or later.
  $enterPipelineMode?(): boolean;
  $exitPipelineMode?(): boolean;
  $pipelineSync?(): boolean;
  $sendQueryParams(sql: string, params: Array<string | null>): boolean;
  $sendQueryPrepared(name: string, params: Array<string | null>): boolean;
  $getResult(): boolean;
}

/** The binding, loaded (loadLibpq): what a Connection is made with. */
export type NativeClass = new () => Native;

let loaded: NativeClass | undefined;

/**
 * The native class, or undefined when the binding is not installed (an optional dependency).
 * The addon is required by its path (addon.ts): the same module, from require's cache, as a
 * require('libpq') elsewhere in the process loads.
 */
export function loadLibpq(): NativeClass | undefined {
  if (loaded) return loaded;
  try {
    const file = addonPath('libpq', 'build/Release/addon.node');
    loaded = file ? (requireModule(file) as { PQ: NativeClass }).PQ : (requireModule('libpq') as NativeClass);
  } catch {
    return undefined;
  }
  return loaded;
}

/**
 * The binding hands its socket watcher, a uv_poll_t inside the native object, to uv_close
 * without a callback; the event loop completes that close in its next close phase, and the
 * native object is freed when its JS object is collected. Collected before that close phase,
 * libuv reads freed memory and aborts the process (an assertion in uv__finish_close). So a
 * finished connection stays referenced until a close phase has run since: the first
 * setImmediate runs in a check phase after finish(), the second in the next iteration's, after
 * the close phase between them. A delay in milliseconds is no such bound: called from a close
 * callback (code that awaited a socket or a child process) and followed by more than the delay
 * of synchronous work, a timer fires in the timers phase that comes before the next close phase.
 */
const closing = new Set<Native>();

/**
 * One connection, synchronous: each call returns when the server has answered, and the last
 * result stays on the connection to be read (status, rows, error fields) until the next call.
 */
export class Connection {
  private readonly pq: Native;
  private finished = false;
  /** Whether libpq has pipeline mode (several statements, their results read after one Sync). */
  readonly pipelines: boolean;

  /** Connects; throws libpq's message (it names host and user, never the password). */
  constructor(native: NativeClass, conninfo: string) {
    this.pq = new native();
    this.pipelines = typeof this.pq.$enterPipelineMode === 'function';
    if (!this.pq.$connectSync(conninfo)) {
      const e = new Error(this.pq.$getLastErrorMessage());
      this.finish();
      throw e;
    }
  }

  /** Closes the connection; again is nothing. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const pq = this.pq;
    pq.$finish();
    closing.add(pq);
    setImmediate(() => setImmediate(() => closing.delete(pq)).unref()).unref();
  }

  errorMessage(): string { return this.pq.$getLastErrorMessage(); }
  exec(sql: string): void { this.pq.$exec(sql); }
  execParams(sql: string, params: Array<string | null>): void { this.pq.$execParams(sql, params); }
  prepare(name: string, sql: string, n: number): void { this.pq.$prepare(name, sql, n); }
  execPrepared(name: string, params: Array<string | null>): void { this.pq.$execPrepared(name, params); }
  resultStatus(): string { return this.pq.$resultStatus(); }
  resultErrorFields(): ErrorFields | undefined { return this.pq.$resultErrorFields() ?? undefined; }
  ntuples(): number { return this.pq.$ntuples(); }
  nfields(): number { return this.pq.$nfields(); }
  fname(i: number): string { return this.pq.$fname(i); }
  ftype(i: number): number { return this.pq.$ftype(i); }
  getvalue(row: number, col: number): string { return this.pq.$getvalue(row, col); }
  getisnull(row: number, col: number): boolean { return this.pq.$getisnull(row, col); }
  cmdTuples(): string { return this.pq.$cmdTuples(); }
  // Pipeline mode: called only where `pipelines` says libpq has it.
  enterPipelineMode(): boolean { return this.pq.$enterPipelineMode!(); }
  exitPipelineMode(): boolean { return this.pq.$exitPipelineMode!(); }
  pipelineSync(): boolean { return this.pq.$pipelineSync!(); }
  sendQueryParams(sql: string, params: Array<string | null>): boolean { return this.pq.$sendQueryParams(sql, params); }
  sendQueryPrepared(name: string, params: Array<string | null>): boolean { return this.pq.$sendQueryPrepared(name, params); }
  getResult(): boolean { return this.pq.$getResult(); }
}
