// The ordered software lists a machine receives (spec §4.5): seven positions at
// activation, eight at standby (the DHCP-reset scenario at position 7). Empty
// positions are skipped; within a position, items keep their registered order.
import type { Db } from '../store/db.js';
import { settingText } from '../adapters/setting-reader.js';
import { CORE_SETTINGS } from './settings.js';
import { byName } from './names.js';

export interface Owners { machineId: number | null; hostId: number | null; modelId: number | null; groupId: number | null }

type Position =
  | { owner: keyof Owners; slot: 'before_group' | 'distribution' | 'after_group' }
  | { dhcp: true };

const ACTIVATION: Position[] = [
  { owner: 'machineId', slot: 'before_group' },
  { owner: 'hostId', slot: 'before_group' },
  { owner: 'modelId', slot: 'distribution' },
  { owner: 'groupId', slot: 'distribution' },
  { owner: 'hostId', slot: 'distribution' },
  { owner: 'hostId', slot: 'after_group' },
  { owner: 'machineId', slot: 'after_group' },
];

/** The same points at standby, with the DHCP-reset scenario between host and machine "after group". */
const STANDBY: Position[] = [...ACTIVATION.slice(0, 6), { dhcp: true }, ACTIVATION[6]!];

const COLUMN: Record<keyof Owners, string> = { machineId: 'machine_id', hostId: 'host_setting_id', modelId: 'model_id', groupId: 'group_id' };

export interface Entry { softwareId: number; position: number }

function list(db: Db, positions: Position[], timing: 'activation' | 'standby', owners: Owners): Entry[] {
  const out: Entry[] = [];
  positions.forEach((p, i) => {
    if ('dhcp' in p) {
      const name = settingText(db, CORE_SETTINGS, 'standby_dhcp_scenario');
      const sw = name ? byName<{ id: number }>(db, 'SELECT id FROM software WHERE {name}', 'name', name) : undefined;
      if (sw) out.push({ softwareId: sw.id, position: i + 1 });
      return;
    }
    const id = owners[p.owner];
    if (id === null) return;
    const rows = db.prepare(`SELECT software_id FROM software_registrations WHERE ${COLUMN[p.owner]} = ? AND timing = ? AND slot = ? ORDER BY position`)
      .all(id, timing, p.slot) as Array<{ software_id: number }>;
    for (const r of rows) out.push({ softwareId: r.software_id, position: i + 1 });
  });
  return out;
}

export function activationList(db: Db, owners: Owners): Entry[] {
  return list(db, ACTIVATION, 'activation', owners);
}

export function standbyList(db: Db, owners: Owners): Entry[] {
  return list(db, STANDBY, 'standby', owners);
}

export interface Item { softwareId: number; name: string; version: string; date: string }

/**
 * Differential distribution (spec §4.8): what a machine still needs of the
 * software registered for it, given what it was recorded to have received.
 * - the record is a prefix of the registered list → install the appended tail;
 * - the registered list is a prefix of the record (software unregistered at the
 *   end) or the lists are equal → nothing;
 * - anything else (an insertion, a new order, a changed content date or version
 *   of installed software) → full redistribution of the registered list.
 */
export type Decision = { kind: 'tail' | 'none' | 'full'; items: Item[]; reason: string };

export function decideDifferential(registered: Item[], installed: Item[]): Decision {
  const same = (a: Item, b: Item): boolean => a.softwareId === b.softwareId && a.version === b.version && a.date === b.date;
  const prefixOf = (short: Item[], long: Item[]): boolean => short.length <= long.length && short.every((x, i) => same(x, long[i]!));
  if (prefixOf(installed, registered)) {
    const tail = registered.slice(installed.length);
    return tail.length
      ? { kind: 'tail', items: tail, reason: `${tail.length} item${tail.length > 1 ? 's' : ''} appended after the installed software` }
      : { kind: 'none', items: [], reason: 'nothing was added or changed' };
  }
  if (prefixOf(registered, installed)) return { kind: 'none', items: [], reason: 'only software at the end of the order was unregistered' };
  const at = registered.findIndex((r, i) => !installed[i] || !same(r, installed[i]!));
  const r = registered[at];
  const was = installed[at];
  const why = !r ? 'installed software was unregistered before the end of the order'
    : !was ? 'the order changed'
    : r.softwareId === was.softwareId ? `the content of ${r.name} changed (${was.version} ${was.date} → ${r.version} ${r.date})`
    : `${r.name} stands where ${was.name} was installed (inserted or reordered)`;
  return { kind: 'full', items: registered, reason: `full redistribution: ${why}` };
}

export function itemsOf(db: Db, entries: Entry[]): Item[] {
  return entries.map((e) => {
    const s = db.prepare('SELECT id, name, version, content_date FROM software WHERE id = ?').get(e.softwareId) as { id: number; name: string; version: string; content_date: string };
    return { softwareId: s.id, name: s.name, version: s.version, date: s.content_date };
  });
}

export function installedItems(db: Db, machineId: number): Item[] {
  return (db.prepare('SELECT software_id, software_name, version, content_date FROM distribution_history WHERE machine_id = ? ORDER BY seq').all(machineId) as
    Array<{ software_id: number | null; software_name: string; version: string; content_date: string }>)
    .map((h) => ({ softwareId: h.software_id ?? -1, name: h.software_name, version: h.version, date: h.content_date }));
}
