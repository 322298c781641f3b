// A driver's settings for one machine in one group, read through their declarations:
// the machine's, the group's, the global one, the default (adapters/settings.ts), checked
// against the declared type, so that a bad value is a configuration error naming the key.
import type { Db } from '../store/db.js';
import { getSetting } from '../store/settings.js';
import { declaredSetting, driverSetting, settingProblem } from './settings.js';
import { DriverError, type SettingSpec } from './types.js';

export class SettingReader {
  constructor(
    private readonly db: Db,
    readonly driver: string,
    private readonly specs: readonly SettingSpec[],
    readonly scope: { machineId?: number | null; groupId?: number | null },
  ) {}

  private spec(key: string): SettingSpec {
    const s = declaredSetting(this.specs, key);
    if (!s) throw new Error(`internal: the ${this.driver} driver reads an undeclared setting ${key}`);
    return s;
  }

  private where(key: string): string {
    const s = this.spec(key);
    return s.scope === 'global' ? `setting ${s.key}` : `${this.driver} setting ${key}`;
  }

  /** The raw value, or undefined when nothing (not even a default) sets it. Secrets are opened. */
  raw(key: string): string | undefined {
    const s = this.spec(key);
    if (s.scope === 'global') {
      const v = getSetting(this.db, s.key);
      return v === undefined || v === '' ? (s.default === undefined ? undefined : String(s.default)) : v;
    }
    const v = driverSetting(this.db, this.driver, s, this.scope);
    return v === '' ? undefined : v;
  }

  private checked(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const problem = settingProblem(this.spec(key), v);
    if (problem) throw new DriverError(`${this.where(key)} ${problem}`, { layer: 'configuration' });
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
