// kanri schedule add | list | remove: scheduled power operations of a group, run by the
// monitor (src/monitor/schedules.ts) at the times of a cron expression.
import { EXIT } from './exit-codes.js';
import { withStore } from '../open-store.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { complain } from '../cli/messages.js';
import { CronError, canonicalZone, localZone, nextRun, parseCron } from '../util/cron.js';
import { SCHEDULE_OPERATIONS, type ScheduleListing, type ScheduleOperation, addSchedule, listSchedules, removeSchedule } from '../monitor/schedules.js';
import { warnWithoutMonitor } from './monitor-cli.js';
import { isoWithOffset } from '../util/time.js';

export async function scheduleAdd(dbPath: string, group: string, operation: string, o: { at: string; tz?: string; runLate?: boolean }): Promise<number> {
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
  // Recorded with the schedule: every monitor reads the expression in it, whatever its own TZ.
  const zone = canonicalZone(o.tz ?? localZone());
  if (!zone) {
    complain('kanri', o.tz === undefined ? `this process's time zone '${localZone()}' is not an IANA name: give one with --tz` : `--tz: unknown time zone '${o.tz}' (an IANA name such as Asia/Tokyo)`);
    return EXIT.USAGE;
  }
  const next = nextRun(cron, new Date(), zone);
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
    const id = addSchedule(db, { groupId: r.group.id, groupPath: group, operation: operation as ScheduleOperation, cron, timeZone: zone, runLate: !!o.runLate, by: `uid ${process.getuid?.() ?? '?'}` });
    process.stdout.write(`schedule ${id}: ${operation} ${group} at '${cron.text}' ${zone}; next ${isoWithOffset(next.toISOString())}${o.runLate ? '; a missed run runs late' : ''}\n`);
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
  { header: 'TZ', key: 'time_zone', value: (s) => s.time_zone ?? 'local' },
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
