// kanri machine list | machine reset | events: what an administrator checks after
// a job — where each machine is, its statuses, and the event log.
import { isJapanese } from '../cli/locale.js';
import { openStore, withStore } from '../store/db.js';
import { groupPathParts } from '../domain/paths.js';

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
      if (group !== undefined && !(r.group_id !== null && groupPathParts(db, r.group_id).join('\\').toLowerCase().includes(group.toLowerCase().replace(/\//g, '\\')))) continue;
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

export interface EventFilter { limit: number; follow?: boolean; machine?: string; group?: string; since?: string }

/** An ISO time, or a duration ago (30s, 10m, 2h, 1d). */
export function sinceTime(s: string, now = Date.now()): string | undefined {
  const d = /^(\d+)\s*(s|m|h|d)$/.exec(s.trim());
  if (d) return new Date(now - Number(d[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[d[2] as 's' | 'm' | 'h' | 'd'] * 1000).toISOString();
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

type EventRow = { id: number; time: string; source: string; event_id: number; type: string; message: string; message_ja: string };

export async function eventList(dbPath: string, f: EventFilter): Promise<number> {
  const since = f.since !== undefined ? sinceTime(f.since) : undefined;
  if (f.since !== undefined && since === undefined) {
    process.stderr.write(`kanri: --since '${f.since}' is neither a time nor a duration like 10m\n`);
    return 1;
  }
  const group = f.group?.replace(/\//g, '\\');
  const where = `(? IS NULL OR machine = ? COLLATE NOCASE) AND (? IS NULL OR group_path = ? COLLATE NOCASE OR group_path LIKE ? ESCAPE '!') AND (? IS NULL OR time >= ?)`;
  const like = group === undefined ? null : group.replace(/[!%_]/g, '!$&') + '\\%';
  const args = [f.machine ?? null, f.machine ?? null, group ?? null, group ?? null, like, since ?? null, since ?? null];
  const print = (rows: EventRow[]): void => {
    for (const e of rows) process.stdout.write(`${e.time} ${e.source} ${e.event_id} ${e.type.padEnd(11)} ${isJapanese() && e.message_ja ? e.message_ja : e.message}\n`);
  };
  const db = openStore(dbPath, { readonly: true });
  try {
    const first = (db.prepare(`SELECT id, time, source, event_id, type, message, message_ja FROM events WHERE ${where} ORDER BY id DESC LIMIT ?`).all(...args, f.limit) as EventRow[]).reverse();
    print(first);
    if (!f.follow) return 0;
    let last = first.at(-1)?.id ?? (db.prepare('SELECT ifnull(max(id), 0) AS n FROM events').get() as { n: number }).n;
    const next = db.prepare(`SELECT id, time, source, event_id, type, message, message_ja FROM events WHERE id > ? AND ${where} ORDER BY id LIMIT 1000`);
    return await new Promise<number>((resolve) => {
      const timer = setInterval(() => {
        const rows = next.all(last, ...args) as EventRow[];
        print(rows);
        last = rows.at(-1)?.id ?? last;
      }, 500);
      const stop = (): void => { clearInterval(timer); resolve(0); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    db.close();
  }
}
