// Every key the `settings:` section may hold: kanri's own and the global settings each
// driver declares (adapters/*/spec.ts). A key nobody declares is a mistake in the file.
import { DRIVER_SPECS } from '../adapters/registry.js';
import type { SettingSpec } from '../adapters/types.js';
import { CORE_SETTINGS } from '../domain/settings.js';
import { DSCLI_SETTINGS } from '../dscli/settings.js';
import { MONITOR_SETTINGS } from '../monitor/settings.js';
import { SERVE_SETTINGS } from '../serve/settings.js';

/** kanri's own settings, declared next to what reads them. */
export const KANRI_SETTINGS: readonly SettingSpec[] = [...CORE_SETTINGS, ...DSCLI_SETTINGS, ...MONITOR_SETTINGS, ...SERVE_SETTINGS];

export interface KnownSetting { spec: SettingSpec; owner: string }

function all(): KnownSetting[] {
  return [
    ...KANRI_SETTINGS.map((spec) => ({ spec, owner: 'kanri' })),
    ...DRIVER_SPECS.flatMap((d) => d.settings.filter((s) => s.scope === 'global').map((spec) => ({ spec, owner: d.name }))),
  ];
}

let index: Map<string, KnownSetting> | undefined;

/** Every declared key (suffixed ones spelled out) → its declaration, built once. */
function byKey(): Map<string, KnownSetting> {
  if (!index) {
    index = new Map();
    for (const k of all()) {
      index.set(k.spec.key, k);
      for (const s of k.spec.suffixes ?? []) index.set(`${k.spec.key}.${s}`, k);
    }
  }
  return index;
}

export function knownSetting(key: string): KnownSetting | undefined {
  return byKey().get(key);
}

/** A global setting kept only sealed (type secret): never on argv, out of an export without --with-secrets. */
export function isSecretSetting(key: string): boolean {
  return knownSetting(key)?.spec.type === 'secret';
}

export function knownSettingKeys(): string[] {
  return [...byKey().keys()];
}
