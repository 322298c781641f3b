// What applying a description would change, object by object: added, changed and
// removed, each by kind and name. A removal of something that carries state the file
// cannot bring back — a machine with history, a controller registration with its
// sealed password, sealed driver settings, a user account — is protected: apply refuses
// it unless the administrator asks for it (--prune, or yes on a terminal).
import type { Db } from '../store/db.js';
import { namePairing } from '../domain/names.js';
import { type CategoryDoc, type DataCentre, type GroupDoc, allGroups, stableStringify } from './document.js';
import { prepared } from '../store/statements.js';

export interface PlanEntry {
  op: 'add' | 'change' | 'remove';
  kind: string;
  name: string;
  /** Why removing it loses what the file cannot restore. */
  protect?: string;
}

/** A collection's entries, by the name the plan shows (a path where names are scoped). */
type Named = Array<{ name: string; doc: unknown }>;

function named<T>(items: T[], name: (t: T) => string): Named {
  return items.map((t) => ({ name: name(t), doc: t }));
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

interface Collection { kind: string; items: (dc: DataCentre) => Named }

const COLLECTIONS: Collection[] = [
  { kind: 'setting', items: (dc) => named(Object.entries(dc.settings), ([k]) => k) },
  { kind: 'software', items: (dc) => named(dc.software, (s) => s.name) },
  { kind: 'policy', items: (dc) => named(dc.policies, (p) => p.name) },
  { kind: 'volume', items: (dc) => named(dc.volumes, (v) => v.name) },
  { kind: 'category', items: (dc) => named(categories(dc), (c) => c.path) },
  { kind: 'group', items: (dc) => allGroups(dc).map((g) => ({ name: g.path.join('\\'), doc: groupOnly(g.group) })) },
  {
    kind: 'model',
    items: (dc) => allGroups(dc).flatMap((g) => g.group.models.map((m) => ({ name: `${g.path.join('\\')}\\${m.name}`, doc: m }))),
  },
  {
    kind: 'host setting',
    items: (dc) => allGroups(dc).flatMap((g) => g.group.host_settings.map((h) => ({ name: `${g.path.join('\\')} ${h.host}`, doc: h }))),
  },
  { kind: 'machine', items: (dc) => named(dc.machines, (m) => m.name) },
  { kind: 'user', items: (dc) => named(dc.users, (u) => u.name) },
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
    // An entry of the file pairs with the store's as apply pairs them (namePairing: a store may
    // hold two names that fold alike, written before they did; the one left over is removed).
    const spelt = new Map(before.map((b) => [b.name, b]));
    const pair = namePairing(spelt.keys());
    const matched = new Set<Named[number]>();
    for (const v of after) {
      const spelling = pair(v.name);
      const old = spelling === undefined ? undefined : spelt.get(spelling);
      if (old) matched.add(old);
      if (!old) out.push({ op: 'add', kind: c.kind, name: v.name });
      else if (stableStringify(old.doc) !== stableStringify(v.doc)) out.push({ op: 'change', kind: c.kind, name: v.name });
    }
    for (const v of before) {
      if (matched.has(v)) continue;
      const e: PlanEntry = { op: 'remove', kind: c.kind, name: v.name };
      const why = c.kind === 'machine' ? machineState(db, v.name) : c.kind === 'user' ? 'a user account (its password hash goes with it)' : undefined;
      if (why) e.protect = why;
      out.push(e);
    }
  }
  // A controller registration that the file drops while the machine stays.
  const nextMachines = new Map(next.machines.map((m) => [m.name, m]));
  const pairNext = namePairing(nextMachines.keys());
  for (const m of current.machines) {
    const spelling = pairNext(m.name);
    const n = spelling === undefined ? undefined : nextMachines.get(spelling);
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
