// Every key the `settings:` section may hold: kanri's own and the global settings each
// driver declares (adapters/*/spec.ts). A key nobody declares is a mistake in the file.
import { DRIVER_SPECS } from '../adapters/registry.js';
import type { SettingSpec } from '../adapters/types.js';
import { MONITOR_SETTINGS } from '../monitor/settings.js';
import { SERVE_SETTINGS } from '../serve/settings.js';

export const CORE_SETTINGS: readonly SettingSpec[] = [
  { key: 'engine.parallel', scope: 'global', type: 'integer', min: 1, max: 1024, default: 64, description: 'jobs one change runs at the same time' },
  { key: 'standby_dhcp_scenario', scope: 'global', type: 'string', description: 'scenario that returns a machine to DHCP when it goes to standby' },
  { key: 'dscli.confirm_above', scope: 'global', type: 'integer', min: 0, default: 10, description: 'power changes and clearSel on more servers need --yes (or an answer on a terminal)' },
  { key: 'dscli.fanout', scope: 'global', type: 'integer', min: 1, max: 1024, default: 64, description: 'controllers dscli talks to at the same time' },
  { key: 'dscli.timeout_s', scope: 'global', type: 'number', min: 0.1, max: 600, default: 5, description: 'deadline of one dscli operation on one controller (s)' },
  { key: 'vm.shutdown_timeout_s', scope: 'global', type: 'number', min: 0.1, default: 120, description: 'a VM still running this long after an ACPI shutdown is destroyed (s)' },
  { key: 'vm.reading_max_age_s', scope: 'global', type: 'number', min: 0, default: 60, description: 'a VM server reading (CPUs, free memory) older than this is read again before placing VMs (s)' },
  { key: 'dscli.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 2, description: 'retransmissions of one request' },
  { key: 'dscli.ssh_wait_s', scope: 'global', type: 'number', min: 0, max: 3600, default: 300, description: 'how long shutdownOs via=ssh reads the power state for off after the shutdown command (s; wait= overrides)' },
  ...MONITOR_SETTINGS,
  ...SERVE_SETTINGS,
];

export interface KnownSetting { spec: SettingSpec; owner: string }

function all(): KnownSetting[] {
  return [
    ...CORE_SETTINGS.map((spec) => ({ spec, owner: 'kanri' })),
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

export function knownSettingKeys(): string[] {
  return [...byKey().keys()];
}
