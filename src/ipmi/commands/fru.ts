// FRU inventory read and decode (Platform Management FRU Information Storage Definition v1.0).
import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';
import { decodeTypeLength } from './sdr.js';

export interface FruChassis { type: number; typeName: string; partNumber: string; serialNumber: string; custom: string[] }
export interface FruBoard { manufacturedAt?: string; manufacturer: string; product: string; serialNumber: string; partNumber: string; fruFileId: string; custom: string[] }
export interface FruProduct { manufacturer: string; name: string; partNumber: string; version: string; serialNumber: string; assetTag: string; fruFileId: string; custom: string[] }

export interface FruInventory {
  chassis?: FruChassis;
  board?: FruBoard;
  product?: FruProduct;
  /** Areas whose checksum did not add up (decoded anyway; the caller may warn). */
  badChecksums: string[];
}

// SMBIOS chassis types, as used by the FRU chassis info area.
const CHASSIS_TYPES = ['Unspecified', 'Other', 'Unknown', 'Desktop', 'Low Profile Desktop', 'Pizza Box', 'Mini Tower', 'Tower', 'Portable', 'LapTop', 'Notebook', 'Hand Held', 'Docking Station', 'All in One', 'Sub Notebook', 'Space-saving', 'Lunch Box', 'Main Server Chassis', 'Expansion Chassis', 'SubChassis', 'Bus Expansion Chassis', 'Peripheral Chassis', 'RAID Chassis', 'Rack Mount Chassis', 'Sealed-case PC', 'Multi-system Chassis', 'Compact PCI', 'Advanced TCA', 'Blade', 'Blade Enclosure', 'Tablet', 'Convertible', 'Detachable', 'IoT Gateway', 'Embedded PC', 'Mini PC', 'Stick PC'];

function sum8(b: Buffer): number {
  let s = 0;
  for (const x of b) s = (s + x) & 0xff;
  return s;
}

/** Reads type/length fields from `off` until the C1h end marker or the area end. */
function fields(area: Buffer, off: number): string[] {
  const out: string[] = [];
  let i = off;
  while (i < area.length) {
    const tl = area.readUInt8(i);
    if (tl === 0xc1) break;
    const len = tl & 0x3f;
    if (i + 1 + len > area.length) break;
    out.push(decodeTypeLength(tl, area.subarray(i + 1, i + 1 + len)));
    i += 1 + len;
  }
  return out;
}

function area(data: Buffer, offset8: number, name: string, bad: string[]): Buffer | undefined {
  if (offset8 === 0) return undefined;
  const start = offset8 * 8;
  if (start + 2 > data.length) return undefined;
  const len = data.readUInt8(start + 1) * 8;
  if (len === 0 || start + len > data.length) return undefined;
  const a = data.subarray(start, start + len);
  if (sum8(a) !== 0) bad.push(name);
  return a;
}

export function decodeFru(data: Buffer): FruInventory {
  const inv: FruInventory = { badChecksums: [] };
  if (data.length < 8 || data.readUInt8(0) !== 0x01) {
    throw new IpmiError('protocol', 'FRU data has no valid common header');
  }
  if (sum8(data.subarray(0, 8)) !== 0) inv.badChecksums.push('header');
  const ch = area(data, data.readUInt8(2), 'chassis', inv.badChecksums);
  if (ch && ch.length >= 3) {
    const f = fields(ch, 3);
    const t = ch.readUInt8(2);
    inv.chassis = { type: t, typeName: CHASSIS_TYPES[t] ?? `type ${t}`, partNumber: f[0] ?? '', serialNumber: f[1] ?? '', custom: f.slice(2) };
  }
  const bd = area(data, data.readUInt8(3), 'board', inv.badChecksums);
  if (bd && bd.length >= 6) {
    const minutes = bd.readUIntLE(3, 3);
    const f = fields(bd, 6);
    inv.board = { manufacturer: f[0] ?? '', product: f[1] ?? '', serialNumber: f[2] ?? '', partNumber: f[3] ?? '', fruFileId: f[4] ?? '', custom: f.slice(5) };
    // Minutes since 1996-01-01 00:00 UTC; 0 means unspecified.
    if (minutes !== 0) inv.board.manufacturedAt = new Date(Date.UTC(1996, 0, 1) + minutes * 60_000).toISOString();
  }
  const pr = area(data, data.readUInt8(4), 'product', inv.badChecksums);
  if (pr && pr.length >= 3) {
    const f = fields(pr, 3);
    inv.product = { manufacturer: f[0] ?? '', name: f[1] ?? '', partNumber: f[2] ?? '', version: f[3] ?? '', serialNumber: f[4] ?? '', assetTag: f[5] ?? '', fruFileId: f[6] ?? '', custom: f.slice(7) };
  }
  return inv;
}

/** Reads the raw FRU inventory of a FRU device (0 = the BMC's own). */
export async function readFruData(s: Session, fruId = 0): Promise<Buffer> {
  const info = await s.request(0x0a, 0x10, Buffer.from([fruId]), { step: 'Get FRU Inventory Area Info' });
  if (info.data.length < 3) throw new IpmiError('protocol', 'FRU area info too short', { host: s.target.host, port: s.port, step: 'Get FRU Inventory Area Info' });
  const size = info.data.readUInt16LE(0);
  const byWords = (info.data.readUInt8(2) & 1) === 1;
  const parts: Buffer[] = [];
  let off = 0;
  let chunk = 32;
  while (off < size) {
    const want = Math.min(chunk, size - off);
    const count = byWords ? Math.ceil(want / 2) : want;
    const o = byWords ? off / 2 : off;
    const r = await s.request(0x0a, 0x11, Buffer.from([fruId, o & 0xff, o >> 8, count]), { step: 'Read FRU Data', allow: [0xc7, 0xc8, 0xca, 0x81] });
    if (r.cc !== 0) {
      // Some BMCs cap the read size below what fits a packet: halve and go on.
      if (chunk > 4 && r.cc !== 0x81) { chunk >>= 1; continue; }
      throw new IpmiError('completion-code', `Read FRU Data failed at offset ${off}`, { host: s.target.host, port: s.port, code: r.cc, step: 'Read FRU Data' });
    }
    const n = r.data.readUInt8(0) * (byWords ? 2 : 1);
    if (n === 0) break;
    parts.push(r.data.subarray(1, 1 + n));
    off += n;
  }
  return Buffer.concat(parts).subarray(0, size);
}

export async function getFru(s: Session, fruId = 0): Promise<FruInventory> {
  const data = await readFruData(s, fruId);
  try {
    return decodeFru(data);
  } catch (e) {
    throw new IpmiError('protocol', (e as Error).message.replace(/^protocol: /, ''), { host: s.target.host, port: s.port, step: 'decode FRU' });
  }
}
