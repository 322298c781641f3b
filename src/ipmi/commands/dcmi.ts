// DCMI power management (DCMI 1.5 §6.6) over IPMI: Get Power Reading, Get/Set Power Limit
// and Activate/Deactivate Power Limit, group extension netFn 2Ch with the DCMI group ID DCh
// as the first data byte of every request and answer. A BMC without DCMI answers C1h
// (invalid command), which the caller sees as "not supported".
import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';

const NETFN_GROUP = 0x2c;
const DCMI = 0xdc;
const NO_DCMI = { 0xc1: 'the BMC does not implement DCMI power management' };

export interface DcmiPowerReading {
  currentWatts: number;
  minWatts: number;
  maxWatts: number;
  averageWatts: number;
  /** The statistics' span, ms. */
  periodMs: number;
  /** Whether the BMC is measuring (reading state bit 6). */
  active: boolean;
}

export interface DcmiPowerLimit {
  /** Whether a limit is active (Get Power Limit without completion code 80h). */
  active: boolean;
  limitWatts: number;
  /** 0: none, 1: hard power off and log, 11h: log only. */
  exceptionAction: number;
  correctionMs: number;
  samplingS: number;
}

function check(s: Session, step: string, d: Buffer, min: number): void {
  if (d.length < min || d.readUInt8(0) !== DCMI) {
    throw new IpmiError('protocol', `${step}: answer is not a DCMI answer of ${min} bytes`, { host: s.target.host, port: s.port, step });
  }
}

export async function getPowerReading(s: Session): Promise<DcmiPowerReading> {
  const step = 'DCMI Get Power Reading';
  const r = await s.request(NETFN_GROUP, 0x02, Buffer.from([DCMI, 0x01, 0x00, 0x00]), { step, codes: NO_DCMI });
  check(s, step, r.data, 18);
  const d = r.data;
  return {
    currentWatts: d.readUInt16LE(1), minWatts: d.readUInt16LE(3), maxWatts: d.readUInt16LE(5), averageWatts: d.readUInt16LE(7),
    periodMs: d.readUInt32LE(13), active: (d.readUInt8(17) & 0x40) !== 0,
  };
}

export async function getPowerLimit(s: Session): Promise<DcmiPowerLimit> {
  const step = 'DCMI Get Power Limit';
  const r = await s.request(NETFN_GROUP, 0x03, Buffer.from([DCMI, 0x00, 0x00]), { step, codes: NO_DCMI, allow: [0x80] });
  check(s, step, r.data, 14);
  const d = r.data;
  return { active: r.cc !== 0x80, exceptionAction: d.readUInt8(3), limitWatts: d.readUInt16LE(4), correctionMs: d.readUInt32LE(6), samplingS: d.readUInt16LE(12) };
}

/** Sets and activates a limit (exception action: log only), or deactivates it (null). */
export async function setPowerLimit(s: Session, watts: number | null, o: { correctionMs?: number; samplingS?: number } = {}): Promise<void> {
  if (watts !== null) {
    const d = Buffer.alloc(15);
    d.writeUInt8(DCMI, 0);
    d.writeUInt8(0x11, 4); // exception: log the event only; a cap never powers the server off by itself
    d.writeUInt16LE(watts, 5);
    d.writeUInt32LE(o.correctionMs ?? 1000, 7);
    d.writeUInt16LE(o.samplingS ?? 1, 13);
    await s.request(NETFN_GROUP, 0x04, d, { step: 'DCMI Set Power Limit', codes: { ...NO_DCMI, 0x84: 'power limit out of range', 0x85: 'correction time out of range', 0x89: 'statistics reporting period out of range' } });
  }
  await s.request(NETFN_GROUP, 0x05, Buffer.from([DCMI, watts === null ? 0x00 : 0x01, 0x00, 0x00]), { step: 'DCMI Activate/Deactivate Power Limit', codes: NO_DCMI });
}
