// Decoders for SDR, FRU, SEL and PET against hand-assembled bytes from the specifications.
import { describe, expect, it } from 'vitest';
import { decodeChassisStatus } from '../../src/ipmi/commands/chassis.js';
import { decodeDeviceId } from '../../src/ipmi/commands/device.js';
import { decodeFru } from '../../src/ipmi/commands/fru.js';
import { decode6bitAscii, decodeBcdPlus, decodeSdr, linearize, thresholdStatus, type FullSensorRecord } from '../../src/ipmi/commands/sdr.js';
import { decodeSelRecord } from '../../src/ipmi/commands/sel.js';
import { decodePetSpecificTrap, decodePetVarbind } from '../../src/ipmi/pet.js';
import { sampleFru } from '../support/ipmi-sim.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('SDR linearization', () => {
  const lin = { m: 1, b: 0, rExp: 0, bExp: 0, linearization: 0, analogFormat: 0 };
  it('y = (M·x + B·10^Bexp)·10^Rexp', () => {
    expect(linearize(200, { ...lin, m: 6, rExp: -2 })).toBe(12);
    expect(linearize(0x60, { ...lin, b: -40 })).toBe(56);
    expect(linearize(10, { ...lin, m: 2, b: 5, bExp: 1, rExp: -1 })).toBe(7); // (20 + 50) / 10
    expect(linearize(100, { ...lin, m: 50 })).toBe(5000);
  });
  it('signed formats and a negative 10-bit M', () => {
    expect(linearize(0xff, { ...lin, analogFormat: 2 })).toBe(-1);
    expect(linearize(0xfe, { ...lin, analogFormat: 1 })).toBe(-1);
    expect(linearize(3, { ...lin, m: -2 })).toBe(-6);
  });
  it('non-linear functions and "no analog reading"', () => {
    expect(linearize(4, { ...lin, linearization: 7 })).toBe(0.25);
    expect(linearize(9, { ...lin, linearization: 10 })).toBe(3);
    expect(linearize(3, { ...lin, linearization: 8 })).toBe(9);
    expect(linearize(5, { ...lin, analogFormat: 3 })).toBeUndefined();
  });
  it('threshold status takes the most severe bit', () => {
    expect(thresholdStatus(0)).toBe('ok');
    expect(thresholdStatus(0x08)).toBe('unc');
    expect(thresholdStatus(0x18)).toBe('ucr');
    expect(thresholdStatus(0x38)).toBe('unr');
    expect(thresholdStatus(0x03)).toBe('lcr');
  });
});

describe('SDR records', () => {
  // Full sensor record, "12V": voltage, M=6, R exp -2, thresholds readable (0x3f).
  const full = hex(`0200 51 01 31  20 00 02 07 01 7f 68 02 01 957a 957a 3f3f  00 04 00 00  06 00 00 00 00 e0
    07 80 ff 00 ff 00  dc d7 d2 b4 b9 be  02 02 00 00 00  c3 313256`);
  it('decodes a full sensor record with units, factors and thresholds', () => {
    const r = decodeSdr(full) as FullSensorRecord;
    expect(r).toMatchObject({ recordId: 2, recordType: 1, number: 2, name: '12V', unit: 'Volts', m: 6, b: 0, rExp: -2, sensorTypeName: 'Voltage' });
    expect(r.thresholds).toEqual({ unr: 13.2, ucr: 12.9, unc: 12.6, lnr: 10.8, lcr: 11.1, lnc: 11.4 });
  });
  it('decodes a compact record name', () => {
    const compact = hex(`0400 51 02 1d  20 00 04 20 01 67 40 25 6f 0300 0300 0300 c0 00 00 01 00 00 00 00 00 00 00 c4 44494d4d`);
    expect(decodeSdr(compact)).toMatchObject({ recordType: 2, number: 4, name: 'DIMM', sensorTypeName: 'Entity Presence' });
  });
  it('6-bit packed ASCII and BCD plus strings', () => {
    expect(decode6bitAscii(Buffer.from([0x29, 0xdc, 0xa6]))).toBe('IPMI');
    expect(decodeBcdPlus(Buffer.from([0x12, 0x3b]))).toBe('123-');
  });
});

describe('FRU inventory', () => {
  it('decodes chassis, board and product areas and checks checksums', () => {
    const inv = decodeFru(Buffer.from(sampleFru('77')));
    expect(inv.badChecksums).toEqual([]);
    expect(inv.chassis).toMatchObject({ typeName: 'Rack Mount Chassis', partNumber: 'CH-PART-01', serialNumber: 'CHS77' });
    expect(inv.board).toMatchObject({ manufacturer: 'NEC', product: 'Express5800 Board', serialNumber: 'BRD77', partNumber: 'BP-0042' });
    // 14,000,000 minutes after 1996-01-01 (ipmitool shows the same date)
    expect(inv.board?.manufacturedAt).toBe('2022-08-14T05:20:00.000Z');
    expect(inv.product).toMatchObject({ manufacturer: 'NEC', name: 'Express5800/R120h', version: 'v1.2', serialNumber: 'SN77', assetTag: 'AT-7' });
  });
  it('reports a corrupted area instead of failing', () => {
    const b = Buffer.from(sampleFru('77'));
    b.writeUInt8(b.readUInt8(13) ^ 0x01, 13); // a byte inside the chassis area
    expect(decodeFru(b).badChecksums).toEqual(['chassis']);
  });
  it('rejects data without a common header', () => {
    expect(() => decodeFru(Buffer.alloc(16))).toThrow(/common header/);
  });
});

describe('SEL records', () => {
  it('decodes a threshold event and a sensor-specific event', () => {
    const t = decodeSelRecord(hex('0100 02 00100000 2000 04 01 01 01 579075'));
    expect(t).toMatchObject({ recordId: 1, timestamp: 0x1000, sensorTypeName: 'Temperature', sensorNumber: 1, direction: 'assertion', text: 'Temperature #0x01: Upper Non-critical going high' });
    const p = decodeSelRecord(hex('0200 02 00000000 2000 04 08 05 ef 01ffff'));
    expect(p).toMatchObject({ sensorTypeName: 'Power Supply', direction: 'deassertion' });
    expect(p.text).toContain('Power Supply Failure detected');
  });
});

describe('PET (Platform Event Trap) varbind', () => {
  const pet = hex(`00112233445566778899aabbccddeeff 0102 00001000 ffff 20 28 10 20 01 07 01
    579075ffffffffff 19 00001291 0f02`);
  it('decodes GUID, sequence, timestamp, source, severity, sensor and event data', () => {
    const e = decodePetVarbind(pet)!;
    expect(e).toMatchObject({
      guid: '00112233-4455-6677-8899-aabbccddeeff', sequence: 0x0102, time: '1998-01-01T01:08:16.000Z', eventSource: 'IPMI',
      severity: 'critical', sensorDevice: 0x20, sensorNumber: 1, entity: 7, entityInstance: 1, manufacturerId: 4753, systemId: 0x0f02,
    });
    expect(e.utcOffsetMinutes).toBeUndefined();
    expect(e.eventData.slice(0, 3)).toEqual([0x57, 0x90, 0x75]);
  });
  it('applies the UTC offset of a local timestamp', () => {
    const b = Buffer.from(pet);
    b.writeUInt16BE(540, 22); // +09:00
    expect(decodePetVarbind(b)?.time).toBe('1997-12-31T16:08:16.000Z');
  });
  it('decodes the specific-trap number and rejects short varbinds', () => {
    expect(decodePetSpecificTrap(0x00010107)).toMatchObject({ sensorTypeName: 'Temperature', direction: 'assertion', text: 'Upper Non-critical going high' });
    expect(decodePetSpecificTrap(0x00086f81).direction).toBe('deassertion');
    expect(decodePetVarbind(pet.subarray(0, 40))).toBeUndefined();
  });
});

describe('Device ID and chassis status', () => {
  it('decodes Get Device ID (BCD minor firmware) and chassis bits', () => {
    expect(decodeDeviceId(hex('00 03 09 08 02 9f 911200 020f'))).toMatchObject({ firmware: '9.08', ipmiVersion: '2.0', manufacturerId: 4753, productId: 0x0f02 });
    expect(decodeChassisStatus(hex('21 10 40'))).toMatchObject({ power: 'on', restorePolicy: 'previous', lastPowerEvent: ['ipmi-command'], identify: 'off' });
  });
});
