// Group paths: `Category\Group\Model`, with `\`, `¥` or `/` as separator
// (spec/decisions.md "Parsing"). Names match case-insensitively.
import type { Db } from '../store/db.js';
import { allByName, byName, foldName } from './names.js';

export interface CategoryRow { id: number; parent_id: number | null; name: string; priority: number; description: string }
export interface GroupRow {
  id: number; category_id: number | null; name: string; priority: number; machine_type: string;
  allow_common_pool: number; policy_id: number | null;
}
export interface ModelRow { id: number; group_id: number; name: string; priority: number; policy_id: number | null }

export type Resolved =
  | { kind: 'category'; category: CategoryRow }
  | { kind: 'group'; group: GroupRow }
  | { kind: 'model'; group: GroupRow; model: ModelRow };

export type ResolveFailure = { kind: 'missing'; at: string } | { kind: 'ambiguous'; at: string };

export function splitPath(path: string): string[] {
  return path.split(/[\\\u00a5/]/).map((s) => s.trim()).filter((s) => s.length > 0);
}

const GROUP_COLUMNS = 'id, category_id, name, priority, machine_type, allow_common_pool, policy_id';

/**
 * Resolves a path given on the command line. The documented form starts at the
 * top of the hierarchy; a first component that names nothing at the top is also
 * accepted when it names exactly one category or group anywhere, so that
 * `pvmutl list server Web` works for a group filed under a category.
 */
export function resolvePath(db: Db, path: string): Resolved | ResolveFailure {
  const parts = splitPath(path);
  if (parts.length === 0) return { kind: 'missing', at: path };
  const [first, ...rest] = parts as [string, ...string[]];

  let cur: Resolved | undefined;
  const topCat = byName<CategoryRow>(db, 'SELECT * FROM categories WHERE parent_id IS NULL AND {name}', 'name', first);
  const topGroup = byName<GroupRow>(db, `SELECT ${GROUP_COLUMNS} FROM groups WHERE category_id IS NULL AND {name}`, 'name', first);
  if (topCat) cur = { kind: 'category', category: topCat };
  else if (topGroup) cur = { kind: 'group', group: topGroup };
  else {
    const cats = allByName<CategoryRow>(db, 'SELECT * FROM categories WHERE {name}', 'name', first);
    const groups = allByName<GroupRow>(db, `SELECT ${GROUP_COLUMNS} FROM groups WHERE {name}`, 'name', first);
    if (cats.length + groups.length > 1) return { kind: 'ambiguous', at: first };
    if (cats[0]) cur = { kind: 'category', category: cats[0] };
    else if (groups[0]) cur = { kind: 'group', group: groups[0] };
    else return { kind: 'missing', at: first };
  }

  for (const part of rest) {
    if (cur.kind === 'category') {
      const sub: CategoryRow | undefined = byName<CategoryRow>(db, 'SELECT * FROM categories WHERE parent_id = ? AND {name}', 'name', part, cur.category.id);
      if (sub) { cur = { kind: 'category', category: sub }; continue; }
      const g: GroupRow | undefined = byName<GroupRow>(db, `SELECT ${GROUP_COLUMNS} FROM groups WHERE category_id = ? AND {name}`, 'name', part, cur.category.id);
      if (!g) return { kind: 'missing', at: part };
      cur = { kind: 'group', group: g };
    } else if (cur.kind === 'group') {
      const m: ModelRow | undefined = byName<ModelRow>(db, 'SELECT id, group_id, name, priority, policy_id FROM models WHERE group_id = ? AND {name}', 'name', part, cur.group.id);
      if (!m) return { kind: 'missing', at: part };
      cur = { kind: 'model', group: cur.group, model: m };
    } else {
      return { kind: 'missing', at: part };
    }
  }
  return cur;
}

export function isResolved(r: Resolved | ResolveFailure): r is Resolved {
  return r.kind !== 'missing' && r.kind !== 'ambiguous';
}

/** Groups under a category (recursively), in hierarchy order: priority, then name. */
export function groupsUnder(db: Db, categoryId: number): GroupRow[] {
  const out: GroupRow[] = [];
  const walk = (catId: number): void => {
    const cats = db.prepare('SELECT id, priority, name, 0 AS is_group FROM categories WHERE parent_id = ?').all(catId) as Array<{ id: number; priority: number; name: string; is_group: 0 }>;
    const groups = db.prepare(`SELECT ${GROUP_COLUMNS}, 1 AS is_group FROM groups WHERE category_id = ?`).all(catId) as Array<GroupRow & { is_group: 1 }>;
    for (const node of sortNodes<{ id: number; priority: number; name: string; is_group: 0 | 1 }>([...cats, ...groups])) {
      if (node.is_group) out.push(node as unknown as GroupRow);
      else walk(node.id);
    }
  };
  walk(categoryId);
  return out;
}

/** Hierarchy order of spec/decisions.md: priority first (1 is the highest), then name. */
export function sortNodes<T extends { priority: number; name: string }>(nodes: T[]): T[] {
  return nodes.sort((a, b) => a.priority - b.priority || compareNames(a.name, b.name));
}

export function compareNames(a: string, b: string): number {
  const x = foldName(a);
  const y = foldName(b);
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** The names from the top category down to the group. */
export function groupPathParts(db: Db, groupId: number): string[] {
  const g = db.prepare('SELECT name, category_id FROM groups WHERE id = ?').get(groupId) as { name: string; category_id: number | null };
  const parts = [g.name];
  let cat = g.category_id;
  while (cat !== null) {
    const c = db.prepare('SELECT name, parent_id FROM categories WHERE id = ?').get(cat) as { name: string; parent_id: number | null };
    parts.unshift(c.name);
    cat = c.parent_id;
  }
  return parts;
}

/** Every group's path (Category\\Group), read in two queries: for listings of many machines. */
export function allGroupPaths(db: Db): Map<number, string> {
  const cats = new Map((db.prepare('SELECT id, name, parent_id FROM categories').all() as Array<{ id: number; name: string; parent_id: number | null }>).map((c) => [c.id, c]));
  const catPath = new Map<number, string>();
  const pathOf = (id: number): string => {
    const known = catPath.get(id);
    if (known !== undefined) return known;
    const c = cats.get(id)!;
    const p = c.parent_id === null ? c.name : `${pathOf(c.parent_id)}\\${c.name}`;
    catPath.set(id, p);
    return p;
  };
  const out = new Map<number, string>();
  for (const g of db.prepare('SELECT id, name, category_id FROM groups').all() as Array<{ id: number; name: string; category_id: number | null }>) {
    out.set(g.id, g.category_id === null ? g.name : `${pathOf(g.category_id)}\\${g.name}`);
  }
  return out;
}
