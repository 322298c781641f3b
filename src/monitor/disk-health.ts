// Drives and volumes seen degrading by polling: each poll of a controller that lists its
// storage (Redfish) is compared with the health kept from the previous poll (table
// monitor_disk_health, its own schema component), and a drive or volume whose health
// became Warning or Critical — or a volume that came back to OK — is one catalogue disk
// event (ESMDiskArray), raised once. The first poll of a machine only takes the baseline.
import type { StorageItem } from '../adapters/types.js';
import type { SchemaComponent } from '../store/components.js';
import type { Db } from '../store/db.js';

const V1 = `
CREATE TABLE monitor_disk_health (
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  item       TEXT NOT NULL,
  health     TEXT NOT NULL,
  PRIMARY KEY (machine_id, item)
);
`;

export const COMPONENT: SchemaComponent = { name: 'disk_health', migrations: [V1] };

/** The row that says a machine's baseline was taken (it may have no drives at all). */
const SEEN = '*';
const RANK: Record<string, number> = { OK: 0, Warning: 1, Critical: 2 };

/** The catalogue's disk array events (spec/events-and-policies.md §2). */
const EVENTS = {
  driveCritical: 'ESMDiskArray[0xC00403F3]', // physical device Dead: ハードディスク交換障害
  driveWarning: 'ESMDiskArray[0x800403FC]', // physical device S.M.A.R.T. warning: ハードディスク交換障害
  volumeCritical: 'ESMDiskArray[0xC00403EA]', // logical device Offline: ハードディスク障害
  volumeWarning: 'ESMDiskArray[0x800403E9]', // logical device Critical: ハードディスク復旧可能障害
  volumeOk: 'ESMDiskArray[0x400403E8]', // logical device Online: its recovery
} as const;

export interface DiskEvent { event: string; detail: string }

const keyOf = (i: StorageItem): string => `${i.kind}:${i.storage}/${i.id}`;

/**
 * The disk events of this poll's storage list, and a commit() that keeps the list as the
 * next poll's baseline (to run in the transaction that records the events).
 */
export function diskChanges(db: Db, machineId: number, items: StorageItem[]): { events: DiskEvent[]; commit(): void } {
  const rows = db.prepare('SELECT item, health FROM monitor_disk_health WHERE machine_id = ?').all(machineId) as Array<{ item: string; health: string }>;
  const before = new Map(rows.map((r) => [r.item, r.health]));
  const baseline = !before.has(SEEN);
  const now = new Map<string, string>();
  const events: DiskEvent[] = [];
  for (const i of items) {
    if (i.kind === 'controller' || !i.health) continue;
    const k = keyOf(i);
    now.set(k, i.health);
    if (baseline) continue;
    const was = before.get(k) ?? 'OK';
    const r0 = RANK[was] ?? 0, r1 = RANK[i.health] ?? 0;
    let event: string | undefined;
    if (i.kind === 'drive') event = r1 === 2 && r0 < 2 ? EVENTS.driveCritical : r1 === 1 && r0 < 1 ? EVENTS.driveWarning : undefined;
    else event = r1 === 2 && r0 < 2 ? EVENTS.volumeCritical : r1 === 1 && r0 < 1 ? EVENTS.volumeWarning : r1 === 0 && r0 > 0 ? EVENTS.volumeOk : undefined;
    if (event) events.push({ event, detail: `${i.kind} ${i.storage}/${i.id} ${i.name}: health ${was} -> ${i.health}`.replace(/\s+/g, ' ') });
  }
  return {
    events,
    commit() {
      db.prepare('DELETE FROM monitor_disk_health WHERE machine_id = ?').run(machineId);
      const put = db.prepare('INSERT INTO monitor_disk_health (machine_id, item, health) VALUES (?, ?, ?)');
      put.run(machineId, SEEN, 'seen');
      for (const [k, h] of now) put.run(machineId, k, h);
    },
  };
}
