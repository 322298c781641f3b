// Packet codec for RMCP / IPMI 1.5 / RMCP+ (IPMI 2.0 §13). Decoders never throw: a
// datagram from the network is untrusted, and anything malformed is `undefined`, which the
// transport counts and drops.
import { aesDecrypt, aesEncryptInto, aesLength, integrityCode, integrityLength, random, safeEqual, INTEG_NONE, CONF_NONE } from './crypto.js';

export const RMCP_HEADER = Buffer.from([0x06, 0x00, 0xff, 0x07]); // version 1.0, no ACK, class IPMI
export const AUTHTYPE_NONE = 0x00;
export const AUTHTYPE_RMCPP = 0x06;

export const PAYLOAD_IPMI = 0x00;
export const PAYLOAD_OPEN_SESSION_REQ = 0x10;
export const PAYLOAD_OPEN_SESSION_RSP = 0x11;
export const PAYLOAD_RAKP1 = 0x12;
export const PAYLOAD_RAKP2 = 0x13;
export const PAYLOAD_RAKP3 = 0x14;
export const PAYLOAD_RAKP4 = 0x15;

/** Software ID of a remote console (IPMI 2.0 §5.5): what ipmitool and FreeIPMI use. */
export const CONSOLE_SWID = 0x81;
export const BMC_SLAVE_ADDR = 0x20;

// Bytes are read by index in the codec (bounds checked by the callers): Buffer's
// readUInt8 is a call per byte, which a short-lived process runs in its interpreter
// and then spends a background compilation on.
/** Little-endian fields by index, like the bytes. */
function u32(b: Buffer, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
function putU32(b: Buffer, at: number, n: number): void {
  b[at] = n;
  b[at + 1] = n >>> 8;
  b[at + 2] = n >>> 16;
  b[at + 3] = n >>> 24;
}

function checksum(buf: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + buf[i]!) & 0xff;
  return (0x100 - s) & 0xff;
}

export interface IpmiRequest {
  netFn: number;
  cmd: number;
  data?: Buffer;
  rqSeq: number;
  rsAddr?: number;
  rsLun?: number;
}

/** An IPMI LAN message (request direction). */
export function encodeIpmiRequest(r: IpmiRequest): Buffer {
  const data = r.data ?? Buffer.alloc(0);
  const b = Buffer.alloc(7 + data.length);
  b[0] = r.rsAddr ?? BMC_SLAVE_ADDR;
  b[1] = ((r.netFn & 0x3f) << 2) | ((r.rsLun ?? 0) & 3);
  b[2] = checksum(b, 0, 2);
  b[3] = CONSOLE_SWID;
  b[4] = ((r.rqSeq & 0x3f) << 2) | 0;
  b[5] = r.cmd & 0xff;
  b.set(data, 6);
  b[6 + data.length] = checksum(b, 3, 6 + data.length);
  return b;
}

export interface IpmiResponse {
  /** Response netFn (request netFn + 1). */
  netFn: number;
  cmd: number;
  rqSeq: number;
  cc: number;
  data: Buffer;
}

/** Decodes an IPMI LAN response message; checks both checksums. */
export function decodeIpmiResponse(b: Buffer): IpmiResponse | undefined {
  if (b.length < 8) return undefined;
  if (checksum(b, 0, 2) !== b[2]) return undefined;
  if (checksum(b, 3, b.length - 1) !== b[b.length - 1]) return undefined;
  const netFn = b[1]! >> 2;
  if ((netFn & 1) !== 1) return undefined; // responses have odd netFn
  return {
    netFn,
    rqSeq: b[4]! >> 2,
    cmd: b[5]!,
    cc: b[6]!,
    // A view: the message is a datagram's own buffer or a fresh decryption of it.
    data: b.subarray(7, b.length - 1),
  };
}

/** IPMI 1.5 session wrapper with auth type none: only for pre-session discovery commands. */
export function encodeV15Packet(message: Buffer): Buffer {
  const h = Buffer.alloc(4 + 10);
  RMCP_HEADER.copy(h, 0);
  h[4] = AUTHTYPE_NONE;
  // sequence (4) and session ID (4) are zero outside a session
  h[13] = message.length;
  return Buffer.concat([h, message]);
}

export interface SessionKeys {
  integrity: number;
  confidentiality: number;
  k1?: Buffer;
  k2?: Buffer;
}

export interface V20Out {
  payloadType: number;
  sessionId: number;
  seq: number;
  payload: Buffer;
  /** Omitted outside an established session (session setup payloads). */
  keys?: SessionKeys;
  /** Fixed IV for known-answer tests; random otherwise. */
  iv?: Buffer;
}

/**
 * One RMCP+ datagram, built in one buffer of its final size: RMCP header, session header,
 * the payload (encrypted in place when the session has confidentiality), and with
 * integrity the pad, pad length, next header and the AuthCode over auth type .. next header.
 */
export function encodeV20Packet(o: V20Out): Buffer {
  const keys = o.keys;
  const encrypt = !!keys && keys.confidentiality !== CONF_NONE;
  const authenticate = !!keys && keys.integrity !== INTEG_NONE;
  const bodyLen = encrypt ? aesLength(o.payload.length) : o.payload.length;
  // Integrity pad makes auth-type..next-header a multiple of 4 (IPMI 2.0 §13.28.4).
  const padLen = authenticate ? (4 - ((12 + bodyLen + 2) % 4)) % 4 : 0;
  const signedEnd = 16 + bodyLen + (authenticate ? padLen + 2 : 0);
  const b = Buffer.allocUnsafe(signedEnd + (authenticate ? integrityLength(keys!.integrity) : 0));
  b.set(RMCP_HEADER, 0);
  b[4] = AUTHTYPE_RMCPP;
  b[5] = (encrypt ? 0x80 : 0) | (authenticate ? 0x40 : 0) | (o.payloadType & 0x3f);
  putU32(b, 6, o.sessionId);
  putU32(b, 10, o.seq);
  b[14] = bodyLen;
  b[15] = bodyLen >>> 8;
  if (encrypt) aesEncryptInto(keys!.k2!, o.payload, o.iv ?? random(16), b, 16);
  else b.set(o.payload, 16);
  if (!authenticate) return b;
  b.fill(0xff, 16 + bodyLen, 16 + bodyLen + padLen);
  b[signedEnd - 2] = padLen;
  b[signedEnd - 1] = 0x07; // next header, always 07h
  b.set(integrityCode(keys!.integrity, keys!.k1!, b.subarray(4, signedEnd)), signedEnd);
  return b;
}

const EMPTY: Buffer = Buffer.alloc(0);

export type DecodedPacket =
  | { kind: 'v15'; authType: number; sessionId: number; seq: number; message: Buffer }
  | {
      kind: 'v20';
      payloadType: number;
      encrypted: boolean;
      authenticated: boolean;
      sessionId: number;
      seq: number;
      /** As received: still encrypted when `encrypted`. */
      payload: Buffer;
      /** Bytes covered by the AuthCode (auth type .. next header). */
      signed: Buffer;
      authCode: Buffer;
    }
  | { kind: 'asf'; data: Buffer };

/** Structural decode of one datagram; no keys needed. */
export function decodePacket(b: Buffer): DecodedPacket | undefined {
  try {
    if (b.length < 5 || b[0] !== 0x06) return undefined;
    const cls = b[3]! & 0x1f;
    if (cls === 0x06) return { kind: 'asf', data: b.subarray(4) };
    if (cls !== 0x07) return undefined;
    const authType = b[4]! & 0x0f;
    if (authType === AUTHTYPE_RMCPP) {
      if (b.length < 16) return undefined;
      const pt = b[5]!;
      const payloadType = pt & 0x3f;
      if (payloadType === 0x02) return undefined; // OEM explicit: never requested
      const sessionId = u32(b, 6);
      const seq = u32(b, 10);
      const len = b[14]! | (b[15]! << 8);
      if (16 + len > b.length) return undefined;
      // Views, not copies: the datagram buffer belongs to this decode.
      const payload = b.subarray(16, 16 + len);
      const authenticated = (pt & 0x40) !== 0;
      let signed = EMPTY;
      let authCode = EMPTY;
      if (authenticated) {
        // After the payload: pad (0xff…), pad length, next header, AuthCode.
        let i = 16 + len;
        while (i < b.length && b[i] === 0xff && i - (16 + len) < 3) i++;
        if (i + 2 > b.length) return undefined;
        const padLen = b[i];
        if (padLen !== i - (16 + len) || b[i + 1] !== 0x07) return undefined;
        signed = b.subarray(4, i + 2);
        authCode = b.subarray(i + 2);
      }
      return { kind: 'v20', payloadType, encrypted: (pt & 0x80) !== 0, authenticated, sessionId, seq, payload, signed, authCode };
    }
    // IPMI 1.5: auth type, seq(4), session id(4), [auth code(16)], length(1), message
    let off = 5;
    if (b.length < off + 9) return undefined;
    const seq = u32(b, off);
    const sessionId = u32(b, off + 4);
    off += 8;
    if (authType !== AUTHTYPE_NONE) off += 16;
    if (b.length < off + 1) return undefined;
    const len = b[off]!;
    off += 1;
    if (off + len > b.length) return undefined;
    return { kind: 'v15', authType, sessionId, seq, message: b.subarray(off, off + len) };
  } catch {
    return undefined;
  }
}

/**
 * Checks the AuthCode and decrypts an RMCP+ payload of an established session.
 * undefined when the packet fails integrity or does not match the session's algorithms
 * (a packet that downgrades protection is rejected, not trusted).
 */
export function openV20Payload(p: Extract<DecodedPacket, { kind: 'v20' }>, keys: SessionKeys): Buffer | undefined {
  try {
    if (keys.integrity !== INTEG_NONE) {
      if (!p.authenticated) return undefined;
      const want = integrityCode(keys.integrity, keys.k1!, p.signed);
      if (p.authCode.length < integrityLength(keys.integrity)) return undefined;
      if (!safeEqual(p.authCode.subarray(0, want.length), want)) return undefined;
    }
    if (keys.confidentiality !== CONF_NONE) {
      if (!p.encrypted) return undefined;
      return aesDecrypt(keys.k2!, p.payload);
    }
    return p.encrypted ? undefined : p.payload;
  } catch {
    return undefined;
  }
}
