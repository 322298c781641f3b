// SNMP requests through the net-snmp package, as promises with bounded waits: the
// package retransmits (`retries`, each after `timeout`), and a canceled step stops
// waiting at once. One session per switch and credentials, shared by a command's jobs.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { DriverError } from '../types.js';

/** The part of the net-snmp package this driver uses. */
interface Varbind { oid: string; type: number; value: unknown }
interface Session {
  get(oids: string[], cb: (err: Error | null, vbs: Varbind[]) => void): void;
  set(vbs: Varbind[], cb: (err: Error | null, vbs: Varbind[]) => void): void;
  subtree(oid: string, maxRepetitions: number, feed: (vbs: Varbind[]) => boolean | void, done: (err: Error | null) => void): void;
  close(): void;
  on(event: 'error', cb: (err: Error) => void): void;
}
interface NetSnmp {
  createSession(target: string, community: string, options: Record<string, unknown>): Session;
  createV3Session(target: string, user: Record<string, unknown>, options: Record<string, unknown>): Session;
  isVarbindError(vb: Varbind): boolean;
  varbindError(vb: Varbind): string;
  Version2c: number;
  ObjectType: Record<'OctetString' | 'Gauge' | 'Integer' | 'NoSuchObject' | 'NoSuchInstance' | 'EndOfMibView', number>;
  SecurityLevel: Record<'noAuthNoPriv' | 'authNoPriv' | 'authPriv', number>;
  AuthProtocols: Record<string, unknown>;
  PrivProtocols: Record<string, unknown>;
  ErrorStatus: Record<string, number>;
}

const snmp = createRequire(import.meta.url)('net-snmp') as NetSnmp;
export const TYPE = snmp.ObjectType;

export type Credentials =
  | { version: '2c'; community: string }
  | { version: '3'; user: string; authProtocol: string; authKey: string; privProtocol: string; privKey?: string };

/** `kind` names the peer in messages (a switch unless said otherwise). */
export interface Agent { host: string; port: number; timeoutMs: number; retries: number; kind?: string }

/** A value read: an octet string, a number, or absent (noSuchObject / noSuchInstance). */
export type Value = Buffer | number | null;

export class SnmpClient {
  private readonly session: Session;
  readonly where: string;
  private readonly kind: string;

  constructor(readonly agent: Agent, creds: Credentials) {
    this.where = `${agent.host}:${agent.port}`;
    this.kind = agent.kind ?? 'switch';
    const options = { port: agent.port, timeout: agent.timeoutMs, retries: agent.retries, transport: agent.host.includes(':') ? 'udp6' : 'udp4' };
    if (creds.version === '2c') {
      this.session = snmp.createSession(agent.host, creds.community, { ...options, version: snmp.Version2c });
    } else {
      const priv = creds.privProtocol !== 'none';
      this.session = snmp.createV3Session(agent.host, {
        name: creds.user,
        level: priv ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
        authProtocol: snmp.AuthProtocols[creds.authProtocol],
        authKey: creds.authKey,
        ...(priv ? { privProtocol: snmp.PrivProtocols[creds.privProtocol], privKey: creds.privKey } : {}),
      }, options);
    }
    // A socket error fails the requests waiting on it; it must not end the process.
    this.session.on('error', () => undefined);
  }

  private explain(what: string, err: Error & { status?: number; code?: number }): DriverError {
    if (err.name === 'RequestTimedOutError') {
      return new DriverError(`${this.kind} ${this.where} did not answer ${what} (${this.agent.retries + 1} tries, ${this.agent.timeoutMs / 1000} s each)`, { layer: 'network', retryable: true });
    }
    if (err.name === 'ResponseInvalidError' && /auth|key|user|engine|decrypt/i.test(err.message)) {
      return new DriverError(`${this.kind} ${this.where} refused the SNMP credentials: ${err.message}`, { layer: 'authentication' });
    }
    if (err.name === 'RequestFailedError') {
      const name = Object.entries(snmp.ErrorStatus).find(([, v]) => v === err.status)?.[0] ?? String(err.status);
      return new DriverError(`${this.kind} ${this.where} refused ${what}: ${name}`, { layer: /Authorization|NoAccess/.test(name) ? 'privilege' : 'protocol' });
    }
    return new DriverError(`${this.kind} ${this.where}: ${what}: ${err.message}`, { layer: 'network', retryable: true });
  }

  private run<T>(what: string, signal: AbortSignal | undefined, start: (cb: (err: Error | null, v: T) => void) => void): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('canceled'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => { if (!settled) { settled = true; reject(signal?.reason instanceof Error ? signal.reason : new Error('canceled')); } };
      signal?.addEventListener('abort', onAbort, { once: true });
      start((err, v) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        if (err) reject(this.explain(what, err));
        else resolve(v);
      });
    });
  }

  async get(oids: string[], signal?: AbortSignal): Promise<Value[]> {
    const vbs = await this.run<Varbind[]>(`a GET of ${oids.length} object(s)`, signal, (cb) => this.session.get(oids, cb));
    return vbs.map((vb) => {
      if (vb.type === TYPE.NoSuchObject || vb.type === TYPE.NoSuchInstance || vb.type === TYPE.EndOfMibView) return null;
      if (snmp.isVarbindError(vb)) return null;
      return Buffer.isBuffer(vb.value) ? vb.value : typeof vb.value === 'number' ? vb.value : Buffer.from(String(vb.value));
    });
  }

  /** One SET PDU: the agent applies all of its varbinds or none (RFC 3416 §4.2.5). */
  async set(vbs: Varbind[], signal?: AbortSignal): Promise<void> {
    const back = await this.run<Varbind[]>(`a SET of ${vbs.length} object(s)`, signal, (cb) => this.session.set(vbs, cb));
    const bad = back.find((vb) => snmp.isVarbindError(vb));
    if (bad) throw new DriverError(`${this.kind} ${this.where} refused the SET of ${bad.oid}: ${snmp.varbindError(bad)}`, { layer: 'protocol' });
  }

  /** Every object under `oid`, in order. */
  async walk(oid: string, signal?: AbortSignal): Promise<Array<{ oid: string; value: Buffer | number }>> {
    const out: Array<{ oid: string; value: Buffer | number }> = [];
    await this.run<void>(`a walk of ${oid}`, signal, (cb) => this.session.subtree(oid, 20, (vbs) => {
      for (const vb of vbs) if (!snmp.isVarbindError(vb)) out.push({ oid: vb.oid, value: Buffer.isBuffer(vb.value) ? vb.value : (vb.value as number) });
    }, (err) => cb(err, undefined)));
    return out;
  }

  close(): void {
    this.session.close();
  }
}

/** A key for a switch and the credentials used on it, without the credentials in clear. */
export function clientKey(agent: Agent, creds: Credentials): string {
  return `${agent.host}|${agent.port}|${createHash('sha256').update(JSON.stringify(creds)).digest('hex')}`;
}
