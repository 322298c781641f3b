// The sim driver's own state: its tables (schema.ts), the injected faults and the
// delays. Only the sim driver and the `kanri sim` commands (through this module) touch them.
import type { Db } from '../../store/db.js';
import { putSetting } from '../../store/settings.js';
import { settingNumber } from '../setting-reader.js';
import type { SettingSpec } from '../types.js';
import { ownDriverSetting } from '../settings.js';

export const SIM_OPERATIONS = [
  'start', 'power-on', 'shutdown', 'reboot', 'power-state', 'distribute', 'dpm-register', 'dpm-unregister',
  'vm-create', 'vm-destroy', 'migrate', 'move', 'failover', 'personality', 'network', 'suspend', 'server-info',
  'storage-connect', 'storage-disconnect', 'vlan-add', 'vlan-remove', 'lb-add', 'lb-remove',
  'monitor-register', 'monitor-unregister', 'inventory',
] as const;
export type SimOperation = (typeof SIM_OPERATIONS)[number];



/** Declared here, where it is read, and listed in the sim driver's spec. */
export const DELAY_SETTING: SettingSpec = {
  key: 'sim.delay_ms', scope: 'global', type: 'integer', min: 0, default: 5, suffixes: SIM_OPERATIONS,
  description: 'delay of every simulated operation in ms; sim.delay_ms.<operation> for one operation',
};

/** The delay of an operation: the machine's own (driver setting delay_ms), else the global settings. */
export function delayFor(db: Db, op: SimOperation, machineId?: number): number {
  const own = machineId === undefined ? undefined : ownDriverSetting(db, { machineId }, 'sim', 'delay_ms');
  // The machine's own was checked against its declaration when it was written.
  if (own !== undefined && own !== '') return Number(own);
  return settingNumber(db, [DELAY_SETTING], `sim.delay_ms.${op}`);
}

/** One operation's delay, or every operation's: then the per-operation delays go (they would override it). Returns the operations whose own delay was removed. */
export function setDelay(db: Db, ms: number, op?: SimOperation): string[] {
  return db.transaction(() => {
    putSetting(db, op ? `sim.delay_ms.${op}` : 'sim.delay_ms', String(ms));
    if (op) return [];
    const own = (db.prepare("SELECT key FROM settings WHERE key LIKE 'sim.delay!_ms.%' ESCAPE '!' ORDER BY key").all() as Array<{ key: string }>).map((r) => r.key);
    db.prepare("DELETE FROM settings WHERE key LIKE 'sim.delay!_ms.%' ESCAPE '!'").run();
    return own.map((k) => k.slice('sim.delay_ms.'.length));
  })();
}

/** Takes one injected fault for (machine, operation), if any, in one transaction. */
export function takeFault(db: Db, machine: string, op: SimOperation): string | undefined {
  return db.transaction(() => {
    const f = db.prepare(
      "SELECT id, remaining, message FROM sim_faults WHERE operation = ? AND (machine = ? OR machine = '*') ORDER BY machine = '*', id LIMIT 1",
    ).get(op, machine) as { id: number; remaining: number | null; message: string } | undefined;
    if (!f) return undefined;
    if (f.remaining === 1) db.prepare('DELETE FROM sim_faults WHERE id = ?').run(f.id);
    else if (f.remaining !== null) db.prepare('UPDATE sim_faults SET remaining = remaining - 1 WHERE id = ?').run(f.id);
    return f.message || `injected ${op} failure`;
  }).immediate();
}

/** The next `times` calls (null: every call) of `op` on `machine` ('*' = any) fail with `message`. */
export function injectFault(db: Db, machine: string, op: SimOperation, times: number | null, message: string): void {
  db.prepare('INSERT INTO sim_faults (machine, operation, remaining, message) VALUES (?, ?, ?, ?)').run(machine, op, times, message);
}

export function clearFaults(db: Db): void {
  db.prepare('DELETE FROM sim_faults').run();
}

export interface Fault { machine: string; operation: string; remaining: number | null; message: string }

export function listFaults(db: Db): Fault[] {
  return db.prepare('SELECT machine, operation, remaining, message FROM sim_faults ORDER BY id').all() as Fault[];
}

export function simSettings(db: Db): Array<{ key: string; value: string }> {
  return db.prepare("SELECT key, value FROM settings WHERE key LIKE 'sim.%' ORDER BY key").all() as Array<{ key: string; value: string }>;
}

export type SimPower = 'on' | 'off' | 'suspended';

export function simPowerOf(db: Db, machineId: number): SimPower {
  const row = db.prepare('SELECT state FROM sim_power WHERE machine_id = ?').get(machineId) as { state: SimPower } | undefined;
  if (row) return row.state;
  // First contact: the simulated hardware is in the state the store last recorded.
  const rec = db.prepare('SELECT power_state FROM machines WHERE id = ?').get(machineId) as { power_state: string } | undefined;
  return rec?.power_state === 'on' ? 'on' : rec?.power_state === 'suspended' ? 'suspended' : 'off';
}

export function setSimPower(db: Db, machineId: number, state: SimPower): void {
  db.prepare('INSERT INTO sim_power (machine_id, state) VALUES (?, ?) ON CONFLICT (machine_id) DO UPDATE SET state = excluded.state').run(machineId, state);
}
