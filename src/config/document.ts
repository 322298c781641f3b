// The data-centre description that `kanri config apply` reads and `kanri config
// export` writes. Both sides go through canonical() so that apply(export(x)) is
// recognised as "no change" by comparing documents.
import { compareNames } from '../domain/paths.js';
import { INTERFACES, type InterfaceName } from '../adapters/types.js';

export type Interface = InterfaceName;
export type Drivers = Partial<Record<Interface, string>>;
/** Plain settings of the drivers serving a machine or group, per driver (secrets never). */
export type DriverSettings = Record<string, Record<string, string>>;

export interface SoftwareDoc {
  name: string; kind: 'scenario' | 'template' | 'local_script';
  version: string; date: string; cost?: number; source: string; description: string;
}
export interface TriggerDoc { source: string; event?: string; category?: string }
export interface RuleDoc {
  event: string; triggers: TriggerDoc[]; action_name: string; actions: string[]; suppress: boolean; enabled: boolean;
}
export interface PolicyDoc { name: string; description: string; suppression_seconds: number; rules: RuleDoc[] }
export interface VolumeDoc { name: string; array: string; kind: 'istorage' | 'symmetrix' | 'clarix'; shared: boolean; description: string }

/** Software lists of a group or model. */
export interface GroupSoftware { activation: string[]; standby: string[] }
/** Software lists of a host setting (three slots) or a machine (two slots). */
export interface SlotSoftware { before_group: string[]; distribution?: string[]; after_group: string[] }
export interface HostSoftware { activation: SlotSoftware; standby: SlotSoftware }

export interface ModelDoc {
  name: string; priority: number; policy?: string; template?: string; vm_server_model?: string;
  register_dpm_on_create: boolean; optimal_startup: boolean;
  placement?: { high: number; target_high: number; target_low: number; low: number };
  description: string; software: GroupSoftware;
}
export interface NicDoc { addresses: Array<{ ip: string; netmask: string }>; gateways: string[] }
export interface HostSettingDoc { host: string; nics: NicDoc[]; tags: string[]; volumes: string[]; software: HostSoftware }
export interface PoolDoc { machine: string; model?: string }
export interface GroupDoc {
  name: string; priority: number; type: 'physical' | 'virtual' | 'vmserver'; allow_common_pool: boolean;
  policy?: string; storage: boolean; vlan?: string; load_balancer?: string; dpm_registration: boolean;
  prefer_cpu_blade: boolean; template?: string; description: string; drivers: Drivers; driver_settings?: DriverSettings;
  software: GroupSoftware; models: ModelDoc[]; host_settings: HostSettingDoc[]; pool: PoolDoc[];
}
export interface CategoryDoc { name: string; priority: number; description: string; categories: CategoryDoc[]; groups: GroupDoc[] }

export interface ActiveDoc { group: string; model: string; host: string; from: 'group_pool' | 'common_pool' | 'master'; since?: string }
export interface MachineDoc {
  name: string; kind: 'physical' | 'virtual' | 'vmserver'; uuid?: string; macs: string[];
  hw_model?: string; hw_model_auto: boolean; tags: string[];
  power: 'on' | 'off' | 'suspended' | 'unknown'; hardware_status: 'normal' | 'degraded' | 'faulted';
  management_status: 'normal' | 'abnormal'; maintenance: boolean;
  mgmt_address?: string; datacenter?: string; vm_server?: string; datastore?: string;
  os_address?: string; ssh_user?: string; ssh_port?: number; ssh_key_path?: string;
  /**
   * The management controller (type: a controller driver's name, registry CONTROLLER_TYPES);
   * its password is write-only (dscli createServer/setServer) and never in this file.
   */
  bmc?: { type: string; address?: string; port?: number; user?: string; cipher?: number | 'auto' };
  cost?: number; capacity?: number; datastores: Array<{ name: string; capacity_gb?: number; shared: boolean }>;
  dpm_registered: boolean; drivers: Drivers; driver_settings?: DriverSettings; active?: ActiveDoc; software: HostSoftware; description: string;
}
/** An account; without password_hash, apply keeps the hash the store has (a new account needs one). */
export interface UserDoc { name: string; level: 'administrator' | 'operator'; password_hash?: string; disabled: boolean }

export interface DataCentre {
  kanri: 1;
  settings: Record<string, string>;
  software: SoftwareDoc[];
  policies: PolicyDoc[];
  volumes: VolumeDoc[];
  categories: CategoryDoc[];
  groups: GroupDoc[];
  machines: MachineDoc[];
  users: UserDoc[];
}

const byName = <T extends { name: string }>(a: T, b: T): number => compareNames(a.name, b.name);
const byPriorityName = <T extends { name: string; priority: number }>(a: T, b: T): number => a.priority - b.priority || byName(a, b);

/** Orders every unordered collection, so that equal data centres compare equal. */
export function canonical(dc: DataCentre): DataCentre {
  const group = (g: GroupDoc): GroupDoc => ({ ...g, models: [...g.models].sort(byPriorityName) });
  const category = (c: CategoryDoc): CategoryDoc => ({
    ...c,
    categories: [...c.categories].sort(byPriorityName).map(category),
    groups: [...c.groups].sort(byPriorityName).map(group),
  });
  const sortedSettings = Object.fromEntries(Object.entries(dc.settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    kanri: 1,
    settings: sortedSettings,
    software: [...dc.software].sort(byName),
    policies: [...dc.policies].sort(byName),
    volumes: [...dc.volumes].sort(byName),
    categories: [...dc.categories].sort(byPriorityName).map(category),
    groups: [...dc.groups].sort(byPriorityName).map(group),
    machines: [...dc.machines].sort(byName),
    users: [...dc.users].sort(byName),
  };
}

/** Every group with its path, depth first in document order. */
export function allGroups(dc: DataCentre): Array<{ path: string[]; group: GroupDoc }> {
  const out: Array<{ path: string[]; group: GroupDoc }> = [];
  const walk = (prefix: string[], cats: CategoryDoc[], groups: GroupDoc[]): void => {
    for (const g of groups) out.push({ path: [...prefix, g.name], group: g });
    for (const c of cats) walk([...prefix, c.name], c.categories, c.groups);
  };
  walk([], dc.categories, dc.groups);
  return out;
}

/** JSON with object keys sorted, so that documents built in different key orders compare equal. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}
