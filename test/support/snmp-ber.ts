// A hostile SNMP sender's BER, written by hand so that it can say what no agent would
// (request-ids and msgIDs out of range, empty OIDs, BIT STRINGs): for the hostile-sender
// and fuzz tests of kanri monitor.

export const len = (n: number): Buffer => Buffer.from(n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
export const tlv = (tag: number, body: Buffer = Buffer.alloc(0)): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
export const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
export const int = (n: number): Buffer => {
  const b: number[] = [];
  let v = n;
  do { b.unshift(v & 0xff); v = Math.floor(v / 256); } while (v > 0);
  if (b[0]! & 0x80) b.unshift(0);
  return tlv(0x02, Buffer.from(b));
};
export const oct = (s: string | Buffer): Buffer => tlv(0x04, Buffer.isBuffer(s) ? s : Buffer.from(s));
export const oid = (s: string): Buffer => {
  const p = s.split('.').map(Number);
  const out = [p[0]! * 40 + p[1]!];
  for (const n of p.slice(2)) {
    const parts: number[] = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) parts.unshift((v & 0x7f) | 0x80);
    out.push(...parts);
  }
  return tlv(0x06, Buffer.from(out));
};
/** A v2c InformRequest (PDU 0xA6) with the given request-id and third varbind value. */
export const inform = (requestId: number, value: Buffer, community = 'public'): Buffer => seq(int(1), oct(community), tlv(0xa6, Buffer.concat([
  int(requestId), int(0), int(0),
  seq(seq(oid('1.3.6.1.2.1.1.3.0'), tlv(0x43, Buffer.from([1]))), seq(oid('1.3.6.1.6.3.1.1.4.1.0'), oid('1.3.6.1.4.1.8072.2.3.0.1')), seq(oid('1.3.6.1.2.1.1.5.0'), value)),
])));
/** An SNMPv3 discovery GetRequest (noAuthNoPriv, reportable) with the given msgID. */
export const discovery = (msgId: number): Buffer => seq(
  int(3), seq(int(msgId), int(65507), oct(Buffer.from([0x04])), int(3)),
  oct(seq(oct(''), int(0), int(0), oct(''), oct(''), oct(''))),
  seq(oct(''), oct(''), tlv(0xa0, Buffer.concat([int(1), int(0), int(0), seq()]))),
);

/** A v2c SNMPv2-Trap (PDU 0xA7) with snmpTrapOID and one string varbind. */
export const trapV2 = (requestId: number, trapOid: string, text: string, community = 'public'): Buffer => seq(int(1), oct(community), tlv(0xa7, Buffer.concat([
  int(requestId), int(0), int(0),
  seq(seq(oid('1.3.6.1.2.1.1.3.0'), tlv(0x43, Buffer.from([1]))), seq(oid('1.3.6.1.6.3.1.1.4.1.0'), oid(trapOid)), seq(oid('1.3.6.1.2.1.1.5.0'), oct(text))),
])));

/** A v1 Trap (PDU 0xA4): enterprise, agent address, enterpriseSpecific trap `specific`, one string varbind. */
export const trapV1 = (enterprise: string, agent: string, specific: number, text: string, community = 'public'): Buffer => seq(int(0), oct(community), tlv(0xa4, Buffer.concat([
  oid(enterprise), tlv(0x40, Buffer.from(agent.split('.').map(Number))), int(6), int(specific), tlv(0x43, Buffer.from([1])),
  seq(seq(oid('1.3.6.1.2.1.1.5.0'), oct(text))),
])));

/** An SNMPv3 noAuthNoPriv SNMPv2-Trap of `user` (not a configured user: refused, counted). */
export const trapV3 = (msgId: number, user: string): Buffer => seq(
  int(3), seq(int(msgId), int(65507), oct(Buffer.from([0x00])), int(3)),
  oct(seq(oct(Buffer.from('8000000001020304', 'hex')), int(1), int(100), oct(user), oct(''), oct(''))),
  seq(oct(Buffer.from('8000000001020304', 'hex')), oct(''), tlv(0xa7, Buffer.concat([int(1), int(0), int(0), seq()]))),
);
