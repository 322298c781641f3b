// Firmware, BIOS, network interfaces and storage of a server, through its controller's
// info driver (Redfish UpdateService, Bios, EthernetInterfaces, Storage; a BMC's Device
// ID firmware, boot options and LAN channel). Listings take a ServerList and print each
// server's lines under its header when there are several (info.ts onServers).
import type { Db } from '../store/db.js';
import type { BiosValue, FirmwareItem, NicInfo, StorageItem } from '../adapters/types.js';
import { formatError } from './errors.js';
import { listAndSettings, onServers } from './info.js';
import { type Out, RUN_KEYS, runSettings } from './ops.js';
import { needServer } from './servers.js';
import { dscliNumber } from './settings.js';

const dash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v));
const gb = (b: number | null): string => (b === null ? '-' : `${Number((b / 1e9).toFixed(1))} GB`);

// ---- firmware ----------------------------------------------------------------------------------

const firmwareLine = (f: FirmwareItem): string =>
  `${f.id} | ${dash(f.name)} | ${dash(f.version)} | ${f.updateable === null ? '-' : f.updateable ? 'updateable' : 'fixed'} | ${dash(f.health)}`;

export async function getFirmwareListCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getFirmwareList ServerList');
  return onServers(db, list, words, out, 'getFirmwareList', 'firmware', async (c, o) => {
    const items = await c.info.firmware!(c.ctx, c.machine, o);
    return { lines: items.map(firmwareLine), records: items.map((f) => ({ target: c.row.name, id: f.id, name: f.name, version: f.version, updateable: f.updateable, health: f.health })) };
  });
}

const IMAGE_SCHEMES = ['http:', 'https:', 'ftp:', 'sftp:', 'scp:', 'tftp:', 'nfs:', 'cifs:', 'smb:'];

/** image= is a URI the controller fetches; credentials in it would be printed and logged. */
export function imageUri(v: string | undefined): string {
  if (!v) throw formatError('updateFirmware needs image=URI (the controller fetches the image from there)');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw formatError(`image must be a URI such as https://repo.example/bios.bin, not '${v}'`);
  }
  if (!IMAGE_SCHEMES.includes(u.protocol)) throw formatError(`image URI scheme ${u.protocol} is not one a controller fetches from (${IMAGE_SCHEMES.join(' ')})`);
  if (u.username || u.password) throw formatError('image URI with a user or password: it would be shown and logged; serve the image without credentials');
  return v;
}

function ownSettings(words: string[], keys: readonly string[]): { mine: Map<string, string>; rest: string[] } {
  const mine = new Map<string, string>();
  const rest: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    const k = w.slice(0, eq).toLowerCase();
    if (keys.includes(k)) {
      if (mine.has(k)) throw formatError(`setting '${k}' given twice`);
      mine.set(k, w.slice(eq + 1));
    } else rest.push(w);
  }
  return { mine, rest };
}

export async function updateFirmwareCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (list.length !== 1) throw formatError('usage: updateFirmware Name image=URI [target=system|manager|ID] [wait=SECONDS]');
  const { mine, rest } = ownSettings(words, ['image', 'target']);
  const image = imageUri(mine.get('image'));
  const target = mine.get('target') || null;
  needServer(db, list[0]!);
  return onServers(db, list, rest, out, 'updateFirmware', 'updateFirmware', async (c, o) => {
    const waitMs = rest.some((w) => /^wait=/i.test(w)) ? runSettings(db, rest, 0).waitMs : dscliNumber(db, 'dscli.firmware_wait_s') * 1000;
    const r = await c.info.updateFirmware!(c.ctx, c.machine, image, target, { ...o, waitMs });
    const changes = r.changed.map((x) => `${x.id} ${x.before} -> ${x.after}`).join(', ');
    const what = `firmware update ${r.state}${r.task ? ` (task ${r.task})` : ' (the service gave no task to follow)'}${changes ? `; ${changes}` : ''}`;
    return { lines: [`${c.row.name} ok ${what}`], records: [{ target: c.row.name, operation: 'updateFirmware', status: 'ok', task: r.task, state: r.state, messages: r.messages, changed: r.changed, message: what }] };
  }, false);
}

// ---- BIOS --------------------------------------------------------------------------------------

const shown = (v: BiosValue): string => (v === null ? 'null' : String(v));
/** BIOS passwords: a controller may show one; dscli never prints it. */
const SECRET_KEY = /passw(or)?d|pwd/i;
const safe = (k: string, v: BiosValue): string => (SECRET_KEY.test(k) && v !== null && v !== '' ? '***' : shown(v));

export async function getBiosSettingsCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (list.length !== 1) throw formatError('usage: getBiosSettings Name');
  return onServers(db, list, words, out, 'getBiosSettings', 'bios', async (c, o) => {
    const b = await c.info.bios!(c.ctx, c.machine, o);
    const keys = Object.keys(b.attributes).sort();
    for (const k of Object.keys(b.pending)) if (!keys.includes(k)) keys.push(k);
    const lines = keys.map((k) => `${k}=${k in b.attributes ? safe(k, b.attributes[k]!) : '-'}${k in b.pending ? ` (pending: ${safe(k, b.pending[k]!)}, applied at the next boot)` : ''}`);
    const masked = (r: Record<string, BiosValue>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== null && v !== '' ? '***' : v]));
    return { lines, records: [{ target: c.row.name, source: b.source, attributes: masked(b.attributes), pending: masked(b.pending) }] };
  });
}

export async function setBiosSettingsCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  const run = words.filter((w) => (RUN_KEYS as readonly string[]).includes(w.slice(0, w.indexOf('=')).toLowerCase()));
  const values = words.filter((w) => !run.includes(w));
  if (list.length !== 1 || values.length === 0) throw formatError('usage: setBiosSettings Name key=value…');
  const map: Record<string, string> = {};
  for (const w of values) {
    const eq = w.indexOf('=');
    const k = w.slice(0, eq);
    if (k in map) throw formatError(`setting '${k}' given twice`);
    if (SECRET_KEY.test(k)) throw formatError(`${k}: BIOS passwords are not set with dscli (the command line is visible to other users)`);
    map[k] = w.slice(eq + 1);
  }
  return onServers(db, list, run, out, 'setBiosSettings', 'setBios', async (c, o) => {
    const changes = await c.info.setBios!(c.ctx, c.machine, map, o);
    return {
      lines: changes.map((x) => `${c.row.name} ok ${x.key}=${shown(x.value)} ${x.state === 'applied' ? '(applied)' : '(pending: applied at the next boot)'}`),
      records: changes.map((x) => ({ target: c.row.name, operation: 'setBiosSettings', status: 'ok', key: x.key, value: x.value, state: x.state })),
    };
  }, false);
}

// ---- network interfaces and storage --------------------------------------------------------------

const nicLine = (n: NicInfo): string =>
  `${n.id} | ${dash(n.name)} | ${dash(n.mac)} | ${n.speedMbps === null ? '-' : `${n.speedMbps} Mb/s`} | ${dash(n.link)}${n.enabled === false ? ' (disabled)' : ''} | ${n.ipv4.length ? n.ipv4.join(',') : '-'} | ${dash(n.health)}`;

export async function getNicListCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getNicList ServerList');
  return onServers(db, list, words, out, 'getNicList', 'nics', async (c, o) => {
    const nics = await c.info.nics!(c.ctx, c.machine, o);
    return { lines: nics.map(nicLine), records: nics.map((n) => ({ target: c.row.name, id: n.id, name: n.name, mac: n.mac, speed_mbps: n.speedMbps, link: n.link, enabled: n.enabled, ipv4: n.ipv4, health: n.health })) };
  });
}

const storageLine = (s: StorageItem): string =>
  `${s.kind} | ${s.storage}/${s.id} | ${dash(s.name)} | ${gb(s.capacityBytes)} | ${dash(s.type)} | ${dash(s.health)} | ${dash(s.state)}`;

export async function getStorageListCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getStorageList ServerList');
  return onServers(db, list, words, out, 'getStorageList', 'storage', async (c, o) => {
    const items = await c.info.storage!(c.ctx, c.machine, o);
    return {
      lines: items.map(storageLine),
      records: items.map((s) => ({ target: c.row.name, kind: s.kind, storage: s.storage, id: s.id, name: s.name, capacity_bytes: s.capacityBytes, type: s.type, health: s.health, state: s.state })),
    };
  });
}

