// System boot options, parameter 5 "boot flags" (IPMI 2.0 §28.12–28.13): which device the
// next boot (or every boot) starts from, and whether it boots UEFI. This is what a BMC
// offers of BIOS settings; the BIOS reads the flags at the next boot.
import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';

export const BOOT_DEVICES: Readonly<Record<string, number>> = {
  none: 0x0, pxe: 0x1, disk: 0x2, safe: 0x3, diag: 0x4, cdrom: 0x5, bios: 0x6, 'remote-floppy': 0x7, 'remote-cd': 0x8, 'remote-media': 0x9, 'remote-disk': 0xb, floppy: 0xf,
};
const DEVICE_NAME = new Map(Object.entries(BOOT_DEVICES).map(([k, v]) => [v, k]));

export interface BootFlags {
  /** The flags are set (valid bit); when not, the BIOS boots as it always does. */
  valid: boolean;
  persistent: boolean;
  mode: 'uefi' | 'legacy';
  device: string;
}

export function decodeBootFlags(d: Buffer): BootFlags {
  const b1 = d.readUInt8(0), b2 = d.readUInt8(1);
  const dev = (b2 >> 2) & 0x0f;
  return { valid: (b1 & 0x80) !== 0, persistent: (b1 & 0x40) !== 0, mode: b1 & 0x20 ? 'uefi' : 'legacy', device: DEVICE_NAME.get(dev) ?? `0x${dev.toString(16)}` };
}

export async function getBootFlags(s: Session): Promise<BootFlags> {
  const step = 'Get System Boot Options';
  const r = await s.request(0x00, 0x09, Buffer.from([0x05, 0x00, 0x00]), { step, codes: { 0x80: 'boot flags not supported' } });
  if (r.data.length < 7 || (r.data.readUInt8(1) & 0x7f) !== 0x05) {
    throw new IpmiError('protocol', `${step}: answer of ${r.data.length} bytes is not parameter 5`, { host: s.target.host, port: s.port, step });
  }
  return decodeBootFlags(r.data.subarray(2, 7));
}

export async function setBootFlags(s: Session, f: Omit<BootFlags, 'valid'>): Promise<void> {
  const dev = BOOT_DEVICES[f.device];
  if (dev === undefined) throw new IpmiError('protocol', `unknown boot device ${f.device}`, { host: s.target.host, port: s.port, step: 'Set System Boot Options' });
  const b1 = (dev === 0 ? 0x00 : 0x80) | (f.persistent ? 0x40 : 0) | (f.mode === 'uefi' ? 0x20 : 0);
  await s.request(0x00, 0x08, Buffer.from([0x05, b1, dev << 2, 0x00, 0x00, 0x00]), { step: 'Set System Boot Options', codes: { 0x80: 'boot flags not supported', 0x81: 'another client is setting boot options' } });
}
