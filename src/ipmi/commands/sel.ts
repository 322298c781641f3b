import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';
import { eventText, sensorTypeName } from '../tables.js';
import { wait } from '../../util/wait.js';

export interface SelInfo {
  version: string;
  entries: number;
  freeBytes: number;
  /** Seconds since 1970, or undefined when the BMC never set it. */
  lastAddTime?: number;
  lastEraseTime?: number;
  overflow: boolean;
  supportsDelete: boolean;
  supportsPartialAdd: boolean;
  supportsReserve: boolean;
  supportsAllocationInfo: boolean;
}

function ts(v: number): number | undefined {
  return v === 0xffffffff || v === 0 ? undefined : v;
}

export async function getSelInfo(s: Session): Promise<SelInfo> {
  const r = await s.request(0x0a, 0x40, Buffer.alloc(0), { step: 'Get SEL Info' });
  const d = r.data;
  if (d.length < 14) throw new IpmiError('protocol', 'Get SEL Info answer too short', { host: s.target.host, port: s.port, step: 'Get SEL Info' });
  const v = d.readUInt8(0);
  const info: SelInfo = {
    version: `${v & 0x0f}.${v >> 4}`,
    entries: d.readUInt16LE(1),
    freeBytes: d.readUInt16LE(3),
    overflow: (d.readUInt8(13) & 0x80) !== 0,
    supportsDelete: (d.readUInt8(13) & 0x08) !== 0,
    supportsPartialAdd: (d.readUInt8(13) & 0x04) !== 0,
    supportsReserve: (d.readUInt8(13) & 0x02) !== 0,
    supportsAllocationInfo: (d.readUInt8(13) & 0x01) !== 0,
  };
  const add = ts(d.readUInt32LE(5)), erase = ts(d.readUInt32LE(9));
  if (add !== undefined) info.lastAddTime = add;
  if (erase !== undefined) info.lastEraseTime = erase;
  return info;
}

export interface SelEntry {
  recordId: number;
  recordType: number;
  /** Raw 16-byte record. */
  raw: Buffer;
  /** Seconds since 1970 (BMC clock); absent for non-timestamped OEM records. */
  timestamp?: number;
  /** System event records (type 02h) only: */
  generatorId?: number;
  evmRev?: number;
  sensorType?: number;
  sensorTypeName?: string;
  sensorNumber?: number;
  eventType?: number;
  /** 'assertion' or 'deassertion'. */
  direction?: 'assertion' | 'deassertion';
  eventData?: [number, number, number];
  /** Human-readable event description. */
  text: string;
}

export function decodeSelRecord(raw: Buffer): SelEntry {
  const recordId = raw.readUInt16LE(0);
  const recordType = raw.readUInt8(2);
  if (recordType === 0x02 || recordType < 0xc0) {
    const sensorType = raw.readUInt8(10);
    const eventType = raw.readUInt8(12) & 0x7f;
    const data: [number, number, number] = [raw.readUInt8(13), raw.readUInt8(14), raw.readUInt8(15)];
    const direction = raw.readUInt8(12) & 0x80 ? 'deassertion' : 'assertion';
    const text = eventText(eventType, sensorType, data[0] & 0x0f);
    return {
      recordId, recordType, raw, timestamp: raw.readUInt32LE(3), generatorId: raw.readUInt16LE(7), evmRev: raw.readUInt8(9),
      sensorType, sensorTypeName: sensorTypeName(sensorType), sensorNumber: raw.readUInt8(11), eventType, direction,
      eventData: data, text: `${sensorTypeName(sensorType)} #0x${raw.readUInt8(11).toString(16).padStart(2, '0')}: ${text}${direction === 'deassertion' ? ' (deasserted)' : ''}`,
    };
  }
  if (recordType <= 0xdf) {
    return { recordId, recordType, raw, timestamp: raw.readUInt32LE(3), text: `OEM timestamped record 0x${recordType.toString(16)} (manufacturer ${raw.readUIntLE(7, 3)})` };
  }
  return { recordId, recordType, raw, text: `OEM record 0x${recordType.toString(16)}` };
}

/** Reserve SEL: the reservation is cancelled by the BMC when the SEL changes. */
export async function reserveSel(s: Session): Promise<number> {
  const r = await s.request(0x0a, 0x42, Buffer.alloc(0), { step: 'Reserve SEL' });
  return r.data.readUInt16LE(0);
}

async function getSelEntry(s: Session, reservation: number, recordId: number): Promise<{ next: number; raw: Buffer }> {
  const req = Buffer.alloc(6);
  req.writeUInt16LE(reservation, 0);
  req.writeUInt16LE(recordId, 2);
  req[4] = 0;
  req[5] = 0xff;
  const r = await s.request(0x0a, 0x43, req, { step: 'Get SEL Entry', allow: [0xc5] });
  if (r.cc === 0xc5) throw new ReservationLost();
  if (r.data.length < 18) throw new IpmiError('protocol', `SEL record 0x${recordId.toString(16)} too short`, { host: s.target.host, port: s.port, step: 'Get SEL Entry' });
  return { next: r.data.readUInt16LE(0), raw: Buffer.from(r.data.subarray(2, 18)) };
}

class ReservationLost extends Error {}

export interface SelReadOptions {
  /** Return at most this many entries, the most recent ones (default all). */
  last?: number;
}

/** Reads the whole SEL (oldest first). */
export async function getSelEntries(s: Session, o: SelReadOptions = {}): Promise<SelEntry[]> {
  for (let round = 0; round < 5; round++) {
    try {
      const entries = await readAll(s, 0);
      return o.last !== undefined ? entries.slice(-o.last) : entries;
    } catch (e) {
      if (!(e instanceof ReservationLost)) throw e;
    }
  }
  throw new IpmiError('protocol', 'SEL keeps changing while being read', { host: s.target.host, port: s.port, step: 'Get SEL Entry' });
}

async function readAll(s: Session, reservation: number): Promise<SelEntry[]> {
  const info = await getSelInfo(s);
  if (info.entries === 0) return [];
  const out: SelEntry[] = [];
  let id = 0x0000;
  // The next-ID chain ends at FFFFh; the guard stops a BMC that loops.
  for (let i = 0; i < 0x10000 && id !== 0xffff; i++) {
    const { next, raw } = await getSelEntry(s, reservation, id);
    out.push(decodeSelRecord(raw));
    if (next === id) break;
    id = next;
  }
  return out;
}

export interface SelClearResult {
  /** Entries read under the same reservation as the clear (when readFirst). */
  entries: SelEntry[];
  /** How many times new events arrived and the read was redone before clearing. */
  restarts: number;
}

/**
 * Clears the SEL. With readFirst (default) the entries are read under a reservation and
 * the clear uses the same reservation: an event logged in between cancels the reservation,
 * the BMC refuses the clear (C5h) and the read is redone, so nothing is lost unseen.
 */
export async function clearSel(s: Session, o: { readFirst?: boolean; afterRead?: (round: number) => Promise<void> } = {}): Promise<SelClearResult> {
  const readFirst = o.readFirst ?? true;
  for (let restarts = 0; restarts < 5; restarts++) {
    const res = await reserveSel(s);
    let entries: SelEntry[] = [];
    if (readFirst) {
      try {
        entries = await readAll(s, res);
      } catch (e) {
        if (e instanceof ReservationLost) continue;
        throw e;
      }
    }
    // Instrumentation point: lets a test make something happen between read and clear.
    if (o.afterRead) await o.afterRead(restarts);
    const req = Buffer.from([res & 0xff, res >> 8, 0x43, 0x4c, 0x52, 0xaa]); // 'CLR', initiate erase
    const r = await s.request(0x0a, 0x47, req, { step: 'Clear SEL', allow: [0xc5], retries: 0 });
    if (r.cc === 0xc5) continue;
    // Poll erasure status; most BMCs finish at once.
    for (let i = 0; i < 20 && r.data.length >= 1 && (r.data.readUInt8(0) & 0x0f) !== 1; i++) {
      const st = await s.request(0x0a, 0x47, Buffer.from([res & 0xff, res >> 8, 0x43, 0x4c, 0x52, 0x00]), { step: 'Clear SEL status', allow: [0xc5] });
      if (st.cc !== 0 || (st.data.readUInt8(0) & 0x0f) === 1) break;
      await wait(100);
    }
    return { entries, restarts };
  }
  throw new IpmiError('protocol', 'SEL keeps changing; clear not done', { host: s.target.host, port: s.port, step: 'Clear SEL' });
}

/** Adds a system event record; the BMC assigns record ID and, usually, the timestamp. */
export async function addSelEntry(s: Session, record16: Buffer): Promise<number> {
  const r = await s.request(0x0a, 0x44, record16.subarray(0, 16), { step: 'Add SEL Entry', retries: 0 });
  return r.data.readUInt16LE(0);
}
