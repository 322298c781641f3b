// JSON-RPC 1.0 over a stream, as OVSDB speaks it (RFC 7047 §4): one connection per
// switch, shared by every job of a command, requests answered by id, the server's
// "echo" (its inactivity probe) answered. Messages are JSON texts one after another
// with nothing between them, so the reader finds where each one ends.
import { type Socket, connect } from 'node:net';
import { type Endpoint, connectOptions, endpointText } from '../endpoint.js';
import { DriverError } from '../types.js';
import { MAX_JSON_DEPTH, PeerAnswerTooLarge } from '../../util/peer-answer.js';

/** The longest message read from an OVSDB server (a dump of a large switch is far below). */
const MAX_MESSAGE = 32 << 20;

interface Pending { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }

/** Splits a stream of concatenated JSON texts (objects) into whole ones. */
export class JsonSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buf.length; i++) {
      const ch = this.buf[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
      } else if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') {
        if (++this.depth > MAX_JSON_DEPTH) break;
      }
      else if (ch === '}' || ch === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buf.slice(start, i + 1).trim());
          start = i + 1;
        }
      }
    }
    this.buf = this.buf.slice(start);
    this.scanned = this.buf.length;
    // One message beyond the bound, or nested beyond MAX_JSON_DEPTH: not a server we speak to.
    if (this.buf.length > MAX_MESSAGE) throw new PeerAnswerTooLarge(`a message larger than ${MAX_MESSAGE >> 20} MiB`);
    if (this.depth > MAX_JSON_DEPTH) throw new PeerAnswerTooLarge(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    return out;
  }
}

class Connection {
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new JsonSplitter();
  closed = false;

  constructor(readonly socket: Socket, private readonly where: string, private readonly onDead: (c: Connection) => void) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      let texts: string[];
      try {
        texts = this.splitter.push(chunk);
      } catch (e) {
        this.die(new DriverError(`OVSDB at ${where}: ${(e as Error).message}`, { layer: 'protocol' }));
        return;
      }
      for (const text of texts) this.message(text);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.die(new DriverError(`OVSDB at ${where}: ${err.code ?? err.message}`, { layer: 'network', retryable: true })));
    socket.on('close', () => this.die(new DriverError(`OVSDB at ${where} closed the connection`, { layer: 'network', retryable: true })));
  }

  private message(text: string): void {
    let msg: { id?: unknown; method?: string; params?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      this.die(new DriverError(`OVSDB at ${this.where} sent text that is not JSON: ${text.slice(0, 80)}`, { layer: 'protocol' }));
      return;
    }
    if (typeof msg.method === 'string') {
      // The server's inactivity probe: answered with its own parameters.
      if (msg.method === 'echo' && msg.id !== undefined && msg.id !== null) this.socket.write(JSON.stringify({ result: msg.params, error: null, id: msg.id }));
      return;
    }
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    if (this.pending.size === 0) this.socket.unref();
    if (msg.error !== null && msg.error !== undefined) p.reject(new DriverError(`OVSDB at ${this.where}: ${JSON.stringify(msg.error)}`, { layer: 'protocol' }));
    else p.resolve(msg.result);
  }

  call(id: number, method: string, params: unknown[], timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        // The answer, if it comes, is dropped; the request itself may still run.
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(signal?.reason instanceof Error ? signal.reason : new Error('canceled'));
      };
      const timer = setTimeout(() => this.die(new DriverError(`OVSDB at ${this.where} did not answer ${method} within ${timeoutMs / 1000} s`, { layer: 'network', retryable: true })), timeoutMs);
      this.pending.set(id, {
        timer,
        resolve: (v) => { signal?.removeEventListener('abort', onAbort); resolve(v); },
        reject: (e) => { signal?.removeEventListener('abort', onAbort); reject(e); },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.ref();
      this.socket.write(JSON.stringify({ method, params, id }));
    });
  }

  die(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.onDead(this);
  }
}

export class JsonRpc {
  private conn: Connection | undefined;
  private nextId = 1;
  readonly where: string;

  constructor(readonly endpoint: Endpoint, private readonly timeoutMs: number) {
    this.where = endpointText(endpoint);
  }

  call(method: string, params: unknown[], signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('canceled'));
    if (!this.conn || this.conn.closed) {
      const conn = new Connection(connect(connectOptions(this.endpoint)), this.where, (c) => { if (this.conn === c) this.conn = undefined; });
      this.conn = conn;
    }
    return this.conn.call(this.nextId++, method, params, this.timeoutMs, signal);
  }

  close(): void {
    this.conn?.die(new DriverError(`the connection to OVSDB at ${this.where} was closed`, { layer: 'network' }));
  }
}
