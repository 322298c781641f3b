// Trap forwarding to the dscli setTrapForward destinations (1-5): every trap the receiver
// accepted goes to each destination unchanged — a v1 trap as v1, a v2c trap as v2c, the
// PDU byte for byte, only the community replaced by the destination's. A v3 trap (whose
// PDU is encrypted for this receiver) is sent on as v2c with the same varbinds. Policy
// notifications go out as a v2c notification (monitor.notify_oid). Sending never waits
// for an answer: a datagram leaves at once or the error is counted.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import snmp from 'net-snmp';
import type { Db } from '../store/db.js';

export interface Destination { idx: number; address: string; port: number; community: string }

export function destinations(db: Db): Destination[] {
  return db.prepare('SELECT idx, address, port, community FROM dscli_trap_forwards ORDER BY idx').all() as Destination[];
}

/** Length of a BER TLV at `at`: [header length, content length], or undefined when it is not one. */
function tlv(b: Buffer, at: number): [number, number] | undefined {
  if (at + 2 > b.length) return undefined;
  const first = b[at + 1]!;
  if (first < 0x80) return [2, first];
  const n = first & 0x7f;
  if (n === 0 || n > 4 || at + 2 + n > b.length) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[at + 2 + i]!;
  return [2 + n, len];
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * A v1/v2c message with another community: SEQUENCE { version, community, PDU } — the
 * version and the PDU are kept as they came. Undefined for anything else.
 */
export function withCommunity(msg: Buffer, community: string): Buffer | undefined {
  if (msg[0] !== 0x30) return undefined;
  const outer = tlv(msg, 0);
  if (!outer) return undefined;
  const vAt = outer[0];
  const v = tlv(msg, vAt);
  if (!v || msg[vAt] !== 0x02) return undefined;
  const cAt = vAt + v[0] + v[1];
  const c = tlv(msg, cAt);
  if (!c || msg[cAt] !== 0x04) return undefined;
  const rest = msg.subarray(cAt + c[0] + c[1], outer[0] + outer[1]);
  const comm = Buffer.from(community, 'latin1');
  const body = Buffer.concat([msg.subarray(vAt, cAt), Buffer.from([0x04]), lengthBytes(comm.length), comm, rest]);
  return Buffer.concat([Buffer.from([0x30]), lengthBytes(body.length), body]);
}

export interface ForwardStats { forwarded: number; errors: number }

export class Forwarder {
  private socket: Socket | undefined;
  private sessions = new Map<string, ReturnType<typeof snmp.createSession>>();
  private dests: Destination[] = [];
  readonly stats: ForwardStats = { forwarded: 0, errors: 0 };

  constructor(private readonly log: (line: string) => void) {}

  /** Re-reads the destinations (at start, on SIGHUP, and after dscli changes them). */
  reload(db: Db): void {
    this.dests = destinations(db);
  }

  get count(): number {
    return this.dests.length;
  }

  private sock(): Socket {
    if (!this.socket) {
      this.socket = createSocket(isIP(this.dests[0]?.address ?? '') === 6 ? 'udp6' : 'udp4');
      this.socket.on('error', (e) => { this.stats.errors++; this.log(`trap forwarding: ${e.message}`); });
      this.socket.unref();
    }
    return this.socket;
  }

  private session(d: Destination): ReturnType<typeof snmp.createSession> {
    const k = `${d.address}:${d.port}:${d.community}`;
    let s = this.sessions.get(k);
    if (!s) {
      s = snmp.createSession(d.address, d.community, { version: snmp.Version2c, trapPort: d.port, timeout: 1000, retries: 0 });
      s.on('error', (e: Error) => { this.stats.errors++; this.log(`trap forwarding to ${d.address}:${d.port}: ${e.message}`); });
      this.sessions.set(k, s);
    }
    return s;
  }

  /** A received v1/v2c trap, as it came, to every destination. */
  forwardRaw(raw: Buffer): void {
    for (const d of this.dests) {
      const out = withCommunity(raw, d.community);
      if (!out) { this.stats.errors++; continue; }
      this.sock().send(out, d.port, d.address, (e) => {
        if (e) { this.stats.errors++; this.log(`trap forwarding to ${d.address}:${d.port}: ${e.message}`); } else this.stats.forwarded++;
      });
    }
  }

  /** A v2c notification (trapOID and varbinds without sysUpTime/snmpTrapOID) to every destination. */
  notify(trapOid: string, varbinds: Array<{ oid: string; type: number; value: unknown }>, upTime?: number): void {
    for (const d of this.dests) {
      this.session(d).trap(trapOid, varbinds, upTime !== undefined ? { upTime } : {}, (e: Error | null) => {
        if (e) { this.stats.errors++; this.log(`trap forwarding to ${d.address}:${d.port}: ${e.message}`); } else this.stats.forwarded++;
      });
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
