// kanri manager list (and the managers line of kanri store status): the managers that share
// this store and their live processes — a command while it runs jobs, kanri monitor, kanri
// serve — with each one's role, last heartbeat and lease (engine/managers.ts).
import { EXIT } from './exit-codes.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import type { Db } from '../store/db.js';
import { withStore } from '../open-store.js';
import { type ManagerProcess, liveProcesses, ownIdentity } from '../engine/managers.js';
import { deadHere, identityField } from '../store/process-identity.js';
import { monitorsOf } from '../monitor/monitors.js';
import { storeTables } from '../store/tables.js';

/**
 * What a manager's monitor does, for the MONITOR column and the JSON field monitor: how many
 * machines the hash ring gives it to poll (monitor/monitors.ts). The monitor's lease row and
 * its managers row name the same process (host and pid; each draws its own token).
 */
function monitorInfo(db: Db, tables: readonly string[]): (p: ManagerProcess) => string | undefined {
  const views = tables.includes('monitor_lease') ? monitorsOf(db).filter((v) => v.live) : [];
  return (p) => {
    if (p.role !== 'monitor') return undefined;
    const v = views.find((m) => m.host === identityField(p.owner, 'host') && m.pid === identityField(p.owner, 'pid'));
    return v ? `polls ${v.polls.length} machine${v.polls.length === 1 ? '' : 's'}` : undefined;
  };
}

interface Row extends ManagerProcess { monitor: string | undefined }

const COLUMNS: Array<Column<Row>> = [
  { header: 'MANAGER', key: 'manager', value: (p) => p.manager },
  { header: 'ROLE', key: 'role', value: (p) => p.role },
  { header: 'HOST', key: 'host', value: (p) => p.host },
  { header: 'PID', key: 'pid', value: (p) => p.pid },
  { header: 'JOBS', key: 'jobs', value: (p) => p.jobs },
  { header: 'STARTED', key: 'started_at', value: (p) => p.startedAt, time: true },
  { header: 'HEARTBEAT', key: 'heartbeat_at', value: (p) => p.heartbeatAt, time: true },
  { header: 'EXPIRES', key: 'expires_at', value: (p) => p.expiresAt, time: true },
  { header: 'MONITOR', key: 'monitor', value: (p) => p.monitor ?? null },
];

/**
 * The live processes of every manager: lease unexpired, and not proven dead on this host. A
 * store of an older schema (opened read-only, so not migrated) records none.
 */
function liveManagers(db: Db, tables: readonly string[]): ManagerProcess[] {
  if (!tables.includes('managers')) return [];
  const me = ownIdentity();
  return liveProcesses(db).filter((p) => !deadHere(p.owner, me));
}

/** The live processes, each monitor with what the hash ring gives it to poll. */
function managerRows(db: Db): Row[] {
  const tables = storeTables(db);
  const info = monitorInfo(db, tables);
  return liveManagers(db, tables).map((p) => ({ ...p, monitor: info(p) }));
}

/** One line for kanri store status (`tables`: the store's, read once there): each live manager with its processes by role. */
export function managersLine(db: Db, tables: readonly string[]): string {
  const by = new Map<string, Map<string, number>>();
  for (const p of liveManagers(db, tables)) {
    const roles = by.get(p.manager) ?? new Map<string, number>();
    roles.set(p.role, (roles.get(p.role) ?? 0) + 1);
    by.set(p.manager, roles);
  }
  if (by.size === 0) return 'managers: none alive (a manager shows here while one of its processes runs jobs, kanri monitor or kanri serve)';
  return `managers: ${[...by].map(([m, roles]) => `${m} (${[...roles].map(([r, n]) => `${r} ${n}`).join(', ')})`).join(', ')}`;
}

export function managerList(dbPath: string, json = false): number {
  return withStore(dbPath, (db) => {
    process.stdout.write(renderListing(managerRows(db), COLUMNS, listingMode(json)));
    return EXIT.OK;
  }, { readonly: true });
}
