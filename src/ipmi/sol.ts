// Serial over LAN (IPMI 2.0 §15, §24): the SOL payload (RMCP+ payload type 1) of an
// RMCP+ session, activated with Activate Payload and released with Deactivate Payload.
// Characters flow both ways in numbered packets (sequence 1–15) that the other side
// acknowledges with the count it accepted; an unacknowledged packet is sent again a
// bounded number of times, a repeated one is acknowledged again but delivered once.
import { IpmiError } from './errors.js';
import { Session, type BmcTarget, type Privilege } from './session.js';

export const PAYLOAD_SOL = 0x01;

// Operation/status byte (byte 4 of a SOL packet, §15.9).
const NACK = 0x40;
const CHARS_UNAVAILABLE = 0x20; // BMC → console
const DEACTIVATING = 0x10; // BMC → console
const GENERATE_BREAK = 0x10; // console → BMC

/** A console → BMC packet carries at most this much, whatever the BMC says it takes. */
const MAX_CHUNK = 255;
/** Characters typed ahead of the BMC are held up to this many bytes; more is refused. */
const MAX_QUEUED = 64 * 1024;

const ACTIVATE_CODES: Record<number, string> = {
  0x80: 'the console (SOL payload) is already active in another session',
  0x81: 'Serial over LAN is disabled on this BMC',
  0x82: 'the BMC cannot activate another SOL session',
  0x83: 'the BMC does not allow SOL with encryption',
  0x84: 'the BMC requires SOL with encryption',
};

export interface SolOptions {
  /** Per-packet timeout before a retransmission, ms (default 1000). */
  timeoutMs?: number;
  /** Retransmissions of an unacknowledged packet (default 4). */
  retries?: number;
  /** Budget of the login and activation, ms (default 10000). */
  deadlineMs?: number;
  /** A session keep-alive (Get Device ID) after this much quiet, ms (default 20000). */
  keepaliveMs?: number;
  privilege?: Privilege;
  signal?: AbortSignal;
}

export interface SolConsole {
  /** Queues characters for the serial port; false when more than MAX_QUEUED wait. */
  write(data: Buffer): boolean;
  /** Sends a serial break. */
  sendBreak(): void;
  /** Deactivates the payload and closes the session; idempotent. */
  close(): Promise<void>;
  /** Resolves when the console ended by itself (BMC gone or deactivated): why. */
  readonly ended: Promise<string>;
  /** What the activation returned. */
  readonly info: { inboundMax: number; outboundMax: number; port: number };
  readonly stats: { sentPackets: number; retransmits: number; receivedPackets: number; duplicates: number };
}

interface Pending { seq: number; data: Buffer; brk: boolean; tries: number; timer?: NodeJS.Timeout }

/**
 * Opens a session at `privilege` (default operator) and activates SOL instance 1. Bytes
 * from the serial port go to `onData` in order, each once.
 */
export async function openSol(target: BmcTarget, o: SolOptions, onData: (b: Buffer) => void): Promise<SolConsole> {
  const timeoutMs = o.timeoutMs ?? 1000;
  const retries = o.retries ?? 4;
  const setupMs = o.deadlineMs ?? 10_000;
  const s = await Session.open(target, { privilege: o.privilege ?? 'operator', timeoutMs, retries: 2, deadlineMs: setupMs, ...(o.signal ? { signal: o.signal } : {}) });
  let aux = 0;
  if (s.suite.confidentiality !== 0) aux |= 0x80;
  if (s.suite.integrity !== 0) aux |= 0x40;
  let r;
  try {
    r = await s.request(0x06, 0x48, Buffer.from([PAYLOAD_SOL, 0x01, aux, 0, 0, 0]), { step: 'Activate Payload', codes: ACTIVATE_CODES, retries: 0 });
  } catch (e) {
    await s.close();
    throw e;
  }
  const port = r.data.length >= 10 ? r.data.readUInt16LE(8) : s.port;
  const info = {
    inboundMax: r.data.length >= 6 ? r.data.readUInt16LE(4) : MAX_CHUNK,
    outboundMax: r.data.length >= 8 ? r.data.readUInt16LE(6) : MAX_CHUNK,
    port,
  };
  // A BMC names the UDP port of its own view; behind port forwarding (or a relay) that port
  // is not the one we reach it on. The payload goes where the session already goes: the
  // same BMC serves both on that address (every BMC seen serves SOL on its session port).
  return new Console(s, info, { timeoutMs, retries, keepaliveMs: o.keepaliveMs ?? 20_000 }, onData).start();
}

async function deactivate(s: Session, timeoutMs: number): Promise<void> {
  s.renewDeadline(3 * timeoutMs);
  await s.raw(0x06, 0x49, Buffer.from([PAYLOAD_SOL, 0x01, 0, 0, 0, 0]), { step: 'Deactivate Payload', retries: 2 }).catch(() => undefined);
}

class Console implements SolConsole {
  private queue: Buffer[] = [];
  private queued = 0;
  private breakWanted = false;
  private pending: Pending | undefined;
  private nextSeq = 1;
  /** No packet of ours has been acknowledged yet in this activation. */
  private first = true;
  private lastRx: { seq: number; len: number } | undefined;
  private stopListening: (() => void) | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private finished = false;
  private closing: Promise<void> | undefined;
  private endWith!: (why: string) => void;
  readonly ended: Promise<string>;
  readonly stats = { sentPackets: 0, retransmits: 0, receivedPackets: 0, duplicates: 0 };

  constructor(
    private readonly s: Session,
    readonly info: SolConsole['info'],
    private readonly o: { timeoutMs: number; retries: number; keepaliveMs: number },
    private readonly onData: (b: Buffer) => void,
  ) {
    this.ended = new Promise((r) => (this.endWith = r));
  }

  async start(): Promise<this> {
    this.stopListening = await this.s.transport.listen(this.s.host, this.s.port, (d) => this.receive(d));
    this.keepalive = setInterval(() => void this.ping(), Math.max(1000, Math.floor(this.o.keepaliveMs / 2)));
    return this;
  }

  write(data: Buffer): boolean {
    if (this.finished || data.length === 0) return !this.finished;
    if (this.queued + data.length > MAX_QUEUED) return false;
    this.queue.push(Buffer.from(data));
    this.queued += data.length;
    this.pump();
    return true;
  }

  sendBreak(): void {
    if (this.finished) return;
    this.breakWanted = true;
    this.pump();
  }

  private send(payload: Buffer): void {
    this.stats.sentPackets++;
    void this.s.transport.sendOnly(this.s.host, this.s.port, this.s.seal(PAYLOAD_SOL, payload));
  }

  /** Sends the next packet when none is waiting for its acknowledgement. */
  private pump(): void {
    if (this.finished || this.pending || (this.queued === 0 && !this.breakWanted)) return;
    if (this.queued === 0) {
      // A break with no characters is a control packet (sequence 0): the BMC acknowledges
      // only characters, so it is sent once, never repeated (a repeat would be a second break).
      this.breakWanted = false;
      this.send(Buffer.from([0, 0, 0, GENERATE_BREAK]));
      return;
    }
    const limit = Math.max(1, Math.min(MAX_CHUNK, this.info.inboundMax || MAX_CHUNK));
    const parts: Buffer[] = [];
    let n = 0;
    while (this.queue.length && n < limit) {
      const head = this.queue[0]!;
      const take = Math.min(head.length, limit - n);
      parts.push(head.subarray(0, take));
      n += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    this.queued -= n;
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq % 15) + 1;
    this.pending = { seq, data: Buffer.concat(parts), brk: this.breakWanted, tries: 0 };
    this.breakWanted = false;
    this.transmit();
  }

  private transmit(): void {
    const p = this.pending!;
    if (p.tries > this.o.retries) {
      this.finish(`the BMC acknowledged nothing for ${p.tries} attempts of ${this.o.timeoutMs} ms`);
      return;
    }
    if (p.tries > 0) this.stats.retransmits++;
    p.tries++;
    const head = Buffer.from([p.seq, 0, 0, p.brk ? GENERATE_BREAK : 0]);
    this.send(Buffer.concat([head, p.data]));
    p.timer = setTimeout(() => this.transmit(), this.o.timeoutMs);
  }

  private receive(d: Buffer): boolean {
    const b = this.s.unseal(d, PAYLOAD_SOL);
    if (b === undefined) return false;
    this.lastActivity = Date.now();
    if (b.length < 4 || this.finished) return true;
    this.stats.receivedPackets++;
    const seq = b.readUInt8(0) & 0x0f;
    const ack = b.readUInt8(1) & 0x0f;
    const accepted = b.readUInt8(2);
    const status = b.readUInt8(3);
    const data = b.subarray(4);
    if (seq !== 0) {
      if (this.lastRx && this.lastRx.seq === seq) {
        // Our acknowledgement was lost: say it again, deliver nothing twice.
        this.stats.duplicates++;
      } else {
        this.lastRx = { seq, len: data.length };
        if (data.length) this.onData(Buffer.from(data));
      }
      this.send(Buffer.from([0, seq, this.lastRx.len, 0]));
    }
    const p = this.pending;
    if (p && ack === p.seq && (ack !== 0)) {
      clearTimeout(p.timer);
      if (status & NACK) {
        // The BMC cannot take characters now: offer the packet again after a pause.
        p.tries = 0;
        p.timer = setTimeout(() => this.transmit(), this.o.timeoutMs);
      } else {
        this.pending = undefined;
        // The first packet fits the BMC's (empty) buffer whole, so taking part of it means
        // the BMC took it for a repeat of the last packet of an earlier console with the same
        // sequence number (OpenIPMI's simulator keeps that across activations) and only
        // acknowledged that one: all of it goes again, under the next sequence number.
        const stale = this.first && accepted < p.data.length;
        this.first = false;
        const rest = p.data.subarray(stale ? 0 : Math.min(accepted, p.data.length));
        if (rest.length) {
          this.queue.unshift(rest);
          this.queued += rest.length;
        }
        this.pump();
      }
    }
    if (status & DEACTIVATING) this.finish('the BMC deactivated the console');
    else if ((status & CHARS_UNAVAILABLE) && seq === 0 && ack === 0) {
      // The serial port is not connected at the BMC: characters wait until it is.
    }
    return true;
  }

  private async ping(): Promise<void> {
    if (this.finished || Date.now() - this.lastActivity < this.o.keepaliveMs / 2) return;
    this.s.renewDeadline((this.o.retries + 1) * this.o.timeoutMs);
    try {
      await this.s.raw(0x06, 0x01, Buffer.alloc(0), { step: 'Get Device ID (keep-alive)' });
      this.lastActivity = Date.now();
    } catch (e) {
      this.finish(`the BMC stopped answering (${(e as Error).message})`);
    }
  }

  private finish(why: string): void {
    if (this.finished) return;
    this.finished = true;
    this.endWith(why);
    void this.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.finished = true;
      clearInterval(this.keepalive);
      clearTimeout(this.pending?.timer);
      await deactivate(this.s, this.o.timeoutMs);
      this.stopListening?.();
      await this.s.close();
      this.endWith('closed');
    })();
    return this.closing;
  }
}
