// Single-server commands over the BMC: SEL, sensors, FRU/controller inventory, identify,
// BMC LAN/user configuration and its versioned backup/restore.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import {
  getControllerInfo, getFru, getLanConfig, getSel, getSensors, identify as ipmiIdentify, lan, listUsers, setLanConfig, user,
  withSession, type BmcTarget, type FruInventory, type LanSettings, type SelEntry, type SensorReading, type SessionOptions,
} from '../ipmi/index.js';
import { eventText } from '../ipmi/tables.js';
import { bmcTargetOf, type BmcRow } from '../adapters/ipmi/target.js';
import type { Db } from '../store/db.js';
import { DscliError, formatError, RC } from './errors.js';
import { needServer, parseSettings } from './registry.js';
import { runSettings, type Out } from './ops.js';

function ipmiOnly(db: Db, name: string, what: string): { row: BmcRow; target: BmcTarget } {
  const row = needServer(db, name);
  if (row.mgmt_type === 'redfish') throw new DscliError(RC.UNSUPPORTED, `${what} over Redfish is not available in this version (mgmt=redfish)`);
  if (row.mgmt_type !== 'ipmi') throw new DscliError(RC.UNSUPPORTED, `${what} is not supported for mgmt=${row.mgmt_type}`);
  return { row, target: bmcTargetOf(db, row) };
}

function bmcOnly(db: Db, name: string, what: string): { row: BmcRow; target: BmcTarget } {
  const row = needServer(db, name);
  if (row.mgmt_type !== 'ipmi') throw new DscliError(RC.UNSUPPORTED, `${what} is for BMC (IPMI) servers only; ${name} is mgmt=${row.mgmt_type}`);
  return { row, target: bmcTargetOf(db, row) };
}

function session(db: Db, words: string[]): SessionOptions {
  return runSettings(db, words, 0).session;
}

// ---- SEL ------------------------------------------------------------------------------

const EVENT_TYPE_NAMES: Record<number, string> = { 0x01: 'threshold', 0x6f: 'sensor-specific' };
export function eventTypeName(t: number): string {
  if (EVENT_TYPE_NAMES[t]) return EVENT_TYPE_NAMES[t]!;
  if (t >= 0x02 && t <= 0x0c) return `generic 0x${t.toString(16).padStart(2, '0')}`;
  if (t >= 0x70 && t <= 0x7f) return `OEM 0x${t.toString(16)}`;
  return `0x${t.toString(16).padStart(2, '0')}`;
}

export function selTime(ts: number | undefined): string {
  if (ts === undefined) return '-';
  if (ts === 0xffffffff) return 'unspecified';
  // Below 0x20000000 the BMC clock was not set: seconds since its initialisation.
  if (ts < 0x20000000) return `pre-init+${ts}s`;
  return new Date(ts * 1000).toISOString().replace('.000Z', 'Z');
}

export function selLine(e: SelEntry): string {
  const id = `0x${e.recordId.toString(16).padStart(4, '0')}`;
  if (e.sensorType === undefined || e.eventType === undefined || !e.eventData) return `${id} | ${selTime(e.timestamp)} | - | - | ${e.text}`;
  const desc = eventText(e.eventType, e.sensorType, e.eventData[0] & 0x0f) + (e.direction === 'deassertion' ? ' (deasserted)' : '');
  return `${id} | ${selTime(e.timestamp)} | ${e.sensorTypeName} #0x${(e.sensorNumber ?? 0).toString(16).padStart(2, '0')} | ${eventTypeName(e.eventType)} | ${desc}`;
}

export async function getSelCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, ...rest] = args;
  if (!name) throw formatError('usage: getSel Name [count]');
  let count: number | undefined;
  const words = rest.filter((w) => {
    if (/^\d+$/.test(w) && count === undefined) { count = Number(w); return false; }
    return true;
  });
  const { target } = ipmiOnly(db, name, 'getSel');
  const { entries } = await getSel(target, { ...session(db, words), ...(count !== undefined ? { last: count } : {}) });
  // Newest last, as the BMC keeps them.
  for (const e of entries) {
    if (out.json) {
      out.out(JSON.stringify({
        target: name, record_id: e.recordId, record_type: e.recordType, time: selTime(e.timestamp), timestamp: e.timestamp ?? null,
        sensor_type: e.sensorTypeName ?? null, sensor_number: e.sensorNumber ?? null, event_type: e.eventType !== undefined ? eventTypeName(e.eventType) : null,
        direction: e.direction ?? null, description: e.eventType !== undefined && e.sensorType !== undefined && e.eventData ? eventText(e.eventType, e.sensorType, e.eventData[0] & 0x0f) : e.text,
        event_data: e.eventData ?? null, raw: e.raw.toString('hex'),
      }) + '\n');
    } else out.out(selLine(e) + '\n');
  }
  return RC.OK;
}

// ---- sensors ----------------------------------------------------------------------------

const num = (v: number) => String(Number(v.toFixed(3)));

export function sensorLine(s: SensorReading): string {
  const r = s.record;
  let value: string;
  if (s.value !== undefined) value = `${num(s.value)} ${s.unit ?? ''}`.trim();
  else if (s.states) value = `states ${s.states.length ? s.states.join(',') : 'none'}`;
  else value = 'na';
  const th = 'thresholds' in r ? Object.entries(r.thresholds).map(([k, v]) => `${k}=${num(v)}`).join(' ') : '';
  return `${r.name} | ${r.sensorTypeName} | ${value} | ${s.status}${th ? ' | ' + th : ''}`;
}

export async function getSensorListCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, ...words] = args;
  if (!name) throw formatError('usage: getSensorList Name');
  const { target } = ipmiOnly(db, name, 'getSensorList');
  const list = await getSensors(target, session(db, words));
  for (const s of list) {
    if (out.json) {
      const r = s.record;
      out.out(JSON.stringify({
        target: name, sensor: r.name, number: r.number, type: r.sensorTypeName, value: s.value ?? null, unit: s.unit ?? null, status: s.status,
        states: s.states ?? null, thresholds: 'thresholds' in r ? r.thresholds : null,
      }) + '\n');
    } else out.out(sensorLine(s) + '\n');
  }
  return RC.OK;
}

// ---- hardware inventory --------------------------------------------------------------------

export function hardwareLines(info: Awaited<ReturnType<typeof getControllerInfo>>, fru: FruInventory | undefined, fruError?: string): Array<[string, string]> {
  const d = info.device;
  const l: Array<[string, string]> = [
    ['device_id', `0x${d.deviceId.toString(16).padStart(2, '0')}`],
    ['device_revision', String(d.deviceRevision)],
    ['firmware', d.firmware],
    ['ipmi_version', d.ipmiVersion],
    ['manufacturer_id', String(d.manufacturerId)],
    ['product_id', `0x${d.productId.toString(16).padStart(4, '0')}`],
  ];
  if (d.auxFirmware) l.push(['aux_firmware', d.auxFirmware]);
  if (info.guid) l.push(['guid', info.guid]);
  l.push(['power', info.chassis.power]);
  if (fru?.chassis) {
    l.push(['chassis_type', fru.chassis.typeName], ['chassis_part_number', fru.chassis.partNumber], ['chassis_serial', fru.chassis.serialNumber]);
  }
  if (fru?.board) {
    const b = fru.board;
    l.push(['board_manufacturer', b.manufacturer], ['board_product', b.product], ['board_serial', b.serialNumber], ['board_part_number', b.partNumber]);
    if (b.manufacturedAt) l.push(['board_manufactured', b.manufacturedAt]);
  }
  if (fru?.product) {
    const p = fru.product;
    l.push(['product_manufacturer', p.manufacturer], ['product_name', p.name], ['product_part_number', p.partNumber], ['product_version', p.version],
      ['product_serial', p.serialNumber], ['product_asset_tag', p.assetTag]);
  }
  if (fru && fru.badChecksums.length) l.push(['fru_bad_checksums', fru.badChecksums.join(',')]);
  if (fruError) l.push(['fru', `unavailable (${fruError})`]);
  return l;
}

export async function getHardwareInfoCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, ...words] = args;
  if (!name) throw formatError('usage: getHardwareInfo Name');
  const { target } = ipmiOnly(db, name, 'getHardwareInfo');
  const o = session(db, words);
  const info = await getControllerInfo(target, o);
  let fru: FruInventory | undefined, fruError: string | undefined;
  try {
    fru = await getFru(target, o);
  } catch (e) {
    fruError = (e as Error).message;
  }
  const lines = hardwareLines(info, fru, fruError);
  if (out.json) out.out(JSON.stringify({ target: name, ...Object.fromEntries(lines) }) + '\n');
  else for (const [k, v] of lines) out.out(`${k}: ${v}\n`);
  return RC.OK;
}

// ---- identify ---------------------------------------------------------------------------------

export async function identifyCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, what, ...words] = args;
  if (!name) throw formatError('usage: identify Name [seconds|off|on]');
  let v: number | 'off' | 'force' = 15;
  if (what !== undefined && what.includes('=')) words.unshift(what);
  else if (what === 'off') v = 'off';
  else if (what === 'on') v = 'force';
  else if (what !== undefined) {
    if (!/^\d+$/.test(what) || Number(what) < 1 || Number(what) > 255) throw formatError('identify takes seconds (1-255), on or off');
    v = Number(what);
  }
  const { target } = ipmiOnly(db, name, 'identify');
  await ipmiIdentify(target, v, session(db, words));
  const text = v === 'off' ? 'identify off' : v === 'force' ? 'identify on (until turned off)' : `identify ${v} s`;
  out.out(out.json ? JSON.stringify({ target: name, operation: 'identify', status: 'ok', message: text }) + '\n' : `${name} ok ${text}\n`);
  return RC.OK;
}

// ---- BMC configuration ----------------------------------------------------------------------

export const BACKUP_FORMAT = 'kanri-dscli-bmc-config';
export const BACKUP_VERSION = 1;
const PRIVS = ['callback', 'user', 'operator', 'administrator', 'no-access'] as const;
type Priv = (typeof PRIVS)[number];
const PRIV_BY_LEVEL: Record<number, Priv> = { 1: 'callback', 2: 'user', 3: 'operator', 4: 'administrator', 15: 'no-access' };

export interface BackupUser { id: number; name: string; privilege: Priv; enabled?: boolean }
export interface BmcBackup {
  format: typeof BACKUP_FORMAT;
  version: number;
  server: string;
  saved_at: string;
  channel: number;
  lan: { ip_address?: string; ip_source?: 'static' | 'dhcp'; netmask?: string; gateway?: string; vlan?: number | 'disabled'; mac_address?: string };
  users: BackupUser[];
}

async function readConfig(target: BmcTarget, o: SessionOptions, channel: number): Promise<BmcBackup['lan'] & { users: BackupUser[] }> {
  const cfg = await getLanConfig(target, { ...o, channel });
  const users = await listUsers(target, { ...o, channel });
  const l: BmcBackup['lan'] = {};
  if (cfg.ipAddress !== undefined) l.ip_address = cfg.ipAddress;
  if (cfg.ipAddressSource === 'static' || cfg.ipAddressSource === 'dhcp') l.ip_source = cfg.ipAddressSource;
  if (cfg.subnetMask !== undefined) l.netmask = cfg.subnetMask;
  if (cfg.defaultGateway !== undefined) l.gateway = cfg.defaultGateway;
  if (cfg.vlanId !== undefined) l.vlan = cfg.vlanId;
  if (cfg.macAddress !== undefined) l.mac_address = cfg.macAddress;
  return {
    ...l,
    users: users.map((u) => ({ id: u.id, name: u.name, privilege: PRIV_BY_LEVEL[u.privilege] ?? 'no-access', ...(u.enabled !== undefined ? { enabled: u.enabled } : {}) })),
  };
}

function channelOf(s: Map<string, string>): number {
  const c = s.get('channel');
  if (c === undefined) return 1;
  if (!/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 15) throw formatError('channel must be 1-15');
  return Number(c);
}

export async function getBmcConfigCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, ...words] = args;
  if (!name) throw formatError('usage: getBmcConfig Name');
  const s = parseSettings(words, ['channel', 'timeout', 'retries']);
  const { target } = bmcOnly(db, name, 'getBmcConfig');
  const { users, ...lanCfg } = await readConfig(target, session(db, words.filter((w) => !w.startsWith('channel='))), channelOf(s));
  if (out.json) {
    out.out(JSON.stringify({ target: name, channel: channelOf(s), lan: lanCfg, users }) + '\n');
    return RC.OK;
  }
  for (const [k, v] of Object.entries(lanCfg)) out.out(`${k}=${v}\n`);
  for (const u of users) out.out(`user.${u.id}=${u.name || '(no name)'} ${u.privilege}${u.enabled === undefined ? '' : u.enabled ? ' enabled' : ' disabled'}\n`);
  return RC.OK;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function lanSettingsFrom(v: Record<string, unknown>, where: string): LanSettings {
  const out: LanSettings = {};
  const ip = (k: string): string | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'string' || !IPV4.test(x)) throw formatError(`${where}: ${k} must be an IPv4 address`);
    return x;
  };
  const a = ip('ip_address'), m = ip('netmask'), g = ip('gateway');
  if (a) out.ipAddress = a;
  if (m) out.subnetMask = m;
  if (g) out.defaultGateway = g;
  if (v.ip_source !== undefined) {
    if (v.ip_source !== 'static' && v.ip_source !== 'dhcp') throw formatError(`${where}: ip_source must be static or dhcp`);
    out.ipAddressSource = v.ip_source;
  }
  if (v.vlan !== undefined) {
    const x = v.vlan;
    if (x === 'disabled' || x === 'off') out.vlanId = 'disabled';
    else if (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 4094) out.vlanId = x;
    else if (typeof x === 'string' && /^\d+$/.test(x) && Number(x) >= 1 && Number(x) <= 4094) out.vlanId = Number(x);
    else throw formatError(`${where}: vlan must be 1-4094 or off`);
  }
  return out;
}

export async function setBmcConfigCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, ...words] = args;
  if (!name || words.length === 0) throw formatError('usage: setBmcConfig Name key=value… (ip_address, ip_source, netmask, gateway, vlan, channel)');
  const s = parseSettings(words, ['ip_address', 'ip_source', 'netmask', 'gateway', 'vlan', 'channel', 'timeout', 'retries']);
  const v = lanSettingsFrom(Object.fromEntries([...s].filter(([k]) => !['channel', 'timeout', 'retries'].includes(k))), 'setBmcConfig');
  if (Object.keys(v).length === 0) throw formatError('setBmcConfig: nothing to set');
  const { target } = bmcOnly(db, name, 'setBmcConfig');
  await setLanConfig(target, v, { ...session(db, words.filter((w) => /^(timeout|retries)=/.test(w))), channel: channelOf(s) });
  if (out.json) out.out(JSON.stringify({ target: name, operation: 'setBmcConfig', status: 'ok' }) + '\n');
  return RC.OK;
}

export async function backupBmcConfigCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, file, ...words] = args;
  if (!name || !file) throw formatError('usage: backupBmcConfig Name File');
  const s = parseSettings(words, ['channel', 'timeout', 'retries']);
  const { target } = bmcOnly(db, name, 'backupBmcConfig');
  const channel = channelOf(s);
  const { users, ...lanCfg } = await readConfig(target, session(db, words.filter((w) => !w.startsWith('channel='))), channel);
  const doc: BmcBackup = { format: BACKUP_FORMAT, version: BACKUP_VERSION, server: name, saved_at: new Date().toISOString(), channel, lan: lanCfg, users };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
  if (out.json) out.out(JSON.stringify({ target: name, operation: 'backupBmcConfig', status: 'ok', file, users: users.length }) + '\n');
  return RC.OK;
}

/** Validates a whole backup document; throws a format error naming the first problem. */
export function validateBackup(text: string): { channel: number; lan: LanSettings; users: BackupUser[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw formatError(`backup file is not JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw formatError('backup file: not an object');
  const d = doc as Record<string, unknown>;
  if (d.format !== BACKUP_FORMAT) throw formatError(`backup file: format is not ${BACKUP_FORMAT}`);
  if (d.version !== BACKUP_VERSION) throw formatError(`backup file: version ${String(d.version)} is not supported (this kanri reads version ${BACKUP_VERSION})`);
  const channel = d.channel ?? 1;
  if (typeof channel !== 'number' || !Number.isInteger(channel) || channel < 1 || channel > 15) throw formatError('backup file: channel must be 1-15');
  if (!d.lan || typeof d.lan !== 'object' || Array.isArray(d.lan)) throw formatError('backup file: lan must be an object');
  const lanDoc = d.lan as Record<string, unknown>;
  for (const k of Object.keys(lanDoc)) if (!['ip_address', 'ip_source', 'netmask', 'gateway', 'vlan', 'mac_address'].includes(k)) throw formatError(`backup file: unknown lan key ${k}`);
  const { mac_address: _mac, ...writable } = lanDoc;
  const lanSet = lanSettingsFrom(writable, 'backup file lan');
  if (!Array.isArray(d.users)) throw formatError('backup file: users must be a list');
  const seen = new Set<number>();
  const users: BackupUser[] = d.users.map((u: unknown, i: number) => {
    if (!u || typeof u !== 'object') throw formatError(`backup file: users[${i}] is not an object`);
    const x = u as Record<string, unknown>;
    for (const k of Object.keys(x)) {
      if (!['id', 'name', 'privilege', 'enabled'].includes(k)) throw formatError(`backup file: users[${i}] has unknown key ${k}${/pass/i.test(k) ? ' (backups never hold passwords)' : ''}`);
    }
    if (typeof x.id !== 'number' || !Number.isInteger(x.id) || x.id < 1 || x.id > 63) throw formatError(`backup file: users[${i}].id must be 1-63`);
    if (seen.has(x.id)) throw formatError(`backup file: user id ${x.id} appears twice`);
    seen.add(x.id);
    if (typeof x.name !== 'string' || Buffer.byteLength(x.name, 'latin1') > 16 || /[\x00-\x1f]/.test(x.name)) throw formatError(`backup file: users[${i}].name must be at most 16 printable characters`);
    if (typeof x.privilege !== 'string' || !(PRIVS as readonly string[]).includes(x.privilege)) throw formatError(`backup file: users[${i}].privilege must be one of ${PRIVS.join(', ')}`);
    if (x.enabled !== undefined && typeof x.enabled !== 'boolean') throw formatError(`backup file: users[${i}].enabled must be true or false`);
    return { id: x.id, name: x.name, privilege: x.privilege as Priv, ...(x.enabled !== undefined ? { enabled: x.enabled as boolean } : {}) };
  });
  return { channel, lan: lanSet, users };
}

export async function restoreBmcConfigCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, file, ...words] = args;
  if (!name || !file) throw formatError('usage: restoreBmcConfig Name File');
  parseSettings(words, ['timeout', 'retries']);
  const { row, target } = bmcOnly(db, name, 'restoreBmcConfig');
  if (!existsSync(file)) throw new DscliError(RC.NOT_FOUND, `backup file not found: ${file}`);
  // Everything is checked before the first write to the BMC.
  const b = validateBackup(readFileSync(file, 'utf8'));
  const o = session(db, words);
  await withSession(target, { ...o, privilege: 'administrator' }, async (s) => {
    // The BMC's own limit is checked too before anything is written.
    const { maxUsers } = (await user.getUserAccess(s, b.channel, 1)).header;
    const over = b.users.filter((u) => u.id > maxUsers);
    if (over.length) throw formatError(`backup file: user id ${over.map((u) => u.id).join(', ')} above this BMC's ${maxUsers} user slots; nothing was written`);
    if (Object.keys(b.lan).length) await lan.setLanConfig(s, b.channel, b.lan);
    for (const u of b.users) {
      // Slot 1 is the anonymous user with a fixed name on most BMCs; the login account's name is kept.
      if (u.id !== 1 && !(u.name !== row.bmc_user && (await user.getUserName(s, u.id)) === row.bmc_user)) {
        if (u.name) await user.setUserName(s, u.id, u.name);
      }
      await user.setUserAccess(s, b.channel, u.id, { privilege: u.privilege });
      if (u.enabled !== undefined) await user.setUserEnabled(s, u.id, u.enabled);
    }
  });
  if (out.json) out.out(JSON.stringify({ target: name, operation: 'restoreBmcConfig', status: 'ok', users: b.users.length }) + '\n');
  return RC.OK;
}
