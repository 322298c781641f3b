// Platform Event Trap decoding (IPMI PET Format Specification v1.0): the monitor receives
// an SNMP trap from enterprise 1.3.6.1.4.1.3183.1.1 whose varbind
// 1.3.6.1.4.1.3183.1.1.1 is an octet string laid out as below, MSB-first.
import { formatGuid } from './commands/device.js';
import { eventText, sensorTypeName } from './tables.js';

export const PET_ENTERPRISE_OID = '1.3.6.1.4.1.3183.1.1';
export const PET_VARBIND_OID = '1.3.6.1.4.1.3183.1.1.1';

export type PetSeverity = 'unspecified' | 'monitor' | 'information' | 'ok' | 'non-critical' | 'critical' | 'non-recoverable';

const SEVERITY: Record<number, PetSeverity> = {
  0x00: 'unspecified', 0x01: 'monitor', 0x02: 'information', 0x04: 'ok', 0x08: 'non-critical', 0x10: 'critical', 0x20: 'non-recoverable',
};

const EVENT_SOURCE: Record<number, string> = {
  0x00: 'unspecified', 0x08: 'platform firmware (BIOS)', 0x10: 'SMI handler', 0x18: 'ISV system management software',
  0x20: 'alert ASIC', 0x28: 'IPMI', 0x30: 'BIOS vendor', 0x38: 'system board set vendor', 0x40: 'system integrator',
  0x48: 'third-party add-in', 0x50: 'OSV', 0x58: 'NIC', 0x60: 'system management card',
};

export interface PetEvent {
  /** System GUID, text form. */
  guid: string;
  sequence: number;
  /** Event time, ISO 8601; undefined when the BMC sent "unspecified" (0). */
  time?: string;
  /** Minutes from UTC of the local timestamp; undefined when unspecified (FFFFh). */
  utcOffsetMinutes?: number;
  trapSourceType: number;
  eventSourceType: number;
  eventSource: string;
  severityCode: number;
  severity: PetSeverity;
  sensorDevice: number;
  sensorNumber: number;
  entity: number;
  entityInstance: number;
  eventData: number[];
  languageCode: number;
  manufacturerId: number;
  systemId: number;
  oemCustom?: Buffer;
}

/** Seconds between 1970-01-01 and the PET epoch 1998-01-01. */
const PET_EPOCH = Date.UTC(1998, 0, 1) / 1000;

/** Decodes the PET varbind; undefined when it is too short to be one. */
export function decodePetVarbind(b: Buffer): PetEvent | undefined {
  if (b.length < 46) return undefined;
  const ts = b.readUInt32BE(18);
  const off = b.readUInt16BE(22);
  const sevCode = b.readUInt8(26);
  const srcType = b.readUInt8(25);
  const ev: PetEvent = {
    guid: formatGuidBE(b.subarray(0, 16)),
    sequence: b.readUInt16BE(16),
    trapSourceType: b.readUInt8(24),
    eventSourceType: srcType,
    eventSource: EVENT_SOURCE[srcType] ?? `source type 0x${srcType.toString(16)}`,
    severityCode: sevCode,
    severity: SEVERITY[sevCode] ?? 'unspecified',
    sensorDevice: b.readUInt8(27),
    sensorNumber: b.readUInt8(28),
    entity: b.readUInt8(29),
    entityInstance: b.readUInt8(30),
    eventData: [...b.subarray(31, 39)],
    languageCode: b.readUInt8(39),
    manufacturerId: b.readUInt32BE(40),
    systemId: b.readUInt16BE(44),
  };
  if (off !== 0xffff) ev.utcOffsetMinutes = off >= 0x8000 ? off - 0x10000 : off;
  if (ts !== 0) {
    // The timestamp is local time; take the offset out when the BMC gave one.
    ev.time = new Date((PET_EPOCH + ts - (ev.utcOffsetMinutes ?? 0) * 60) * 1000).toISOString();
  }
  if (b.length > 46) ev.oemCustom = Buffer.from(b.subarray(46));
  return ev;
}

/** PET sends the GUID in network order, unlike Get System GUID. */
function formatGuidBE(g: Buffer): string {
  return formatGuid(Buffer.from(g).reverse());
}

export interface PetSpecificTrap {
  sensorType: number;
  sensorTypeName: string;
  eventType: number;
  offset: number;
  direction: 'assertion' | 'deassertion';
  text: string;
}

/**
 * The SNMP specific-trap number of a PET: sensor type (bits 23..16), event/reading type
 * (15..8), event offset (3..0) with bit 7 set for a deassertion.
 */
export function decodePetSpecificTrap(n: number): PetSpecificTrap {
  const sensorType = (n >>> 16) & 0xff;
  const eventType = (n >>> 8) & 0xff;
  const offset = n & 0x0f;
  const direction = n & 0x80 ? 'deassertion' : 'assertion';
  return { sensorType, sensorTypeName: sensorTypeName(sensorType), eventType, offset, direction, text: eventText(eventType, sensorType, offset) };
}

/** Builds a PET varbind (for tests and for a simulator that sends traps). */
export function encodePetVarbind(e: {
  guid: Buffer; sequence: number; timestamp: number; utcOffsetMinutes?: number; trapSourceType?: number; eventSourceType: number;
  severity: number; sensorDevice: number; sensorNumber: number; entity: number; entityInstance: number; eventData: number[];
  manufacturerId: number; systemId: number;
}): Buffer {
  const b = Buffer.alloc(46);
  e.guid.copy(b, 0, 0, 16);
  b.writeUInt16BE(e.sequence, 16);
  b.writeUInt32BE(e.timestamp >>> 0, 18);
  b.writeUInt16BE(e.utcOffsetMinutes === undefined ? 0xffff : e.utcOffsetMinutes & 0xffff, 22);
  b[24] = e.trapSourceType ?? 0x20;
  b[25] = e.eventSourceType;
  b[26] = e.severity;
  b[27] = e.sensorDevice;
  b[28] = e.sensorNumber;
  b[29] = e.entity;
  b[30] = e.entityInstance;
  for (let i = 0; i < 8; i++) b[31 + i] = e.eventData[i] ?? 0xff;
  b[39] = 0x19; // English
  b.writeUInt32BE(e.manufacturerId >>> 0, 40);
  b.writeUInt16BE(e.systemId, 44);
  return b;
}
