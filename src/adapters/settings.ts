// Driver settings of machines and groups (table driver_settings): reading them with the
// machine → group → global → default fallback a driver declares, writing them, sealing
// secrets, and checking a value against its declaration. Only drivers and the commands
// that set driver settings use this module.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { getSetting } from '../store/settings.js';
import { openSecret, sealSecret } from '../store/secrets.js';
import type { SettingSpec } from './types.js';

export type Owner = { machineId: number } | { groupId: number };

/** The purpose a sealed driver setting is bound to: its driver, key and owner. */
function purpose(owner: Owner, driver: string, key: string): string {
  return 'machineId' in owner ? `driver-setting:${driver}.${key}:machine:${owner.machineId}` : `driver-setting:${driver}.${key}:group:${owner.groupId}`;
}

const ownerCols = (owner: Owner): [number | null, number | null] => ('machineId' in owner ? [owner.machineId, null] : [null, owner.groupId]);

interface Row { value: string; sealed: number }

function row(db: Db, owner: Owner, driver: string, key: string): Row | undefined {
  const [m, g] = ownerCols(owner);
  return prepared(db, 'SELECT value, sealed FROM driver_settings WHERE machine_id IS ? AND group_id IS ? AND driver = ? AND key = ?').get(m, g, driver, key) as Row | undefined;
}

/** An owner's own plain setting, without any fallback. */
export function ownDriverSetting(db: Db, owner: Owner, driver: string, key: string): string | undefined {
  const r = row(db, owner, driver, key);
  return r && !r.sealed ? r.value : undefined;
}

export function putDriverSetting(db: Db, owner: Owner, driver: string, key: string, value: string): void {
  const [m, g] = ownerCols(owner);
  prepared(db, 
    `INSERT INTO driver_settings (machine_id, group_id, driver, key, value, sealed) VALUES (?, ?, ?, ?, ?, 0)
     ON CONFLICT (coalesce(machine_id, 0), coalesce(group_id, 0), driver, key) DO UPDATE SET value = excluded.value, sealed = 0`,
  ).run(m, g, driver, key, value);
}

/** Stores a secret sealed (AES-256-GCM with the store's key file); it is never readable in clear from the store. */
export function putDriverSecret(db: Db, owner: Owner, driver: string, key: string, plaintext: string): void {
  const [m, g] = ownerCols(owner);
  prepared(db, 
    `INSERT INTO driver_settings (machine_id, group_id, driver, key, value, sealed) VALUES (?, ?, ?, ?, ?, 1)
     ON CONFLICT (coalesce(machine_id, 0), coalesce(group_id, 0), driver, key) DO UPDATE SET value = excluded.value, sealed = 1`,
  ).run(m, g, driver, key, sealSecret(db, plaintext, purpose(owner, driver, key)));
}

export function deleteDriverSetting(db: Db, owner: Owner, driver: string, key: string): boolean {
  const [m, g] = ownerCols(owner);
  return prepared(db, 'DELETE FROM driver_settings WHERE machine_id IS ? AND group_id IS ? AND driver = ? AND key = ?').run(m, g, driver, key).changes > 0;
}

/** The plain (not sealed) settings of an owner, per driver: what the data-centre description carries. */
export function plainDriverSettings(db: Db, owner: Owner): Record<string, Record<string, string>> {
  const [m, g] = ownerCols(owner);
  const rows = prepared(db, 'SELECT driver, key, value FROM driver_settings WHERE machine_id IS ? AND group_id IS ? AND sealed = 0 ORDER BY driver, key').all(m, g) as Array<{ driver: string; key: string; value: string }>;
  const out: Record<string, Record<string, string>> = {};
  for (const r of rows) (out[r.driver] ??= {})[r.key] = r.value;
  return out;
}

/** Makes an owner's plain settings exactly `wanted`; sealed ones stay (the description cannot carry them). */
export function replacePlainDriverSettings(db: Db, owner: Owner, wanted: Record<string, Record<string, string>>): void {
  const [m, g] = ownerCols(owner);
  prepared(db, 'DELETE FROM driver_settings WHERE machine_id IS ? AND group_id IS ? AND sealed = 0').run(m, g);
  for (const [driver, kv] of Object.entries(wanted)) for (const [key, value] of Object.entries(kv)) putDriverSetting(db, owner, driver, key, value);
}

export interface Scope { machineId?: number | null; groupId?: number | null }

/** The fallback every driver setting follows: the machine's, its group's, the global one, the default. */
function resolveSetting(db: Db, driver: string, spec: SettingSpec, scope: Scope, rowOf: (o: Owner) => Row | undefined, globalOf: (key: string) => string | undefined): string | undefined {
  const owners: Owner[] = [];
  if (scope.machineId != null) owners.push({ machineId: scope.machineId });
  if (scope.groupId != null) owners.push({ groupId: scope.groupId });
  for (const o of owners) {
    const r = rowOf(o);
    if (r) return r.sealed ? openSecret(db, r.value, purpose(o, driver, spec.key)) : r.value;
  }
  const global = globalOf(`${driver}.${spec.key}`);
  if (global !== undefined) return global;
  return spec.default === undefined ? undefined : String(spec.default);
}

/**
 * A driver setting as the driver sees it — the machine's, else its group's, else the
 * global `<driver>.<key>` setting, else the declared default; secrets opened — for the
 * one reader (SettingReader) of many keys of one driver and scope: each owner's rows are
 * read once, in one query, and each global setting once.
 */
export function driverSettingLookup(db: Db, driver: string, scope: Scope): (spec: SettingSpec) => string | undefined {
  const rows = new Map<string, Map<string, Row>>();
  const globals = new Map<string, string | undefined>();
  const rowsOf = (o: Owner): Map<string, Row> => {
    const k = 'machineId' in o ? `m${o.machineId}` : `g${o.groupId}`;
    let m = rows.get(k);
    if (!m) {
      const [mid, gid] = ownerCols(o);
      m = new Map((prepared(db, 'SELECT key, value, sealed FROM driver_settings WHERE machine_id IS ? AND group_id IS ? AND driver = ?').all(mid, gid, driver) as Array<Row & { key: string }>)
        .map((r) => [r.key, { value: r.value, sealed: r.sealed }]));
      rows.set(k, m);
    }
    return m;
  };
  const globalOf = (key: string): string | undefined => {
    if (!globals.has(key)) globals.set(key, getSetting(db, key));
    return globals.get(key);
  };
  return (spec) => resolveSetting(db, driver, spec, scope, (o) => rowsOf(o).get(spec.key), globalOf);
}

/** What is wrong with `raw` as a value of `spec`, or undefined when nothing is. */
/** The size of a setting value without a bound of its own. */
export const MAX_SETTING_BYTES = 64 * 1024;

export function settingProblem(spec: SettingSpec, raw: string): string | undefined {
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      const ok = raw.trim() !== '' && Number.isFinite(n) && (spec.type === 'number' || Number.isInteger(n));
      if (!ok || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        const range = spec.min !== undefined && spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : spec.min !== undefined ? ` of at least ${spec.min}` : '';
        return `must be ${spec.type === 'integer' ? 'an integer' : 'a number'}${range}, not '${raw}'`;
      }
      break;
    }
    case 'boolean':
      if (!['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'].includes(raw.toLowerCase())) return `must be true or false, not '${raw}'`;
      break;
    case 'path':
      if (raw.trim() === '' || raw.includes('\0')) return 'must be a file or folder path';
      break;
    default:
      break;
  }
  if (spec.values && !spec.values.includes(raw)) return `must be one of ${spec.values.join(', ')}, not '${raw}'`;
  // Every value is bounded: a setting is read by daemons on every reload, never a bulk store.
  const max = spec.maxBytes ?? MAX_SETTING_BYTES;
  if (Buffer.byteLength(raw, 'utf8') > max) return `must be at most ${max} bytes`;
  return spec.check?.(raw);
}

/** The concrete key of one member of a numbered family (`nic<n>.port`, 2 → nic2.port). */
export function indexedKey(spec: SettingSpec, n: number): SettingSpec {
  return { ...spec, key: spec.key.replace('<n>', String(n)) };
}

/**
 * The declaration among `specs` that `key` is written for: the same key, or a member of a
 * numbered family (nic3.port for `nic<n>.port`), returned with the concrete key.
 */
export function declaredSetting(specs: readonly SettingSpec[], key: string): SettingSpec | undefined {
  const exact = specs.find((s) => s.key === key && !s.index);
  if (exact) return exact;
  for (const s of specs) {
    if (!s.index) continue;
    const [head, tail] = s.key.split('<n>') as [string, string];
    if (!key.startsWith(head) || !key.endsWith(tail) || key.length <= head.length + tail.length) continue;
    const digits = key.slice(head.length, key.length - tail.length);
    if (!/^[1-9][0-9]*$/.test(digits)) continue;
    const n = Number(digits);
    if (n >= s.index.min && n <= s.index.max) return indexedKey(s, n);
  }
  return undefined;
}
