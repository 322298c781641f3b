import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesEncrypt } from '../../src/ipmi/crypto.js';
import {
  decodeIpmiResponse, decodePacket, encodeIpmiRequest, encodeV15Packet, encodeV20Packet, openV20Payload,
  type SessionKeys,
} from '../../src/ipmi/rmcp.js';
import { parseCipherSuiteRecords } from '../../src/ipmi/session.js';

const keys3: SessionKeys = { integrity: 1, confidentiality: 1, k1: Buffer.alloc(20, 7), k2: Buffer.alloc(20, 9) };
const keys17: SessionKeys = { integrity: 4, confidentiality: 1, k1: Buffer.alloc(32, 7), k2: Buffer.alloc(32, 9) };

/** A response message as a BMC would build it (independent of the request encoder). */
function response(netFn: number, cmd: number, rqSeq: number, cc: number, data: number[]): Buffer {
  const m = [0x81, ((netFn | 1) << 2) | 0, 0, 0x20, (rqSeq << 2) | 0, cmd, cc, ...data, 0];
  m[2] = (0x100 - ((m[0]! + m[1]!) & 0xff)) & 0xff;
  let s = 0;
  for (let i = 3; i < m.length - 1; i++) s += m[i]!;
  m[m.length - 1] = (0x100 - (s & 0xff)) & 0xff;
  return Buffer.from(m);
}

describe('IPMI LAN message', () => {
  it('encodes Get Device ID like ipmitool puts it on the wire', () => {
    // rsAddr 20, netFn 06 << 2, chk, rqAddr 81, seq 1 << 2, cmd 01, chk
    expect(encodeIpmiRequest({ netFn: 6, cmd: 1, rqSeq: 1 }).toString('hex')).toBe('2018c88104017a');
  });

  it('decodes a response and checks both checksums', () => {
    const r = response(6, 1, 5, 0, [0x20, 0x81]);
    expect(decodeIpmiResponse(r)).toMatchObject({ netFn: 7, cmd: 1, rqSeq: 5, cc: 0 });
    const bad = Buffer.from(r);
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 1, bad.length - 1);
    expect(decodeIpmiResponse(bad)).toBeUndefined();
  });
});

describe('RMCP / RMCP+ packets', () => {
  it('wraps pre-session requests in an IPMI 1.5 header with auth type none', () => {
    const p = encodeV15Packet(encodeIpmiRequest({ netFn: 6, cmd: 0x38, rqSeq: 1, data: Buffer.from([0x8e, 4]) }));
    expect(p.subarray(0, 14).toString('hex')).toBe('0600ff070000000000000000000' + '9');
    const d = decodePacket(p);
    expect(d?.kind).toBe('v15');
  });

  for (const [name, keys] of [['suite 3', keys3], ['suite 17', keys17]] as const) {
    it(`${name}: authenticated, encrypted packets round-trip and fail closed when altered`, () => {
      const payload = response(6, 1, 3, 0, [1, 2, 3]);
      const pkt = encodeV20Packet({ payloadType: 0, sessionId: 0x1234, seq: 7, payload, keys });
      // auth-type .. next header must be a multiple of 4
      const d = decodePacket(pkt);
      expect(d?.kind).toBe('v20');
      if (d?.kind !== 'v20') return;
      expect(d.signed.length % 4).toBe(0);
      expect(d).toMatchObject({ encrypted: true, authenticated: true, sessionId: 0x1234, seq: 7 });
      expect(openV20Payload(d, keys)).toEqual(payload);
      // any altered byte of the signed region is rejected
      for (const i of [5, 10, 16, 20, pkt.length - 1]) {
        const t = Buffer.from(pkt);
        t.writeUInt8(t.readUInt8(i) ^ 0x40, i);
        const dt = decodePacket(t);
        if (dt?.kind === 'v20') expect(openV20Payload(dt, keys)).toBeUndefined();
      }
      // a packet without protection is not accepted on a protected session
      const plain = decodePacket(encodeV20Packet({ payloadType: 0, sessionId: 0x1234, seq: 8, payload }));
      if (plain?.kind === 'v20') expect(openV20Payload(plain, keys)).toBeUndefined();
    });
  }

  it('puts exactly these bytes on the wire for each protection (fixed IV)', () => {
    // Pinned when the encoder moved to building a datagram in one buffer: the bytes are
    // those of the earlier encoder (header, IV ‖ AES-CBC payload, 0xff pad, pad length,
    // next header 07h, AuthCode truncated to 12 or 16 bytes), so nothing changed on the wire.
    const iv = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
    const payload = Buffer.from('2018c881040173', 'hex');
    const keys2: SessionKeys = { integrity: 1, confidentiality: 0, k1: Buffer.alloc(20, 7) };
    const wire = (keys?: SessionKeys) => encodeV20Packet({ payloadType: 0, sessionId: 0xa0b0c0d0, seq: 0x01020304, payload, iv, ...(keys ? { keys } : {}) }).toString('hex');
    expect(wire(keys3)).toBe('0600ff0706c0d0c0b0a00403020120000f0e0d0c0b0a09080706050403020100a48164f959751ca329aac0048e62c200ffff02075bce3e9158b0755cee86c4a3');
    expect(wire(keys17)).toBe('0600ff0706c0d0c0b0a00403020120000f0e0d0c0b0a09080706050403020100a48164f959751ca329aac0048e62c200ffff020782b97bca42833d05d3b2ea42ba71b453');
    expect(wire(keys2)).toBe('0600ff070640d0c0b0a00403020107002018c881040173ffffff030745e6c3c408def6bf1f2993a0');
    expect(wire()).toBe('0600ff070600d0c0b0a00403020107002018c881040173');
  });

  it('reads the 32-bit header fields as unsigned, the high bit set too', () => {
    // The decoder reads them byte by byte: a session ID or sequence number of 2^31 or
    // more must not come out negative (the BMC's IDs are arbitrary 32-bit values).
    for (const keys of [undefined, keys3]) {
      const d = decodePacket(encodeV20Packet({ payloadType: 0, sessionId: 0xfedcba98, seq: 0x80000001, payload: response(6, 1, 3, 0, [1]), ...(keys ? { keys } : {}) }));
      expect(d).toMatchObject({ kind: 'v20', sessionId: 0xfedcba98, seq: 0x80000001 });
    }
    const v15 = Buffer.from(encodeV15Packet(response(6, 0x38, 1, 0, [1, 0x80, 0x14, 0x02, 0, 0, 0, 0])));
    v15.writeUInt32LE(0xffffffff, 5);
    v15.writeUInt32LE(0x89abcdef, 9);
    expect(decodePacket(v15)).toMatchObject({ kind: 'v15', seq: 0xffffffff, sessionId: 0x89abcdef });
  });

  it('parses Get Channel Cipher Suites records, standard and OEM', () => {
    const recs = Buffer.from([0xc0, 0x03, 0x01, 0x41, 0x81, 0xc1, 0x80, 0x57, 0x01, 0x00, 0x01, 0x41, 0x81, 0xc0, 0x11, 0x03, 0x44, 0x81]);
    expect(parseCipherSuiteRecords(recs)).toEqual([3, 0x80, 17]);
  });
});

describe('decoder fuzz: truncated, corrupted and random datagrams', () => {
  const valid: Buffer[] = [
    encodeV15Packet(response(6, 0x38, 1, 0, [1, 0x80, 0x14, 0x02, 0, 0, 0, 0])),
    encodeV20Packet({ payloadType: 0x11, sessionId: 0, seq: 0, payload: Buffer.alloc(36, 1) }),
    encodeV20Packet({ payloadType: 0x13, sessionId: 0, seq: 0, payload: Buffer.alloc(60, 2) }),
    encodeV20Packet({ payloadType: 0, sessionId: 5, seq: 9, payload: response(0, 1, 2, 0, [1, 0, 0]), keys: keys3 }),
    encodeV20Packet({ payloadType: 0, sessionId: 5, seq: 9, payload: response(0, 1, 2, 0, [1, 0, 0]), keys: keys17 }),
    Buffer.concat([Buffer.from([6, 0, 0xff, 0x07, 0x06, 0xc0]), aesEncrypt(Buffer.alloc(16), Buffer.alloc(3))]),
  ];

  const full = (b: Buffer) => {
    const d = decodePacket(b);
    if (d?.kind === 'v20') {
      openV20Payload(d, keys3);
      openV20Payload(d, keys17);
      openV20Payload(d, { integrity: 0, confidentiality: 0 });
      decodeIpmiResponse(d.payload);
    }
    if (d?.kind === 'v15') decodeIpmiResponse(d.message);
    decodeIpmiResponse(b);
    return d;
  };

  it('random bytes never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (a) => {
      expect(() => full(Buffer.from(a))).not.toThrow();
    }), { numRuns: 3000, seed: 42 });
  });

  it('truncations of valid packets never throw', () => {
    for (const v of valid) for (let n = 0; n <= v.length; n++) expect(() => full(v.subarray(0, n))).not.toThrow();
  });

  it('mutations of valid packets never throw and never pass integrity', () => {
    fc.assert(fc.property(
      fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
      (v, muts) => {
        const b = Buffer.from(v);
        for (const [pos, x] of muts) b.writeUInt8(b.readUInt8(pos % b.length) ^ x, pos % b.length);
        const d = full(b);
        if (d?.kind === 'v20' && d.authenticated && d.sessionId === 5 && !b.equals(v)) {
          // flipped bits in the signed part or the AuthCode must fail the check
          const same = b.subarray(4).equals(v.subarray(4));
          if (!same) expect(openV20Payload(d, keys3) === undefined || openV20Payload(d, keys17) === undefined).toBe(true);
        }
      },
    ), { numRuns: 3000, seed: 7 });
  });
});
