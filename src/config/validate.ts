// Reads a data-centre description completely before anything is written: every
// problem is collected as "<file>: <path>: <what is wrong>" and nothing is applied
// while any remains.
import { isIP } from 'node:net';
import { CONTROLLER_TYPES, KNOWN_DRIVERS, controllerDefault, driverSpec, driversServing } from '../adapters/registry.js';
import { declaredSetting, settingProblem } from '../adapters/settings.js';
import { isPasswordHash } from '../auth/password.js';
import { didYouMean } from '../util/nearest.js';
import { knownSetting, knownSettingKeys } from './settings-catalogue.js';
import { EVENT_SOURCES, POLICY_ACTIONS } from '../domain/policy-actions.js';
import { CATEGORIES, canonicalCategory, normalizeEvent } from '../monitor/catalogue.js';
import { STANDARD_POLICIES, standardPolicy } from '../monitor/templates.js';
import { splitPath } from '../domain/paths.js';
import { foldName, nameProblem } from '../domain/names.js';
import {
  type CategoryDoc, type DataCentre, type Drivers, type GroupDoc, type GroupSoftware, type HostSettingDoc,
  type HostSoftware, type MachineDoc, type ModelDoc, type PolicyDoc, type SlotSoftware,
  type SoftwareDoc, type UserDoc, type VolumeDoc, type DriverSettings, allGroups, canonical,
} from './document.js';
import { INTERFACES } from '../adapters/types.js';

type Obj = Record<string, unknown>;

class Reader {
  readonly errors: string[] = [];

  fail(path: string, what: string): void {
    this.errors.push(`${path || '(top)'}: ${what}`);
  }

  obj(path: string, v: unknown, keys: readonly string[]): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.fail(path, 'must be a mapping');
      return {};
    }
    const known = new Set(keys);
    for (const k of Object.keys(v)) if (!known.has(k)) this.fail(join(path, k), `unknown key (expected one of: ${keys.join(', ')})`);
    return v as Obj;
  }

  arr<T>(path: string, v: unknown, item: (p: string, x: unknown) => T): T[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(path, 'must be a list');
      return [];
    }
    return v.map((x, i) => item(`${path}[${i}]`, x));
  }

  str(path: string, v: unknown, opts: { required?: boolean; max?: number } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.fail(path, 'is required');
      return undefined;
    }
    if (typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) v = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
    if (typeof v !== 'string') {
      this.fail(path, 'must be a string');
      return undefined;
    }
    if (opts.required && v.trim() === '') this.fail(path, 'must not be empty');
    if (opts.max !== undefined && v.length > opts.max) this.fail(path, `must be at most ${opts.max} characters`);
    return v;
  }

  /** A name that is printed in listings and matched on the command line: no control characters. */
  label(path: string, v: unknown, max = 256): string {
    const s = this.str(path, v, { required: true, max }) ?? '';
    const problem = nameProblem(s);
    if (problem) this.fail(path, problem);
    return s;
  }

  /** A name that is part of a group path: a label without path separators. */
  name(path: string, v: unknown): string {
    const s = this.label(path, v, 128);
    if (/[\\\u00a5/]/.test(s)) this.fail(path, `'${s}' must not contain \\, \u00a5 or /`);
    return s;
  }

  int(path: string, v: unknown, def: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer from ${min} to ${max}`);
      return def;
    }
    return v;
  }

  bool(path: string, v: unknown, def: boolean): boolean {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') {
      this.fail(path, 'must be true or false');
      return def;
    }
    return v;
  }

  oneOf<T extends string>(path: string, v: unknown, values: readonly T[], def?: T): T {
    if ((v === undefined || v === null) && def !== undefined) return def;
    if (typeof v !== 'string' || !values.includes(v as T)) {
      this.fail(path, `must be one of: ${values.join(', ')}`);
      return (def ?? values[0]) as T;
    }
    return v as T;
  }

  names(path: string, v: unknown): string[] {
    return this.arr(path, v, (p, x) => this.label(p, x));
  }

  unique<T>(path: string, items: T[], key: (t: T) => string, what: string): void {
    const seen = new Map<string, number>();
    items.forEach((t, i) => {
      const k = foldName(key(t));
      if (seen.has(k)) this.fail(`${path}[${i}]`, `${what} '${key(t)}' is defined twice (names are case-insensitive; first at [${seen.get(k)}])`);
      else seen.set(k, i);
    });
  }
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

function drivers(r: Reader, path: string, v: unknown): Drivers {
  if (v === undefined || v === null) return {};
  const o = r.obj(path, v, INTERFACES);
  const out: Drivers = {};
  for (const i of INTERFACES) {
    const d = r.str(join(path, i), o[i]);
    if (d === undefined) continue;
    out[i] = d;
  }
  return out;
}

/** The drivers a machine or group names must exist and serve the interface they are named for. */
function checkDrivers(r: Reader, at: string, ds: Drivers): void {
  for (const i of INTERFACES) {
    const d = ds[i];
    if (d === undefined) continue;
    const spec = driverSpec(d);
    if (!spec) r.fail(`${at}: drivers.${i}`, `unknown driver '${d}'${didYouMean(d, KNOWN_DRIVERS)} (known: ${KNOWN_DRIVERS.join(', ')})`);
    else if (!spec.interfaces.includes(i)) {
      r.fail(`${at}: drivers.${i}`, `the ${d} driver does not serve the ${i} interface (${spec.interfaces.length ? `it serves ${spec.interfaces.join(', ')}` : 'it serves none in this version'}; ${i} is served by ${driversServing(i).join(', ')})`);
    }
  }
}

/** `driver_settings: { <driver>: { <key>: value } }` of a machine or a group; secrets never. */
function driverSettings(r: Reader, path: string, v: unknown, scope: 'machine' | 'group'): DriverSettings | undefined {
  if (v === undefined || v === null) return undefined;
  const o = r.obj(path, v, KNOWN_DRIVERS);
  const out: DriverSettings = {};
  for (const [driver, kv] of Object.entries(o)) {
    const spec = driverSpec(driver);
    if (!spec) continue;
    const declared = spec.settings.filter((x) => x.scope === scope && !x.column);
    const p = join(path, driver);
    // Members of a numbered family (nic2.port for nic<n>.port) are declared keys too.
    const members = kv !== null && typeof kv === 'object' ? Object.keys(kv).filter((k) => declaredSetting(declared, k)?.index) : [];
    const values = r.obj(p, kv, [...declared.map((x) => x.key), ...members]);
    for (const [key, raw] of Object.entries(values)) {
      const sp = declaredSetting(declared, key);
      if (!sp) continue;
      if (sp.type === 'secret') {
        r.fail(join(p, key), `is a secret: set it with kanri driver secret --${scope} NAME ${driver} ${key} (it is never kept in this file)`);
        continue;
      }
      const value = r.str(join(p, key), raw, { required: true });
      if (value === undefined) continue;
      const problem = settingProblem(sp, value);
      if (problem) r.fail(join(p, key), problem);
      (out[driver] ??= {})[key] = value;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

function groupSoftware(r: Reader, path: string, v: unknown): GroupSoftware {
  if (v === undefined || v === null) return { activation: [], standby: [] };
  const o = r.obj(path, v, ['activation', 'standby']);
  return { activation: r.names(join(path, 'activation'), o.activation), standby: r.names(join(path, 'standby'), o.standby) };
}

function slotSoftware(r: Reader, path: string, v: unknown, withDistribution: boolean): SlotSoftware {
  const o = v === undefined || v === null ? {} : r.obj(path, v, withDistribution ? ['before_group', 'distribution', 'after_group'] : ['before_group', 'after_group']);
  const before_group = r.names(join(path, 'before_group'), o.before_group);
  const after_group = r.names(join(path, 'after_group'), o.after_group);
  return withDistribution
    ? { before_group, distribution: r.names(join(path, 'distribution'), o.distribution), after_group }
    : { before_group, after_group };
}

function hostSoftware(r: Reader, path: string, v: unknown, withDistribution: boolean): HostSoftware {
  if (v === undefined || v === null) {
    return { activation: slotSoftware(r, path, undefined, withDistribution), standby: slotSoftware(r, path, undefined, withDistribution) };
  }
  const o = r.obj(path, v, ['activation', 'standby']);
  return {
    activation: slotSoftware(r, join(path, 'activation'), o.activation, withDistribution),
    standby: slotSoftware(r, join(path, 'standby'), o.standby, withDistribution),
  };
}

function software(r: Reader, path: string, v: unknown): SoftwareDoc {
  const o = r.obj(path, v, ['name', 'kind', 'version', 'date', 'cost', 'source', 'description']);
  const s: SoftwareDoc = {
    name: r.label(join(path, 'name'), o.name),
    kind: r.oneOf(join(path, 'kind'), o.kind, ['scenario', 'template', 'local_script'] as const),
    version: r.str(join(path, 'version'), o.version) ?? '',
    date: r.str(join(path, 'date'), o.date) ?? '',
    source: r.str(join(path, 'source'), o.source) ?? '',
    description: r.str(join(path, 'description'), o.description) ?? '',
  };
  const cost = r.int(join(path, 'cost'), o.cost, undefined);
  if (cost !== undefined) {
    if (s.kind !== 'template') r.fail(join(path, 'cost'), 'only templates have a cost value');
    s.cost = cost;
  }
  return s;
}

function policy(r: Reader, path: string, v: unknown): PolicyDoc {
  const o = r.obj(path, v, ['name', 'template', 'description', 'suppression_seconds', 'rules']);
  const templateName = r.str(join(path, 'template'), o.template);
  const base = templateName !== undefined ? standardPolicy(templateName) : undefined;
  if (templateName !== undefined && !base) {
    r.fail(join(path, 'template'), `unknown standard policy '${templateName}' (known: ${STANDARD_POLICIES.map((t) => t.name).join(', ')})`);
  }
  const own = r.arr(join(path, 'rules'), o.rules, (p, x) => {
    const ro = r.obj(p, x, ['event', 'triggers', 'action_name', 'actions', 'suppress', 'enabled']);
    const actions = r.names(join(p, 'actions'), ro.actions);
    actions.forEach((a, i) => {
      if (!Object.hasOwn(POLICY_ACTIONS, a)) r.fail(`${join(p, 'actions')}[${i}]`, `unknown action '${a}' (known: ${Object.keys(POLICY_ACTIONS).join(', ')})`);
    });
    return {
      event: r.str(join(p, 'event'), ro.event, { required: true }) ?? '',
      triggers: r.arr(join(p, 'triggers'), ro.triggers, (tp, t) => {
        const to = r.obj(tp, t, ['source', 'event', 'category']);
        const source = r.oneOf(join(tp, 'source'), to.source, EVENT_SOURCES);
        const event = r.str(join(tp, 'event'), to.event);
        const category = r.str(join(tp, 'category'), to.category);
        if ((event === undefined) === (category === undefined)) r.fail(tp, 'give exactly one of event or category');
        if (category !== undefined && !CATEGORIES.includes(canonicalCategory(category))) {
          r.fail(join(tp, 'category'), `unknown event category '${category}'${didYouMean(category, [...CATEGORIES])}`);
        }
        if (event !== undefined && source && normalizeEvent(source, event) === undefined) {
          r.fail(join(tp, 'event'), source === 'SystemMonitorEvent' ? `'${event}' is not Source[0xID] (e.g. ESMDSVNT[0xC0000002])` : `'${event}' is not an 8-digit event number (e.g. 11000006)`);
        }
        return category !== undefined ? { source, category } : { source, event };
      }),
      action_name: r.str(join(p, 'action_name'), ro.action_name) ?? '',
      actions,
      suppress: r.bool(join(p, 'suppress'), ro.suppress, false),
      enabled: r.bool(join(p, 'enabled'), ro.enabled, true),
    };
  });
  // A rule of its own replaces the template's rule of the same event name; others follow it.
  const rules = base ? base.rules.map((t) => own.find((x) => x.event === t.event) ?? t) : [];
  rules.push(...own.filter((x) => !rules.includes(x)));
  return {
    name: templateName !== undefined && o.name === undefined ? base?.name ?? '' : r.label(join(path, 'name'), o.name, 128),
    description: r.str(join(path, 'description'), o.description) ?? base?.description ?? '',
    suppression_seconds: r.int(join(path, 'suppression_seconds'), o.suppression_seconds, base?.suppression_seconds ?? 0, 0, 86400) ?? 0,
    rules,
  };
}

function volume(r: Reader, path: string, v: unknown): VolumeDoc {
  const o = r.obj(path, v, ['name', 'array', 'kind', 'shared', 'description']);
  return {
    name: r.label(join(path, 'name'), o.name),
    array: r.label(join(path, 'array'), o.array),
    kind: r.oneOf(join(path, 'kind'), o.kind, ['istorage', 'symmetrix', 'clarix'] as const),
    shared: r.bool(join(path, 'shared'), o.shared, false),
    description: r.str(join(path, 'description'), o.description) ?? '',
  };
}

function ipv4(r: Reader, path: string, v: unknown): string {
  const s = r.str(path, v, { required: true }) ?? '';
  if (s && isIP(s) !== 4) r.fail(path, `'${s}' is not an IPv4 address`);
  return s;
}

function model(r: Reader, path: string, v: unknown): ModelDoc {
  const o = r.obj(path, v, ['name', 'priority', 'policy', 'template', 'vm_server_model', 'register_dpm_on_create', 'optimal_startup', 'placement', 'description', 'software']);
  const m: ModelDoc = {
    name: r.name(join(path, 'name'), o.name),
    priority: r.int(join(path, 'priority'), o.priority, 100, 1, 10000) ?? 100,
    register_dpm_on_create: r.bool(join(path, 'register_dpm_on_create'), o.register_dpm_on_create, false),
    optimal_startup: r.bool(join(path, 'optimal_startup'), o.optimal_startup, false),
    description: r.str(join(path, 'description'), o.description) ?? '',
    software: groupSoftware(r, join(path, 'software'), o.software),
  };
  const policyName = r.str(join(path, 'policy'), o.policy);
  if (policyName !== undefined) m.policy = policyName;
  const template = r.str(join(path, 'template'), o.template);
  if (template !== undefined) m.template = template;
  const vsm = r.str(join(path, 'vm_server_model'), o.vm_server_model);
  if (vsm !== undefined) m.vm_server_model = splitPath(vsm).join('/');
  if (o.placement !== undefined && o.placement !== null) {
    const p = r.obj(join(path, 'placement'), o.placement, ['high', 'target_high', 'target_low', 'low']);
    const pct = (k: string): number => r.int(join(join(path, 'placement'), k), p[k], 0, 0, 100) ?? 0;
    m.placement = { high: pct('high'), target_high: pct('target_high'), target_low: pct('target_low'), low: pct('low') };
    const { high, target_high, target_low, low } = m.placement;
    if (!(low <= target_low && target_low <= target_high && target_high <= high)) {
      r.fail(join(path, 'placement'), 'bounds must satisfy low <= target_low <= target_high <= high');
    }
  }
  return m;
}

function hostSetting(r: Reader, path: string, v: unknown): HostSettingDoc {
  const o = r.obj(path, v, ['host', 'nics', 'tags', 'volumes', 'software']);
  const h: HostSettingDoc = {
    host: r.name(join(path, 'host'), o.host),
    nics: r.arr(join(path, 'nics'), o.nics, (p, x) => {
      const no = r.obj(p, x, ['addresses', 'gateways']);
      return {
        addresses: r.arr(join(p, 'addresses'), no.addresses, (ap, a) => {
          const ao = r.obj(ap, a, ['ip', 'netmask']);
          return { ip: ipv4(r, join(ap, 'ip'), ao.ip), netmask: ipv4(r, join(ap, 'netmask'), ao.netmask) };
        }),
        gateways: r.arr(join(p, 'gateways'), no.gateways, (gp, g) => ipv4(r, gp, g)),
      };
    }),
    tags: r.names(join(path, 'tags'), o.tags),
    volumes: r.names(join(path, 'volumes'), o.volumes),
    software: hostSoftware(r, join(path, 'software'), o.software, true),
  };
  r.unique(join(path, 'volumes'), h.volumes, (v) => v, 'volume');
  return h;
}

function group(r: Reader, path: string, v: unknown): GroupDoc {
  const o = r.obj(path, v, ['name', 'priority', 'type', 'allow_common_pool', 'policy', 'storage', 'vlan', 'load_balancer',
    'dpm_registration', 'prefer_cpu_blade', 'template', 'description', 'drivers', 'driver_settings', 'software', 'models', 'host_settings', 'pool']);
  const g: GroupDoc = {
    name: r.name(join(path, 'name'), o.name),
    priority: r.int(join(path, 'priority'), o.priority, 100, 1, 10000) ?? 100,
    type: r.oneOf(join(path, 'type'), o.type, ['physical', 'virtual', 'vmserver'] as const),
    allow_common_pool: r.bool(join(path, 'allow_common_pool'), o.allow_common_pool, false),
    storage: r.bool(join(path, 'storage'), o.storage, false),
    dpm_registration: r.bool(join(path, 'dpm_registration'), o.dpm_registration, false),
    prefer_cpu_blade: r.bool(join(path, 'prefer_cpu_blade'), o.prefer_cpu_blade, false),
    description: r.str(join(path, 'description'), o.description) ?? '',
    drivers: drivers(r, join(path, 'drivers'), o.drivers),
    software: groupSoftware(r, join(path, 'software'), o.software),
    models: r.arr(join(path, 'models'), o.models, (p, x) => model(r, p, x)),
    host_settings: r.arr(join(path, 'host_settings'), o.host_settings, (p, x) => hostSetting(r, p, x)),
    pool: r.arr(join(path, 'pool'), o.pool, (p, x) => {
      if (typeof x === 'string') return { machine: x };
      const po = r.obj(p, x, ['machine', 'model']);
      const entry: { machine: string; model?: string } = { machine: r.str(join(p, 'machine'), po.machine, { required: true }) ?? '' };
      const m = r.str(join(p, 'model'), po.model);
      if (m !== undefined) entry.model = m;
      return entry;
    }),
  };
  for (const [key, val] of [['policy', o.policy], ['vlan', o.vlan], ['load_balancer', o.load_balancer], ['template', o.template]] as const) {
    const s = r.str(join(path, key), val);
    if (s !== undefined) (g as unknown as Record<string, string>)[key] = s;
  }
  const gds = driverSettings(r, join(path, 'driver_settings'), o.driver_settings, 'group');
  if (gds) g.driver_settings = gds;
  if (g.models.length === 0) r.fail(join(path, 'models'), 'a group needs at least one model');
  r.unique(join(path, 'models'), g.models, (m) => m.name, 'model');
  r.unique(join(path, 'host_settings'), g.host_settings, (h) => h.host, 'host setting');
  r.unique(join(path, 'pool'), g.pool, (p) => p.machine, 'pool machine');
  return g;
}

function category(r: Reader, path: string, v: unknown): CategoryDoc {
  const o = r.obj(path, v, ['name', 'priority', 'description', 'categories', 'groups']);
  const c: CategoryDoc = {
    name: r.name(join(path, 'name'), o.name),
    priority: r.int(join(path, 'priority'), o.priority, 100, 1, 10000) ?? 100,
    description: r.str(join(path, 'description'), o.description) ?? '',
    categories: r.arr(join(path, 'categories'), o.categories, (p, x) => category(r, p, x)),
    groups: r.arr(join(path, 'groups'), o.groups, (p, x) => group(r, p, x)),
  };
  siblings(r, path, c.categories, c.groups);
  return c;
}

/** Categories and groups side by side share one name space: a path must name one thing. */
function siblings(r: Reader, path: string, cats: CategoryDoc[], groups: GroupDoc[]): void {
  const all = [...cats.map((c, i) => ({ name: c.name, at: `${join(path, 'categories')}[${i}]` })), ...groups.map((g, i) => ({ name: g.name, at: `${join(path, 'groups')}[${i}]` }))];
  const seen = new Map<string, string>();
  for (const n of all) {
    const k = foldName(n.name);
    if (seen.has(k)) r.fail(n.at, `'${n.name}' is already used by ${seen.get(k)} (names are case-insensitive)`);
    else seen.set(k, n.at);
  }
}

function machine(r: Reader, path: string, v: unknown): MachineDoc {
  const o = r.obj(path, v, ['name', 'kind', 'uuid', 'macs', 'hw_model', 'hw_model_auto', 'tags', 'power', 'hardware_status',
    'management_status', 'maintenance', 'mgmt_address', 'datacenter', 'vm_server', 'datastore', 'cost', 'capacity', 'datastores',
    'dpm_registered', 'drivers', 'driver_settings', 'active', 'software', 'description', 'os_address', 'ssh_user', 'ssh_port', 'ssh_key_path', 'bmc']);
  const m: MachineDoc = {
    name: r.name(join(path, 'name'), o.name),
    kind: r.oneOf(join(path, 'kind'), o.kind, ['physical', 'virtual', 'vmserver'] as const),
    macs: r.arr(join(path, 'macs'), o.macs, (p, x) => {
      const s = (r.str(p, x, { required: true }) ?? '').toUpperCase().replace(/-/g, ':');
      if (s && !/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/.test(s)) r.fail(p, `'${String(x)}' is not a MAC address`);
      return s;
    }),
    hw_model_auto: r.bool(join(path, 'hw_model_auto'), o.hw_model_auto, true),
    tags: r.names(join(path, 'tags'), o.tags),
    power: r.oneOf(join(path, 'power'), o.power, ['on', 'off', 'suspended', 'unknown'] as const, 'off'),
    hardware_status: r.oneOf(join(path, 'hardware_status'), o.hardware_status, ['normal', 'degraded', 'faulted'] as const, 'normal'),
    management_status: r.oneOf(join(path, 'management_status'), o.management_status, ['normal', 'abnormal'] as const, 'normal'),
    maintenance: r.bool(join(path, 'maintenance'), o.maintenance, false),
    datastores: r.arr(join(path, 'datastores'), o.datastores, (p, x) => {
      const d = r.obj(p, x, ['name', 'capacity_gb', 'shared']);
      const ds: { name: string; capacity_gb?: number; shared: boolean } = {
        name: r.label(join(p, 'name'), d.name),
        shared: r.bool(join(p, 'shared'), d.shared, false),
      };
      const cap = r.int(join(p, 'capacity_gb'), d.capacity_gb, undefined);
      if (cap !== undefined) ds.capacity_gb = cap;
      return ds;
    }),
    dpm_registered: r.bool(join(path, 'dpm_registered'), o.dpm_registered, false),
    drivers: drivers(r, join(path, 'drivers'), o.drivers),
    software: hostSoftware(r, join(path, 'software'), o.software, false),
    description: r.str(join(path, 'description'), o.description) ?? '',
  };
  for (const key of ['uuid', 'hw_model', 'mgmt_address', 'datacenter', 'vm_server', 'datastore', 'os_address', 'ssh_user', 'ssh_key_path'] as const) {
    const s = r.str(join(path, key), o[key]);
    if (s !== undefined) m[key] = s;
  }
  const cost = r.int(join(path, 'cost'), o.cost, undefined);
  if (cost !== undefined) m.cost = cost;
  if (o.bmc !== undefined && o.bmc !== null) {
    const bp = join(path, 'bmc');
    const b = r.obj(bp, o.bmc, ['type', 'address', 'port', 'user', 'cipher']);
    const bmc: NonNullable<MachineDoc['bmc']> = { type: r.oneOf(join(bp, 'type'), b.type, CONTROLLER_TYPES) };
    // A sim controller has no address (dscli createServer NAME mgmt=sim registers none);
    // a real one needs it, as createServer requires it.
    const address = r.str(join(bp, 'address'), b.address, { required: bmc.type !== 'sim' });
    if (address !== undefined) bmc.address = address;
    // The same defaults as dscli createServer, so that a file and a registration compare equal.
    const num = (key: string): number | undefined => { const d = controllerDefault(bmc.type, key); return d === undefined ? undefined : Number(d); };
    const port = r.int(join(bp, 'port'), b.port, num('port'), 1, 65535);
    if (port !== undefined) bmc.port = port;
    const user = r.str(join(bp, 'user'), b.user);
    if (user !== undefined) bmc.user = user;
    if (b.cipher === 'auto') bmc.cipher = 'auto';
    else {
      const cipher = r.int(join(bp, 'cipher'), b.cipher, num('cipher'), 0, 17);
      if (cipher !== undefined) bmc.cipher = cipher;
    }
    if ('password' in (o.bmc as object)) r.fail(bp, 'passwords are not kept in this file; set them with dscli setServer NAME password_file=…');
    m.bmc = bmc;
  }
  const mds = driverSettings(r, join(path, 'driver_settings'), o.driver_settings, 'machine');
  if (mds) m.driver_settings = mds;
  const sshPort = r.int(join(path, 'ssh_port'), o.ssh_port, undefined, 1, 65535);
  if (sshPort !== undefined) m.ssh_port = sshPort;
  const capacity = r.int(join(path, 'capacity'), o.capacity, undefined);
  if (capacity !== undefined) m.capacity = capacity;
  if (o.active !== undefined && o.active !== null) {
    const p = join(path, 'active');
    const a = r.obj(p, o.active, ['group', 'model', 'host', 'from', 'since']);
    m.active = {
      group: splitPath(r.str(join(p, 'group'), a.group, { required: true }) ?? '').join('/'),
      model: r.str(join(p, 'model'), a.model, { required: true }) ?? '',
      host: r.str(join(p, 'host'), a.host, { required: true }) ?? '',
      from: r.oneOf(join(p, 'from'), a.from, ['group_pool', 'common_pool', 'master'] as const, 'group_pool'),
    };
    const since = r.str(join(p, 'since'), a.since);
    if (since !== undefined) m.active.since = since;
  }
  if (m.kind !== 'virtual') {
    for (const k of ['vm_server', 'datastore', 'cost'] as const) if (m[k] !== undefined) r.fail(join(path, k), 'only virtual machines have this');
  }
  r.unique(join(path, 'datastores'), m.datastores, (d) => d.name, 'datastore');
  if (m.kind !== 'vmserver') {
    if (m.capacity !== undefined) r.fail(join(path, 'capacity'), 'only VM servers have a capacity value');
    if (m.datastores.length) r.fail(join(path, 'datastores'), 'only VM servers have datastores');
  }
  return m;
}

function user(r: Reader, path: string, v: unknown): UserDoc {
  const o = r.obj(path, v, ['name', 'level', 'password_hash', 'disabled']);
  // Optional: an export without --with-secrets leaves it out, and apply keeps the store's.
  const hash = r.str(join(path, 'password_hash'), o.password_hash) ?? '';
  if (hash && !isPasswordHash(hash)) r.fail(join(path, 'password_hash'), 'must be a scrypt hash (kanri user add creates one); plain passwords are not accepted');
  const name = r.str(join(path, 'name'), o.name, { required: true }) ?? '';
  if (name && !/^[A-Za-z0-9_.-]{1,32}$/.test(name)) r.fail(join(path, 'name'), 'must be 1-32 characters of A-Z a-z 0-9 _ . -');
  return {
    name,
    level: r.oneOf(join(path, 'level'), o.level, ['administrator', 'operator'] as const, 'operator'),
    ...(hash ? { password_hash: hash } : {}),
    disabled: r.bool(join(path, 'disabled'), o.disabled, false),
  };
}

/** Cross-references: every name used must be defined, with the right kind. */
function crossCheck(r: Reader, dc: DataCentre): void {
  const sw = new Map(dc.software.map((s) => [foldName(s.name), s]));
  const policies = new Set(dc.policies.map((p) => foldName(p.name)));
  const volumes = new Set(dc.volumes.map((v) => foldName(v.name)));
  const machines = new Map(dc.machines.map((m) => [foldName(m.name), m]));
  const groups = allGroups(dc);
  const groupByPath = new Map(groups.map((g) => [foldName(g.path.join('/')), g]));
  const locate = (g: GroupDoc): string => {
    const i = groups.findIndex((x) => x.group === g);
    return `group ${groups[i]!.path.join('\\')}`;
  };

  const distributable = (where: string, names: string[]): void => {
    for (const n of names) {
      const s = sw.get(foldName(n));
      if (!s) r.fail(where, `software '${n}' is not defined under software:`);
      else if (s.kind === 'template') r.fail(where, `'${n}' is a template; templates are not distributed`);
    }
  };
  const template = (where: string, n: string | undefined): void => {
    if (n === undefined) return;
    const s = sw.get(foldName(n));
    if (!s) r.fail(where, `template '${n}' is not defined under software:`);
    else if (s.kind !== 'template') r.fail(where, `'${n}' is a ${s.kind}, not a template`);
  };
  const policyRef = (where: string, n: string | undefined): void => {
    if (n !== undefined && !policies.has(foldName(n))) r.fail(where, `policy '${n}' is not defined under policies:`);
  };

  const hostUse = new Map<string, string>();
  for (const { group: g } of groups) {
    const at = locate(g);
    checkDrivers(r, at, g.drivers);
    policyRef(`${at}: policy`, g.policy);
    template(`${at}: template`, g.template);
    distributable(`${at}: software.activation`, g.software.activation);
    distributable(`${at}: software.standby`, g.software.standby);
    for (const m of g.models) {
      policyRef(`${at} model ${m.name}: policy`, m.policy);
      template(`${at} model ${m.name}: template`, m.template);
      distributable(`${at} model ${m.name}: software`, [...m.software.activation, ...m.software.standby]);
      if (m.vm_server_model !== undefined) {
        const parts = m.vm_server_model.split('/');
        const target = groupByPath.get(foldName(parts.slice(0, -1).join('/')));
        const found = target?.group.models.some((x) => foldName(x.name) === foldName(parts.at(-1)!));
        if (!found) r.fail(`${at} model ${m.name}: vm_server_model`, `'${m.vm_server_model}' is not a model path (Category/Group/Model)`);
        else if (target!.group.type !== 'vmserver') r.fail(`${at} model ${m.name}: vm_server_model`, `'${m.vm_server_model}' is not in a VM server group`);
        if (g.type !== 'virtual') r.fail(`${at} model ${m.name}: vm_server_model`, 'only models of virtual-machine groups name a VM server model');
      }
      if (m.placement && g.type !== 'vmserver') r.fail(`${at} model ${m.name}: placement`, 'optimal placement is set on VM server models');
    }
    const ips = new Map<string, string>();
    for (const h of g.host_settings) {
      for (const v of h.volumes) if (!volumes.has(foldName(v))) r.fail(`${at} host ${h.host}: volumes`, `volume '${v}' is not defined under volumes:`);
      const hs = h.software;
      distributable(`${at} host ${h.host}: software`, [...hs.activation.before_group, ...(hs.activation.distribution ?? []), ...hs.activation.after_group,
        ...hs.standby.before_group, ...(hs.standby.distribution ?? []), ...hs.standby.after_group]);
      for (const n of h.nics) for (const a of n.addresses) {
        if (ips.has(a.ip)) r.fail(`${at} host ${h.host}`, `IP address ${a.ip} is also used by host ${ips.get(a.ip)}`);
        else ips.set(a.ip, h.host);
      }
    }
    if (g.type === 'virtual' && (g.storage || g.vlan !== undefined)) {
      r.fail(at, 'storage and VLAN control are not possible for virtual machines');
    }
    for (const p of g.pool) {
      const m = machines.get(foldName(p.machine));
      if (!m) r.fail(`${at}: pool`, `machine '${p.machine}' is not defined under machines:`);
      else if (m.kind !== g.type) r.fail(`${at}: pool`, `machine '${p.machine}' is a ${m.kind} machine; the group takes ${g.type} machines`);
      if (p.model !== undefined && !g.models.some((x) => foldName(x.name) === foldName(p.model!))) {
        r.fail(`${at}: pool`, `model '${p.model}' is not a model of this group`);
      }
    }
  }

  const macs = new Map<string, string>();
  const bmcs = new Map<string, string>();
  for (const m of dc.machines) {
    const at = `machine ${m.name}`;
    checkDrivers(r, at, m.drivers);
    if (m.bmc?.address !== undefined) {
      const key = `${m.bmc.address}:${m.bmc.port ?? ''}`;
      if (bmcs.has(key)) r.fail(`${at}: bmc`, `management controller ${key} is also used by ${bmcs.get(key)}`);
      else bmcs.set(key, m.name);
    }
    for (const mac of m.macs) {
      if (macs.has(mac)) r.fail(at, `MAC address ${mac} is also used by ${macs.get(mac)}`);
      else macs.set(mac, m.name);
    }
    const ms = m.software;
    distributable(`${at}: software`, [...ms.activation.before_group, ...ms.activation.after_group, ...ms.standby.before_group, ...ms.standby.after_group]);
    if (m.vm_server !== undefined) {
      const host = machines.get(foldName(m.vm_server));
      if (!host || host.kind !== 'vmserver') r.fail(`${at}: vm_server`, `'${m.vm_server}' is not a VM server defined under machines:`);
      else if (m.datastore !== undefined && !host.datastores.some((d) => foldName(d.name) === foldName(m.datastore!))) {
        r.fail(`${at}: datastore`, `datastore '${m.datastore}' does not exist on ${host.name}`);
      }
    }
    if (m.active) {
      const g = groupByPath.get(foldName(m.active.group));
      if (!g) { r.fail(`${at}: active.group`, `group '${m.active.group}' is not defined`); continue; }
      if (g.group.type !== m.kind) r.fail(`${at}: active.group`, `a ${m.kind} machine cannot be active in a ${g.group.type} group`);
      if (!g.group.models.some((x) => foldName(x.name) === foldName(m.active!.model))) r.fail(`${at}: active.model`, `model '${m.active.model}' is not a model of ${m.active.group}`);
      const h = g.group.host_settings.find((x) => foldName(x.host) === foldName(m.active!.host));
      if (!h) r.fail(`${at}: active.host`, `host setting '${m.active.host}' is not defined in ${m.active.group}`);
      const key = `${foldName(m.active.group)}/${foldName(m.active.host)}`;
      if (hostUse.has(key)) r.fail(`${at}: active.host`, `host setting '${m.active.host}' is already used by ${hostUse.get(key)}`);
      else hostUse.set(key, m.name);
      if (m.active.from === 'group_pool' && !g.group.pool.some((p) => foldName(p.machine) === foldName(m.name))) {
        r.fail(`${at}: active.from`, `group_pool, but the machine is not in the pool of ${m.active.group}`);
      }
    }
  }
}

/** A group or model may name a standard policy the file does not define: it is added as the template has it. */
function addReferencedTemplates(dc: DataCentre): void {
  const defined = new Set(dc.policies.map((p) => foldName(p.name)));
  for (const { group: g } of allGroups(dc)) {
    for (const name of [g.policy, ...g.models.map((m) => m.policy)]) {
      const t = name !== undefined && !defined.has(foldName(name)) ? standardPolicy(name) : undefined;
      if (t) {
        dc.policies.push(t);
        defined.add(foldName(t.name));
      }
    }
  }
}

export interface ReadResult { dc?: DataCentre; errors: string[] }

/** Validates a parsed YAML document; on success returns it in canonical form. */
export function readDataCentre(raw: unknown): ReadResult {
  const r = new Reader();
  const o = r.obj('', raw, ['kanri', 'settings', 'software', 'policies', 'volumes', 'categories', 'groups', 'machines', 'users']);
  if (o.kanri !== 1) r.fail('kanri', 'must be 1 (the format version)');
  const settings: Record<string, string> = {};
  let unknownSettings = 0;
  if (o.settings !== undefined && o.settings !== null) {
    const so = o.settings as Obj;
    if (typeof so !== 'object' || Array.isArray(so)) r.fail('settings', 'must be a mapping');
    for (const [k, v] of Object.entries(so)) {
      const value = r.str(`settings.${k}`, v, { required: true }) ?? '';
      settings[k] = value;
      const known = knownSetting(k);
      if (!known) {
        // A suggestion costs a comparison with every known key: only for the problems that get printed.
        r.fail(`settings.${k}`, `unknown setting${++unknownSettings <= 100 ? didYouMean(k, knownSettingKeys()) : ''}`);
        continue;
      }
      const problem = value === '' ? undefined : settingProblem(known.spec, value);
      if (problem) r.fail(`settings.${k}`, problem);
    }
  }
  const dc: DataCentre = {
    kanri: 1,
    settings,
    software: r.arr('software', o.software, (p, x) => software(r, p, x)),
    policies: r.arr('policies', o.policies, (p, x) => policy(r, p, x)),
    volumes: r.arr('volumes', o.volumes, (p, x) => volume(r, p, x)),
    categories: r.arr('categories', o.categories, (p, x) => category(r, p, x)),
    groups: r.arr('groups', o.groups, (p, x) => group(r, p, x)),
    machines: r.arr('machines', o.machines, (p, x) => machine(r, p, x)),
    users: r.arr('users', o.users, (p, x) => user(r, p, x)),
  };
  siblings(r, '', dc.categories, dc.groups);
  r.unique('software', dc.software, (s) => s.name, 'software');
  addReferencedTemplates(dc);
  r.unique('policies', dc.policies, (s) => s.name, 'policy');
  r.unique('volumes', dc.volumes, (s) => s.name, 'volume');
  r.unique('machines', dc.machines, (s) => s.name, 'machine');
  r.unique('users', dc.users, (s) => s.name, 'user');
  if (r.errors.length === 0) crossCheck(r, dc);
  return r.errors.length ? { errors: r.errors } : { dc: canonical(dc), errors: [] };
}
