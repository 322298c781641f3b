// kanri's own global settings that the engine and the domain read (the `settings:` section):
// declared once here, with their defaults, and read through settingText/settingNumber
// (adapters/setting-reader.ts); config/settings-catalogue.ts lists them with the others.
import type { SettingSpec } from '../adapters/types.js';

export const CORE_SETTINGS: readonly SettingSpec[] = [
  { key: 'engine.parallel', scope: 'global', type: 'integer', min: 1, max: 1024, default: 64, description: 'jobs one change runs at the same time' },
  { key: 'standby_dhcp_scenario', scope: 'global', type: 'string', description: 'scenario that returns a machine to DHCP when it goes to standby' },
  { key: 'manager.lease_s', scope: 'global', type: 'number', min: 5, max: 3600, default: 60, description: "a manager process's lease on the store: a process that runs jobs (or a daemon) renews it every sixth of this; when it has not for this long, any manager abandons its jobs and frees their reservations (s)" },
  { key: 'vm.reading_max_age_s', scope: 'global', type: 'number', min: 0, default: 60, description: 'a VM server reading (CPUs, free memory) older than this is read again before placing VMs (s)' },
];
