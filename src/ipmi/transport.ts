// One UDP socket for every BMC the process talks to. Datagrams are routed by the remote
// address and port to whoever is waiting on that BMC; the waiter's own matcher checks the
// session ID, payload type and sequence, so a late or foreign packet is simply dropped.
import { createSocket, type Socket } from 'node:dgram';
import { IpmiError } from './errors.js';
import { TtlCache } from '../util/cache.js';

export interface ExchangeOptions<T> {
  host: string;
  port: number;
  /** Builds the datagram for attempt n (0-based): a session packet needs a fresh sequence number each time. */
  build: (attempt: number) => Buffer;
  /** Returns a value for the datagram that answers this request, undefined for anything else. */
  match: (datagram: Buffer) => T | undefined;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Additional attempts after the first. */
  retries: number;
  /** Absolute time (Date.now() based) after which nothing more is sent or awaited. */
  deadline: number;
  signal?: AbortSignal;
  /** Names the exchange in errors, e.g. 'Open Session'. */
  step: string;
}

export interface ExchangeResult<T> {
  value: T;
  attempts: number;
}

/** Whoever waits for datagrams from one BMC: offered each until one takes it. */
interface Waiter {
  match: (d: Buffer) => boolean;
}

export interface TransportStats {
  sent: number;
  received: number;
  /** Datagrams nobody was waiting for (late answers to retransmitted requests, strays). */
  unmatched: number;
}

export class Transport {
  private socket: Socket | undefined;
  private ready: Promise<Socket> | undefined;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Long-lived listeners (a console's SOL packets), asked after the request waiters. */
  private readonly listeners = new Map<string, Set<(d: Buffer) => boolean>>();
  private pending = 0;
  /**
   * Exchanges in flight per cancel signal. A signal gets one listener, however many
   * exchanges it cancels over its life (a session makes five or more): node's EventTarget
   * makes adding and removing a listener cost more than the rest of an exchange's set-up.
   */
  private readonly bySignal = new WeakMap<AbortSignal, Set<{ handleEvent(): void }>>();
  readonly stats: TransportStats = { sent: 0, received: 0, unmatched: 0 };

  constructor(private readonly opts: { bindAddress?: string; bindPort?: number; bufferBytes?: number } = {}) {}

  private open(): Promise<Socket> {
    if (this.ready) return this.ready;
    this.ready = new Promise<Socket>((resolve, reject) => {
      const s = createSocket({
        type: 'udp4', recvBufferSize: this.opts.bufferBytes ?? 4 << 20, sendBufferSize: this.opts.bufferBytes ?? 4 << 20, lookup: addressLookup,
      });
      s.on('message', (msg, rinfo) => this.dispatch(msg, `${rinfo.address}:${rinfo.port}`));
      // An ICMP error on one destination must not take the shared socket down.
      s.on('error', () => undefined);
      s.once('listening', () => {
        this.socket = s;
        this.refresh();
        resolve(s);
      });
      try {
        s.bind(this.opts.bindPort ?? 0, this.opts.bindAddress);
      } catch (e) {
        this.ready = undefined;
        reject(e);
      }
    });
    return this.ready;
  }

  /** The socket only keeps the process alive while something is in flight. */
  private refresh(): void {
    if (!this.socket) return;
    if (this.pending > 0) this.socket.ref();
    else this.socket.unref();
  }

  private dispatch(msg: Buffer, key: string): void {
    this.stats.received++;
    const set = this.waiters.get(key);
    if (set) {
      for (const w of set) {
        if (w.match(msg)) return;
      }
    }
    for (const l of this.listeners.get(key) ?? []) {
      try {
        if (l(msg)) return;
      } catch {
        // A listener's fault must not take the shared socket down.
      }
    }
    this.stats.unmatched++;
  }

  /** Serialises work on one BMC: many BMCs cannot handle several sessions at once. */
  async lock(key: string, signal?: AbortSignal): Promise<() => void> {
    const prev = this.locks.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    // A free BMC (the usual case: one operation per BMC) is taken at once.
    const tail = prev ? prev.then(() => mine) : mine;
    this.locks.set(key, tail);
    const cleanup = () => {
      release();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    };
    if (!prev) return cleanup;
    if (signal) {
      await Promise.race([prev, new Promise<void>((_, rej) => {
        if (signal.aborted) rej(signal.reason);
        signal.addEventListener('abort', () => rej(signal.reason), { once: true });
      })]).catch((e) => {
        // Keep the chain intact for those queued behind us.
        prev.then(cleanup, cleanup);
        throw e;
      });
    } else {
      await prev;
    }
    return cleanup;
  }

  /**
   * Hands every datagram from host:port that no request waits for to `fn` (true: taken)
   * until the returned function is called. Keeps the socket, and so the process, alive.
   */
  async listen(host: string, port: number, fn: (d: Buffer) => boolean): Promise<() => void> {
    await this.open();
    const key = `${host}:${port}`;
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(fn);
    this.pending++;
    this.refresh();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      set!.delete(fn);
      if (set!.size === 0) this.listeners.delete(key);
      this.pending--;
      this.refresh();
    };
  }

  /** Sends without waiting for an answer (Close Session on cancel, RAKP3 with an error status). */
  async sendOnly(host: string, port: number, datagram: Buffer): Promise<void> {
    const s = await this.open();
    await new Promise<void>((resolve) => {
      this.stats.sent++;
      s.send(datagram, port, host, () => resolve());
    });
  }

  /** One request and its answer: one promise, settled by the exchange itself (not an async function around it). */
  exchange<T>(o: ExchangeOptions<T>): Promise<ExchangeResult<T>> {
    const s = this.socket;
    if (!s) return this.open().then(() => this.exchange(o));
    if (o.signal?.aborted) return Promise.reject(new IpmiError('network', `${o.step}: cancelled`, { host: o.host, port: o.port, step: o.step, aborted: true }));
    return new Promise<ExchangeResult<T>>((resolve, reject) => new Exchange(this, s, o, resolve, reject).start());
  }

  /** An exchange starts waiting for datagrams from its BMC (and keeps the process alive meanwhile). */
  wait(key: string, w: Waiter): void {
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    set.add(w);
    if (this.pending++ === 0) this.refresh();
  }

  unwait(key: string, w: Waiter): void {
    const set = this.waiters.get(key);
    if (set?.delete(w) && set.size === 0) this.waiters.delete(key);
    if (--this.pending === 0) this.refresh();
  }

  /** `x.handleEvent()` is called when `signal` aborts, until unwatch. */
  watch(signal: AbortSignal, x: { handleEvent(): void }): void {
    let set = this.bySignal.get(signal);
    if (!set) {
      const watchers = (set = new Set());
      this.bySignal.set(signal, watchers);
      signal.addEventListener('abort', () => {
        for (const w of [...watchers]) w.handleEvent();
      }, { once: true });
    }
    set.add(x);
  }

  unwatch(signal: AbortSignal, x: { handleEvent(): void }): void {
    this.bySignal.get(signal)?.delete(x);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.ready = undefined;
  }
}

/**
 * One request and its retransmissions until a datagram matches, the attempts run out, the
 * deadline passes or the signal aborts. One object per exchange is its waiter, its timer's
 * argument and what its signal's abort reaches: a session makes several exchanges per BMC,
 * and a closure and a promise for each of these roles showed in profiles of large fan-outs.
 */
class Exchange<T> implements Waiter {
  private attempts = 0;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly key: string;

  constructor(
    private readonly t: Transport, private readonly s: Socket, private readonly o: ExchangeOptions<T>,
    private readonly resolve: (r: ExchangeResult<T>) => void, private readonly reject: (e: unknown) => void,
  ) {
    this.key = `${o.host}:${o.port}`;
  }

  start(): void {
    this.t.wait(this.key, this);
    if (this.o.signal) this.t.watch(this.o.signal, this);
    this.attempt();
  }

  /** Ends the exchange once: stops its timer, stops listening, settles the promise. */
  private finish(error: unknown, value?: T): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.o.signal) this.t.unwatch(this.o.signal, this);
    this.t.unwait(this.key, this);
    if (error === undefined) this.resolve({ value: value as T, attempts: this.attempts });
    else this.reject(error);
  }

  private fail(message: string, extra: { attempts?: number; aborted?: boolean } = {}): void {
    const o = this.o;
    this.finish(new IpmiError('network', `${o.step}: ${message}`, { host: o.host, port: o.port, step: o.step, ...extra }));
  }

  match(d: Buffer): boolean {
    if (this.done) return false;
    let v: T | undefined;
    try {
      v = this.o.match(d);
    } catch {
      v = undefined;
    }
    if (v === undefined) return false;
    this.finish(undefined, v);
    return true;
  }

  /** The signal's abort. */
  handleEvent(): void {
    this.fail('cancelled', { aborted: true });
  }

  attempt(): void {
    if (this.done) return;
    const o = this.o;
    const left = o.deadline - Date.now();
    const n = this.attempts;
    if (left <= 0) {
      this.fail(`no answer before the deadline (${n} attempt${n === 1 ? '' : 's'}); check that the BMC is up and reachable on UDP ${o.port}`, { attempts: n });
      return;
    }
    if (n > o.retries) {
      this.fail(`no answer after ${n} attempts of ${o.timeoutMs} ms; check that the BMC is up and reachable on UDP ${o.port}`, { attempts: n });
      return;
    }
    let datagram: Buffer;
    try {
      datagram = o.build(n);
    } catch (e) {
      this.finish(e);
      return;
    }
    this.attempts++;
    this.t.stats.sent++;
    const failed = (err: Error | null): void => {
      if (err) this.fail(`cannot send (${(err as NodeJS.ErrnoException).code ?? err.message})`);
    };
    try {
      this.s.send(datagram, o.port, o.host, failed);
    } catch (e) {
      failed(e as Error); // the socket was closed under us
      return;
    }
    this.timer = setTimeout(retransmit, Math.min(o.timeoutMs, left), this);
  }
}

function retransmit(x: { attempt(): void }): void {
  x.attempt();
}

let shared: Transport | undefined;

/** The process-wide transport: one UDP socket for all BMCs. */
export function sharedTransport(): Transport {
  return (shared ??= new Transport());
}

/** Name → address; an answer is used for a minute, then asked again (a long-running process follows DNS changes). */
const resolved = new TtlCache<string, string>(60_000);

/** A dotted-quad IPv4 address as node:net's isIPv4 accepts it (no leading zeros). */
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * How node:dgram turns a send's destination into an address. Its default, dns.lookup,
 * answers even a literal address on the next tick, so every datagram would wait a turn
 * of the event loop and pay a validation; every destination here is already an address
 * (resolveHost runs once per BMC, before a session), which is handed straight back.
 */
function addressLookup(address: string, family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  if (IPV4.test(address)) cb(null, address, 4);
  else void import('node:dns').then((dns) => dns.lookup(address, { family: 4 }, cb as never), (e: Error) => cb(e, '', 4));
}

/**
 * Routing is by address, so names are resolved up front, not per datagram. An address is
 * recognised here, not with node:net, and the resolver is loaded for a name only: a
 * command that names its BMCs by address loads neither module.
 */
export async function resolveHost(host: string, signal?: AbortSignal, timeoutMs = 5000): Promise<string> {
  if (IPV4.test(host)) return host;
  const hit = resolved.get(host);
  if (hit) return hit;
  // A resolver that never answers must not hang the caller either.
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const { lookup } = await import('node:dns/promises');
    const r = await Promise.race([
      lookup(host, { family: 4 }),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error('ETIMEOUT')), timeoutMs);
        onAbort = () => rej(new Error('cancelled'));
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    resolved.set(host, r.address);
    return r.address;
  } catch (e) {
    throw new IpmiError('network', `cannot resolve host name (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { host, aborted: signal?.aborted ?? false });
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
