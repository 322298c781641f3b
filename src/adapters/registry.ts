// Driver resolution, in one place: which drivers exist and what they serve (their
// specs, read without loading any driver), which driver serves an interface of a
// machine (its own choice, else its group's), which driver serves a registered
// management controller, what keeps a driver from serving a machine, and the loaded
// driver instances, which are dropped when the configuration generation changes.
import type { Db } from '../store/db.js';
import { configGeneration } from '../store/generation.js';
import { prepared } from '../store/statements.js';
import { dropCaches } from '../util/cache.js';
import { type ControllerRow, recordControllerStatus } from './controller.js';
import { cutShort, powerActions, statusOf, unsupportedPower } from './power.js';
import { HAPROXY } from './haproxy/spec.js';
import { IPMI } from './ipmi/spec.js';
import { KANRI_MONITOR } from './kanri/spec.js';
import { ISCSI_TGT } from './iscsi-tgt/spec.js';
import { LIBVIRT } from './libvirt/spec.js';
import { LOCAL } from './local/spec.js';
import { OVSDB } from './ovsdb/spec.js';
import { REDFISH } from './redfish/spec.js';
import { SIM } from './sim/spec.js';
import { SNMP } from './snmp/spec.js';
import { SSH } from './ssh/spec.js';
import { WOL } from './wol/spec.js';
import {
  type Driver, type DriverContext, DriverError, type DriverInterface, type DriverSpec, type InfoInterface, type BoundInterfaceMap,
  type InterfaceName, type MachineRef, type PowerActions, type PowerInterface, type SettingSpec, notSupported,
} from './types.js';

export const DRIVER_SPECS: readonly DriverSpec[] = [SIM, IPMI, LOCAL, SSH, REDFISH, LIBVIRT, HAPROXY, OVSDB, SNMP, ISCSI_TGT, WOL, KANRI_MONITOR];
export const KNOWN_DRIVERS: readonly string[] = DRIVER_SPECS.map((s) => s.name);
/** Controller types a machine can be registered with: the controller drivers' names. */
export const CONTROLLER_TYPES: readonly string[] = DRIVER_SPECS.filter((s) => s.controller).map((s) => s.name);

const byName = new Map(DRIVER_SPECS.map((s) => [s.name, s]));

export function driverSpec(name: string): DriverSpec | undefined {
  return byName.get(name);
}

/** Names of the drivers that serve `iface`, for messages. */
export function driversServing(iface: DriverInterface): string[] {
  return DRIVER_SPECS.filter((s) => s.interfaces.includes(iface)).map((s) => s.name);
}

// ---- instances -----------------------------------------------------------------------------

const instances = new Map<string, Promise<Driver>>();
let seenGeneration: number | undefined;

/** Drops every loaded driver (closing what it keeps open) and every cache of the process. */
export function dropDrivers(): void {
  for (const p of instances.values()) p.then((d) => d.close?.(), () => undefined);
  instances.clear();
  dropCaches();
}

/**
 * Called before a request is served: when the configuration changed since the last call
 * (another process applied a file or registered a controller), what was cached goes.
 */
export function refreshDrivers(db: Db): void {
  const g = configGeneration(db);
  if (seenGeneration !== undefined && g !== seenGeneration) dropDrivers();
  seenGeneration = g;
}

export function loadDriver(name: string): Promise<Driver> {
  const spec = byName.get(name);
  if (!spec) return Promise.reject(new DriverError(`unknown driver '${name}' (known: ${KNOWN_DRIVERS.join(', ')})`, { layer: 'configuration' }));
  let p = instances.get(name);
  if (!p) {
    p = spec.load();
    instances.set(name, p);
    // A driver that failed to load is tried again next time.
    p.catch(() => instances.delete(name));
  }
  return p;
}

// ---- which driver serves what --------------------------------------------------------------

/** The driver name serving `iface` for a machine acting in a group. */
export function driverNameFor(db: Db, machineId: number | null, groupId: number | null, iface: InterfaceName): string | undefined {
  if (machineId !== null) {
    const own = prepared(db, 'SELECT driver FROM machine_drivers WHERE machine_id = ? AND interface = ?').get(machineId, iface) as { driver: string } | undefined;
    if (own) return own.driver;
  }
  if (groupId !== null) {
    const g = prepared(db, 'SELECT driver FROM group_drivers WHERE group_id = ? AND interface = ?').get(groupId, iface) as { driver: string } | undefined;
    if (g) return g.driver;
  }
  return iface === 'monitor' ? defaultMonitor(db, machineId, groupId) : undefined;
}

/**
 * The monitor driver of a machine whose description names none: a VM is what its vm
 * driver's hypervisor reports (when that driver serves monitor), every other machine is
 * watched by kanri's own monitor. Never the simulated driver unless a description names it.
 */
function defaultMonitor(db: Db, machineId: number | null, groupId: number | null): string {
  if (machineId !== null) {
    const m = prepared(db, 'SELECT kind FROM machines WHERE id = ?').get(machineId) as { kind: string } | undefined;
    if (m?.kind === 'virtual') {
      const vm = driverNameFor(db, machineId, groupId, 'vm');
      if (vm && byName.get(vm)?.interfaces.includes('monitor')) return vm;
    }
  }
  return KANRI_MONITOR.name;
}

export type DriverProblem =
  | { kind: 'unknown'; message: string }
  | { kind: 'not-serving'; message: string }
  | { kind: 'invalid'; message: string };

/** Why `driver` cannot serve `iface` (for machine m acting in group groupId, when known); empty when it can. */
export function driverProblems(db: Db, driver: string, iface: DriverInterface, m: MachineRef | null, groupId: number | null = null): DriverProblem[] {
  const spec = byName.get(driver);
  if (!spec) return [{ kind: 'unknown', message: `unknown ${iface} driver '${driver}' (known: ${KNOWN_DRIVERS.join(', ')})` }];
  if (!spec.interfaces.includes(iface)) {
    return [{
      kind: 'not-serving',
      message: `the ${driver} driver does not serve the ${iface} interface (${spec.interfaces.length ? `it serves ${spec.interfaces.join(', ')}` : 'it serves none in this version'}; ${iface} is served by ${driversServing(iface).join(', ')})`,
    }];
  }
  if (!m || !spec.validate) return [];
  return spec.validate(db, m, iface, groupId).map((message) => ({ kind: 'invalid' as const, message }));
}

// ---- bound interfaces ----------------------------------------------------------------------

/** Every info call made through the registry records whether the controller answered. */
function recordingInfo(db: Db, info: InfoInterface): InfoInterface {
  const out: InfoInterface = {};
  for (const [k, fn] of Object.entries(info) as Array<[keyof InfoInterface, (...a: unknown[]) => Promise<unknown>]>) {
    if (typeof fn !== 'function') continue;
    (out as Record<string, unknown>)[k] = async (ctx: DriverContext, m: MachineRef, ...rest: unknown[]) => {
      try {
        const r = await fn.call(info, ctx, m, ...rest);
        recordControllerStatus(db, m.id, 'ok');
        return r;
      } catch (e) {
        try {
          if (!cutShort(ctx)) recordControllerStatus(db, m.id, statusOf(e));
        } catch {
          // The failure itself is what the caller needs to see.
        }
        throw e;
      }
    };
  }
  return out;
}

/** The implementation of `iface` by `driver`, as every caller must use it. */
export async function bindInterface<K extends DriverInterface>(db: Db, driver: string, iface: K): Promise<BoundInterfaceMap[K]> {
  const d = await loadDriver(driver);
  const impl = d.interfaces[iface];
  if (!impl) throw notSupported(`the ${driver} driver does not serve the ${iface} interface`);
  if (iface === 'power') return powerActions(db, impl as PowerInterface) as BoundInterfaceMap[K];
  if (iface === 'info') return recordingInfo(db, impl as InfoInterface) as BoundInterfaceMap[K];
  return impl as unknown as BoundInterfaceMap[K];
}

// ---- management controllers (dscli) ----------------------------------------------------------

export interface BoundController {
  row: ControllerRow;
  machine: MachineRef;
  driver: string;
  power: PowerActions;
  info: InfoInterface;
}

/**
 * The power and info interfaces of a registered controller. An interface the controller's
 * driver does not serve is a "not supported" failure of the operation, never an attempt.
 */
export async function bindController(db: Db, row: ControllerRow, what: { power?: string; info?: string }): Promise<BoundController> {
  const type = row.mgmt_type;
  if (!type) throw notSupported(`${row.name} has no management controller registered`);
  const spec = byName.get(type);
  // The row just read goes with the machine: the driver does not read it again.
  const machine: MachineRef = { id: row.id, name: row.name, kind: 'physical', uuid: null, macs: [], mgmtAddress: null, controller: row };
  for (const [iface, label] of Object.entries(what) as Array<['power' | 'info', string]>) {
    if (!spec?.interfaces.includes(iface)) throw notSupported(`${label} is not supported for mgmt=${type}`);
  }
  const d = await loadDriver(type);
  return { row, machine, driver: type, ...boundInterfaces(db, d, type) };
}

/**
 * A driver's power and info as bound to one store: the same for every controller the
 * driver serves, so a ServerList of hundreds binds them once, not once per row.
 */
const bound = new WeakMap<Db, WeakMap<Driver, { power: PowerActions; info: InfoInterface }>>();

function boundInterfaces(db: Db, d: Driver, type: string): { power: PowerActions; info: InfoInterface } {
  let byDriver = bound.get(db);
  if (!byDriver) bound.set(db, (byDriver = new WeakMap()));
  let b = byDriver.get(d);
  if (!b) {
    b = {
      power: d.interfaces.power ? powerActions(db, d.interfaces.power) : unsupportedPower(type),
      info: d.interfaces.info ? recordingInfo(db, d.interfaces.info) : {},
    };
    byDriver.set(d, b);
  }
  return b;
}

// ---- controller registrations -------------------------------------------------------------

/** The spec of a controller type (a controller driver), or undefined for a type no driver has. */
export function controllerSpec(type: string): DriverSpec | undefined {
  const s = byName.get(type);
  return s?.controller ? s : undefined;
}

/** A controller setting's default for a type (port 623 for ipmi, 443 for redfish, …). */
export function controllerDefault(type: string, key: string): string | number | boolean | undefined {
  return controllerSpec(type)?.settings.find((s) => s.scope === 'controller' && s.key === key)?.default;
}

/** A controller setting's declaration for a type (limits of user and password, …). */
export function controllerSetting(type: string, key: string): SettingSpec | undefined {
  return controllerSpec(type)?.settings.find((s) => s.scope === 'controller' && s.key === key);
}

/**
 * The machine settings of a controller type that a registration may carry (dscli
 * createServer/setServer key=value): kept in driver_settings under the type's driver.
 */
export function registrationSettings(type: string): SettingSpec[] {
  return (controllerSpec(type)?.settings ?? []).filter((s) => s.scope === 'machine' && !s.column && s.type !== 'secret');
}

/** Controller settings a registration of this type must have. */
export function requiredControllerSettings(type: string): string[] {
  return (controllerSpec(type)?.settings ?? []).filter((s) => s.scope === 'controller' && s.required).map((s) => s.key);
}

/**
 * Whether the controller's driver serves the machine's power too: then a registration
 * makes it the machine's power driver, and a machine without the registration cannot use it.
 */
export function controllerPowers(type: string): boolean {
  return !!controllerSpec(type)?.interfaces.includes('power');
}

/** Whether a driver reads a controller registration (it cannot serve a machine that has none). */
export function needsController(driver: string): boolean {
  return !!byName.get(driver)?.settings.some((s) => s.scope === 'controller');
}

/**
 * A long-running front end (kanri serve) asks the controller drivers to keep the sessions of
 * read-only calls open for the next call (IPMI: one round trip per power status instead of a
 * login). Resolves with what closes them when the process stops.
 */
export async function keepControllerSessionsWarm(): Promise<() => Promise<void>> {
  const { keepSessionsWarm, closeWarmSessions } = await import('../ipmi/session.js');
  keepSessionsWarm();
  return closeWarmSessions;
}
