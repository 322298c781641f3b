// Single-server commands on a controller's info interface: the log (SEL), sensors,
// inventory, identify, and a BMC's LAN/account configuration with its versioned
// backup/restore. The driver the registry resolves talks to the controller; this
// module checks the input and prints.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { FileError, writePrivateFile } from '../util/files.js';
import type { ControllerRow } from '../adapters/controller.js';
import { type BoundController, bindController } from '../adapters/registry.js';
import type { BmcAccount, BmcLan, BmcPrivilege, CallOptions, DriverContext, InfoInterface, LogEntry, SensorEntry } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { DscliError, formatError, RC } from './errors.js';
import { needServer } from './servers.js';
import { parseSettings } from './words.js';
import { callContext, requireInfo, runOnServers, runSettings, type Out } from './ops.js';
import { resolveServerList } from './serverlist.js';
import { isSetting } from './words.js';

export type InfoOp = Exclude<keyof InfoInterface, 'check' | 'clearLog'>;

/** The controller of a server with the info operation `op`, or a "not supported" (6) failure. */
async function controller(db: Db, row: ControllerRow, what: string, op: InfoOp, bmcOnly = false): Promise<BoundController & { ctx: DriverContext }> {
  const c = await bindController(db, row, { info: what });
  requireInfo(c, op, what, bmcOnly);
  return { ...c, ctx: callContext(db, new AbortController().signal) };
}

function call(db: Db, words: string[]): CallOptions {
  return runSettings(db, words, 0).call;
}

// ---- the ServerList info commands -------------------------------------------------------
//
// getSel, getSensorList, getHardwareInfo and identify take a ServerList. One server prints
// as it always has; several run under the bounded fan-out, each server's lines under a
// header line "==> NAME <==" (a failed one: its failure line there), blank lines between;
// identify prints one result line per server, as the power commands do.
// With --json every record names its target, and a failed server is one failure record.

/** The ServerList words and the key=value settings of a command that takes only those. */
export const listAndSettings = (args: string[]): { list: string[]; words: string[] } => ({
  list: args.filter((w) => !isSetting(w)), words: args.filter(isSetting),
});

export type Body = { lines: string[]; records: object[] };
export type InfoRun = (c: BoundController & { ctx: DriverContext }, o: CallOptions) => Promise<Body>;

export async function onServers(db: Db, list: string[], words: string[], out: Out, cmd: string, op: InfoOp, body: InfoRun, grouped = true): Promise<number> {
  const rs = runSettings(db, words, 0);
  const rows = resolveServerList(db, list);
  const print = (b: Body): void => {
    if (out.json) for (const r of b.records) out.out(JSON.stringify(r) + '\n');
    else for (const l of b.lines) out.out(l + '\n');
  };
  if (rows.length === 1) {
    const c = await controller(db, rows[0]!, cmd, op);
    print(await body(c, rs.call));
    return RC.OK;
  }
  return runOnServers(db, rows, cmd, rs, out, {
    needs: { info: cmd },
    async run(c, ctx, r) {
      requireInfo(c, op, cmd);
      const b = await body({ ...c, ctx }, r.call);
      return { status: 'ok', code: RC.OK, line: b.lines.join('\n'), block: out.json ? b.records.map((x) => JSON.stringify(x)) : b.lines };
    },
  }, { grouped });
}

// ---- SEL ------------------------------------------------------------------------------

export function selLine(e: LogEntry): string {
  // A decoded IPMI record always has its event data; a Redfish entry names sensor and event without it.
  if (e.sensorType === null || e.eventType === null) return `${e.id} | ${e.time} | - | - | ${e.description}`;
  const desc = e.description + (e.direction === 'deassertion' ? ' (deasserted)' : '');
  const sensor = e.sensorNumber === null ? e.sensorType : `${e.sensorType} #0x${e.sensorNumber.toString(16).padStart(2, '0')}`;
  return `${e.id} | ${e.time} | ${sensor} | ${e.eventType} | ${desc}`;
}

export async function getSelCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [list, ...rest] = args;
  if (!list) throw formatError('usage: getSel ServerList [count]');
  let count: number | undefined;
  const words = rest.filter((w) => {
    if (/^\d+$/.test(w) && count === undefined) { count = Number(w); return false; }
    return true;
  });
  return onServers(db, [list], words, out, 'getSel', 'log', async (c, o) => {
    const entries = await c.info.log!(c.ctx, c.machine, { ...o, ...(count !== undefined ? { last: count } : {}) });
    // Newest last, as the BMC keeps them.
    return {
      lines: entries.map(selLine),
      records: entries.map((e) => ({
        target: c.row.name, record_id: e.recordId, record_type: e.recordType, time: e.time, timestamp: e.timestamp,
        sensor_type: e.sensorType, sensor_number: e.sensorNumber, event_type: e.eventType,
        direction: e.direction, description: e.description, event_data: e.eventData, raw: e.raw,
      })),
    };
  });
}

// ---- sensors ----------------------------------------------------------------------------

const num = (v: number): string => String(Number(v.toFixed(3)));
// ipmitool's order, lowest to highest; a threshold the sensor does not report is 'na' (null in JSON).
const THRESHOLDS = ['lnr', 'lcr', 'lnc', 'unc', 'ucr', 'unr'] as const;
const allThresholds = (t: Record<string, number> | null) => (t ? Object.fromEntries(THRESHOLDS.map((k) => [k, t[k] ?? null])) : null);

export function sensorLine(s: SensorEntry): string {
  let value: string;
  if (s.value !== null) value = `${num(s.value)} ${s.unit ?? ''}`.trim();
  else if (s.states) value = `states ${s.states.length ? s.states.join(',') : 'none'}`;
  else value = 'na';
  const th = s.thresholds ? THRESHOLDS.map((k) => `${k}=${s.thresholds![k] !== undefined ? num(s.thresholds![k]!) : 'na'}`).join(' ') : '';
  return `${s.name} | ${s.type} | ${value} | ${s.status}${th ? ' | ' + th : ''}`;
}

export async function getSensorListCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getSensorList ServerList');
  return onServers(db, list, words, out, 'getSensorList', 'sensors', async (c, o) => {
    const sensors = await c.info.sensors!(c.ctx, c.machine, o);
    return {
      lines: sensors.map(sensorLine),
      records: sensors.map((s) => ({
        target: c.row.name, sensor: s.name, number: s.number, type: s.type, value: s.value, unit: s.unit, status: s.status,
        states: s.states, thresholds: allThresholds(s.thresholds),
      })),
    };
  });
}

// ---- hardware inventory --------------------------------------------------------------------

export async function getHardwareInfoCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getHardwareInfo ServerList');
  return onServers(db, list, words, out, 'getHardwareInfo', 'hardware', async (c, o) => {
    const lines = await c.info.hardware!(c.ctx, c.machine, o);
    return { lines: lines.map(([k, v]) => `${k}: ${v}`), records: [{ target: c.row.name, ...Object.fromEntries(lines) }] };
  });
}

// ---- identify ---------------------------------------------------------------------------------

export async function identifyCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [list, what, ...words] = args;
  if (!list) throw formatError('usage: identify ServerList [seconds|off|on]');
  let v: number | 'off' | 'on' = 15;
  if (what !== undefined && what.includes('=')) words.unshift(what);
  else if (what === 'off' || what === 'on') v = what;
  else if (what !== undefined) {
    if (!/^\d+$/.test(what) || Number(what) < 1 || Number(what) > 255) throw formatError('identify takes seconds (1-255), on or off');
    v = Number(what);
  }
  const text = v === 'off' ? 'identify off' : v === 'on' ? 'identify on (until turned off)' : `identify ${v} s`;
  return onServers(db, [list], words, out, 'identify', 'identify', async (c, o) => {
    await c.info.identify!(c.ctx, c.machine, v, o);
    return { lines: [`${c.row.name} ok ${text}`], records: [{ target: c.row.name, operation: 'identify', status: 'ok', message: text }] };
  }, false);
}

// ---- BMC configuration ----------------------------------------------------------------------

export const BACKUP_FORMAT = 'kanri-dscli-bmc-config';
export const BACKUP_VERSION = 1;
const PRIVS: readonly BmcPrivilege[] = ['callback', 'user', 'operator', 'administrator', 'no-access'];

export interface BmcBackup {
  format: typeof BACKUP_FORMAT;
  version: number;
  server: string;
  saved_at: string;
  channel: number;
  lan: BmcLan;
  users: BmcAccount[];
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
  const o = call(db, words.filter((w) => !w.startsWith('channel=')));
  const c = await controller(db, needServer(db, name), 'getBmcConfig', 'readBmcConfig', true);
  const { lan, users } = await c.info.readBmcConfig!(c.ctx, c.machine, channelOf(s), o);
  if (out.json) {
    out.out(JSON.stringify({ target: name, channel: channelOf(s), lan, users }) + '\n');
    return RC.OK;
  }
  for (const [k, v] of Object.entries(lan)) out.out(`${k}=${v}\n`);
  for (const u of users) out.out(`user.${u.id}=${u.name || '(no name)'} ${u.privilege}${u.enabled === undefined ? '' : u.enabled ? ' enabled' : ' disabled'}\n`);
  return RC.OK;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** The writable LAN settings of a request or a backup file, checked. */
function lanSettingsFrom(v: Record<string, unknown>, where: string): BmcLan {
  const out: BmcLan = {};
  const ip = (k: string): string | undefined => {
    const x = v[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'string' || !IPV4.test(x)) throw formatError(`${where}: ${k} must be an IPv4 address`);
    return x;
  };
  const a = ip('ip_address'), m = ip('netmask'), g = ip('gateway');
  if (a) out.ip_address = a;
  if (m) out.netmask = m;
  if (g) out.gateway = g;
  if (v.ip_source !== undefined) {
    if (v.ip_source !== 'static' && v.ip_source !== 'dhcp') throw formatError(`${where}: ip_source must be static or dhcp`);
    out.ip_source = v.ip_source;
  }
  if (v.vlan !== undefined) {
    const x = v.vlan;
    if (x === 'disabled' || x === 'off') out.vlan = 'disabled';
    else if (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 4094) out.vlan = x;
    else if (typeof x === 'string' && /^\d+$/.test(x) && Number(x) >= 1 && Number(x) <= 4094) out.vlan = Number(x);
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
  const o = call(db, words.filter((w) => /^(timeout|retries)=/.test(w)));
  const c = await controller(db, needServer(db, name), 'setBmcConfig', 'writeBmcLan', true);
  await c.info.writeBmcLan!(c.ctx, c.machine, channelOf(s), v, o);
  if (out.json) out.out(JSON.stringify({ target: name, operation: 'setBmcConfig', status: 'ok' }) + '\n');
  return RC.OK;
}

export async function backupBmcConfigCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, file, ...words] = args;
  if (!name || !file) throw formatError('usage: backupBmcConfig Name File');
  const s = parseSettings(words, ['channel', 'timeout', 'retries']);
  const channel = channelOf(s);
  const o = call(db, words.filter((w) => !w.startsWith('channel=')));
  const c = await controller(db, needServer(db, name), 'backupBmcConfig', 'readBmcConfig', true);
  const { lan, users } = await c.info.readBmcConfig!(c.ctx, c.machine, channel, o);
  const doc: BmcBackup = { format: BACKUP_FORMAT, version: BACKUP_VERSION, server: name, saved_at: new Date().toISOString(), channel, lan, users };
  try {
    writePrivateFile(file, JSON.stringify(doc, null, 2) + '\n');
  } catch (err) {
    if (err instanceof FileError) throw formatError(err.message);
    throw err;
  }
  if (out.json) out.out(JSON.stringify({ target: name, operation: 'backupBmcConfig', status: 'ok', file, users: users.length }) + '\n');
  return RC.OK;
}

/** Validates a whole backup document; throws a format error naming the first problem. */
export function validateBackup(text: string): { channel: number; lan: BmcLan; users: BmcAccount[] } {
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
  const users: BmcAccount[] = d.users.map((u: unknown, i: number) => {
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
    return { id: x.id, name: x.name, privilege: x.privilege as BmcPrivilege, ...(x.enabled !== undefined ? { enabled: x.enabled as boolean } : {}) };
  });
  return { channel, lan: lanSet, users };
}

export async function restoreBmcConfigCmd(db: Db, args: string[], out: Out): Promise<number> {
  const [name, file, ...words] = args;
  if (!name || !file) throw formatError('usage: restoreBmcConfig Name File');
  parseSettings(words, ['timeout', 'retries']);
  const c = await controller(db, needServer(db, name), 'restoreBmcConfig', 'restoreBmcConfig', true);
  if (!existsSync(file)) throw new DscliError(RC.NOT_FOUND, `backup file not found: ${file}`);
  if (!statSync(file).isFile()) throw formatError(`backup file ${file} is not a regular file`);
  // Everything is checked before the first write to the BMC.
  const b = validateBackup(readFileSync(file, 'utf8'));
  await c.info.restoreBmcConfig!(c.ctx, c.machine, b.channel, { lan: b.lan, users: b.users }, call(db, words));
  if (out.json) out.out(JSON.stringify({ target: name, operation: 'restoreBmcConfig', status: 'ok', users: b.users.length }) + '\n');
  return RC.OK;
}
