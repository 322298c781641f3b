// A machine's management controller registration (BMC, iLO): the controller columns of
// `machines` (V4_DSCLI), written by dscli createServer/setServer and `kanri config
// apply`, read by the controller drivers. The controller type names the driver that
// serves the machine's `info` interface (and power, for dscli). The password is only
// ever held sealed here and opened by the driver at the moment it logs in.
import type { Db } from '../store/db.js';
import { SecretError } from '../store/errors.js';
import { openSecret } from '../store/secrets.js';
import { prepared } from '../store/statements.js';
import type { MachineRef, PowerState } from './types.js';
import { byName } from '../domain/names.js';

/** A controller type is the name of a controller driver (registry.ts CONTROLLER_TYPES, from the specs). */
export type ControllerType = string;

export interface ControllerRow {
  id: number;
  name: string;
  mgmt_type: ControllerType | null;
  bmc_address: string | null;
  bmc_port: number | null;
  bmc_user: string | null;
  bmc_secret: string | null;
  cipher_suite: number | null;
  bmc_probe: string | null;
  last_power: string | null;
  last_status: string | null;
  os_address: string | null;
  ssh_user: string | null;
  ssh_key_path: string | null;
  hw_model_name: string | null;
}

export const CONTROLLER_COLUMNS = 'id, name, mgmt_type, bmc_address, bmc_port, bmc_user, bmc_secret, cipher_suite, bmc_probe, last_power, last_status, os_address, ssh_user, ssh_key_path, hw_model_name';

/** The AAD a controller password is sealed with: bound to its machine row. */
export function controllerSecretPurpose(machineId: number): string {
  return `bmc-password:${machineId}`;
}

export function controllerRow(db: Db, machineId: number): ControllerRow | undefined {
  return prepared(db, `SELECT ${CONTROLLER_COLUMNS} FROM machines WHERE id = ?`).get(machineId) as ControllerRow | undefined;
}

/** A machine's controller registration: the one its caller read with it (MachineRef.controller), else read now. */
export function controllerOf(db: Db, m: MachineRef): ControllerRow | undefined {
  return m.controller ?? controllerRow(db, m.id);
}

/** A registered controller by its machine's name as typed (byName: the same row on both back ends). */
export function controllerByName(db: Db, name: string): ControllerRow | undefined {
  return byName<ControllerRow>(db, `SELECT ${CONTROLLER_COLUMNS} FROM machines WHERE {name} AND mgmt_type IS NOT NULL`, 'name', name);
}

/** The registered password in clear, for the login only (throws SecretError when it cannot be read). */
export function controllerPassword(db: Db, row: ControllerRow): string {
  return row.bmc_secret ? openSecret(db, row.bmc_secret, controllerSecretPurpose(row.id)) : '';
}

/** Keeps what a driver learnt about its controller (e.g. the cipher suites an IPMI BMC offers). */
export function rememberControllerProbe(db: Db, machineId: number, probe: string): void {
  record(db, () => prepared(db, 'UPDATE machines SET bmc_probe = ? WHERE id = ? AND bmc_probe IS NOT ?').run(probe, machineId, probe));
}

const now = (): string => new Date().toISOString();

/**
 * Records made inside batchRecords(): queued and written together, one transaction per
 * turn of the event loop (the answers of a fan-out that arrive together), and the rest
 * when the batch ends. A ServerList of hundreds then costs a few commits (each a dozen
 * system calls of locking and WAL writes), not one per controller.
 */
interface Batch {
  queue: Array<{ write: () => void; failed?: (e: Error) => void }>;
  scheduled: boolean;
}
const batches = new WeakMap<Db, Batch>();

function flushBatch(db: Db, b: Batch): void {
  const q = b.queue.splice(0);
  if (!q.length) return;
  try {
    db.transaction(() => {
      for (const r of q) r.write();
    })();
  } catch (e) {
    for (const r of q) r.failed?.(e as Error);
  }
}

/** Runs fn with the controller records of `db` batched; every record is written when it returns. */
export async function batchRecords<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  if (batches.has(db)) return fn();
  const b: Batch = { queue: [], scheduled: false };
  batches.set(db, b);
  try {
    return await fn();
  } finally {
    batches.delete(db);
    flushBatch(db, b);
  }
}

/** Writes now, or with the batch open on db; `failed` hears of a write that fails later. */
function record(db: Db, write: () => void, failed?: (e: Error) => void): void {
  const b = batches.get(db);
  if (!b) {
    write();
    return;
  }
  b.queue.push(failed ? { write, failed } : { write });
  if (!b.scheduled) {
    b.scheduled = true;
    setImmediate(() => {
      b.scheduled = false;
      flushBatch(db, b);
    });
  }
}

/**
 * The one writer of a machine's last known power state: what a power driver just read or
 * set, whoever asked (a pvmutl job, dscli, the monitor). `status` is 'ok' or the reason
 * the controller could not be read. An unknown state leaves the recorded power as it was.
 */
export function recordPower(db: Db, machineId: number, state: PowerState, status: string, failed?: (e: Error) => void): void {
  const last = state === 'suspended' ? null : state;
  const at = now();
  // One statement per record.
  record(db, () => prepared(db, `UPDATE machines SET last_power = coalesce(?, last_power), last_status = ?, last_checked_at = ?,
    power_state = CASE WHEN ? = 'unknown' THEN power_state ELSE ? END WHERE id = ?`).run(last, status, at, state, state, machineId), failed);
}

/** Whether the controller answered the last call, and when ('ok' or the reason it did not). */
export function recordControllerStatus(db: Db, machineId: number, status: string, failed?: (e: Error) => void): void {
  const at = now();
  record(db, () => prepared(db, 'UPDATE machines SET last_status = ?, last_checked_at = ? WHERE id = ?').run(status, at, machineId), failed);
}

/** What keeps a machine from being served by its registered controller of `type`; empty when nothing does. */
export function controllerProblems(db: Db, m: MachineRef, type: string, label: string): string[] {
  const row = controllerOf(db, m);
  const register = `dscli createServer ${m.name} mgmt=${type} address=… user=… password_file=…`;
  if (!row?.mgmt_type) return [`${m.name}: no ${label} registered for this machine (${register})`];
  if (row.mgmt_type !== type) return [`${m.name}: its controller is registered as mgmt=${row.mgmt_type}, not ${type} (${register})`];
  const out: string[] = [];
  if (!row.bmc_address) out.push(`${m.name}: the ${label} has no address (dscli setServer ${m.name} address=…)`);
  if (!row.bmc_user) out.push(`${m.name}: the ${label} has no user (dscli setServer ${m.name} user=…)`);
  if (!row.bmc_secret) out.push(`${m.name}: no ${label} password stored (dscli setServer ${m.name} password_file=…)`);
  else {
    try {
      controllerPassword(db, row);
    } catch (e) {
      if (e instanceof SecretError) out.push(`${m.name}: ${label} password cannot be read: ${e.message}`);
      else throw e;
    }
  }
  return out;
}
