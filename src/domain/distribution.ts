// The ordered software lists a machine receives (spec §4.5): seven positions at
// activation, eight at standby (the DHCP-reset scenario at position 7). Empty
// positions are skipped; within a position, items keep their registered order.
import type { Db } from '../store/db.js';

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

const STANDBY: Position[] = [
  { owner: 'machineId', slot: 'before_group' },
  { owner: 'hostId', slot: 'before_group' },
  { owner: 'modelId', slot: 'distribution' },
  { owner: 'groupId', slot: 'distribution' },
  { owner: 'hostId', slot: 'distribution' },
  { owner: 'hostId', slot: 'after_group' },
  { dhcp: true },
  { owner: 'machineId', slot: 'after_group' },
];

const COLUMN: Record<keyof Owners, string> = { machineId: 'machine_id', hostId: 'host_setting_id', modelId: 'model_id', groupId: 'group_id' };

export interface Entry { softwareId: number; position: number }

function list(db: Db, positions: Position[], timing: 'activation' | 'standby', owners: Owners): Entry[] {
  const out: Entry[] = [];
  positions.forEach((p, i) => {
    if ('dhcp' in p) {
      const name = (db.prepare("SELECT value FROM settings WHERE key = 'standby_dhcp_scenario'").get() as { value: string } | undefined)?.value;
      const sw = name ? db.prepare('SELECT id FROM software WHERE name = ?').get(name) as { id: number } | undefined : undefined;
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
