// list group | list server | list soft (spec/pvmutl.md §4.10–4.12).
import type { Db } from '../../store/db.js';
import { activeMachines, poolMachines } from '../../domain/machines.js';
import { sortNodes } from '../../domain/paths.js';
import { formatGroupList, formatServerList, formatSoftList, type TreeLine } from '../format.js';
import { resolveGroup } from '../../engine/planners/targets.js';

interface Node { id: number; name: string; priority: number; parent: number | null; isGroup: boolean }

export function listGroup(db: Db): string {
  const cats = db.prepare('SELECT id, name, priority, parent_id AS parent FROM categories').all() as Node[];
  const groups = db.prepare('SELECT id, name, priority, category_id AS parent FROM groups').all() as Node[];
  const models = db.prepare('SELECT group_id, name, priority FROM models').all() as Array<{ group_id: number; name: string; priority: number }>;

  const children = new Map<number | null, Node[]>();
  for (const n of cats) (children.get(n.parent) ?? children.set(n.parent, []).get(n.parent)!).push({ ...n, isGroup: false });
  for (const n of groups) (children.get(n.parent) ?? children.set(n.parent, []).get(n.parent)!).push({ ...n, isGroup: true });
  const modelsOf = new Map<number, typeof models>();
  for (const m of models) (modelsOf.get(m.group_id) ?? modelsOf.set(m.group_id, []).get(m.group_id)!).push(m);

  const out: TreeLine[] = [];
  const walk = (parent: number | null, depth: number): void => {
    for (const n of sortNodes(children.get(parent) ?? [])) {
      out.push({ depth, name: n.name });
      if (n.isGroup) {
        for (const m of sortNodes(modelsOf.get(n.id) ?? [])) out.push({ depth: depth + 1, name: m.name });
      } else {
        walk(n.id, depth + 1);
      }
    }
  };
  walk(null, 0);
  return formatGroupList(out);
}

export function listServer(db: Db, given: string): string {
  const { group, model } = resolveGroup(db, given);
  const active = activeMachines(db, group.id, model?.id).map((m) => m.name);
  const pool = poolMachines(db, group.id, model?.id).map((m) => m.name);
  return formatServerList(given, active, pool);
}

/**
 * The software registered on the group (on the model, for a model path): the
 * activation-time list, then the standby-time list, each name once.
 */
export function listSoft(db: Db, given: string): string {
  const { group, model } = resolveGroup(db, given);
  const rows = db.prepare(
    `SELECT s.name FROM software_registrations r JOIN software s ON s.id = r.software_id
      WHERE ${model ? 'r.model_id = ?' : 'r.group_id = ?'}
      ORDER BY CASE r.timing WHEN 'activation' THEN 0 ELSE 1 END, r.position`,
  ).all(model ? model.id : group.id) as Array<{ name: string }>;
  return formatSoftList(given, [...new Set(rows.map((r) => r.name))]);
}
