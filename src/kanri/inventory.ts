// kanri machine list | machine reset | events: what an administrator checks after
// a job — where each machine is, its statuses, and the event log.
import { isJapanese } from '../cli/locale.js';
import { withStore } from '../store/db.js';
import { groupPathParts } from '../domain/paths.js';
import { foldName } from '../domain/names.js';

export function machineList(dbPath: string, group: string | undefined): number {
  return withStore(dbPath, (db) => {
    const rows = db.prepare(
      `SELECT m.name, m.kind, m.group_id, h.host_name, m.power_state, m.hardware_status, m.management_status, m.maintenance,
              (SELECT count(*) FROM pool_members p WHERE p.machine_id = m.id) AS pools
         FROM machines m LEFT JOIN host_settings h ON h.id = m.host_setting_id ORDER BY m.name COLLATE NOCASE`,
    ).all() as Array<{ name: string; kind: string; group_id: number | null; host_name: string | null; power_state: string; hardware_status: string; management_status: string; maintenance: number; pools: number }>;
    const lines: string[] = [];
    for (const r of rows) {
      const where = r.group_id !== null ? `${groupPathParts(db, r.group_id).join('\\')} as ${r.host_name}` : r.pools > 0 ? `pool (${r.pools} group${r.pools > 1 ? 's' : ''})` : 'common pool';
      if (group !== undefined && !(r.group_id !== null && foldName(groupPathParts(db, r.group_id).join('\\')).includes(foldName(group).replace(/\//g, '\\')))) continue;
      lines.push([r.name, r.kind, where, `power=${r.power_state}`, `hardware=${r.hardware_status}`, `management=${r.management_status}`, ...(r.maintenance ? ['maintenance'] : [])].join('  '));
    }
    process.stdout.write(lines.map((l) => l + '\n').join(''));
    return 0;
  });
}

/** After the cause of a failed job is removed, the administrator clears the abnormal mark. */
export function machineReset(dbPath: string, name: string): number {
  return withStore(dbPath, (db) => {
    const r = db.prepare("UPDATE machines SET management_status = 'normal' WHERE name = ?").run(name);
    if (r.changes === 0) {
      process.stderr.write(`kanri: machine not found: ${name}\n`);
      return 2;
    }
    return 0;
  });
}

export function eventList(dbPath: string, limit: number): number {
  return withStore(dbPath, (db) => {
    const rows = db.prepare('SELECT id, time, source, event_id, type, message, message_ja FROM events ORDER BY id DESC LIMIT ?').all(limit) as
      Array<{ time: string; source: string; event_id: number; type: string; message: string; message_ja: string }>;
    for (const e of rows.reverse()) {
      process.stdout.write(`${e.time} ${e.source} ${e.event_id} ${e.type.padEnd(11)} ${isJapanese() && e.message_ja ? e.message_ja : e.message}\n`);
    }
    return 0;
  });
}
