// Driver selection, in one place: a machine's own driver for an interface, else
// its group's. Driver modules are loaded on first use, so that read-only
// commands never load them.
import type { Db } from '../store/db.js';
import type { Driver, InterfaceName } from './types.js';

const FACTORIES: Record<string, () => Promise<Driver>> = {
  sim: async () => (await import('./sim/index.js')).createSimDriver(),
  // deploy: local scripts on this server; scenarios are not run
  local: async () => (await import('./local/index.js')).createLocalDriver(),
  // deploy: scenarios on the machine over SSH, local scripts on this server
  ssh: async () => (await import('./ssh/index.js')).createSshDriver(),
  // power: the machine's BMC over IPMI 2.0 / RMCP+ (shared with dscli)
  ipmi: async () => (await import('./ipmi/index.js')).createIpmiDriver(),
};

export const KNOWN_DRIVERS = Object.keys(FACTORIES);

const loaded = new Map<string, Promise<Driver>>();

export function loadDriver(name: string): Promise<Driver> | undefined {
  const factory = FACTORIES[name];
  if (!factory) return undefined;
  if (!loaded.has(name)) loaded.set(name, factory());
  return loaded.get(name)!;
}

/** The driver name serving `iface` for a machine acting in a group. */
export function driverNameFor(db: Db, machineId: number | null, groupId: number | null, iface: InterfaceName): string | undefined {
  if (machineId !== null) {
    const own = db.prepare('SELECT driver FROM machine_drivers WHERE machine_id = ? AND interface = ?').get(machineId, iface) as { driver: string } | undefined;
    if (own) return own.driver;
  }
  if (groupId !== null) {
    const g = db.prepare('SELECT driver FROM group_drivers WHERE group_id = ? AND interface = ?').get(groupId, iface) as { driver: string } | undefined;
    if (g) return g.driver;
  }
  return undefined;
}
