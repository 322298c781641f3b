// A driver's settings for one machine in one group, read through their declarations:
// the machine's, the group's, the global one, the default (adapters/settings.ts), checked
// against the declared type, so that a bad value is a configuration error naming the key.
import type { Db } from '../store/db.js';
import { getSetting, getSettingPair, openSettingValue } from '../store/settings.js';
import { declaredSetting, driverSettingLookup, settingProblem } from './settings.js';
import { DriverError, type SettingSpec } from './types.js';

export class SettingReader {
  private readonly lookup: (spec: SettingSpec) => string | undefined;
  private readonly values = new Map<string, string | undefined>();

  constructor(
    private readonly db: Db,
    readonly driver: string,
    private readonly specs: readonly SettingSpec[],
    readonly scope: { machineId?: number | null; groupId?: number | null },
  ) {
    this.lookup = driverSettingLookup(db, driver, scope);
  }

  private readonly declared = new Map<string, SettingSpec>();

  private spec(key: string): SettingSpec {
    let s = this.declared.get(key);
    if (!s) {
      s = declaredSetting(this.specs, key);
      if (!s) throw new Error(`internal: the ${this.driver} driver reads an undeclared setting ${key}`);
      this.declared.set(key, s);
    }
    return s;
  }

  private where(key: string): string {
    const s = this.spec(key);
    return s.scope === 'global' ? `setting ${s.key}` : `${this.driver} setting ${key}`;
  }

  /** The raw value, or undefined when nothing (not even a default) sets it. Secrets are opened. */
  raw(key: string): string | undefined {
    if (this.values.has(key)) return this.values.get(key);
    const s = this.spec(key);
    let v: string | undefined;
    if (s.scope === 'global') {
      v = getSetting(this.db, s.key);
      if (v === undefined || v === '') v = s.default === undefined ? undefined : String(s.default);
      else if (s.type === 'secret') v = openSettingValue(this.db, s.key, v);
    } else {
      v = this.lookup(s);
      if (v === '') v = undefined;
    }
    this.values.set(key, v);
    return v;
  }

  private readonly ok = new Set<string>();

  private checked(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined || this.ok.has(key)) return v;
    const problem = settingProblem(this.spec(key), v);
    if (problem) throw new DriverError(`${this.where(key)} ${problem}`, { layer: 'configuration' });
    this.ok.add(key);
    return v;
  }

  str(key: string): string | undefined {
    return this.checked(key);
  }

  need(key: string, hint = ''): string {
    const v = this.checked(key);
    if (v === undefined) throw new DriverError(`${this.where(key)} is not set${hint ? `: ${hint}` : ''}`, { layer: 'configuration' });
    return v;
  }

  num(key: string): number | undefined {
    const v = this.checked(key);
    return v === undefined ? undefined : Number(v);
  }

  bool(key: string): boolean {
    const v = this.checked(key);
    return v !== undefined && ['true', 'yes', 'on', '1'].includes(v.toLowerCase());
  }

  /** Every problem reading these keys would raise, for validate(). */
  problems(keys: string[]): string[] {
    const out: string[] = [];
    for (const k of keys) {
      try {
        this.checked(k);
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return out;
  }
}

// ---- global settings -------------------------------------------------------------------------

/** The declaration of a global key, and for `<key>.<suffix>` of a declared suffix, the key it refines. */
function declaredGlobal(specs: readonly SettingSpec[], key: string): { spec: SettingSpec; base?: string } {
  const s = declaredSetting(specs, key) ?? specs.find((d) => d.suffixes?.some((x) => `${d.key}.${x}` === key));
  if (!s || s.scope !== 'global') throw new Error(`internal: ${key} is read but not declared as a global setting`);
  return s.key === key ? { spec: s } : { spec: s, base: s.key };
}

/**
 * A global setting (the `settings:` section) read against its declaration among `specs`
 * (a driver's spec.settings, MONITOR_SETTINGS, …): the stored value, else the declared
 * default; a stored value the declaration refuses is a configuration error naming the key.
 * The one reader of every global setting: no module parses a setting or repeats its default.
 */
export function settingText(db: Db, specs: readonly SettingSpec[], key: string): string | undefined {
  const { spec, base } = declaredGlobal(specs, key);
  let at = key;
  // sim.delay_ms.power-on unset: sim.delay_ms says it for every operation (both read at once).
  const [own, general] = base ? getSettingPair(db, key, base) : [getSetting(db, key), undefined];
  let v = own;
  if ((v === undefined || v === '') && base) {
    v = general;
    at = base;
  }
  if (v === undefined || v === '') return spec.default === undefined ? undefined : String(spec.default);
  // A secret global setting (monitor.communities) is stored only sealed: opened here, for every reader.
  if (spec.type === 'secret') v = openSettingValue(db, at, v);
  const problem = settingProblem(spec, v);
  if (problem) throw new DriverError(`setting ${at} ${problem}`, { layer: 'configuration' });
  return v;
}

/** A number or integer setting; one without a value or a default is a configuration error. */
export function settingNumber(db: Db, specs: readonly SettingSpec[], key: string): number {
  const v = settingText(db, specs, key);
  if (v === undefined) throw new DriverError(`setting ${key} is not set`, { layer: 'configuration' });
  return Number(v);
}
