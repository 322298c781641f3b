// kanri machine list | machine reset | events: what an administrator checks after
// a job — where each machine is, its statuses, and the event log.
import { EXIT } from './exit-codes.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { isJapanese } from '../cli/locale.js';
import type { Db } from '../store/db.js';
import { openStore, withStore } from '../open-store.js';
import { allGroupPaths, isResolved, resolvePath } from '../domain/paths.js';
import { groupNotFound, machineNotFound } from '../engine/planners/targets.js';
import { machineByName } from '../engine/select.js';
import { foldName } from '../domain/names.js';
import { complain } from '../cli/messages.js';
import { confirmOff, fencingWaits } from '../engine/fencing.js';

export interface MachineLine {
  name: string; kind: string; group: string | null; host: string | null; pools: number;
  power: string; hardware: string; management: string; maintenance: boolean;
}

const where = (m: MachineLine): string =>
  m.group !== null ? `${m.group} as ${m.host}` : m.pools > 0 ? `pool (${m.pools} group${m.pools > 1 ? 's' : ''})` : 'common pool';

const MACHINE_COLUMNS: Array<Column<MachineLine>> = [
  { header: 'MACHINE', key: 'name', value: (m) => m.name },
  { header: 'KIND', key: 'kind', value: (m) => m.kind },
  { header: 'WHERE', key: 'where', value: where },
  { header: 'POWER', key: 'power', value: (m) => m.power, status: true },
  { header: 'HARDWARE', key: 'hardware', value: (m) => m.hardware, status: true },
  { header: 'MANAGEMENT', key: 'management', value: (m) => m.management, status: true },
  { header: 'MAINTENANCE', key: 'maintenance', value: (m) => (m.maintenance ? 'yes' : '') },
];

const MACHINE_JSON: Array<Column<MachineLine>> = [
  { header: '', key: 'name', value: (m) => m.name },
  { header: '', key: 'kind', value: (m) => m.kind },
  { header: '', key: 'group', value: (m) => m.group },
  { header: '', key: 'host', value: (m) => m.host },
  { header: '', key: 'pools', value: (m) => m.pools },
  { header: '', key: 'power', value: (m) => m.power },
  { header: '', key: 'hardware', value: (m) => m.hardware },
  { header: '', key: 'management', value: (m) => m.management },
  { header: '', key: 'maintenance', value: (m) => m.maintenance },
];

/** Every machine (of the groups whose path contains `group`): where it is and its statuses, by name. */
export function machineLines(db: Db, group?: string): MachineLine[] {
  const rows = db.prepare(
    `SELECT m.name, m.kind, m.group_id, h.host_name, m.power_state, m.hardware_status, m.management_status, m.maintenance, ifnull(p.n, 0) AS pools
       FROM machines m LEFT JOIN host_settings h ON h.id = m.host_setting_id
       LEFT JOIN (SELECT machine_id, count(*) AS n FROM pool_members GROUP BY machine_id) p ON p.machine_id = m.id
       ORDER BY m.name COLLATE NOCASE`,
  ).all() as Array<{ name: string; kind: string; group_id: number | null; host_name: string | null; power_state: string; hardware_status: string; management_status: string; maintenance: number; pools: number }>;
  const paths = allGroupPaths(db);
  const wanted = group === undefined ? undefined : foldName(group).replace(/\//g, '\\');
  const lines: MachineLine[] = [];
  // A machine a takeover waits on says so (engine/fencing.ts).
  const fencing = new Set([...fencingWaits(db).values()].map((w) => w.machine));
  for (const r of rows) {
    const g = r.group_id !== null ? paths.get(r.group_id) ?? null : null;
    if (wanted !== undefined && !(g !== null && foldName(g).includes(wanted))) continue;
    lines.push({ name: r.name, kind: r.kind, group: g, host: r.host_name, pools: r.pools, power: r.power_state, hardware: r.hardware_status, management: fencing.has(r.name) ? 'waiting for fencing' : r.management_status, maintenance: !!r.maintenance });
  }
  return lines;
}

export function machineList(dbPath: string, group: string | undefined, json = false): number {
  return withStore(dbPath, (db) => {
    const lines = machineLines(db, group);
    // A filter that names no group is a mistake to report, not an empty list.
    if (group !== undefined && !lines.length) {
      const wanted = foldName(group).replace(/\//g, '\\');
      if (![...allGroupPaths(db).values()].some((p) => foldName(p).includes(wanted))) {
        complain('kanri', groupNotFound(db, group));
        return EXIT.NOT_FOUND;
      }
    }
    const mode = listingMode(json);
    process.stdout.write(renderListing(lines, json ? MACHINE_JSON : MACHINE_COLUMNS, mode));
    return EXIT.OK;
  });
}

/** After the cause of a failed job is removed, the administrator clears the abnormal mark. */
export function machineReset(dbPath: string, name: string): number {
  return withStore(dbPath, (db) => {
    const m = machineByName(db, name);
    if (!m) {
      complain('kanri', machineNotFound(db, name));
      return EXIT.NOT_FOUND;
    }
    db.prepare("UPDATE machines SET management_status = 'normal' WHERE id = ?").run(m.id);
    process.stdout.write(m.management_status === 'normal' ? `${m.name}: management status is already normal\n` : `${m.name}: management status ${m.management_status} -> normal\n`);
    return EXIT.OK;
  });
}

/** kanri machine confirm-off: an operator vouches that a machine a takeover waits on is off. */
export function machineConfirmOff(dbPath: string, name: string): number {
  return withStore(dbPath, (db) => {
    const m = machineByName(db, name);
    if (!m) {
      complain('kanri', machineNotFound(db, name));
      return EXIT.NOT_FOUND;
    }
    const r = confirmOff(db, m);
    if (!r) {
      complain('kanri', `${m.name} is not waiting for fencing: nothing to confirm`);
      return EXIT.USAGE;
    }
    process.stdout.write(`${m.name}: confirmed off at ${r.confirmedAt}${r.jobId !== null ? `; job ${String(r.jobId).padStart(5, '0')} goes on` : ''}\n`);
    return EXIT.OK;
  });
}

export interface EventLine { id: number; time: string; source: string; event_id: number; type: string; message: string; message_ja: string; machine: string | null; group_path: string | null; job_id: number | null }

const message = (e: EventLine): string => (isJapanese() && e.message_ja ? e.message_ja : e.message);

const EVENT_COLUMNS: Array<Column<EventLine>> = [
  { header: 'TIME', key: 'time', value: (e) => e.time, time: true },
  { header: 'SOURCE', key: 'source', value: (e) => e.source },
  { header: 'ID', key: 'event_id', value: (e) => e.event_id },
  { header: 'TYPE', key: 'type', value: (e) => e.type, status: true },
  { header: 'MESSAGE', key: 'message', value: message },
];

const EVENT_JSON: Array<Column<EventLine>> = [
  { header: '', key: 'id', value: (e) => e.id },
  ...EVENT_COLUMNS,
  { header: '', key: 'machine', value: (e) => e.machine },
  { header: '', key: 'group', value: (e) => e.group_path },
  { header: '', key: 'job', value: (e) => e.job_id },
];

export interface EventFilter { limit: number; json?: boolean; follow?: boolean; machine?: string; group?: string; since?: string }

/** An ISO time, or a duration ago (30s, 10m, 2h, 1d). */
export function sinceTime(s: string, now = Date.now()): string | undefined {
  const d = /^(\d+)\s*(s|m|h|d)$/.exec(s.trim());
  if (d) return new Date(now - Number(d[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[d[2] as 's' | 'm' | 'h' | 'd'] * 1000).toISOString();
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

const EVENT_SELECT = 'SELECT id, time, source, event_id, type, message, message_ja, machine, group_path, job_id FROM events';

/** The WHERE clause and its arguments of an event filter (machine, group or groups under a path, since a time). */
export function eventWhere(f: { machine?: string; group?: string; since?: string }): { where: string; args: unknown[] } {
  const group = f.group?.replace(/\//g, '\\');
  const where = `(? IS NULL OR machine = ? COLLATE NOCASE) AND (? IS NULL OR group_path = ? COLLATE NOCASE OR group_path LIKE ? ESCAPE '!') AND (? IS NULL OR time >= ?)`;
  const like = group === undefined ? null : group.replace(/[!%_]/g, '!$&') + '\\%';
  return { where, args: [f.machine ?? null, f.machine ?? null, group ?? null, group ?? null, like, f.since ?? null, f.since ?? null] };
}

/** The newest `limit` entries of the filter, oldest first (`since` already an ISO time). */
export function eventRows(db: Db, f: { machine?: string; group?: string; since?: string; limit: number }): EventLine[] {
  const { where, args } = eventWhere(f);
  return (db.prepare(`${EVENT_SELECT} WHERE ${where} ORDER BY id DESC LIMIT ?`).all(...args, f.limit) as EventLine[]).reverse();
}

/** Entries after id `after`, oldest first, at most `limit`. */
export function eventRowsAfter(db: Db, after: number, f: { machine?: string; group?: string; since?: string }, limit = 1000): EventLine[] {
  const { where, args } = eventWhere(f);
  return db.prepare(`${EVENT_SELECT} WHERE id > ? AND ${where} ORDER BY id LIMIT ?`).all(after, ...args, limit) as EventLine[];
}

/** The id of the newest entry (0 when the log is empty). */
export function lastEventId(db: Db): number {
  return (db.prepare('SELECT ifnull(max(id), 0) AS n FROM events').get() as { n: number }).n;
}

/** The event log, filtered by machine, group (or groups under a path) and time; --follow keeps printing new entries. */
export async function eventList(dbPath: string, f: EventFilter): Promise<number> {
  const since = f.since !== undefined ? sinceTime(f.since) : undefined;
  if (f.since !== undefined && since === undefined) {
    complain('kanri', `--since '${f.since}' is neither a time nor a duration like 10m`);
    return EXIT.USAGE;
  }
  const filter = { ...(f.machine !== undefined ? { machine: f.machine } : {}), ...(f.group !== undefined ? { group: f.group } : {}), ...(since !== undefined ? { since } : {}) };
  const mode = listingMode(!!f.json);
  const cols = f.json ? EVENT_JSON : EVENT_COLUMNS;
  const db = openStore(dbPath, { readonly: true });
  try {
    // A machine or group that neither exists nor appears in the log is a mistake to report.
    // Checked as the filter matches (eventWhere: SQLite's NOCASE, the same on both back ends),
    // so that a machine found here is one whose entries the filter lists.
    if (f.machine !== undefined && !db.prepare('SELECT 1 FROM machines WHERE name = ? COLLATE NOCASE UNION ALL SELECT 1 FROM events WHERE machine = ? COLLATE NOCASE LIMIT 1').get(f.machine, f.machine)) {
      complain('kanri', machineNotFound(db, f.machine));
      return EXIT.NOT_FOUND;
    }
    if (f.group !== undefined && !isResolved(resolvePath(db, f.group))) {
      const group = f.group.replace(/\//g, '\\');
      const like = group.replace(/[!%_]/g, '!$&') + '\\%';
      if (!db.prepare(`SELECT 1 FROM events WHERE group_path = ? COLLATE NOCASE OR group_path LIKE ? ESCAPE '!' LIMIT 1`).get(group, like)) {
        complain('kanri', groupNotFound(db, f.group));
        return EXIT.NOT_FOUND;
      }
    }
    const first = eventRows(db, { ...filter, limit: f.limit });
    process.stdout.write(renderListing(first, cols, mode));
    if (!f.follow) return EXIT.OK;
    let last = first.at(-1)?.id ?? lastEventId(db);
    return await new Promise<number>((resolve) => {
      const timer = setInterval(() => {
        const rows = eventRowsAfter(db, last, filter);
        if (rows.length === 0) return;
        const text = renderListing(rows, cols, mode);
        // On a terminal the header was printed once, with the first entries.
        process.stdout.write(mode.tty ? text.slice(text.indexOf('\n') + 1) : text);
        last = rows.at(-1)!.id;
      }, 500);
      const stop = (): void => { clearInterval(timer); resolve(0); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    db.close();
  }
}
