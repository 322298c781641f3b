// dscli's registered servers: a dscli server is a row of `machines` with a management
// controller (V4_DSCLI columns), so pvmutl and dscli share one machine and one BMC.
// createServer/setServer/deleteServer/getServerList; the controller types and their
// defaults are the driver registry's (adapters/registry.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { sealSecret } from '../store/secrets.js';
import { CONTROLLER_COLUMNS as BMC_COLUMNS, controllerByName, controllerSecretPurpose, type ControllerRow as BmcRow, type ControllerType as MgmtType } from '../adapters/controller.js';
import { CONTROLLER_TYPES, controllerDefault, controllerPowers, controllerSetting, needsController, registrationSettings, requiredControllerSettings } from '../adapters/registry.js';
import { deleteDriverSetting, putDriverSetting, settingProblem } from '../adapters/settings.js';
import { bumpGeneration } from '../store/generation.js';
import { byName } from '../domain/names.js';
import { DscliError, exists, formatError, notFound, RC } from './errors.js';

import { parseSettings } from './words.js';
import { expandRange, isRange } from './hostrange.js';

export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

const now = () => new Date().toISOString();

export const SERVER_KEYS = ['mgmt', 'address', 'port', 'user', 'password', 'password_file', 'cipher', 'os_address', 'ssh_user', 'ssh_port', 'ssh_key', 'model', 'events'] as const;

/** The keys a registration of `mgmt` takes: dscli's own and the machine settings its controller driver declares. */
function serverKeys(mgmt: string): string[] {
  return [...SERVER_KEYS, ...registrationSettings(mgmt).map((x) => x.key)];
}

/** The mgmt= a command gives, if any (before the other keys are known). */
function mgmtWord(words: string[]): string | undefined {
  const w = words.find((x) => /^mgmt=/i.test(x));
  return w?.slice(5);
}

/** The longest value a controller type takes for `key` (bytes), if it declares one. */
const maxBytes = (mgmt: string, key: string): number | undefined => controllerSetting(mgmt, key)?.maxBytes;

export interface PasswordSource {
  /** Reads standard input (password=-). */
  stdin(): string;
  warn(text: string): void;
}

function readPasswordFile(path: string): string {
  if (!existsSync(path)) throw notFound(`password file not found: ${path}`);
  const st = statSync(path);
  if (!st.isFile()) throw formatError(`password file is not a regular file: ${path}`);
  const text = readFileSync(path, 'utf8');
  const first = text.split(/\r?\n/)[0] ?? '';
  return first;
}

/** The password a settings map asks for, or undefined when none was given. */
export function passwordFrom(s: Map<string, string>, src: PasswordSource, mgmt: string = 'ipmi'): string | undefined {
  const lit = s.get('password'), file = s.get('password_file');
  if (lit !== undefined && file !== undefined) throw formatError('give either password=… or password_file=…, not both');
  let pw: string | undefined;
  if (file !== undefined) pw = readPasswordFile(file);
  else if (lit === '-') pw = src.stdin();
  else if (lit !== undefined) {
    src.warn('warning: a password on the command line is visible to other users (ps, shell history); use password_file=PATH or password=- (stdin)');
    pw = lit;
  }
  const max = maxBytes(mgmt, 'password');
  if (pw !== undefined && max !== undefined && Buffer.byteLength(pw, 'utf8') > max) throw formatError(`mgmt=${mgmt} passwords are at most ${max} bytes`);
  return pw;
}

interface ServerFields {
  mgmt_type?: MgmtType;
  bmc_address?: string | null;
  bmc_port?: number | null;
  bmc_user?: string | null;
  cipher_suite?: number | null;
  os_address?: string | null;
  ssh_user?: string | null;
  ssh_port?: number | null;
  ssh_key_path?: string | null;
  hw_model_name?: string | null;
}

function checkMgmt(mgmt: string | undefined): MgmtType | undefined {
  if (mgmt === undefined) return undefined;
  if (!CONTROLLER_TYPES.includes(mgmt)) throw formatError(`mgmt must be ${CONTROLLER_TYPES.join(', ').replace(/, ([^,]*)$/, ' or $1')}, not '${mgmt}'`);
  return mgmt as MgmtType;
}

function fieldsFrom(s: Map<string, string>, type: MgmtType): ServerFields {
  const f: ServerFields = {};
  const mgmt = checkMgmt(s.get('mgmt'));
  if (mgmt !== undefined) f.mgmt_type = mgmt;
  const addr = s.get('address');
  if (addr !== undefined) {
    if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(addr)) throw formatError(`bad address '${addr}'`);
    f.bmc_address = addr;
  }
  const port = s.get('port');
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw formatError(`port must be 1-65535, not '${port}'`);
    f.bmc_port = Number(port);
  }
  const user = s.get('user');
  if (user !== undefined) {
    const max = maxBytes(type, 'user') ?? 64;
    if (Buffer.byteLength(user, 'latin1') > max || /[\x00-\x1f]/.test(user)) throw formatError(`mgmt=${type} user names are at most ${max} printable characters`);
    f.bmc_user = user;
  }
  const cipher = s.get('cipher');
  if (cipher !== undefined) {
    if (cipher === 'auto') f.cipher_suite = null;
    else if (['1', '2', '3', '15', '16', '17'].includes(cipher)) f.cipher_suite = Number(cipher);
    else throw formatError(`cipher must be one of 1, 2, 3, 15, 16, 17 or auto, not '${cipher}'`);
  }
  const os = s.get('os_address');
  if (os !== undefined) f.os_address = os || null;
  const su = s.get('ssh_user');
  if (su !== undefined) f.ssh_user = su || null;
  const sp = s.get('ssh_port');
  if (sp !== undefined) {
    if (sp !== '' && (!/^\d{1,5}$/.test(sp) || Number(sp) < 1 || Number(sp) > 65535)) throw formatError(`ssh_port must be 1-65535, not '${sp}'`);
    f.ssh_port = sp === '' ? null : Number(sp);
  }
  const sk = s.get('ssh_key');
  if (sk !== undefined) f.ssh_key_path = sk || null;
  const model = s.get('model');
  if (model !== undefined) f.hw_model_name = model || null;
  return f;
}

/** The controller driver's machine settings a command gives ('' removes one), checked; warnings are printed. */
function registrationValues(s: Map<string, string>, mgmt: MgmtType, src: PasswordSource): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of registrationSettings(mgmt)) {
    const v = s.get(spec.key);
    if (v === undefined) continue;
    if (v !== '') {
      const problem = settingProblem(spec, v);
      if (problem) throw formatError(`${spec.key} ${problem}`);
      const w = spec.warning?.(v);
      if (w) src.warn(`warning: ${w}`);
    }
    out.set(spec.key, v);
  }
  return out;
}

function writeRegistrationValues(db: Db, machineId: number, mgmt: MgmtType, values: Map<string, string>): void {
  for (const [k, v] of values) {
    if (v === '') deleteDriverSetting(db, { machineId }, mgmt, k);
    else putDriverSetting(db, { machineId }, mgmt, k, v);
  }
}

/** events=on|off: whether the command subscribes the controller's events, unsubscribes them, or neither. */
function eventsWord(s: Map<string, string>): boolean | undefined {
  const v = s.get('events');
  if (v === undefined) return undefined;
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw formatError(`events must be on or off, not '${v}'`);
}

/** What a registration asks to be done with the controller once it is stored. */
export interface Registered { events?: boolean }

export function serverRow(db: Db, name: string): BmcRow | undefined {
  return controllerByName(db, name);
}

/** A dscli group's id by the name as typed (byName: the same group on both back ends), or undefined. */
export function dscliGroupId(db: Db, name: string): number | undefined {
  return byName<{ id: number }>(db, 'SELECT id FROM dscli_groups WHERE {name}', 'name', name)?.id;
}

export function needServer(db: Db, name: string): BmcRow {
  const r = serverRow(db, name);
  if (!r) throw notFound(`server not found: ${name}`);
  return r;
}

function checkBmcUnique(db: Db, address: string | null | undefined, port: number | null | undefined, selfId: number | null): void {
  if (!address) return;
  const other = db.prepare('SELECT name FROM machines WHERE mgmt_type IS NOT NULL AND bmc_address = ? AND bmc_port IS ? AND id IS NOT ?')
    .get(address, port ?? null, selfId) as { name: string } | undefined;
  if (other) throw exists(`the BMC ${address}:${port ?? ''} is already registered as ${other.name}`);
}

function defaultPort(mgmt: MgmtType): number | null {
  const p = controllerDefault(mgmt, 'port');
  return typeof p === 'number' ? p : null;
}

function defaultCipher(mgmt: MgmtType): number | null {
  const c = controllerDefault(mgmt, 'cipher');
  return typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : null;
}

/** The registration's required settings that neither the command nor the existing row gives. */
function requireSettings(mgmt: MgmtType, has: (key: string) => boolean): void {
  for (const key of requiredControllerSettings(mgmt)) {
    if (key === 'password' || has(key)) continue;
    throw formatError(`${key}=… is required for mgmt=${mgmt}`);
  }
}

/** createServer: a new machine row, or the existing machine of that name gets its controller. */
export function createServer(db: Db, name: string, words: string[], src: PasswordSource): Registered {
  if (!SERVER_NAME.test(name)) throw formatError(`bad server name '${name}': letters, digits, _ . - (at most 63)`);
  const type = checkMgmt(mgmtWord(words)) ?? 'ipmi';
  const s = parseSettings(words, serverKeys(type));
  const f = fieldsFrom(s, type);
  const mgmt = f.mgmt_type ?? 'ipmi';
  const values = registrationValues(s, mgmt, src);
  const events = eventsWord(s);
  requireSettings(mgmt, (k) => (k === 'address' ? !!f.bmc_address : s.has(k)));
  const port = f.bmc_port ?? defaultPort(mgmt);
  const cipher = f.cipher_suite === undefined ? defaultCipher(mgmt) : f.cipher_suite;
  const existing = byName<{ id: number; mgmt_type: string | null }>(db, 'SELECT id, mgmt_type FROM machines WHERE {name}', 'name', name);
  if (existing?.mgmt_type) throw exists(`server already registered: ${name}`);
  checkBmcUnique(db, f.bmc_address, port, existing?.id ?? null);
  // Read the password only once the command is known to be valid.
  const password = passwordFrom(s, src, mgmt);
  if (requiredControllerSettings(mgmt).includes('password') && password === undefined) throw formatError('a controller password is required: password_file=PATH or password=- (stdin)');
  db.transaction(() => {
    let id = existing?.id;
    if (id === undefined) {
      id = Number(db.prepare("INSERT INTO machines (name, kind, power_state, dscli_created) VALUES (?, 'physical', 'unknown', 1)").run(name).lastInsertRowid);
    }
    db.prepare(`UPDATE machines SET mgmt_type = ?, bmc_address = ?, bmc_port = ?, bmc_user = ?, cipher_suite = ?, last_power = NULL, last_status = NULL,
      os_address = coalesce(?, os_address), ssh_user = coalesce(?, ssh_user), ssh_port = coalesce(?, ssh_port), ssh_key_path = coalesce(?, ssh_key_path) WHERE id = ?`)
      .run(mgmt, f.bmc_address ?? null, port, f.bmc_user ?? null, cipher, f.os_address ?? null, f.ssh_user ?? null, f.ssh_port ?? null, f.ssh_key_path ?? null, id);
    if (f.hw_model_name) db.prepare('UPDATE machines SET hw_model_name = ?, hw_model_name_auto = 0 WHERE id = ?').run(f.hw_model_name, id);
    if (password !== undefined) db.prepare('UPDATE machines SET bmc_secret = ? WHERE id = ?').run(sealSecret(db, password, controllerSecretPurpose(id)), id);
    writeRegistrationValues(db, id, mgmt, values);
    setPowerDriver(db, id, mgmt);
    bumpGeneration(db);
  })();
  return events === undefined ? {} : { events };
}

function setPowerDriver(db: Db, id: number, mgmt: MgmtType): void {
  // A controller whose driver does not serve power leaves the machine the power driver it had.
  if (!controllerPowers(mgmt)) return;
  db.prepare("INSERT INTO machine_drivers (machine_id, interface, driver) VALUES (?, 'power', ?) ON CONFLICT (machine_id, interface) DO UPDATE SET driver = excluded.driver")
    .run(id, mgmt);
}

export function setServer(db: Db, name: string, words: string[], src: PasswordSource): Registered {
  const row = needServer(db, name);
  if (words.length === 0) throw formatError('setServer needs at least one key=value');
  const type = checkMgmt(mgmtWord(words)) ?? row.mgmt_type!;
  const s = parseSettings(words, serverKeys(type));
  const f = fieldsFrom(s, type);
  const mgmt = f.mgmt_type ?? row.mgmt_type!;
  const values = registrationValues(s, mgmt, src);
  const events = eventsWord(s);
  const address = f.bmc_address !== undefined ? f.bmc_address : row.bmc_address;
  const port = f.bmc_port !== undefined ? f.bmc_port : (f.mgmt_type && f.mgmt_type !== row.mgmt_type ? defaultPort(mgmt) : row.bmc_port);
  if (requiredControllerSettings(mgmt).includes('address') && !address) throw formatError(`address=… is required for mgmt=${mgmt}`);
  checkBmcUnique(db, address, port, row.id);
  const password = passwordFrom(s, src, mgmt);
  db.transaction(() => {
    const sets: string[] = [];
    const vals: unknown[] = [];
    const put = (col: string, v: unknown) => { sets.push(`${col} = ?`); vals.push(v); };
    put('mgmt_type', mgmt);
    put('bmc_address', address);
    put('bmc_port', port);
    if (f.bmc_user !== undefined) put('bmc_user', f.bmc_user);
    if (f.cipher_suite !== undefined) put('cipher_suite', f.cipher_suite);
    // What the driver learnt about the controller is of no use for another suite or type.
    if (f.cipher_suite !== undefined || mgmt !== row.mgmt_type) put('bmc_probe', null);
    if (f.os_address !== undefined) put('os_address', f.os_address);
    if (f.ssh_user !== undefined) put('ssh_user', f.ssh_user);
    if (f.ssh_port !== undefined) put('ssh_port', f.ssh_port);
    if (f.ssh_key_path !== undefined) put('ssh_key_path', f.ssh_key_path);
    if (f.hw_model_name !== undefined) { put('hw_model_name', f.hw_model_name); put('hw_model_name_auto', f.hw_model_name ? 0 : 1); }
    if (password !== undefined) put('bmc_secret', sealSecret(db, password, controllerSecretPurpose(row.id)));
    put('last_status', null);
    db.prepare(`UPDATE machines SET ${sets.join(', ')} WHERE id = ?`).run(...vals, row.id);
    writeRegistrationValues(db, row.id, mgmt, values);
    if (f.mgmt_type && f.mgmt_type !== row.mgmt_type) setPowerDriver(db, row.id, mgmt);
    bumpGeneration(db);
  })();
  return events === undefined ? {} : { events };
}

/**
 * deleteServer: the controller registration goes; a machine that dscli created and that
 * pvmutl does not use goes with it, a pvmutl machine stays (without its BMC).
 */
/**
 * deleteServer of a name or a host range (web[01-04]): every name must be registered, or
 * nothing is deleted (2, every unknown name listed); the rest go in one transaction.
 */
export function deleteServers(db: Db, word: string): void {
  const names = isRange(word) ? expandRange(word) : [word];
  const rows = names.map((n) => serverRow(db, n));
  const unknown = names.filter((_, i) => !rows[i]);
  if (unknown.length) throw notFound(`server not found: ${unknown.length > 20 ? `${unknown.slice(0, 20).join(', ')} … (${unknown.length} in all)` : unknown.join(', ')}`);
  db.transaction(() => { for (const n of names) deleteServer(db, n); })();
}

export function deleteServer(db: Db, name: string): void {
  const row = needServer(db, name);
  db.transaction(() => {
    db.prepare('DELETE FROM dscli_group_members WHERE machine_id = ?').run(row.id);
    const m = db.prepare('SELECT dscli_created, group_id FROM machines WHERE id = ?').get(row.id) as { dscli_created: number; group_id: number | null };
    const pooled = db.prepare('SELECT 1 FROM pool_members WHERE machine_id = ?').get(row.id);
    bumpGeneration(db);
    if (m.dscli_created && m.group_id === null && !pooled) {
      db.prepare('DELETE FROM machines WHERE id = ?').run(row.id);
      return;
    }
    db.prepare(`UPDATE machines SET mgmt_type = NULL, bmc_address = NULL, bmc_port = NULL, bmc_user = NULL, bmc_secret = NULL, cipher_suite = NULL,
      bmc_probe = NULL, last_power = NULL, last_status = NULL, last_checked_at = NULL WHERE id = ?`).run(row.id);
    // The registration's own settings (system=, trust of the certificate …) go with it.
    if (row.mgmt_type) for (const x of registrationSettings(row.mgmt_type)) deleteDriverSetting(db, { machineId: row.id }, row.mgmt_type, x.key);
    // A power driver that cannot work without the registration goes with it.
    if (row.mgmt_type && needsController(row.mgmt_type)) {
      db.prepare("DELETE FROM machine_drivers WHERE machine_id = ? AND interface = 'power' AND driver = ?").run(row.id, row.mgmt_type);
    }
  })();
}

export function listServers(db: Db, group?: string): BmcRow[] {
  if (group !== undefined) {
    const g = dscliGroupId(db, group);
    if (g === undefined) throw notFound(`group not found: ${group}`);
    return db.prepare(`SELECT ${BMC_COLUMNS.split(', ').map((c) => 'm.' + c).join(', ')} FROM dscli_group_members gm JOIN machines m ON m.id = gm.machine_id
      WHERE gm.group_id = ? AND m.mgmt_type IS NOT NULL ORDER BY gm.position`).all(g) as BmcRow[];
  }
  return db.prepare(`SELECT ${BMC_COLUMNS} FROM machines WHERE mgmt_type IS NOT NULL ORDER BY name COLLATE NOCASE`).all() as BmcRow[];
}
