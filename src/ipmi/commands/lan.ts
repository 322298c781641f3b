// LAN configuration parameters (IPMI 2.0 §23.1–23.2, table 23-4).
import type { Session } from '../session.js';

export const LAN_PARAM = {
  setInProgress: 0, authTypeSupport: 1, authTypeEnables: 2, ipAddress: 3, ipAddressSource: 4, macAddress: 5,
  subnetMask: 6, defaultGateway: 12, defaultGatewayMac: 13, backupGateway: 14, communityString: 16,
  vlanId: 20, cipherSuiteSupport: 22, cipherSuiteEntries: 23, cipherSuitePrivileges: 24,
} as const;

export interface LanConfig {
  channel: number;
  ipAddress?: string;
  ipAddressSource?: 'unspecified' | 'static' | 'dhcp' | 'bios' | 'other';
  macAddress?: string;
  subnetMask?: string;
  defaultGateway?: string;
  defaultGatewayMac?: string;
  vlanId?: number | 'disabled';
  communityString?: string;
  /** Parameters the BMC does not support (completion code 80h). */
  unsupported: string[];
}

const ip = (b: Buffer) => (b.length >= 4 ? `${b.readUInt8(0)}.${b.readUInt8(1)}.${b.readUInt8(2)}.${b.readUInt8(3)}` : '');
const mac = (b: Buffer) => [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** Returns the parameter data (without the revision byte), or undefined when not supported. */
export async function getLanParameter(s: Session, channel: number, param: number, set = 0, block = 0): Promise<Buffer | undefined> {
  const r = await s.request(0x0c, 0x02, Buffer.from([channel & 0x0f, param, set, block]), { step: `Get LAN Configuration Parameter ${param}`, allow: [0x80] });
  if (r.cc === 0x80) return undefined;
  return Buffer.from(r.data.subarray(1));
}

export async function getLanConfig(s: Session, channel = 1): Promise<LanConfig> {
  const cfg: LanConfig = { channel, unsupported: [] };
  const get = async (name: string, p: number) => {
    const d = await getLanParameter(s, channel, p);
    if (!d) cfg.unsupported.push(name);
    return d;
  };
  let d = await get('ipAddress', LAN_PARAM.ipAddress);
  if (d) cfg.ipAddress = ip(d);
  d = await get('ipAddressSource', LAN_PARAM.ipAddressSource);
  if (d && d.length) cfg.ipAddressSource = (['unspecified', 'static', 'dhcp', 'bios', 'other'] as const)[d.readUInt8(0) & 0x0f] ?? 'other';
  d = await get('macAddress', LAN_PARAM.macAddress);
  if (d) cfg.macAddress = mac(d);
  d = await get('subnetMask', LAN_PARAM.subnetMask);
  if (d) cfg.subnetMask = ip(d);
  d = await get('defaultGateway', LAN_PARAM.defaultGateway);
  if (d) cfg.defaultGateway = ip(d);
  d = await get('defaultGatewayMac', LAN_PARAM.defaultGatewayMac);
  if (d) cfg.defaultGatewayMac = mac(d);
  d = await get('vlanId', LAN_PARAM.vlanId);
  if (d && d.length >= 2) cfg.vlanId = d.readUInt8(1) & 0x80 ? d.readUInt16LE(0) & 0x0fff : 'disabled';
  d = await get('communityString', LAN_PARAM.communityString);
  if (d) cfg.communityString = d.toString('latin1').replace(/\0+$/, '');
  return cfg;
}

export async function setLanParameter(s: Session, channel: number, param: number, data: Buffer): Promise<void> {
  await s.request(0x0c, 0x01, Buffer.concat([Buffer.from([channel & 0x0f, param]), data]), {
    step: `Set LAN Configuration Parameter ${param}`,
    codes: { 0x80: 'parameter not supported', 0x81: 'another client holds set-in-progress', 0x82: 'parameter is read-only' },
  });
}

export interface LanSettings {
  ipAddress?: string;
  ipAddressSource?: 'static' | 'dhcp';
  subnetMask?: string;
  defaultGateway?: string;
  vlanId?: number | 'disabled';
}

function ipBytes(a: string): Buffer {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${a}`);
  return Buffer.from(parts);
}

/**
 * Writes LAN settings inside a set-in-progress bracket (set in progress, writes, commit,
 * set complete), so the BMC applies them together and does not drop the connection
 * half-way through an address change. A failed write rolls back on BMCs that support it.
 */
export async function setLanConfig(s: Session, channel: number, v: LanSettings): Promise<void> {
  const writes: [number, Buffer][] = [];
  if (v.ipAddressSource) writes.push([LAN_PARAM.ipAddressSource, Buffer.from([v.ipAddressSource === 'static' ? 1 : 2])]);
  if (v.ipAddress) writes.push([LAN_PARAM.ipAddress, ipBytes(v.ipAddress)]);
  if (v.subnetMask) writes.push([LAN_PARAM.subnetMask, ipBytes(v.subnetMask)]);
  if (v.defaultGateway) writes.push([LAN_PARAM.defaultGateway, ipBytes(v.defaultGateway)]);
  if (v.vlanId !== undefined) {
    const b = Buffer.alloc(2);
    if (v.vlanId !== 'disabled') b.writeUInt16LE(0x8000 | (v.vlanId & 0x0fff));
    writes.push([LAN_PARAM.vlanId, b]);
  }
  let inProgress = false;
  try {
    const r = await s.request(0x0c, 0x01, Buffer.from([channel & 0x0f, 0, 1]), { step: 'Set LAN set-in-progress', allow: [0x80, 0x81] });
    inProgress = r.cc === 0;
    for (const [p, d] of writes) await setLanParameter(s, channel, p, d);
    // BMCs that keep rollback data discard the writes on "set complete" unless they were
    // committed first; commit is optional, so a refusal is not an error.
    if (inProgress) await s.request(0x0c, 0x01, Buffer.from([channel & 0x0f, 0, 2]), { step: 'Set LAN commit write', allow: [0x80, 0x81, 0xcc, 0xd5] });
  } finally {
    if (inProgress) await s.request(0x0c, 0x01, Buffer.from([channel & 0x0f, 0, 0]), { step: 'Set LAN set-complete', allow: [0x80, 0x81] }).catch(() => undefined);
  }
}
