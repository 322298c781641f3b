// What applying a description would change, object by object: added, changed and
// removed, each by kind and name. A removal of something that carries state the file
// cannot bring back — a machine with history, a controller registration with its
// sealed password, sealed driver settings, a user account — is protected: apply refuses
// it unless the administrator asks for it (--prune, or yes on a terminal).
import type { Db } from '../store/db.js';
import { foldName } from '../domain/names.js';
import { type CategoryDoc, type DataCentre, type GroupDoc, allGroups, stableStringify } from './document.js';
import { prepared } from '../store/statements.js';

export interface PlanEntry {
  op: 'add' | 'change' | 'remove';
  kind: string;
  name: string;
  /** Why removing it loses what the file cannot restore. */
  protect?: string;
}

type Keyed = Array<[string, { name: string; doc: unknown }]>;

function keyed<T>(items: T[], name: (t: T) => string): Keyed {
  return items.map((t) => [foldName(name(t)), { name: name(t), doc: t }]);
}

function categories(dc: DataCentre): Array<{ path: string; doc: CategoryDoc }> {
  const out: Array<{ path: string; doc: CategoryDoc }> = [];
  const walk = (prefix: string[], cs: CategoryDoc[]): void => {
    for (const c of cs) {
      out.push({ path: [...prefix, c.name].join('\\'), doc: { ...c, categories: [], groups: [] } });
      walk([...prefix, c.name], c.categories);
    }
  };
  walk([], dc.categories);
  return out;
}

/** A group without its children, so that a changed host setting is not also a changed group. */
const groupOnly = (g: GroupDoc): unknown => ({ ...g, models: undefined, host_settings: undefined });

interface Collection { kind: string; items: (dc: DataCentre) => Keyed }

const COLLECTIONS: Collection[] = [
  { kind: 'setting', items: (dc) => keyed(Object.entries(dc.settings), ([k]) => k) },
  { kind: 'software', items: (dc) => keyed(dc.software, (s) => s.name) },
  { kind: 'policy', items: (dc) => keyed(dc.policies, (p) => p.name) },
  { kind: 'volume', items: (dc) => keyed(dc.volumes, (v) => v.name) },
  { kind: 'category', items: (dc) => keyed(categories(dc), (c) => c.path) },
  { kind: 'group', items: (dc) => allGroups(dc).map((g) => [foldName(g.path.join('\\')), { name: g.path.join('\\'), doc: groupOnly(g.group) }]) },
  {
    kind: 'model',
    items: (dc) => allGroups(dc).flatMap((g) => g.group.models.map((m): Keyed[number] => {
      const name = `${g.path.join('\\')}\\${m.name}`;
      return [foldName(name), { name, doc: m }];
    })),
  },
  {
    kind: 'host setting',
    items: (dc) => allGroups(dc).flatMap((g) => g.group.host_settings.map((h): Keyed[number] => {
      const name = `${g.path.join('\\')} ${h.host}`;
      return [foldName(name), { name, doc: h }];
    })),
  },
  { kind: 'machine', items: (dc) => keyed(dc.machines, (m) => m.name) },
  { kind: 'user', items: (dc) => keyed(dc.users, (u) => u.name) },
];

/**
 * What keeps a machine's removal from being undone by applying the file again. `name` is the
 * store's own spelling (from its description), so it is compared exactly.
 */
function machineState(db: Db, name: string): string | undefined {
  const m = prepared(db, 'SELECT id, bmc_secret FROM machines WHERE name = ?').get(name) as { id: number; bmc_secret: string | null } | undefined;
  if (!m) return undefined;
  if (m.bmc_secret) return 'its controller registration holds a sealed password';
  if (prepared(db, 'SELECT 1 FROM driver_settings WHERE machine_id = ? AND sealed = 1').get(m.id)) return 'it has sealed driver settings';
  if (prepared(db, 'SELECT 1 FROM distribution_history WHERE machine_id = ?').get(m.id)) return 'it has a distribution history';
  if (prepared(db, 'SELECT 1 FROM events WHERE machine = ? LIMIT 1').get(name)) return 'it has job history in the event log';
  return undefined;
}

/** The changes from the store's description `current` to `next`, in a stable order. */
export function planApply(db: Db, current: DataCentre, next: DataCentre): PlanEntry[] {
  const out: PlanEntry[] = [];
  for (const c of COLLECTIONS) {
    const before = c.items(current);
    const after = c.items(next);
    // An entry of the file pairs with the store's entry spelt as it is, else with one folding
    // alike (as apply pairs them: a store may hold two names that fold alike, written before
    // they did; the one left over is removed).
    const spelt = new Map(before.map(([, b]) => [b.name, b]));
    const folded = new Map<string, Keyed[number][1][]>();
    for (const [k, b] of before) folded.set(k, [...(folded.get(k) ?? []), b]);
    const matched = new Set<Keyed[number][1]>();
    for (const [k, v] of after) {
      const old = spelt.get(v.name) ?? folded.get(k)?.[0];
      if (old) matched.add(old);
      if (!old) out.push({ op: 'add', kind: c.kind, name: v.name });
      else if (stableStringify(old.doc) !== stableStringify(v.doc)) out.push({ op: 'change', kind: c.kind, name: v.name });
    }
    for (const [, v] of before) {
      if (matched.has(v)) continue;
      const e: PlanEntry = { op: 'remove', kind: c.kind, name: v.name };
      const why = c.kind === 'machine' ? machineState(db, v.name) : c.kind === 'user' ? 'a user account (its password hash goes with it)' : undefined;
      if (why) e.protect = why;
      out.push(e);
    }
  }
  // A controller registration that the file drops while the machine stays.
  const nextMachines = new Map(keyed(next.machines, (m) => m.name));
  for (const m of current.machines) {
    const n = nextMachines.get(foldName(m.name))?.doc as DataCentre['machines'][number] | undefined;
    if (!n || !m.bmc || n.bmc) continue;
    const e: PlanEntry = { op: 'remove', kind: 'controller of', name: m.name };
    const row = prepared(db, 'SELECT bmc_secret FROM machines WHERE name = ?').get(m.name) as { bmc_secret: string | null } | undefined;
    if (row?.bmc_secret) e.protect = 'it holds a sealed password';
    out.push(e);
  }
  return out;
}

export function planLine(e: PlanEntry): string {
  return `${e.op} ${e.kind} ${e.name}${e.protect ? ` (${e.protect})` : ''}`;
}
