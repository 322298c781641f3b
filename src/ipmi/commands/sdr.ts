// SDR repository walk and sensor readings (IPMI 2.0 §33, §35, §36, §43).
import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';
import { sensorTypeName, unitName } from '../tables.js';

export interface SensorRecordBase {
  recordId: number;
  recordType: number;
  name: string;
  ownerId: number;
  ownerLun: number;
  number: number;
  entityId: number;
  entityInstance: number;
  sensorType: number;
  sensorTypeName: string;
  eventType: number;
}

export interface Linearization {
  m: number;
  b: number;
  rExp: number;
  bExp: number;
  /** 0 linear, 1–11 non-linear functions, 0x70–0x7f non-linear (needs Get Sensor Reading Factors). */
  linearization: number;
  /** 0 unsigned, 1 one's complement, 2 two's complement, 3 no analog reading. */
  analogFormat: number;
}

export interface FullSensorRecord extends SensorRecordBase, Linearization {
  recordType: 0x01;
  unit: string;
  modifierUnit?: string;
  modifierUse?: 'divide' | 'multiply';
  percentage: boolean;
  /** Thresholds in engineering units, only those the SDR marks readable. */
  thresholds: Partial<Record<ThresholdName, number>>;
  /** Sensor capabilities [3:2]: 0 none, 1 readable, 2 readable and settable, 3 fixed (the SDR's values only). */
  thresholdAccess: number;
  nominal?: number;
}

export interface CompactSensorRecord extends SensorRecordBase {
  recordType: 0x02 | 0x03;
}

export type SensorRecord = FullSensorRecord | CompactSensorRecord;

export interface OtherRecord {
  recordId: number;
  recordType: number;
  /** Device ID string of FRU and MC locator records. */
  name?: string;
  raw: Buffer;
}

export type ThresholdName = 'lnr' | 'lcr' | 'lnc' | 'unc' | 'ucr' | 'unr';
/** Bit order of the readable-threshold masks (SDR byte 19, Get Sensor Thresholds byte 2) and of that response's values. */
const THRESHOLD_BITS: readonly ThresholdName[] = ['lnc', 'lcr', 'lnr', 'unc', 'ucr', 'unr'];

function signExtend(v: number, bits: number): number {
  const m = 1 << (bits - 1);
  return (v & (m - 1)) - (v & m);
}

/** Decodes an IPMI "type/length" string (used in SDR ID strings and FRU fields). */
export function decodeTypeLength(tl: number, bytes: Buffer): string {
  const type = tl >> 6;
  if (type === 3) return bytes.toString('latin1').replace(/\0+$/, '');
  if (type === 2) return decode6bitAscii(bytes);
  if (type === 1) return decodeBcdPlus(bytes);
  return bytes.toString('hex');
}

export function decode6bitAscii(b: Buffer): string {
  let out = '';
  let acc = 0, bits = 0;
  for (const byte of b) {
    acc |= byte << bits;
    bits += 8;
    while (bits >= 6) {
      out += String.fromCharCode((acc & 0x3f) + 0x20);
      acc >>= 6;
      bits -= 6;
    }
  }
  return out.trimEnd();
}

export function decodeBcdPlus(b: Buffer): string {
  const map = '0123456789 -.:,_';
  let out = '';
  for (const byte of b) out += map[byte >> 4]! + map[byte & 0x0f]!;
  return out;
}

export function linearize(raw: number, l: Linearization): number | undefined {
  if (l.analogFormat === 3) return undefined;
  const x = l.analogFormat === 1 ? (raw & 0x80 ? -((~raw) & 0x7f) : raw) : l.analogFormat === 2 ? signExtend(raw, 8) : raw;
  const y = (l.m * x + l.b * Math.pow(10, l.bExp)) * Math.pow(10, l.rExp);
  const f = l.linearization;
  const value = f === 0 ? y
    : f === 1 ? Math.log(y)
    : f === 2 ? Math.log10(y)
    : f === 3 ? Math.log2(y)
    : f === 4 ? Math.exp(y)
    : f === 5 ? Math.pow(10, y)
    : f === 6 ? Math.pow(2, y)
    : f === 7 ? 1 / y
    : f === 8 ? y * y
    : f === 9 ? y * y * y
    : f === 10 ? Math.sqrt(y)
    : f === 11 ? Math.cbrt(y)
    : undefined;
  if (value === undefined || !Number.isFinite(value)) return undefined;
  // Strip float noise such as 12.000000000000002 without losing real precision.
  return Number(value.toPrecision(12));
}

export function decodeSdr(rec: Buffer): SensorRecord | OtherRecord {
  const recordId = rec.readUInt16LE(0);
  const recordType = rec.readUInt8(3);
  const at = (i: number) => (i < rec.length ? rec.readUInt8(i) : 0);
  if (recordType === 0x01 || recordType === 0x02 || recordType === 0x03) {
    const base = {
      recordId, ownerId: at(5), ownerLun: at(6) & 0x03, number: at(7), entityId: at(8), entityInstance: at(9) & 0x7f,
      sensorType: at(12), sensorTypeName: sensorTypeName(at(12)), eventType: at(13),
    };
    if (recordType === 0x01) {
      const l: Linearization = {
        analogFormat: at(20) >> 6,
        linearization: at(23) & 0x7f,
        m: signExtend(at(24) | ((at(25) >> 6) << 8), 10),
        b: signExtend(at(26) | ((at(27) >> 6) << 8), 10),
        rExp: signExtend(at(29) >> 4, 4),
        bExp: signExtend(at(29) & 0x0f, 4),
      };
      const readable = rec.length > 19 ? rec.readUInt16LE(18) & 0x3f : 0; // readable threshold mask
      const thresholds: Partial<Record<ThresholdName, number>> = {};
      // The SDR stores them from UNR (byte 37) down to LNC (byte 42).
      THRESHOLD_BITS.forEach((n, bit) => {
        if (readable & (1 << bit)) {
          const v = linearize(at(41 - bit), l);
          if (v !== undefined) thresholds[n] = v;
        }
      });
      const idLen = at(47) & 0x1f;
      const units1 = at(20);
      const r: FullSensorRecord = {
        ...base, ...l, recordType: 0x01,
        name: decodeTypeLength(at(47), rec.subarray(48, 48 + idLen)),
        unit: unitName(at(21)),
        percentage: (units1 & 0x01) !== 0,
        thresholds,
        thresholdAccess: (at(11) >> 2) & 0x03,
      };
      const modUse = (units1 >> 1) & 3;
      if (modUse === 1 || modUse === 2) {
        r.modifierUnit = unitName(at(22));
        r.modifierUse = modUse === 1 ? 'divide' : 'multiply';
      }
      if (at(30) & 0x01) {
        const nv = linearize(at(31), l);
        if (nv !== undefined) r.nominal = nv;
      }
      return r;
    }
    const idOff = recordType === 0x02 ? 31 : 16;
    const idLen = at(idOff) & 0x1f;
    return { ...base, recordType, name: decodeTypeLength(at(idOff), rec.subarray(idOff + 1, idOff + 1 + idLen)) };
  }
  const other: OtherRecord = { recordId, recordType, raw: rec };
  if (recordType === 0x11 || recordType === 0x12) {
    const idOff = recordType === 0x11 ? 15 : 15;
    other.name = decodeTypeLength(at(idOff), rec.subarray(idOff + 1, idOff + 1 + (at(idOff) & 0x1f)));
  }
  return other;
}

async function reserveSdr(s: Session): Promise<number> {
  const r = await s.request(0x0a, 0x22, Buffer.alloc(0), { step: 'Reserve SDR Repository', allow: [0xc1] });
  return r.cc === 0 ? r.data.readUInt16LE(0) : 0;
}

async function getSdrPart(s: Session, res: number, id: number, offset: number, count: number) {
  const req = Buffer.alloc(6);
  req.writeUInt16LE(res, 0);
  req.writeUInt16LE(id, 2);
  req[4] = offset;
  req[5] = count;
  return s.request(0x0a, 0x23, req, { step: 'Get SDR', allow: [0xc5, 0xca, 0xc7, 0xc8, 0xff] });
}

/** Reads every record of the SDR repository. */
export async function getSdrRecords(s: Session): Promise<(SensorRecord | OtherRecord)[]> {
  const out: (SensorRecord | OtherRecord)[] = [];
  let res = await reserveSdr(s);
  let id = 0;
  let chunk = 0xff;
  const proto = (m: string) => new IpmiError('protocol', m, { host: s.target.host, port: s.port, step: 'Get SDR' });
  for (let n = 0; n < 0x10000 && id !== 0xffff; n++) {
    let rec: Buffer | undefined;
    let next = 0xffff;
    for (let attempt = 0; attempt < 4 && !rec; attempt++) {
      if (chunk === 0xff) {
        const r = await getSdrPart(s, res, id, 0, 0xff);
        if (r.cc === 0 && r.data.length >= 7) {
          next = r.data.readUInt16LE(0);
          rec = Buffer.from(r.data.subarray(2));
          break;
        }
        if (r.cc === 0xc5) { res = await reserveSdr(s); continue; }
        // Whole-record reads are optional; fall back to partial reads like other clients.
        chunk = 16;
      }
      const h = await getSdrPart(s, res, id, 0, 5);
      if (h.cc === 0xc5) { res = await reserveSdr(s); continue; }
      if (h.cc !== 0 || h.data.length < 7) throw proto(`Get SDR header of record 0x${id.toString(16)} failed (cc 0x${h.cc.toString(16)})`);
      next = h.data.readUInt16LE(0);
      const header = h.data.subarray(2, 7);
      const total = 5 + header.readUInt8(4);
      const parts: Buffer[] = [header];
      let got = 5, lost = false;
      while (got < total) {
        const p = await getSdrPart(s, res, id, got, Math.min(chunk, total - got));
        if (p.cc === 0xc5) { res = await reserveSdr(s); lost = true; break; }
        if ((p.cc === 0xca || p.cc === 0xc7 || p.cc === 0xc8) && chunk > 4) { chunk = Math.max(4, chunk >> 1); continue; }
        if (p.cc !== 0 || p.data.length <= 2) throw proto(`Get SDR body of record 0x${id.toString(16)} failed (cc 0x${p.cc.toString(16)})`);
        parts.push(p.data.subarray(2));
        got += p.data.length - 2;
      }
      if (!lost) rec = Buffer.concat(parts).subarray(0, total);
    }
    if (!rec) throw proto('SDR repository keeps changing while being read');
    if (rec.length >= 5) out.push(decodeSdr(rec));
    if (next === id) break;
    id = next;
  }
  return out;
}

export type SensorStatus = 'ok' | 'lnc' | 'lcr' | 'lnr' | 'unc' | 'ucr' | 'unr' | 'unavailable' | 'disabled';

export interface SensorReading {
  record: SensorRecord;
  raw?: number;
  value?: number;
  unit?: string;
  status: SensorStatus;
  /** Discrete sensors: asserted state offsets. */
  states?: number[];
  /** Threshold comparison bits as reported. */
  thresholdBits?: number;
  /** The thresholds in force, as the BMC reports them (Get Sensor Thresholds); absent ones are not readable. */
  thresholds?: Partial<Record<ThresholdName, number>>;
}

/** Threshold status from Get Sensor Reading byte 3: the most severe condition wins. */
export function thresholdStatus(bits: number): SensorStatus {
  if (bits & 0x20) return 'unr';
  if (bits & 0x04) return 'lnr';
  if (bits & 0x10) return 'ucr';
  if (bits & 0x02) return 'lcr';
  if (bits & 0x08) return 'unc';
  if (bits & 0x01) return 'lnc';
  return 'ok';
}

export async function readSensor(s: Session, rec: SensorRecord): Promise<SensorReading> {
  const r = await s.request(0x04, 0x2d, Buffer.from([rec.number]), { step: `Get Sensor Reading ${rec.name}`, allow: [0xcb, 0xcd, 0xd5, 0xc3, 0xff] });
  if (r.cc !== 0 || r.data.length < 2) return { record: rec, status: 'unavailable' };
  const flags = r.data.readUInt8(1);
  if ((flags & 0x20) !== 0) return { record: rec, status: 'unavailable' };
  if ((flags & 0x40) === 0) return { record: rec, status: 'disabled' };
  const raw = r.data.readUInt8(0);
  if (rec.recordType === 0x01 && rec.eventType === 0x01) {
    const bits = r.data.length >= 3 ? r.data.readUInt8(2) & 0x3f : 0;
    const value = linearize(raw, rec);
    const out: SensorReading = { record: rec, raw, unit: rec.unit, status: thresholdStatus(bits), thresholdBits: bits, thresholds: await readThresholds(s, rec) };
    if (value !== undefined) out.value = value;
    return out;
  }
  const states: number[] = [];
  const mask = (r.data.length >= 3 ? r.data.readUInt8(2) : 0) | ((r.data.length >= 4 ? r.data.readUInt8(3) & 0x7f : 0) << 8);
  for (let i = 0; i < 15; i++) if (mask & (1 << i)) states.push(i);
  const out: SensorReading = { record: rec, raw, status: 'ok', states };
  if (rec.recordType === 0x01) {
    const v = linearize(raw, rec);
    if (v !== undefined) { out.value = v; out.unit = rec.unit; }
  }
  return out;
}

/**
 * The thresholds in force. The SDR only holds the initial values — the BMC or an operator
 * may have changed them — so, like ipmitool, ask the sensor; a sensor whose thresholds
 * are fixed has them only in the SDR. A refusal means none are readable.
 */
export async function readThresholds(s: Session, rec: FullSensorRecord): Promise<Partial<Record<ThresholdName, number>>> {
  if (rec.thresholdAccess === 0) return {};
  if (rec.thresholdAccess === 3) return rec.thresholds;
  const r = await s.request(0x04, 0x27, Buffer.from([rec.number]), { step: `Get Sensor Thresholds ${rec.name}`, allow: [0xc1, 0xcb, 0xcd, 0xd5, 0xc3, 0xff] });
  if (r.cc !== 0 || r.data.length < 7) return {};
  const readable = r.data.readUInt8(0);
  const out: Partial<Record<ThresholdName, number>> = {};
  THRESHOLD_BITS.forEach((n, bit) => {
    if (readable & (1 << bit)) {
      const v = linearize(r.data.readUInt8(1 + bit), rec);
      if (v !== undefined) out[n] = v;
    }
  });
  return out;
}

/** SDR walk plus a reading for every sensor owned by the BMC (event-only records excluded). */
export async function getSensors(s: Session): Promise<SensorReading[]> {
  const recs = await getSdrRecords(s);
  const out: SensorReading[] = [];
  for (const r of recs) {
    if ((r.recordType === 0x01 || r.recordType === 0x02) && 'ownerId' in r && r.ownerId === 0x20 && r.ownerLun === 0) {
      out.push(await readSensor(s, r as SensorRecord));
    }
  }
  return out;
}
