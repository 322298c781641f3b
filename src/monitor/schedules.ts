// Scheduled operations (seed 000 L1159, L1269, L1668, L1675: スケジュール運転, 複数台のスケジュ
// ール運転): power on, shut down or restart every active machine of a group at the times of
// a cron expression, run by the monitor as jobs of the engine (origin schedule). Every
// second the monitor looks at each schedule's due times since it last looked:
//   - a due time at most monitor.schedule_grace_s old runs now;
//   - older ones (the monitor was stopped, the machine slept) are missed: recorded, logged
//     and raised as kanriSchedule[0x80000001] for the group's policy — never run late,
//     unless the schedule was added with --run-late, then only the last of them, once.
// A due time is claimed by moving the schedule's checked_until from the value read to the
// new one and inserting its run row, in one transaction (under the monitor's lease, which it
// re-checks): a second monitor on the same store finds checked_until moved and takes
// nothing, so no due time runs twice, whichever manager's monitor looks first.
//
// With several managers on one store (docs/architecture.md, "Several managers"):
//   - "now" is the store's clock (dialect.ts storeNow), never a process's: a monitor whose
//     host's clock runs ahead would otherwise claim a due time before it is due (and the
//     schedule's next times as missed); times written here are the store's too;
//   - a run records its runner (the monitor's lease holder); a run left 'running' is marked
//     interrupted only once its runner's lease is gone (at start: the previous monitor of this
//     manager; while running: a monitor that died), never while another live monitor runs it;
//   - a cron expression is read in the schedule's time zone (time_zone, recorded when it was
//     added), never in the monitor's own (its TZ): managers in other zones find the same
//     instants due. A schedule without one (added before schedules V3) is read in the local
//     zone of the monitor that looks, as it was then.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import type { Engine } from '../engine/service.js';
import { settledOutcome } from '../engine/outcome.js';
import { formatJobId } from '../engine/plan.js';
import { EngineError } from '../engine/errors.js';
import { type Cron, CronError, nextRun, parseCron, runsBetween } from '../util/cron.js';
import { kanriEvent } from './catalogue.js';
import type { Intake } from './intake.js';
import { monitorNumber } from './settings.js';
import { groupPath } from './policy.js';
import { storeNow } from '../store/dialect.js';
import { holdsLease, orphanedFor } from './lease.js';

export const SCHEDULE_OPERATIONS = ['poweron', 'shutdown', 'reboot'] as const;
export type ScheduleOperation = (typeof SCHEDULE_OPERATIONS)[number];

export const SCHEDULE_MISSED = kanriEvent('kanriSchedule', 0x80000001);
export const SCHEDULE_FAILED = kanriEvent('kanriSchedule', 0xC0000002);

const TICK_MS = 1000;
/** Missed due times recorded one by one (the newest); more are counted in the event's detail. */
const MISSED_ROWS = 100;
/** Due times looked at in one pass of one schedule (a minute-by-minute schedule stopped for two months). */
const SCAN_LIMIT = 100_000;

export interface ScheduleRow {
  id: number;
  group_id: number | null;
  group_path: string;
  operation: ScheduleOperation;
  cron: string;
  /** IANA name; null: the monitor's local zone (a schedule added before schedules V3). */
  time_zone: string | null;
  run_late: number;
  created_at: string;
  checked_until: string;
}

export interface ScheduleListing extends ScheduleRow {
  next: string | null;
  last: { due_at: string; status: string; detail: string } | null;
  missed: number;
}

// ---- the table, for kanri schedule add | list | remove ------------------------------------

/** The store's clock now (dialect.ts storeNow): the one every monitor decides due times by. */
export function storeTime(db: Db): Date {
  return new Date((prepared(db, `SELECT ${storeNow(db)} AS now`).get() as { now: string }).now);
}

export function addSchedule(db: Db, s: { groupId: number; groupPath: string; operation: ScheduleOperation; cron: Cron; timeZone: string; runLate: boolean; by: string }): number {
  // Checked from now by the store's clock: a command on a host whose clock runs ahead would
  // otherwise mark the due times up to its own "now" as handled.
  const now = storeNow(db);
  return Number(prepared(db, `INSERT INTO schedules (group_id, group_path, operation, cron, time_zone, run_late, created_at, created_by, checked_until)
    VALUES (?, ?, ?, ?, ?, ?, ${now}, ?, ${now})`).run(s.groupId, s.groupPath, s.operation, s.cron.text, s.timeZone, s.runLate ? 1 : 0, s.by).lastInsertRowid);
}

export function removeSchedule(db: Db, id: number): boolean {
  return prepared(db, 'DELETE FROM schedules WHERE id = ?').run(id).changes > 0;
}

export function listSchedules(db: Db, now = storeTime(db)): ScheduleListing[] {
  const rows = prepared(db, 'SELECT id, group_id, group_path, operation, cron, time_zone, run_late, created_at, checked_until FROM schedules ORDER BY id').all() as ScheduleRow[];
  return rows.map((r) => {
    let next: string | null = null;
    try {
      next = nextRun(parseCron(r.cron), now, r.time_zone ?? undefined)?.toISOString() ?? null;
    } catch {
      // A row another version wrote: shown without a next time.
    }
    const last = (prepared(db, "SELECT due_at, status, detail FROM schedule_runs WHERE schedule_id = ? AND status <> 'missed' ORDER BY due_at DESC LIMIT 1").get(r.id) as ScheduleListing['last'] | undefined) ?? null;
    const missed = (prepared(db, "SELECT count(*) AS n FROM schedule_runs WHERE schedule_id = ? AND status = 'missed'").get(r.id) as { n: number }).n;
    const path = r.group_id !== null ? groupPath(db, r.group_id) : r.group_path;
    return { ...r, group_path: path, next, last, missed };
  });
}

// ---- the monitor's part ------------------------------------------------------------------

interface Due { schedule: ScheduleRow; at: Date; late: boolean }

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly unknownZone = new Set<number>();
  private stopped = false;

  /**
   * `holder`: this monitor's lease holder, recorded as the runner of its runs; unset (a
   * monitor without a lease, the only one): every run left running is taken over at start.
   */
  constructor(
    private readonly d: { db: Db; engine: Engine; intake: Intake; log: (line: string) => void; holder?: string },
  ) {}

  /** Runs left 'running' by a monitor that is gone are interrupted; then a look every second. */
  start(): void {
    this.stopped = false;
    this.takeOver(true);
    const loop = (): void => {
      if (this.stopped) return;
      try {
        if (this.d.holder !== undefined) this.takeOver(false);
        this.tick();
      } catch (e) {
        this.d.log(`schedules: ${(e as Error).message}`);
      }
      this.timer = setTimeout(loop, TICK_MS);
      this.timer.unref();
    };
    loop();
  }

  /** Stops looking; the runs already started end with the engine's drain (then settled() resolves). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /**
   * Marks interrupted the runs whose runner's lease is gone (it died, or lost the store): their
   * jobs are the engine's to abandon (jobs.ts sweepAbandoned). Without a lease, the only
   * monitor takes every run left running, at start only.
   */
  private takeOver(starting: boolean): void {
    const { db, holder } = this.d;
    const running = prepared(db, "SELECT schedule_id, due_at, runner FROM schedule_runs WHERE status = 'running' ORDER BY schedule_id, due_at");
    const gone = (): Array<{ schedule_id: number; due_at: string }> => {
      const runs = running.all() as Array<{ schedule_id: number; due_at: string; runner: string | null }>;
      if (holder === undefined) return starting ? runs : [];
      const orphan = orphanedFor(db, holder);
      return runs.filter((r) => orphan(r.runner));
    };
    // Read first: a look that finds nothing to take writes nothing (it runs every second).
    if (gone().length === 0) return;
    const n = db.transaction(() => {
      // Decided again inside the transaction, against the leases as they are now.
      const mark = prepared(db, `UPDATE schedule_runs SET status = 'interrupted', ended_at = ${storeNow(db)}, detail = 'the monitor that ran it ended (its lease is gone); see its jobs' WHERE schedule_id = ? AND due_at = ? AND status = 'running'`);
      return gone().reduce((k, r) => k + mark.run(r.schedule_id, r.due_at).changes, 0);
    })() as number;
    if (n) this.d.log(`schedules: ${n} run(s) left running by a monitor that ended marked interrupted`);
  }

  /** One look at every schedule, at `now` (by default the store's clock). */
  tick(now = storeTime(this.d.db)): void {
    const { db } = this.d;
    const rows = prepared(db, 'SELECT id, group_id, group_path, operation, cron, time_zone, run_late, created_at, checked_until FROM schedules ORDER BY id').all() as ScheduleRow[];
    const graceMs = monitorNumber(db, 'monitor.schedule_grace_s') * 1000;
    for (const s of rows) this.take(s, now, graceMs);
  }

  /**
   * Handles the due times of one schedule as read in `s`: claims them, records the missed
   * ones and starts the one to run. False when they were claimed since `s` was read.
   */
  take(s: ScheduleRow, now: Date, graceMs = monitorNumber(this.d.db, 'monitor.schedule_grace_s') * 1000): boolean {
    let cron: Cron;
    try {
      cron = parseCron(s.cron);
    } catch (e) {
      if (e instanceof CronError) return false;
      throw e;
    }
    let due: Date[];
    try {
      due = runsBetween(cron, new Date(s.checked_until), now, SCAN_LIMIT, s.time_zone ?? undefined);
    } catch (e) {
      // A zone this host's time zone data does not know (an older one than the adding host's):
      // this monitor leaves the schedule to one that knows it, and says so once.
      if (!(e instanceof RangeError)) throw e;
      if (!this.unknownZone.has(s.id)) this.d.log(`schedules: schedule ${s.id}: time zone ${s.time_zone} unknown here (${e.message}); not run by this monitor`);
      this.unknownZone.add(s.id);
      return false;
    }
    if (!due.length) return false;
    const onTime = due.filter((t) => now.getTime() - t.getTime() <= graceMs);
    let run: Due | undefined;
    if (onTime.length) run = { schedule: s, at: onTime[onTime.length - 1]!, late: false };
    else if (s.run_late) run = { schedule: s, at: due[due.length - 1]!, late: true };
    const missed = due.filter((t) => t !== run?.at);
    const claimed = this.claim(s, due[due.length - 1]!, run, missed, now);
    if (claimed && run) this.launch(run);
    return claimed;
  }

  /** Takes the due times of one schedule, in one transaction; false when another monitor took them. */
  private claim(s: ScheduleRow, until: Date, run: Due | undefined, missed: Date[], now: Date): boolean {
    const { db, intake } = this.d;
    const path = s.group_id !== null ? groupPath(db, s.group_id) : s.group_path;
    return db.transaction(() => {
      // A monitor that lost its lease (paused past it, cut off from the store) claims nothing.
      if (this.d.holder !== undefined && !holdsLease(db, this.d.holder)) return false;
      const moved = prepared(db, 'UPDATE schedules SET checked_until = ? WHERE id = ? AND checked_until = ?').run(until.toISOString(), s.id, s.checked_until).changes;
      if (!moved) return false;
      const ins = prepared(db, 'INSERT INTO schedule_runs (schedule_id, due_at, status, late, started_at, detail, runner) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (schedule_id, due_at) DO NOTHING');
      const runner = this.d.holder ?? null;
      for (const t of missed.slice(-MISSED_ROWS)) ins.run(s.id, t.toISOString(), 'missed', 0, null, 'not run at its time (the monitor was not running)', runner);
      if (run && ins.run(s.id, run.at.toISOString(), 'running', run.late ? 1 : 0, now.toISOString(), '', runner).changes === 0) run = undefined;
      if (missed.length) {
        const span = missed.length === 1 ? missed[0]!.toISOString() : `${missed[0]!.toISOString()} to ${missed[missed.length - 1]!.toISOString()}`;
        const detail = `schedule ${s.id} (${s.operation} ${path} at '${s.cron}'): ${missed.length} run(s) missed, ${span}${run?.late ? `; the last runs late (run-late)` : ''}`;
        this.d.log(`schedules: ${detail}`);
        if (s.group_id !== null) {
          const r = intake.receive({ source: 'SystemMonitorEvent', event: SCHEDULE_MISSED, group: path, origin: 'schedule', sender: `schedule ${s.id}`, detail });
          if (!r.ok) this.d.log(`schedules: ${SCHEDULE_MISSED} not taken: ${r.reason}`);
        }
        intake.flush();
      }
      return true;
    })() as boolean;
  }

  private launch(run: Due): void {
    const p = this.execute(run).catch((e: unknown) => this.d.log(`schedules: schedule ${run.schedule.id}: ${(e as Error).message}`));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async execute({ schedule: s, at, late }: Due): Promise<void> {
    const { db, engine, intake } = this.d;
    const due = at.toISOString();
    const end = (status: string, jobs: string, detail: string): void => {
      prepared(db, `UPDATE schedule_runs SET status = ?, ended_at = ${storeNow(db)}, jobs = ?, detail = ? WHERE schedule_id = ? AND due_at = ?`).run(status, jobs, detail, s.id, due);
      this.d.log(`schedules: schedule ${s.id} ${s.operation} ${s.group_path} due ${due}: ${status}${detail ? `: ${detail}` : ''}`);
      if (status !== 'completed' && s.group_id !== null) {
        intake.receive({ source: 'SystemMonitorEvent', event: SCHEDULE_FAILED, group: groupPath(db, s.group_id), origin: 'schedule', sender: `schedule ${s.id}`, detail: `schedule ${s.id} (${s.operation} due ${due}): ${status}: ${detail}` });
        intake.flush();
      }
    };
    if (s.group_id === null) return end('failed', '', `the group ${s.group_path} no longer exists`);
    const path = groupPath(db, s.group_id);
    this.d.log(`schedules: schedule ${s.id} ${s.operation} ${path} due ${due}${late ? ' (late, run-late)' : ''}: starting`);
    try {
      const r = await engine.run({ action: 'power', cmd: s.operation, group: path, hosts: [] }, { origin: 'schedule', command: `schedule ${s.id} ${s.operation} ${path} due ${due}` });
      const jobs = r.jobs.map((j) => formatJobId(j.id)).join(',');
      const detail = r.jobs.filter((j) => j.outcome !== 'completed').map((j) => `job ${formatJobId(j.id)} ${j.machine}: ${j.outcome}${j.error ? ` (${j.error})` : ''}`).join('; ');
      end(settledOutcome(r), jobs, detail);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      end('failed', '', e.message);
    }
  }
}
