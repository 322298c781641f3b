import type { Session } from '../session.js';

export interface DeviceId {
  deviceId: number;
  deviceRevision: number;
  /** Firmware revision as the BMC reports it, e.g. "9.08". */
  firmware: string;
  /** IPMI version, e.g. "2.0". */
  ipmiVersion: string;
  manufacturerId: number;
  productId: number;
  providesSdrs: boolean;
  /** Device still initialising (firmware update, boot). */
  updateInProgress: boolean;
  additionalSupport: number;
  auxFirmware?: string;
}

export function decodeDeviceId(d: Buffer): DeviceId {
  const b = (i: number) => (i < d.length ? d.readUInt8(i) : 0);
  const minor = b(3);
  const out: DeviceId = {
    deviceId: b(0),
    deviceRevision: b(1) & 0x0f,
    providesSdrs: (b(1) & 0x80) !== 0,
    updateInProgress: (b(2) & 0x80) !== 0,
    // minor firmware revision is BCD
    firmware: `${b(2) & 0x7f}.${((minor >> 4) * 10 + (minor & 0x0f)).toString().padStart(2, '0')}`,
    ipmiVersion: `${b(4) & 0x0f}.${b(4) >> 4}`,
    additionalSupport: b(5),
    manufacturerId: b(6) | (b(7) << 8) | ((b(8) & 0x0f) << 16),
    productId: b(9) | (b(10) << 8),
  };
  if (d.length >= 15) out.auxFirmware = d.subarray(11, 15).toString('hex');
  return out;
}

export async function getDeviceId(s: Session): Promise<DeviceId> {
  const r = await s.request(0x06, 0x01, Buffer.alloc(0), { step: 'Get Device ID' });
  return decodeDeviceId(r.data);
}

/** System GUID in the usual text form (the BMC sends it least significant byte first). */
export async function getSystemGuid(s: Session): Promise<string> {
  const r = await s.request(0x06, 0x37, Buffer.alloc(0), { step: 'Get System GUID' });
  return formatGuid(r.data.subarray(0, 16));
}

export function formatGuid(g: Buffer): string {
  if (g.length < 16) return g.toString('hex');
  const h = Buffer.from(g).reverse().toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
