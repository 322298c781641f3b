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
  readonly stats: TransportStats = { sent: 0, received: 0, unmatched: 0 };

  constructor(private readonly opts: { bindAddress?: string; bindPort?: number; bufferBytes?: number } = {}) {}

  private open(): Promise<Socket> {
    if (this.ready) return this.ready;
    this.ready = new Promise<Socket>((resolve, reject) => {
      const s = createSocket({ type: 'udp4', recvBufferSize: this.opts.bufferBytes ?? 4 << 20, sendBufferSize: this.opts.bufferBytes ?? 4 << 20 });
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
    const prev = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.locks.set(key, tail);
    const cleanup = () => {
      release();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    };
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

  async exchange<T>(o: ExchangeOptions<T>): Promise<ExchangeResult<T>> {
    const s = this.socket ?? (await this.open());
    const key = `${o.host}:${o.port}`;
    const details = { host: o.host, port: o.port, step: o.step };
    if (o.signal?.aborted) throw new IpmiError('network', `${o.step}: cancelled`, { ...details, aborted: true });
    this.pending++;
    this.refresh();
    let attempts = 0;
    let timer: NodeJS.Timeout | undefined;
    let waiter: Waiter | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await new Promise<ExchangeResult<T>>((resolve, reject) => {
        let done = false;
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          fn();
        };
        waiter = {
          match: (d) => {
            if (done) return false;
            let v: T | undefined;
            try {
              v = o.match(d);
            } catch {
              v = undefined;
            }
            if (v === undefined) return false;
            finish(() => resolve({ value: v as T, attempts }));
            return true;
          },
        };
        let set = this.waiters.get(key);
        if (!set) this.waiters.set(key, (set = new Set()));
        set.add(waiter);
        onAbort = () => finish(() => reject(new IpmiError('network', `${o.step}: cancelled`, { ...details, aborted: true })));
        o.signal?.addEventListener('abort', onAbort, { once: true });
        const attempt = () => {
          if (done) return;
          const left = o.deadline - Date.now();
          if (left <= 0) {
            finish(() => reject(new IpmiError('network', `${o.step}: no answer before the deadline (${attempts} attempt${attempts === 1 ? '' : 's'}); check that the BMC is up and reachable on UDP ${o.port}`, { ...details, attempts })));
            return;
          }
          if (attempts > o.retries) {
            finish(() => reject(new IpmiError('network', `${o.step}: no answer after ${attempts} attempts of ${o.timeoutMs} ms; check that the BMC is up and reachable on UDP ${o.port}`, { ...details, attempts })));
            return;
          }
          let datagram: Buffer;
          try {
            datagram = o.build(attempts);
          } catch (e) {
            finish(() => reject(e));
            return;
          }
          attempts++;
          this.stats.sent++;
          s.send(datagram, o.port, o.host, (err) => {
            if (err) finish(() => reject(new IpmiError('network', `${o.step}: cannot send (${(err as NodeJS.ErrnoException).code ?? err.message})`, details)));
          });
          timer = setTimeout(attempt, Math.min(o.timeoutMs, left));
        };
        attempt();
      });
    } finally {
      if (timer) clearTimeout(timer);
      if (onAbort) o.signal?.removeEventListener('abort', onAbort);
      const set = this.waiters.get(key);
      if (set && waiter) {
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(key);
      }
      this.pending--;
      this.refresh();
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.ready = undefined;
  }
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
