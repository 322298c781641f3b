// kanri serve's HTTP(S) server: routing, authentication by bearer token, the limits (body
// size, per-token rate, requests at once, connections, idle and request time) and the audit
// of every request. What each route answers lives in the modules named after it (read.ts,
// changes.ts, oob.ts, streams.ts, metrics.ts, console.ts); this module knows none of them.
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Db } from '../store/db.js';
import { type AuditRow, recordAudits } from '../store/audit.js';
import { type Level, tokenOwner, touchTokens } from './tokens.js';
import type { ServeLimits } from './settings.js';
import { HttpStats } from './http-stats.js';

export interface Caller { name: string; level: Level }

/** Who may call a route: anyone, any token, an administrator's token, or /metrics's own rule. */
export type Access = 'public' | 'operator' | 'administrator' | 'metrics';

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  body: unknown;
  caller: Caller | null;
  raw: IncomingMessage;
  res: ServerResponse;
  /** What the audit row says beyond method and path (a change's action and target). */
  note?: string;
}

export interface Reply { status: number; body?: unknown; text?: string; type?: string; headers?: Record<string, string> }

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** /api/v1/machines/{name}: a {param} matches one path segment. */
  path: string;
  access: Access;
  /** A long-lived response (Server-Sent Events): not counted as a request in progress, but as a stream. */
  stream?: boolean;
  /** A body is read (JSON). */
  body?: boolean;
  handler(r: Req): Reply | Promise<Reply> | Promise<'streamed'>;
}

/** A refusal with its HTTP status and a JSON body { error: { status, message, … } }. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export interface ServerOptions {
  db: Db;
  routes: Route[];
  limits: ServeLimits;
  metricsPublic: boolean;
  tls?: { cert: Buffer; key: Buffer };
  log(line: string): void;
}

interface Compiled { route: Route; re: RegExp; names: string[] }

function compile(r: Route): Compiled {
  const names: string[] = [];
  const re = new RegExp('^' + r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, n: string) => { names.push(n); return '([^/]+)'; }) + '$');
  return { route: r, re, names };
}

/** A token bucket per caller: `rate` per second on average, `burst` at once. */
class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly rate: number, private readonly burst: number) {}

  /** 0 when allowed, else the seconds to wait. */
  take(key: string, now = Date.now()): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 10_000) this.buckets.clear();
      this.buckets.set(key, (b = { tokens: this.burst, at: now }));
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.rate);
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export class ApiServer {
  readonly server: Server;
  readonly stats = new HttpStats();
  private readonly compiled: Compiled[];
  private readonly limiter: RateLimiter;
  private inFlight = 0;
  private streams = 0;
  private readonly streamEnds = new Set<() => void>();
  private audit: AuditRow[] = [];
  private used = new Map<string, string>();
  private lastTouch = new Map<string, number>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(private readonly o: ServerOptions) {
    this.compiled = o.routes.map(compile);
    this.limiter = new RateLimiter(o.limits.ratePerS, o.limits.rateBurst);
    const handler = (req: IncomingMessage, res: ServerResponse): void => { void this.handle(req, res); };
    const common = { maxHeaderSize: 16 * 1024, requestTimeout: o.limits.requestTimeoutMs, headersTimeout: Math.min(o.limits.requestTimeoutMs, 10_000), keepAliveTimeout: o.limits.idleMs };
    this.server = o.tls ? createHttps({ ...common, cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, handler) : createHttp(common, handler);
    this.server.maxConnections = o.limits.maxConnections;
    // A connection that says nothing for this long is closed (streams send a comment every 15 s).
    this.server.setTimeout(60_000, (s: Socket) => s.destroy());
    this.server.on('clientError', (_e, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    // Audit rows and token use are written together a few times a second: no write per request.
    this.flushTimer = setInterval(() => this.flush(), 250);
    this.flushTimer.unref();
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, ends the streams, waits for requests in progress, writes the last audit rows. */
  async close(): Promise<void> {
    for (const end of [...this.streamEnds]) end();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections?.();
    clearInterval(this.flushTimer);
    this.flush();
  }

  flush(): void {
    if (this.audit.length > 0) {
      const rows = this.audit;
      this.audit = [];
      try {
        recordAudits(this.o.db, 'serve', rows);
      } catch (e) {
        this.o.log(`kanri serve: audit rows not written (${(e as Error).message}); kept for the next try`);
        this.audit = rows.concat(this.audit).slice(-100_000);
      }
    }
    if (this.used.size > 0) {
      const used = this.used;
      this.used = new Map();
      try {
        touchTokens(this.o.db, used);
      } catch {
        // Only the "last used" time is late.
      }
    }
  }

  /** A stream registers how to end it when the server stops. */
  onClose(end: () => void): () => unknown {
    this.streamEnds.add(end);
    return () => this.streamEnds.delete(end);
  }

  private authenticate(req: IncomingMessage): Caller | null {
    const h = req.headers.authorization;
    if (typeof h !== 'string') return null;
    const m = /^Bearer ([^\s]{1,200})$/i.exec(h.trim());
    if (!m) return null;
    const owner = tokenOwner(this.o.db, m[1]!);
    if (!owner) return null;
    const now = Date.now();
    if ((this.lastTouch.get(owner.name) ?? 0) < now - 60_000) {
      this.lastTouch.set(owner.name, now);
      this.used.set(owner.name, new Date(now).toISOString());
    }
    return owner;
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, 'the body must be JSON (content-type: application/json)');
    const declared = Number(req.headers['content-length'] ?? NaN);
    const max = this.o.limits.maxBodyBytes;
    if (declared > max) throw new HttpError(413, `the body is larger than ${max} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > max) throw new HttpError(413, `the body is larger than ${max} bytes`);
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(400, 'the body is not valid JSON');
    }
  }

  private match(method: string, path: string): { c: Compiled; params: Record<string, string> } | 'wrong-method' | undefined {
    let other = false;
    for (const c of this.compiled) {
      const m = c.re.exec(path);
      if (!m) continue;
      if (c.route.method !== method) { other = true; continue; }
      const params: Record<string, string> = {};
      try {
        c.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]!); });
      } catch {
        throw new HttpError(400, 'a path segment is not valid percent-encoding');
      }
      return { c, params };
    }
    return other ? 'wrong-method' : undefined;
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent) return;
    const headers: Record<string, string> = { ...SECURITY_HEADERS, ...(reply.headers ?? {}) };
    let payload: string | Buffer = '';
    if (reply.text !== undefined) {
      payload = reply.text;
      headers['content-type'] = reply.type ?? 'text/plain; charset=utf-8';
    } else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://kanri.invalid');
    } catch {
      this.send(res, { status: 400, body: { error: { status: 400, message: 'the request target is not a URL' } } });
      return;
    }
    const path = url.pathname;
    let caller: Caller | null = null;
    let routeName = 'unmatched';
    let counted = false;
    let note = '';
    res.once('close', () => {
      if (counted) this.inFlight--;
      const status = res.statusCode;
      this.stats.observe(routeName, status, Number(process.hrtime.bigint() - t0) / 1e9);
      const target = (path + (url.search.length > 1 ? url.search : '')).slice(0, 300);
      this.audit.push({ time: new Date().toISOString(), user: caller?.name ?? '-', command: `${method} ${target}${note ? ' ' + note : ''}`, exitCode: status });
    });
    try {
      const found = this.match(method, path);
      if (found === undefined) throw new HttpError(404, `no such resource: ${path}`);
      if (found === 'wrong-method') throw new HttpError(405, `${method} is not allowed on ${path}`);
      const { c, params } = found;
      routeName = c.route.path;
      caller = this.authenticate(req);
      // Before the token is judged: guesses without a valid token are limited by address.
      const wait = this.limiter.take(caller ? `token:${caller.name}` : `addr:${req.socket.remoteAddress ?? '?'}`);
      if (wait > 0) throw new HttpError(429, 'too many requests; slow down', {}, { 'retry-after': String(wait) });
      const access = c.route.access === 'metrics' ? (this.o.metricsPublic ? 'public' : 'operator') : c.route.access;
      if (access !== 'public') {
        if (!caller) throw new HttpError(401, 'a valid bearer token is required (kanri token create)', {}, { 'www-authenticate': 'Bearer realm="kanri"' });
        if (access === 'administrator' && caller.level !== 'administrator') throw new HttpError(403, `this needs an administrator token; ${caller.name} is an operator`);
      }
      if (c.route.stream) {
        if (this.streams >= this.o.limits.maxStreams) throw new HttpError(503, 'too many streams are open', {}, { 'retry-after': '5' });
      } else {
        if (this.inFlight >= this.o.limits.maxConcurrent) throw new HttpError(503, 'too many requests in progress', {}, { 'retry-after': '1' });
        this.inFlight++;
        counted = true;
      }
      const body = c.route.body ? await this.readBody(req) : undefined;
      if (!c.route.body && method !== 'GET' && Number(req.headers['content-length'] ?? 0) > 0) throw new HttpError(413, `${method} ${c.route.path} takes no body`);
      const r: Req = { method, path, query: url.searchParams, params, body, caller, raw: req, res };
      if (c.route.stream) {
        this.streams++;
        res.once('close', () => { this.streams--; });
      }
      const reply = await c.route.handler(r);
      note = r.note ?? '';
      if (reply !== 'streamed') this.send(res, reply);
    } catch (e) {
      if (e instanceof HttpError) {
        this.send(res, { status: e.status, body: { error: { status: e.status, message: e.message, ...e.extra } }, headers: e.headers });
      } else {
        this.o.log(`kanri serve: internal error on ${method} ${path}: ${(e as Error)?.stack ?? String(e)}`);
        this.send(res, { status: 500, body: { error: { status: 500, message: 'internal error' } } });
      }
    }
  }
}
