// RMCP+ session: discovery (Get Channel Authentication Capabilities, Get Channel Cipher
// Suites), Open Session, RAKP 1–4, privilege negotiation, authenticated/encrypted
// commands, and a Close Session that is sent on every way out.
import { createHash } from 'node:crypto';
import {
  additionalKey, authHash, random, CIPHER_SUITES, isSupportedSuite, rakp2AuthCode, rakp3AuthCode, rakp4Icv,
  safeEqual, sessionIntegrityKey, userKey, type CipherSuite, type RakpParams,
} from './crypto.js';
import { completionCodeText, hex, IpmiError, rakpStatusLayer, rakpStatusText } from './errors.js';
import {
  decodeIpmiResponse, decodePacket, encodeIpmiRequest, encodeV15Packet, encodeV20Packet, openV20Payload,
  PAYLOAD_IPMI, PAYLOAD_OPEN_SESSION_REQ, PAYLOAD_OPEN_SESSION_RSP, PAYLOAD_RAKP1, PAYLOAD_RAKP2, PAYLOAD_RAKP3,
  PAYLOAD_RAKP4, type IpmiResponse, type SessionKeys,
} from './rmcp.js';
import { resolveHost, sharedTransport, type Transport } from './transport.js';
import { TtlCache } from '../util/cache.js';

export type Privilege = 'callback' | 'user' | 'operator' | 'administrator';
export const PRIVILEGE_LEVEL: Record<Privilege, number> = { callback: 1, user: 2, operator: 3, administrator: 4 };
const PRIVILEGE_NAME: Record<number, string> = { 1: 'CALLBACK', 2: 'USER', 3: 'OPERATOR', 4: 'ADMINISTRATOR', 5: 'OEM', 15: 'NO ACCESS' };
export function privilegeName(level: number): string {
  return PRIVILEGE_NAME[level] ?? `level ${level}`;
}

/** One BMC and how to log in to it. */
export interface BmcTarget {
  host: string;
  port?: number;
  user: string;
  /** Never logged, never part of an error message. */
  password: Buffer | string;
  /** BMC key (K_G) for two-key logins; Kuid is used when absent. */
  kg?: Buffer;
  /** Cipher suite to use; 'auto' (default) probes the BMC once and remembers the answer. */
  cipherSuite?: number | 'auto';
  /** Optional display name used by fan-out results. */
  name?: string;
}

export interface SessionOptions {
  /** Per-request timeout before a retransmission, ms (default 1000). */
  timeoutMs?: number;
  /** Retransmissions per request after the first attempt (default 2). */
  retries?: number;
  /** Deadline for everything done with this BMC in one call, ms from now (default 10000). */
  deadlineMs?: number;
  /** Absolute deadline (Date.now() based); wins over deadlineMs. */
  deadline?: number;
  signal?: AbortSignal;
  transport?: Transport;
  /** Privilege the session needs (default 'administrator'). */
  privilege?: Privilege;
  /** Cipher suite preference for 'auto' (default [17, 3, 16, 2, 15, 1]). */
  cipherPreference?: number[];
  /**
   * 'name-only' (default, like ipmitool and FreeIPMI) or 'name-and-role' (the BMC looks the
   * user up by name and requested privilege).
   */
  lookup?: 'name-only' | 'name-and-role';
  /**
   * After raising the session privilege, read the account's channel privilege limit and
   * refuse when it is below the requested level (default true). Some BMCs (OpenIPMI's
   * simulator among them) grant whatever role is asked for in a name-only lookup.
   */
  verifyPrivilege?: boolean;
  /**
   * The call only reads (power status): a long-running process that keeps sessions warm
   * (keepSessionsWarm) may run it in a session left open by an earlier call, and on a
   * failure there runs it again in a new session. Never set for a change.
   */
  warm?: boolean;
}

export interface ProbeResult {
  host: string;
  port: number;
  /** IPMI 2.0 / RMCP+ supported according to Get Channel Authentication Capabilities. */
  ipmi20: boolean;
  ipmi15: boolean;
  /** Cipher suite IDs the BMC lists (all of them, also those this driver does not implement). */
  offeredSuites: number[];
  /** The suite this driver will use, or undefined when none is usable. */
  chosen?: number;
  /** Channel number that answered. */
  channel: number;
  probedAt: string;
}

const DEFAULT_PREFERENCE = [17, 3, 16, 2, 15, 1];
/** What each BMC offers: asked again after ten minutes, or at once when the remembered suite is refused. */
const probeCache = new TtlCache<string, ProbeResult>(10 * 60_000);

/** Remembered probe results, so a caller can persist them (e.g. into the server registry). */
export function rememberedProbe(host: string, port = 623): ProbeResult | undefined {
  return probeCache.get(`${host}:${port}`);
}
export function rememberProbe(p: ProbeResult): void {
  probeCache.set(`${p.host}:${p.port}`, p);
}
export function forgetProbes(): void {
  probeCache.clear();
}

let nextConsoleSid = (random(4).readUInt32LE(0) & 0x7fffffff) | 1;
function newConsoleSid(): number {
  nextConsoleSid = (nextConsoleSid + 1) >>> 0;
  if (nextConsoleSid === 0) nextConsoleSid = 1;
  return nextConsoleSid;
}

interface Ctx {
  host: string;
  port: number;
  transport: Transport;
  timeoutMs: number;
  retries: number;
  deadline: number;
  signal?: AbortSignal;
}

function ctxFrom(host: string, port: number, o: SessionOptions): Ctx {
  const c: Ctx = {
    host, port,
    transport: o.transport ?? sharedTransport(),
    timeoutMs: o.timeoutMs ?? 1000,
    retries: o.retries ?? 2,
    deadline: o.deadline ?? Date.now() + (o.deadlineMs ?? 10_000),
  };
  if (o.signal) c.signal = o.signal;
  return c;
}

let preSessionSeq = 0;

/** A sessionless IPMI 1.5 request (only discovery commands are allowed outside a session). */
async function sessionless(c: Ctx, netFn: number, cmd: number, data: Buffer, step: string): Promise<IpmiResponse> {
  const rqSeq = (preSessionSeq = (preSessionSeq + 1) & 0x3f);
  const packet = encodeV15Packet(encodeIpmiRequest({ netFn, cmd, data, rqSeq }));
  const r = await c.transport.exchange({
    host: c.host, port: c.port, timeoutMs: c.timeoutMs, retries: c.retries, deadline: c.deadline, signal: c.signal, step,
    build: () => packet,
    match: (d) => {
      const p = decodePacket(d);
      if (!p || p.kind !== 'v15' || p.sessionId !== 0) return undefined;
      const m = decodeIpmiResponse(p.message);
      if (!m || m.netFn !== netFn + 1 || m.cmd !== cmd || m.rqSeq !== rqSeq) return undefined;
      return m;
    },
  });
  return r.value;
}

/** Cipher suite records from Get Channel Cipher Suites (IPMI 2.0 §22.15). */
export function parseCipherSuiteRecords(records: Buffer): number[] {
  const ids: number[] = [];
  let i = 0;
  while (i < records.length) {
    const tag = records.readUInt8(i);
    if (tag === 0xc0 && i + 1 < records.length) {
      ids.push(records.readUInt8(i + 1));
      i += 2;
    } else if (tag === 0xc1 && i + 1 < records.length) {
      ids.push(records.readUInt8(i + 1));
      i += 5; // OEM: suite id + 3-byte IANA
    } else {
      i += 1; // algorithm bytes
    }
  }
  return ids;
}

/**
 * Asks the BMC what it supports, without logging in. Costs 2–3 round trips; the result is
 * remembered per host:port and returned so the caller can store the chosen suite.
 */
export async function probe(target: Pick<BmcTarget, 'host' | 'port'>, o: SessionOptions = {}): Promise<ProbeResult> {
  const port = target.port ?? 623;
  const host = await resolveHost(target.host, o.signal);
  const c = ctxFrom(host, port, o);
  const caps = await sessionless(c, 0x06, 0x38, Buffer.from([0x8e, PRIVILEGE_LEVEL[o.privilege ?? 'administrator']]), 'Get Channel Authentication Capabilities');
  let ipmi20 = false, ipmi15 = true, channel = 0;
  if (caps.cc === 0 && caps.data.length >= 4) {
    channel = caps.data.readUInt8(0);
    const ext = (caps.data.readUInt8(1) & 0x80) !== 0;
    if (ext && caps.data.length >= 4) {
      const v = caps.data.readUInt8(3);
      ipmi20 = (v & 0x02) !== 0;
      ipmi15 = (v & 0x01) !== 0;
    }
  } else if (caps.cc !== 0) {
    // Old BMCs reject the "IPMI 2.0 extended data" bit; they are IPMI 1.5 only.
    ipmi20 = false;
  }
  const offered: number[] = [];
  if (ipmi20) {
    let records = Buffer.alloc(0);
    for (let index = 0; index < 0x40; index++) {
      const r = await sessionless(c, 0x06, 0x54, Buffer.from([0x0e, 0x00, 0x80 | index]), 'Get Channel Cipher Suites');
      if (r.cc !== 0 || r.data.length < 1) break;
      const chunk = r.data.subarray(1);
      records = Buffer.concat([records, chunk]);
      if (chunk.length < 16) break;
    }
    offered.push(...parseCipherSuiteRecords(records));
  }
  const pref = o.cipherPreference ?? DEFAULT_PREFERENCE;
  const chosen = pref.find((s) => offered.includes(s) && isSupportedSuite(s));
  const result: ProbeResult = { host: target.host, port, ipmi20, ipmi15, offeredSuites: offered, channel, probedAt: new Date().toISOString() };
  if (chosen !== undefined) result.chosen = chosen;
  rememberProbe(result);
  return result;
}

export interface CommandOptions {
  /** Completion codes that are returned instead of thrown (0 is always fine). */
  allow?: number[];
  /** Command-specific meanings of completion codes for the error text. */
  codes?: Record<number, string>;
  step?: string;
  /** Override the per-request timeout (e.g. a slow SEL clear). */
  timeoutMs?: number;
  /** Override the retransmission count (0 for non-idempotent commands). */
  retries?: number;
}

export class Session {
  readonly host: string;
  readonly port: number;
  readonly suite: CipherSuite;
  readonly consoleSid: number;
  private bmcSid = 0;
  private keys: SessionKeys;
  private outSeq = 0;
  private rqSeq = 0;
  private maxInSeq = 0;
  private closed = false;
  /** Message tag of the handshake; set once the BMC has allocated a session for us. */
  private setupTag: number | undefined;
  private active = false;
  /** Datagrams sent for requests in this session, retransmissions included. */
  sent = 0;
  /** Privilege level the session operates at. */
  privilege = 2;
  /** The BMC's user ID and channel, when the privilege check read them. */
  userId?: number;
  channel?: number;

  private constructor(private readonly c: Ctx, suite: CipherSuite, readonly target: BmcTarget) {
    this.host = c.host;
    this.port = c.port;
    this.suite = suite;
    this.consoleSid = newConsoleSid();
    this.keys = { integrity: 0, confidentiality: 0 };
  }

  get deadline(): number {
    return this.c.deadline;
  }

  /** A warm session taken up by a new call: that call's limits and cancel signal from now on. */
  rebind(o: SessionOptions, deadline: number): void {
    this.c.deadline = deadline;
    // What the new call sent is counted from zero (the attempts dscli --json reports).
    this.sent = 0;
    this.c.timeoutMs = o.timeoutMs ?? 1000;
    this.c.retries = o.retries ?? 2;
    if (o.signal) this.c.signal = o.signal;
    else delete this.c.signal;
  }

  private err(layer: ConstructorParameters<typeof IpmiError>[0], msg: string, extra: Partial<ConstructorParameters<typeof IpmiError>[2]> = {}): IpmiError {
    return new IpmiError(layer, msg, { host: this.target.host, port: this.port, ...extra });
  }

  /**
   * Opens an authenticated session. On failure after the BMC allocated a session, the
   * half-open session is released (RAKP3 with an error status, or Close Session).
   */
  static async open(target: BmcTarget, o: SessionOptions = {}): Promise<Session> {
    const port = target.port ?? 623;
    const host = await resolveHost(target.host, o.signal);
    const c = ctxFrom(host, port, o);
    const want = PRIVILEGE_LEVEL[o.privilege ?? 'administrator'];
    let suiteId: number;
    const requested = target.cipherSuite ?? 'auto';
    if (requested === 'auto') {
      const known = rememberedProbe(target.host, port) ?? (await probe(target, { ...o, deadline: c.deadline }));
      if (!known.ipmi20) {
        throw new IpmiError('cipher', 'the BMC does not offer IPMI 2.0 / RMCP+ (IPMI 1.5 sessions are not implemented)', { host: target.host, port, offeredSuites: [] });
      }
      if (known.chosen === undefined) {
        throw new IpmiError('cipher', `BMC offers cipher suites ${fmtSuites(known.offeredSuites)}; none of ${fmtSuites(o.cipherPreference ?? DEFAULT_PREFERENCE)} is among them`, { host: target.host, port, offeredSuites: known.offeredSuites });
      }
      suiteId = known.chosen;
    } else {
      suiteId = requested;
    }
    const suite = CIPHER_SUITES[suiteId];
    if (!suite) throw new IpmiError('cipher', `cipher suite ${suiteId} is not implemented (use one of ${Object.keys(CIPHER_SUITES).join(', ')})`, { host: target.host, port });
    for (let round = 0; ; round++) {
      const s = new Session(c, suite, target);
      try {
        await s.handshake(want, o.lookup ?? 'name-only');
        if (want > 2) await s.raisePrivilege(want, o.verifyPrivilege ?? true);
        return s;
      } catch (e) {
        await s.close().catch(() => undefined);
        // A remembered probe that no longer holds (BMC firmware changed) is dropped so the
        // next call probes again.
        if (requested === 'auto' && e instanceof IpmiError && e.layer === 'cipher') probeCache.delete(`${target.host}:${port}`);
        // BMCs ignore a repeated RAKP 1 or RAKP 3 once they moved on, so a lost RAKP 2/4
        // cannot be fixed by retransmitting: start over once with a fresh session, if
        // there is time left for it.
        const retryable = e instanceof IpmiError && e.layer === 'network' && !e.aborted && (e.step === 'RAKP 1' || e.step === 'RAKP 3');
        if (!retryable || round >= 1 || c.deadline - Date.now() < 3 * c.timeoutMs) throw e;
      }
    }
  }

  private async handshake(want: number, lookup: 'name-only' | 'name-and-role'): Promise<void> {
    const c = this.c;
    const hash = authHash(this.suite.auth);
    const tag = random(1).readUInt8(0);
    // Open Session Request (IPMI 2.0 §13.17)
    const req = Buffer.alloc(32);
    req[0] = tag;
    req[1] = want;
    req.writeUInt32LE(this.consoleSid, 4);
    req.set([0x00, 0, 0, 0x08, this.suite.auth, 0, 0, 0], 8);
    req.set([0x01, 0, 0, 0x08, this.suite.integrity, 0, 0, 0], 16);
    req.set([0x02, 0, 0, 0x08, this.suite.confidentiality, 0, 0, 0], 24);
    const openPacket = encodeV20Packet({ payloadType: PAYLOAD_OPEN_SESSION_REQ, sessionId: 0, seq: 0, payload: req });
    const rsp = await this.setup(PAYLOAD_OPEN_SESSION_RSP, tag, 'Open Session', () => openPacket);
    const status = rsp.readUInt8(1);
    if (status !== 0) {
      const layer = rakpStatusLayer(status);
      if (layer === 'cipher') {
        const offered = await this.offeredSuites();
        throw this.err('cipher', `cipher suite ${this.suite.id} refused (${rakpStatusText(status)}); BMC offers ${fmtSuites(offered)}`, { code: status, codeText: rakpStatusText(status), offeredSuites: offered, step: 'Open Session' });
      }
      throw this.err(layer, `Open Session refused: ${rakpStatusText(status)}`, { code: status, codeText: rakpStatusText(status), step: 'Open Session' });
    }
    if (rsp.length < 36) throw this.err('protocol', 'Open Session response too short', { step: 'Open Session' });
    this.bmcSid = rsp.readUInt32LE(8);
    this.setupTag = tag;
    if (rsp.readUInt8(16) !== this.suite.auth || rsp.readUInt8(24) !== this.suite.integrity || rsp.readUInt8(32) !== this.suite.confidentiality) {
      throw this.err('cipher', `BMC answered with different algorithms than cipher suite ${this.suite.id}`, { step: 'Open Session' });
    }

    // RAKP 1 / 2
    const user = Buffer.from(this.target.user, 'utf8');
    if (user.length > 16) throw this.err('authentication', 'user name longer than 16 bytes', { step: 'RAKP 1' });
    const rm = random(16);
    const role = want | (lookup === 'name-only' ? 0x10 : 0);
    const r1 = Buffer.alloc(28 + user.length);
    r1[0] = tag;
    r1.writeUInt32LE(this.bmcSid, 4);
    rm.copy(r1, 8);
    r1[24] = role;
    r1[27] = user.length;
    user.copy(r1, 28);
    const r1Packet = encodeV20Packet({ payloadType: PAYLOAD_RAKP1, sessionId: 0, seq: 0, payload: r1 });
    const r2 = await this.setup(PAYLOAD_RAKP2, tag, 'RAKP 1', () => r1Packet);
    const st2 = r2.readUInt8(1);
    if (st2 !== 0) {
      const layer = rakpStatusLayer(st2);
      const hint = st2 === 0x0d ? ` (user '${this.target.user}' unknown${lookup === 'name-and-role' ? ' or not at the requested privilege' : ''})` : '';
      throw this.err(layer, `RAKP 2 status: ${rakpStatusText(st2)}${hint}`, { code: st2, codeText: rakpStatusText(st2), step: 'RAKP 2' });
    }
    const hlen = hash === 'sha1' ? 20 : 32;
    if (r2.length < 40 + hlen) throw this.err('protocol', 'RAKP 2 too short', { step: 'RAKP 2' });
    const params: RakpParams = {
      consoleSid: this.consoleSid, bmcSid: this.bmcSid, consoleRandom: rm, bmcRandom: Buffer.from(r2.subarray(8, 24)),
      bmcGuid: Buffer.from(r2.subarray(24, 40)), role, user,
    };
    let kuid: Buffer;
    try {
      kuid = userKey(this.target.password);
    } catch {
      throw this.err('authentication', 'password longer than 20 bytes', { step: 'RAKP 1' });
    }
    if (!safeEqual(rakp2AuthCode(hash, kuid, params), r2.subarray(40, 40 + hlen))) {
      // Tell the BMC to drop the half-open session instead of letting it time out.
      const r3bad = Buffer.alloc(8);
      r3bad[0] = tag;
      r3bad[1] = 0x0f;
      r3bad.writeUInt32LE(this.bmcSid, 4);
      await c.transport.sendOnly(c.host, c.port, encodeV20Packet({ payloadType: PAYLOAD_RAKP3, sessionId: 0, seq: 0, payload: r3bad })).catch(() => undefined);
      this.closed = true;
      throw this.err('authentication', `wrong password for user '${this.target.user}' (RAKP 2 key exchange code does not match; or the answer was altered on the way)`, { step: 'RAKP 2', code: 0x0f, codeText: rakpStatusText(0x0f) });
    }
    const sik = sessionIntegrityKey(hash, this.target.kg ?? kuid, params);

    // RAKP 3 / 4
    const code3 = rakp3AuthCode(hash, kuid, params);
    const r3 = Buffer.alloc(8 + code3.length);
    r3[0] = tag;
    r3.writeUInt32LE(this.bmcSid, 4);
    code3.copy(r3, 8);
    const r3Packet = encodeV20Packet({ payloadType: PAYLOAD_RAKP3, sessionId: 0, seq: 0, payload: r3 });
    const r4 = await this.setup(PAYLOAD_RAKP4, tag, 'RAKP 3', () => r3Packet);
    const st4 = r4.readUInt8(1);
    if (st4 !== 0) {
      const layer = st4 === 0x0f ? 'authentication' : rakpStatusLayer(st4);
      const hint = st4 === 0x0f && this.target.kg ? ' (check the BMC key K_G)' : '';
      throw this.err(layer, `RAKP 4 status: ${rakpStatusText(st4)}${hint}`, { code: st4, codeText: rakpStatusText(st4), step: 'RAKP 4' });
    }
    const icv = rakp4Icv(hash, sik, params);
    if (r4.length < 8 + icv.length || !safeEqual(icv, r4.subarray(8, 8 + icv.length))) {
      this.active = true; // the BMC considers the session open: close it
      throw this.err('authentication', 'RAKP 4 integrity check value does not match (BMC key K_G or BMC implementation mismatch)', { step: 'RAKP 4' });
    }
    this.keys = {
      integrity: this.suite.integrity,
      confidentiality: this.suite.confidentiality,
      k1: additionalKey(hash, sik, 1),
      k2: additionalKey(hash, sik, 2),
    };
    this.active = true;
  }

  /** One session-setup exchange; answers carry our tag and our session ID. */
  private async setup(payloadType: number, tag: number, step: string, build: () => Buffer): Promise<Buffer> {
    const c = this.c;
    const r = await c.transport.exchange({
      host: c.host, port: c.port, timeoutMs: c.timeoutMs, retries: c.retries, deadline: c.deadline, signal: c.signal, step,
      build,
      match: (d) => {
        const p = decodePacket(d);
        if (!p || p.kind !== 'v20' || p.payloadType !== payloadType || p.sessionId !== 0) return undefined;
        const b = p.payload;
        if (b.length < 2 || b[0] !== tag) return undefined;
        // Error answers may be only two bytes long; they cannot carry our session ID.
        if (b.length >= 8 && b[1] === 0 && b.readUInt32LE(4) !== this.consoleSid) return undefined;
        return b;
      },
    });
    return r.value;
  }

  private async offeredSuites(): Promise<number[]> {
    try {
      const p = await probe({ host: this.c.host, port: this.port }, { transport: this.c.transport, timeoutMs: this.c.timeoutMs, retries: this.c.retries, deadline: this.c.deadline, ...(this.c.signal ? { signal: this.c.signal } : {}) });
      return p.offeredSuites;
    } catch {
      return [];
    }
  }

  private async raisePrivilege(want: number, verify: boolean): Promise<void> {
    const r = await this.request(0x06, 0x3b, Buffer.from([want]), { allow: [0x80, 0x81, 0x82, 0xd4], step: 'Set Session Privilege Level' });
    if (r.cc !== 0) {
      throw this.err('privilege', `${privilegeName(want)} privilege refused for user '${this.target.user}' (${completionCodeText(r.cc, SET_PRIV_CODES)})`, { code: r.cc, codeText: completionCodeText(r.cc, SET_PRIV_CODES), step: 'Set Session Privilege Level' });
    }
    this.privilege = r.data.length >= 1 ? r.data.readUInt8(0) & 0x0f : want;
    if (!verify) return;
    // Get Session Info for the current session: user ID and channel.
    const si = await this.request(0x06, 0x3d, Buffer.from([0x00]), { allow: ALL_CODES, step: 'Get Session Info' });
    if (si.cc !== 0 || si.data.length < 6) return;
    const userId = si.data.readUInt8(3) & 0x3f;
    const channel = si.data.readUInt8(5) & 0x0f;
    this.userId = userId;
    this.channel = channel;
    const ua = await this.request(0x06, 0x44, Buffer.from([channel, userId]), { allow: ALL_CODES, step: 'Get User Access' });
    if (ua.cc !== 0 || ua.data.length < 4) return;
    const limit = ua.data.readUInt8(3) & 0x0f;
    if (limit === 0x0f || limit < want) {
      throw this.err('privilege', `user '${this.target.user}' is limited to ${privilegeName(limit)} on channel ${channel}; ${privilegeName(want)} is needed`, { code: limit, codeText: `channel privilege limit ${privilegeName(limit)}`, step: 'Get User Access' });
    }
  }

  /** Sends one IPMI request inside the session; returns the response whatever its completion code. */
  async raw(netFn: number, cmd: number, data: Buffer = Buffer.alloc(0), o: Pick<CommandOptions, 'step' | 'timeoutMs' | 'retries'> = {}): Promise<IpmiResponse> {
    if (this.closed) throw this.err('protocol', 'session already closed', { step: o.step ?? cmdName(netFn, cmd) });
    const c = this.c;
    const rqSeq = (this.rqSeq = (this.rqSeq + 1) & 0x3f);
    const msg = encodeIpmiRequest({ netFn, cmd, data, rqSeq });
    const r = await c.transport.exchange({
      host: c.host, port: c.port, timeoutMs: o.timeoutMs ?? c.timeoutMs, retries: o.retries ?? c.retries, deadline: c.deadline, signal: c.signal,
      step: o.step ?? cmdName(netFn, cmd),
      build: () => {
        this.outSeq = (this.outSeq + 1) >>> 0 || 1;
        return encodeV20Packet({ payloadType: PAYLOAD_IPMI, sessionId: this.bmcSid, seq: this.outSeq, payload: msg, keys: this.keys });
      },
      match: (d) => this.matchResponse(d, netFn, cmd, rqSeq),
    });
    this.sent += r.attempts;
    return r.value;
  }

  private matchResponse(d: Buffer, netFn: number, cmd: number, rqSeq: number): IpmiResponse | undefined {
    const p = decodePacket(d);
    if (!p || p.kind !== 'v20' || p.payloadType !== PAYLOAD_IPMI || p.sessionId !== this.consoleSid) return undefined;
    // Replay guard: a sliding window like the BMC's own (IPMI 2.0 §6.12.13).
    if (p.seq !== 0 && this.maxInSeq !== 0 && p.seq + 16 <= this.maxInSeq) return undefined;
    const plain = openV20Payload(p, this.keys);
    if (!plain) return undefined;
    const m = decodeIpmiResponse(plain);
    if (!m || m.netFn !== netFn + 1 || m.cmd !== cmd || m.rqSeq !== rqSeq) return undefined;
    if (p.seq > this.maxInSeq) this.maxInSeq = p.seq;
    return m;
  }

  /** Sends a request and throws a 'completion-code' error for a non-zero code not in `allow`. */
  async request(netFn: number, cmd: number, data: Buffer = Buffer.alloc(0), o: CommandOptions = {}): Promise<IpmiResponse> {
    const step = o.step ?? cmdName(netFn, cmd);
    const r = await this.raw(netFn, cmd, data, o);
    if (r.cc !== 0 && !(o.allow ?? []).includes(r.cc)) {
      const text = completionCodeText(r.cc, o.codes);
      const layer = r.cc === 0xd4 ? 'privilege' : 'completion-code';
      throw this.err(layer, `${step}: completion code ${hex(r.cc)} (${text})`, { code: r.cc, codeText: text, step });
    }
    return r;
  }

  // ---- other payloads of this session (Serial over LAN, ipmi/sol.ts) ----

  get transport(): Transport {
    return this.c.transport;
  }

  /** A long-lived session (a console) gives each later exchange a fresh budget of `ms`. */
  renewDeadline(ms: number): void {
    this.c.deadline = Date.now() + ms;
  }

  /** `payload` of type `payloadType` as this session's next datagram, sealed with its keys. */
  seal(payloadType: number, payload: Buffer): Buffer {
    this.outSeq = (this.outSeq + 1) >>> 0 || 1;
    return encodeV20Packet({ payloadType, sessionId: this.bmcSid, seq: this.outSeq, payload, keys: this.keys });
  }

  /** The checked, decrypted payload of a datagram of this session and type; undefined for anything else. */
  unseal(d: Buffer, payloadType: number): Buffer | undefined {
    const p = decodePacket(d);
    if (!p || p.kind !== 'v20' || p.payloadType !== payloadType || p.sessionId !== this.consoleSid) return undefined;
    // The same replay window as for responses: an old packet recorded and sent again is dropped.
    if (p.seq !== 0 && this.maxInSeq !== 0 && p.seq + 16 <= this.maxInSeq) return undefined;
    const plain = openV20Payload(p, this.keys);
    if (plain && p.seq > this.maxInSeq) this.maxInSeq = p.seq;
    return plain;
  }

  /**
   * Closes the session. Close Session is always sent when the BMC holds a session for us,
   * also after a deadline or a cancel, with its own short budget (one retransmission).
   * Resolves once the BMC confirmed or the budget ran out; never throws.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (!this.active) {
      // Half-open (Open Session done, RAKP not finished): a RAKP 3 with an error status
      // tells the BMC to free the session now rather than after its idle timeout.
      if (this.setupTag !== undefined && this.bmcSid !== 0) {
        const r3 = Buffer.alloc(8);
        r3[0] = this.setupTag;
        r3[1] = 0x12;
        r3.writeUInt32LE(this.bmcSid, 4);
        return this.c.transport.sendOnly(this.c.host, this.c.port, encodeV20Packet({ payloadType: PAYLOAD_RAKP3, sessionId: 0, seq: 0, payload: r3 })).catch(() => undefined);
      }
      return Promise.resolve();
    }
    const c = this.c;
    const rqSeq = (this.rqSeq = (this.rqSeq + 1) & 0x3f);
    const data = Buffer.alloc(4);
    data.writeUInt32LE(this.bmcSid, 0);
    const msg = encodeIpmiRequest({ netFn: 0x06, cmd: 0x3c, data, rqSeq });
    const packet = (): Buffer => {
      this.outSeq = (this.outSeq + 1) >>> 0 || 1;
      return encodeV20Packet({ payloadType: PAYLOAD_IPMI, sessionId: this.bmcSid, seq: this.outSeq, payload: msg, keys: this.keys });
    };
    // The deadline is the caller's for the whole operation: past it (or canceled) the close
    // is sent without waiting for the answer; the BMC frees the session either way.
    const left = c.deadline - Date.now();
    if (c.signal?.aborted || left < 50) return c.transport.sendOnly(c.host, c.port, packet()).catch(() => undefined);
    const budget = Math.min(c.timeoutMs, 500, left);
    return c.transport.exchange({
      host: c.host, port: c.port, timeoutMs: budget, retries: 1, deadline: Math.min(c.deadline, Date.now() + 2 * budget), step: 'Close Session',
      build: packet,
      match: (d) => this.matchResponse(d, 0x06, 0x3c, rqSeq),
    }).then(() => undefined, () => undefined);
  }
}

const ALL_CODES = Array.from({ length: 256 }, (_, i) => i);
const SET_PRIV_CODES: Record<number, string> = {
  0x80: 'requested level not available for this user',
  0x81: 'requested level exceeds the user or channel privilege limit',
  0x82: 'cannot disable user-level authentication',
};

function fmtSuites(s: number[]): string {
  return s.length ? s.join(', ') : 'none';
}

function cmdName(netFn: number, cmd: number): string {
  return `netFn ${hex(netFn)} cmd ${hex(cmd)}`;
}

// ---- warm sessions ----------------------------------------------------------------------
// A long-running process (kanri serve) keeps the session of a read-only call open for the
// next one on the same BMC with the same login, so that a power status costs one round trip
// instead of the five of a login. An idle session is closed after warmIdleMs.
let warm: Map<string, { s: Session; timer: NodeJS.Timeout }> | undefined;
let warmIdleMs = 20_000;

/** Turns warm sessions on for this process (idle ones are closed after idleMs). */
export function keepSessionsWarm(idleMs = 20_000): void {
  warm ??= new Map();
  warmIdleMs = idleMs;
}

/** Closes every idle warm session (a process that stops). */
export async function closeWarmSessions(): Promise<void> {
  if (!warm) return;
  const all = [...warm.values()];
  warm.clear();
  await Promise.all(all.map((w) => { clearTimeout(w.timer); return w.s.close(); }));
}

function warmKey(host: string, port: number, target: BmcTarget, privilege: Privilege): string {
  // The password takes part as a digest: a changed password never reuses the old login.
  const digest = createHash('sha256').update(typeof target.password === 'string' ? Buffer.from(target.password) : target.password).update(target.kg ?? Buffer.alloc(0)).digest('hex');
  return `${host}:${port}\0${target.user}\0${privilege}\0${target.cipherSuite ?? 'auto'}\0${digest}`;
}

function keepWarm(key: string, s: Session): void {
  const timer = setTimeout(() => {
    if (warm?.get(key)?.s === s) warm.delete(key);
    void s.close();
  }, warmIdleMs);
  timer.unref();
  const old = warm!.get(key);
  if (old) { clearTimeout(old.timer); void old.s.close(); }
  warm!.set(key, { s, timer });
}

/**
 * Runs `fn` with an open session; at most one session per BMC at a time in this process,
 * and the session is closed on every way out.
 */
export async function withSession<T>(target: BmcTarget, o: SessionOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const port = target.port ?? 623;
  const transport = o.transport ?? sharedTransport();
  const deadline = o.deadline ?? Date.now() + (o.deadlineMs ?? 10_000);
  const host = await resolveHost(target.host, o.signal);
  let release: () => void;
  try {
    release = await transport.lock(`${host}:${port}`, o.signal);
  } catch {
    throw new IpmiError('network', 'cancelled while waiting for another operation on this BMC', { host: target.host, port, aborted: true });
  }
  // The caller gets its result as soon as Close Session is on the wire; the BMC stays
  // locked (one session per BMC) until the close is confirmed or its budget runs out.
  let closing: Promise<void> | undefined;
  try {
    if (warm && o.warm) {
      const key = warmKey(host, port, target, o.privilege ?? 'administrator');
      const kept = warm.get(key);
      if (kept) {
        warm.delete(key);
        clearTimeout(kept.timer);
        kept.s.rebind(o, deadline);
        try {
          const r = await fn(kept.s);
          keepWarm(key, kept.s);
          return r;
        } catch {
          // The BMC may have ended the session (its idle timeout, a reset): a new login below.
          closing = kept.s.close();
          if (o.signal?.aborted || Date.now() >= deadline) throw new IpmiError('network', 'cancelled or past the deadline', { host: target.host, port, aborted: !!o.signal?.aborted });
        }
      }
      const s = await Session.open(target, { ...o, transport, deadline });
      const r = await fn(s).catch(async (e: unknown) => { closing = s.close(); throw e; });
      keepWarm(key, s);
      return r;
    }
    const s = await Session.open(target, { ...o, transport, deadline });
    try {
      return await fn(s);
    } finally {
      closing = s.close();
    }
  } finally {
    if (closing) void closing.finally(release);
    else release();
  }
}
