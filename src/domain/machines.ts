// Read models of machines as pvmutl sees them: active in a group (with a host
// setting) or standing by in a group's pool.
import type { Db } from '../store/db.js';
import { compareNames } from './paths.js';

export interface ActiveMachine { id: number; name: string; host_name: string; model_id: number | null; maintenance: number }

export function activeMachines(db: Db, groupId: number, modelId?: number): ActiveMachine[] {
  const rows = db.prepare(
    `SELECT m.id, m.name, h.host_name, m.model_id, m.maintenance
       FROM machines m JOIN host_settings h ON h.id = m.host_setting_id
      WHERE m.group_id = ? AND (? IS NULL OR m.model_id = ?)`,
  ).all(groupId, modelId ?? null, modelId ?? null) as ActiveMachine[];
  return rows.sort((a, b) => compareNames(a.name, b.name));
}

/** Machines registered in the group's pool that are not active in this group. */
export function poolMachines(db: Db, groupId: number, modelId?: number): Array<{ id: number; name: string }> {
  const rows = db.prepare(
    `SELECT m.id, m.name
       FROM pool_members p JOIN machines m ON m.id = p.machine_id
      WHERE p.group_id = ? AND (m.group_id IS NULL OR m.group_id <> p.group_id)
        AND (? IS NULL OR p.model_id = ?)`,
  ).all(groupId, modelId ?? null, modelId ?? null) as Array<{ id: number; name: string }>;
  return rows.sort((a, b) => compareNames(a.name, b.name));
}
