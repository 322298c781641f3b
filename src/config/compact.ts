// The data-centre description as a person edits it: only what differs from what the
// validator (validate.ts) fills in for a missing key, numbers as numbers, and account hashes
// only when asked for. apply(check(compact(x))) equals x: the round-trip tests hold it.
import type { DataCentre } from './document.js';
import { isSecretSetting, knownSetting } from './settings-catalogue.js';

/** Keys whose default is not the empty value of their type (validate.ts: r.bool/r.oneOf/r.int defaults). */
const DEFAULTS: Record<string, unknown> = {
  enabled: true, hw_model_auto: true, power: 'off', hardware_status: 'normal', management_status: 'normal',
  level: 'operator', from: 'group_pool', priority: 100,
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isDefault(key: string, v: unknown): boolean {
  if (key in DEFAULTS) return DEFAULTS[key] === v;
  return v === false || v === '' || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

function compactValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compactValue);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const c = compactValue(x);
    if (!isDefault(k, c)) out[k] = c;
  }
  return out;
}

/** A setting's value as YAML writes it: a number for a numeric setting whose text is the number's. */
function settingValue(key: string, value: string): string | number {
  const type = knownSetting(key)?.spec.type;
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && String(Number(value)) === value) return Number(value);
  return value;
}

export function compactDocument(dc: DataCentre, opts: { withSecrets?: boolean } = {}): Record<string, unknown> {
  const { kanri, settings, users, ...rest } = dc;
  const body = compactValue(rest) as Record<string, unknown>;
  const out: Record<string, unknown> = { kanri };
  const s = Object.fromEntries(Object.entries(settings).filter(([k]) => opts.withSecrets || !isSecretSetting(k)).map(([k, v]) => [k, settingValue(k, v)]));
  if (Object.keys(s).length) out.settings = s;
  Object.assign(out, body);
  const u = users.map((x) => compactValue(opts.withSecrets ? x : { ...x, password_hash: undefined }));
  if (u.length) out.users = u;
  return out;
}
