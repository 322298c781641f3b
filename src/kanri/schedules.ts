// kanri schedule add | list | remove: scheduled power operations of a group, run by the
// monitor (src/monitor/schedules.ts) at the times of a cron expression.
import { withStore } from '../store/db.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { type Column, isoWithOffset, listingMode, renderListing } from '../cli/listing.js';
import { complain } from '../cli/messages.js';
import { CronError, nextRun, parseCron } from '../util/cron.js';
import { SCHEDULE_OPERATIONS, type ScheduleListing, type ScheduleOperation, addSchedule, listSchedules, removeSchedule } from '../monitor/schedules.js';
import { warnWithoutMonitor } from './monitor-cli.js';

export async function scheduleAdd(dbPath: string, group: string, operation: string, o: { at: string; runLate?: boolean }): Promise<number> {
  if (!(SCHEDULE_OPERATIONS as readonly string[]).includes(operation)) {
    complain('kanri', `the operation must be one of ${SCHEDULE_OPERATIONS.join(', ')}, not '${operation}'`);
    return 1;
  }
  let cron;
  try {
    cron = parseCron(o.at);
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    complain('kanri', `--at is not a cron expression: ${e.message}`);
    return 1;
  }
  const next = nextRun(cron, new Date());
  if (!next) {
    complain('kanri', `--at '${o.at}' never comes (no such date in the next 8 years)`);
    return 1;
  }
  const code = withStore(dbPath, (db) => {
    const r = resolvePath(db, group);
    if (!isResolved(r) || r.kind !== 'group') {
      complain('kanri', `group not found: ${group}`);
      return 2;
    }
    const id = addSchedule(db, { groupId: r.group.id, groupPath: group, operation: operation as ScheduleOperation, cron, runLate: !!o.runLate, by: `uid ${process.getuid?.() ?? '?'}` });
    process.stdout.write(`schedule ${id}: ${operation} ${group} at '${cron.text}'; next ${isoWithOffset(next.toISOString())}${o.runLate ? '; a missed run runs late' : ''}\n`);
    return 0;
  });
  if (code !== 0) return code;
  warnWithoutMonitor(dbPath, 'no monitor is running on this store: schedules run only while kanri monitor runs');
  return 0;
}

const COLUMNS: Array<Column<ScheduleListing>> = [
  { header: 'ID', key: 'id', value: (s) => s.id },
  { header: 'GROUP', key: 'group', value: (s) => (s.group_id === null ? `${s.group_path} (removed)` : s.group_path) },
  { header: 'OPERATION', key: 'operation', value: (s) => s.operation },
  { header: 'AT', key: 'cron', value: (s) => s.cron },
  { header: 'RUN-LATE', key: 'run_late', value: (s) => !!s.run_late },
  { header: 'NEXT', key: 'next', value: (s) => s.next, time: true },
  { header: 'LAST', key: 'last_due', value: (s) => s.last?.due_at ?? null, time: true },
  { header: 'RESULT', key: 'last_status', value: (s) => s.last?.status ?? '-', status: true },
  { header: 'MISSED', key: 'missed', value: (s) => s.missed },
];

export function scheduleList(dbPath: string, json: boolean): number {
  return withStore(dbPath, (db) => {
    process.stdout.write(renderListing(listSchedules(db), COLUMNS, listingMode(json)));
    return 0;
  });
}

export function scheduleRemove(dbPath: string, id: string): number {
  if (!/^\d{1,9}$/.test(id)) {
    complain('kanri', `a schedule is named by its number (kanri schedule list), not '${id}'`);
    return 1;
  }
  return withStore(dbPath, (db) => {
    if (!removeSchedule(db, Number(id))) {
      complain('kanri', `schedule not found: ${id}`);
      return 2;
    }
    return 0;
  });
}
