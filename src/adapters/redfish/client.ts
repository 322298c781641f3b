// HTTPS to one Redfish controller (node:https): one keep-alive agent per controller whose
// connections are handed to requests only after the certificate was judged (trust.ts),
// a per-request timeout inside an overall deadline, and bounded retries on 503 (after
// its Retry-After, when that fits the deadline) and on connections that failed or were
// reset. A POST is retried only when it cannot have reached the controller.
import { PEER_BYTES } from '../../util/peer-answer.js';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { DriverError } from '../types.js';
import { judge, type Trust } from './trust.js';
import { wait } from '../../util/wait.js';

export interface Endpoint {
  machine: string;
  host: string;
  port: number;
  trust: Trust;
}

export interface Limits {
  /** Absolute time (ms since the epoch) by which everything of the call is done. */
  deadline: number;
  /** Longest wait for one request's answer, ms. */
  requestTimeoutMs: number;
  retries: number;
  signal: AbortSignal;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Requests sent for this reply (retries included). */
  attempts: number;
}

/** One answer's size; answers being read count against the process's PEER_BYTES too. */
const MAX_BODY = 8 << 20;

export const whereOf = (ep: Endpoint): string => `${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;

/** A failure before the request was written: safe to repeat, whatever the method. */
class NotSent extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

interface ConnectOptions { kanriConnectMs?: number }

/** Connections are given to requests only once their certificate is trusted. */
class VerifyingAgent extends https.Agent {
  constructor(private readonly ep: Endpoint) {
    super({ keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 4, maxFreeSockets: 4, timeout: 30_000, maxCachedSessions: 0, scheduling: 'lifo' });
  }

  override createConnection(options: https.RequestOptions & ConnectOptions, callback?: (err: Error | null, s: Duplex) => void): Duplex | null | undefined {
    const cb = callback!;
    const ep = this.ep;
    const where = whereOf(ep);
    const limit = Math.max(1, options.kanriConnectMs ?? 10_000);
    // Session resumption would skip the verdict on the certificate: every connection has a full handshake.
    const sock = tls.connect({
      host: ep.host, port: ep.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'],
      ...(isIP(ep.host) ? {} : { servername: ep.host }), secureContext: contextFor(ep.trust.ca?.pem),
    });
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.removeListener('error', onError);
      sock.removeListener('close', onClose);
      if (err) {
        sock.destroy();
        cb(err instanceof DriverError ? err : new NotSent(err), sock);
      } else cb(null, sock);
    };
    const onError = (e: Error): void => settle(e);
    const onClose = (): void => settle(Object.assign(new Error('the connection was closed during the TLS handshake'), { code: 'ECONNRESET' }));
    const timer = setTimeout(() => settle(Object.assign(new Error(`no TLS handshake within ${limit} ms`), { code: 'ETIMEDOUT' })), limit);
    sock.once('secureConnect', () => settle(judge(sock, ep.trust, where, ep.machine)));
    sock.on('error', onError);
    sock.once('close', onClose);
    // The socket reaches the request through the callback, after the verdict.
    return undefined;
  }
}

/**
 * TLS contexts, one per set of trusted CAs: building one parses the whole CA store, which
 * would cost more than the request itself for every controller of a ServerList.
 */
const contexts = new Map<string, tls.SecureContext>();

function contextFor(ca: Buffer | undefined): tls.SecureContext {
  const key = ca ? ca.toString('latin1') : '';
  let c = contexts.get(key);
  if (!c) {
    c = tls.createSecureContext({ minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) });
    contexts.set(key, c);
  }
  return c;
}

const agents = new Map<string, VerifyingAgent>();

function agentFor(ep: Endpoint): VerifyingAgent {
  const key = JSON.stringify([ep.host, ep.port, ep.trust.verify, ep.trust.fingerprint ?? '', ep.trust.ca?.path ?? '', ep.trust.ca?.pem.length ?? 0]);
  let a = agents.get(key);
  if (!a) {
    a = new VerifyingAgent(ep);
    agents.set(key, a);
  }
  return a;
}

/** Closes every kept-alive connection (the driver's close()). */
export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
  contexts.clear();
}


interface Sent { reply?: Omit<Reply, 'attempts'>; error?: Error; reused: boolean }

function sendOnce(ep: Endpoint, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number, signal: AbortSignal): Promise<Sent> {
  return new Promise((resolve) => {
    let done = false;
    let reused = false;
    const finish = (s: Sent): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve({ ...s, reused });
    };
    const opts: https.RequestOptions & ConnectOptions = {
      agent: agentFor(ep), host: ep.host, port: ep.port, method, path,
      headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, kanriConnectMs: timeoutMs,
    };
    const req = https.request(opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let taken = 0;
      const giveBack = (): void => { PEER_BYTES.give(taken); taken = 0; };
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          giveBack();
          req.destroy(new Error(`answer larger than ${MAX_BODY >> 20} MiB`));
          return;
        }
        if (!PEER_BYTES.take(c.length)) {
          giveBack();
          req.destroy(new Error('answers being read from peers exceed the process\'s budget: try again later'));
          return;
        }
        taken += c.length;
        chunks.push(c);
      });
      res.on('end', () => { giveBack(); finish({ reply: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }, reused }); });
      res.on('error', (e) => { giveBack(); finish({ error: e, reused }); });
      res.on('close', giveBack);
    });
    req.on('socket', () => { reused = req.reusedSocket; });
    req.on('error', (e) => finish({ error: e, reused }));
    const timer = setTimeout(() => {
      const e = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      req.destroy(e);
      finish({ error: e, reused });
    }, timeoutMs);
    const onAbort = (): void => {
      req.destroy();
      finish({ error: Object.assign(new Error('canceled'), { code: 'ABORT_ERR' }), reused });
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

const RETRYABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

function codeOf(e: Error): string {
  const inner = e instanceof NotSent ? e.cause : e;
  return (inner as NodeJS.ErrnoException).code ?? (/socket hang up/.test(inner.message) ? 'ECONNRESET' : 'EPROTO');
}

function networkError(ep: Endpoint, e: Error, attempts: number, deadlineHit: boolean): DriverError {
  const code = codeOf(e);
  const inner = e instanceof NotSent ? e.cause : e;
  const detail = deadlineHit
    ? `no answer from ${whereOf(ep)} within the deadline (${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${inner.message})`
    : `${whereOf(ep)}: ${code === 'EPROTO' || inner.message.includes(code) ? inner.message : `${code} ${inner.message}`}`;
  return new DriverError(`${ep.machine}: network error: ${detail}`, { layer: 'network', retryable: true, detail });
}

/** Seconds of a Retry-After header (a number or an HTTP date), as ms; undefined when absent or unreadable. */
export function retryAfterMs(h: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

/**
 * One request with retries inside the deadline. Returns every HTTP answer (the caller
 * decides what a status means) except a 503 that outlasts the retries or the deadline.
 */
export async function send(ep: Endpoint, lim: Limits, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  const idempotent = method !== 'POST' && method !== 'PATCH';
  for (let attempt = 1; ; attempt++) {
    const remaining = lim.deadline - Date.now();
    if (remaining <= 0) {
      throw networkError(ep, Object.assign(new Error('deadline reached'), { code: 'ETIMEDOUT' }), attempt - 1, true);
    }
    const timeoutMs = Math.min(lim.requestTimeoutMs, remaining);
    const r = await sendOnce(ep, method, path, headers, body, timeoutMs, lim.signal);
    if (r.error) {
      if (r.error instanceof DriverError) throw r.error;
      if (lim.signal.aborted || codeOf(r.error) === 'ABORT_ERR') {
        throw new DriverError(`${ep.machine}: canceled`, { layer: 'network', aborted: true, detail: 'canceled' });
      }
      const code = codeOf(r.error);
      const safe = idempotent || r.error instanceof NotSent || code === 'ECONNREFUSED' || (code === 'ECONNRESET' && r.reused);
      const hitDeadline = Date.now() >= lim.deadline - 1;
      if (!RETRYABLE.has(code) || !safe || attempt > lim.retries || hitDeadline) throw networkError(ep, r.error, attempt, hitDeadline && code === 'ETIMEDOUT');
      // A stale kept-alive connection is retried at once; anything else after a short pause.
      if (!(code === 'ECONNRESET' && r.reused)) await wait(Math.min(100 * 2 ** (attempt - 1), Math.max(0, lim.deadline - Date.now())), lim.signal).catch(() => undefined);
      continue;
    }
    const reply = r.reply!;
    if (reply.status === 503 && attempt <= lim.retries) {
      const pause = retryAfterMs(reply.headers['retry-after']) ?? 200 * 2 ** (attempt - 1);
      if (Date.now() + pause < lim.deadline) {
        await wait(pause, lim.signal).catch(() => undefined);
        continue;
      }
    }
    return { ...reply, attempts: attempt };
  }
}
