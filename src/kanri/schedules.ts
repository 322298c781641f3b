// kanri schedule add | list | remove: scheduled power operations of a group, run by the
// monitor (src/monitor/schedules.ts) at the times of a cron expression.
import { EXIT } from './exit-codes.js';
import { withStore } from '../open-store.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { complain } from '../cli/messages.js';
import { CronError, nextRun, parseCron } from '../util/cron.js';
import { SCHEDULE_OPERATIONS, type ScheduleListing, type ScheduleOperation, addSchedule, listSchedules, removeSchedule } from '../monitor/schedules.js';
import { warnWithoutMonitor } from './monitor-cli.js';
import { isoWithOffset } from '../util/time.js';

export async function scheduleAdd(dbPath: string, group: string, operation: string, o: { at: string; runLate?: boolean }): Promise<number> {
  if (!(SCHEDULE_OPERATIONS as readonly string[]).includes(operation)) {
    complain('kanri', `the operation must be one of ${SCHEDULE_OPERATIONS.join(', ')}, not '${operation}'`);
    return EXIT.USAGE;
  }
  let cron;
  try {
    cron = parseCron(o.at);
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    complain('kanri', `--at is not a cron expression: ${e.message}`);
    return EXIT.USAGE;
  }
  const next = nextRun(cron, new Date());
  if (!next) {
    complain('kanri', `--at '${o.at}' never comes (no such date in the next 8 years)`);
    return EXIT.USAGE;
  }
  const code = withStore(dbPath, (db) => {
    const r = resolvePath(db, group);
    if (!isResolved(r) || r.kind !== 'group') {
      complain('kanri', `group not found: ${group}`);
      return EXIT.NOT_FOUND;
    }
    const id = addSchedule(db, { groupId: r.group.id, groupPath: group, operation: operation as ScheduleOperation, cron, runLate: !!o.runLate, by: `uid ${process.getuid?.() ?? '?'}` });
    process.stdout.write(`schedule ${id}: ${operation} ${group} at '${cron.text}'; next ${isoWithOffset(next.toISOString())}${o.runLate ? '; a missed run runs late' : ''}\n`);
    return EXIT.OK;
  });
  if (code !== 0) return code;
  warnWithoutMonitor(dbPath, 'no monitor is running on this store: schedules run only while kanri monitor runs');
  return EXIT.OK;
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
    return EXIT.OK;
  });
}

export function scheduleRemove(dbPath: string, id: string): number {
  if (!/^\d{1,9}$/.test(id)) {
    complain('kanri', `a schedule is named by its number (kanri schedule list), not '${id}'`);
    return EXIT.USAGE;
  }
  return withStore(dbPath, (db) => {
    if (!removeSchedule(db, Number(id))) {
      complain('kanri', `schedule not found: ${id}`);
      return EXIT.NOT_FOUND;
    }
    return EXIT.OK;
  });
}
