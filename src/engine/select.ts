// Automatic selection (spec/decisions.md "Automatic selection", provisioning-model
// §8): deterministic, skipping machines in maintenance, with a bad hardware or
// management status, and resources another job has reserved.
import type { Db } from '../store/db.js';
import { reservedKeys } from './jobs.js';
import { foldName } from '../domain/names.js';
import { byName } from '../domain/names.js';

export interface MachineRow {
  id: number; name: string; kind: string; hw_model_name: string | null; group_id: number | null;
  model_id: number | null; host_setting_id: number | null; activated_from: string | null; activated_at: string | null;
  maintenance: number; hardware_status: string; management_status: string; vm_server_id: number | null;
  power_state: string; cost: number | null; datastore: string | null;
}
export interface HostRow { id: number; host_name: string; position: number }
export interface Candidate { machine: MachineRow; modelId: number | null; from: 'group_pool' | 'common_pool' }

const USABLE = "m.hardware_status = 'normal' AND m.management_status = 'normal' AND m.maintenance = 0";

export function machineByName(db: Db, name: string): MachineRow | undefined {
  return byName<MachineRow>(db, 'SELECT * FROM machines WHERE {name}', 'name', name);
}

export function machineById(db: Db, id: number): MachineRow {
  return db.prepare('SELECT * FROM machines WHERE id = ?').get(id) as MachineRow;
}

/** Unused, unreserved host settings of a group, first defined first. */
export function freeHosts(db: Db, groupId: number): HostRow[] {
  const reserved = reservedKeys(db, 'host_setting');
  const rows = db.prepare(
    `SELECT h.id, h.host_name, h.position FROM host_settings h
      WHERE h.group_id = ? AND NOT EXISTS (SELECT 1 FROM machines m WHERE m.host_setting_id = h.id)
      ORDER BY h.position`,
  ).all(groupId) as HostRow[];
  return rows.filter((h) => !reserved.has(String(h.id)));
}

/** A host setting of the group named by host name or by one of its IP addresses. */
export function hostByNetInfo(db: Db, groupId: number, netInfo: string): HostRow | undefined {
  return (byName<HostRow>(db, 'SELECT id, host_name, position FROM host_settings WHERE group_id = ? AND {name}', 'host_name', netInfo, groupId) ??
    db.prepare(
      `SELECT h.id, h.host_name, h.position FROM host_settings h JOIN host_setting_addresses a ON a.host_setting_id = h.id
        WHERE h.group_id = ? AND a.address = ? LIMIT 1`,
    ).get(groupId, netInfo)) as HostRow | undefined;
}

export function hostInUse(db: Db, hostId: number): boolean {
  return !!db.prepare('SELECT 1 FROM machines WHERE host_setting_id = ?').get(hostId) || reservedKeys(db, 'host_setting').has(String(hostId));
}

/**
 * Group-pool machines that can be activated: standing by (active nowhere), of
 * the group's machine type, registered for the model (or for no model), usable
 * and unreserved; machines in fewer pools first, to keep shared spares.
 */
export function groupPoolCandidates(db: Db, groupId: number, modelId: number | null, kind: string): Candidate[] {
  const reserved = reservedKeys(db, 'machine');
  const rows = db.prepare(
    `SELECT m.*, p.model_id AS pool_model, (SELECT count(*) FROM pool_members x WHERE x.machine_id = m.id) AS pools
       FROM pool_members p JOIN machines m ON m.id = p.machine_id
      WHERE p.group_id = ? AND m.group_id IS NULL AND m.kind = ? AND ${USABLE}
        AND (? IS NULL OR p.model_id IS NULL OR p.model_id = ?)
      ORDER BY pools, m.name COLLATE NOCASE`,
  ).all(groupId, kind, modelId, modelId) as Array<MachineRow & { pool_model: number | null; pools: number }>;
  return rows.filter((m) => !reserved.has(String(m.id))).map((m) => ({ machine: m, modelId: m.pool_model ?? modelId, from: 'group_pool' as const }));
}

/**
 * Common-pool machines, only when every condition of spec §8.2 holds: the group
 * allows the common pool, its own pool has no usable machine, the hardware model
 * name matches the machines active in the model (the stricter per-model reading),
 * and the machine is registered with the deployment server.
 */
export function commonPoolCandidates(db: Db, groupId: number, modelId: number | null, kind: string): Candidate[] {
  const g = db.prepare('SELECT allow_common_pool FROM groups WHERE id = ?').get(groupId) as { allow_common_pool: number };
  if (!g.allow_common_pool) return [];
  if (groupPoolCandidates(db, groupId, null, kind).length > 0) return [];
  const activeModels = (db.prepare(
    'SELECT DISTINCT hw_model_name FROM machines WHERE group_id = ? AND (? IS NULL OR model_id = ?) AND hw_model_name IS NOT NULL',
  ).all(groupId, modelId, modelId) as Array<{ hw_model_name: string }>).map((r) => foldName(r.hw_model_name));
  const reserved = reservedKeys(db, 'machine');
  const rows = db.prepare(
    `SELECT m.* FROM machines m
      WHERE m.group_id IS NULL AND m.kind = ? AND ${USABLE} AND m.dpm_registered = 1
        AND NOT EXISTS (SELECT 1 FROM pool_members p WHERE p.machine_id = m.id)
      ORDER BY m.name COLLATE NOCASE`,
  ).all(kind) as MachineRow[];
  return rows
    .filter((m) => !reserved.has(String(m.id)))
    .filter((m) => activeModels.length === 0 || (m.hw_model_name !== null && activeModels.includes(foldName(m.hw_model_name))))
    .map((m) => ({ machine: m, modelId, from: 'common_pool' as const }));
}

/** Group pool first; the common pool only when its conditions hold. */
export function activationCandidates(db: Db, groupId: number, modelId: number | null, kind: string): Candidate[] {
  const own = groupPoolCandidates(db, groupId, modelId, kind);
  return own.length > 0 ? own : commonPoolCandidates(db, groupId, modelId, kind);
}

/**
 * Active machines in the order they are taken out of a group: lowest-priority
 * model first, then the most recently activated, ties by name, last first.
 */
export function removalCandidates(db: Db, groupId: number, modelId: number | null): MachineRow[] {
  const reserved = reservedKeys(db, 'machine');
  const rows = db.prepare(
    `SELECT m.* FROM machines m LEFT JOIN models md ON md.id = m.model_id
      WHERE m.group_id = ? AND (? IS NULL OR m.model_id = ?) AND ${USABLE}
      ORDER BY ifnull(md.priority, 0) DESC, ifnull(m.activated_at, '') DESC, m.name COLLATE NOCASE DESC`,
  ).all(groupId, modelId, modelId) as MachineRow[];
  return rows.filter((m) => !reserved.has(String(m.id)));
}

/** An active machine of a group by host name (or machine name). */
export function activeByHost(db: Db, groupId: number, host: string): MachineRow | undefined {
  return byName<MachineRow>(db, 'SELECT m.* FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE m.group_id = ? AND {name}', 'h.host_name', host, groupId) ??
    byName<MachineRow>(db, 'SELECT m.* FROM machines m WHERE m.group_id = ? AND {name}', 'm.name', host, groupId);
}

export function modelsByPriority(db: Db, groupId: number, order: 'highest-first' | 'lowest-first'): Array<{ id: number; name: string; priority: number }> {
  return db.prepare(`SELECT id, name, priority FROM models WHERE group_id = ? ORDER BY priority ${order === 'highest-first' ? 'ASC' : 'DESC'}, name COLLATE NOCASE`)
    .all(groupId) as Array<{ id: number; name: string; priority: number }>;
}
