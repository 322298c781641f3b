// Polling every managed machine's controller (a machine with a controller registration)
// through the registry, at most monitor.poll_fanout at a time, every monitor.poll_s:
// info.check (else power.state) says whether it answers. monitor.poll_failures polls in a
// row without an answer make ESMDSVNT[0xC0000002] (machine inaccessible), once; the first
// answer after it makes ESMDSVNT[0x40000001]. New entries of the controller's event log
// (SEL) become BMC events, once each: the first read only takes the baseline; so do drives
// and volumes whose health degrades (disk-health.ts).
//
// With several monitors (managers on one PostgreSQL store) each round polls only the machines
// the hash ring gives this monitor's manager (ring.ts), computed afresh every round from the
// live leases: a monitor whose lease expired drops out and the survivors take its machines at
// their next round. A machine's poll state is read and written in one transaction, so that a
// machine that changes hands mid-round is never raised twice; the row says which manager
// polled it last and how many polls in a row it did (polled_by, polls).
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { bindController } from '../adapters/registry.js';
import { CONTROLLER_COLUMNS, type ControllerRow } from '../adapters/controller.js';
import { DriverError, type LogEntry, type StorageItem } from '../adapters/types.js';
import { diskChanges } from './disk-health.js';
import { fanOutAll } from '../util/fanout.js';
import { Counters } from './counters.js';
import { bmcEvent } from './catalogue.js';
import type { Intake } from './intake.js';
import { DEFAULT_MANAGER } from './lease.js';
import { monitorNumber } from './settings.js';
import { POLLED_MACHINES, machineKey, shareOf } from './ring.js';

const INACCESSIBLE = 'ESMDSVNT[0xC0000002]';
const ACCESSIBLE = 'ESMDSVNT[0x40000001]';
/** SEL entries read per poll; more new ones between two polls than this are not all seen. */
const SEL_WINDOW = 64;

interface PollState { failures: number; inaccessible: number; sel_seen: string | null }

/** A controller that does not answer, as opposed to one that answers and refuses (a wrong password). */
function noAnswer(e: unknown): boolean {
  if (!(e instanceof DriverError)) return true;
  // An authentication failure is no proof of life: anyone on the path can answer a login with
  // a refusal (or a corrupted key exchange), and a controller kanri cannot log in to cannot be
  // managed either.
  return e.layer === 'network' || e.layer === 'controller' || e.layer === 'protocol' || e.layer === 'authentication';
}

const entryKey = (e: LogEntry): string => createHash('sha1').update(`${e.recordId}|${e.timestamp ?? ''}|${e.raw ?? e.description}`).digest('hex').slice(0, 16);

/** The BMC event of a SEL system-event record (type 02h), decoded from its raw bytes. */
export function selEvent(e: LogEntry): string | undefined {
  if (e.recordType !== 0x02 || !e.raw || e.raw.length < 32) return undefined;
  const b = Buffer.from(e.raw, 'hex');
  return bmcEvent(b[10]!, b[12]! & 0x7f, b[13]! & 0x0f, (b[12]! & 0x80) !== 0);
}

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private ctl = new AbortController();

  /**
   * How long each answered poll took (poll_ms, polls): the polling latency /metrics shows;
   * and the rounds done (poll_rounds), which tell a watcher that a poll saw every controller.
   */
  private readonly latency: Counters;

  /**
   * `manager`: this monitor's manager, which polls its share of the ring; unset (a monitor
   * without a lease, the demo) polls every machine.
   */
  constructor(private readonly db: Db, private readonly intake: Intake, private readonly log: (line: string) => void, private readonly manager?: string) {
    this.latency = new Counters(db);
  }

  /** Polls now and then every monitor.poll_s (0: not at all). */
  start(): void {
    this.stopTimer();
    this.ctl = new AbortController();
    const s = monitorNumber(this.db, 'monitor.poll_s');
    if (!(s > 0)) return;
    const loop = (): void => {
      this.running = this.pollOnce().catch((e: unknown) => this.log(`polling: ${(e as Error).message}`)).finally(() => {
        this.running = undefined;
        if (!this.ctl.signal.aborted) {
          this.timer = setTimeout(loop, s * 1000);
          this.timer.unref();
        }
      });
    };
    loop();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async stop(): Promise<void> {
    this.stopTimer();
    this.ctl.abort(new Error('the monitor is stopping'));
    await this.running;
  }

  /** One round over every managed controller this monitor's share of the ring holds. */
  async pollOnce(): Promise<void> {
    const { db } = this;
    const mine = shareOf(db, this.manager);
    const rows = (db.prepare(`SELECT ${CONTROLLER_COLUMNS} FROM machines WHERE ${POLLED_MACHINES} ORDER BY id`).all() as ControllerRow[]).filter((r) => mine(machineKey(r.id)));
    const deadlineMs = monitorNumber(db, 'monitor.poll_timeout_s') * 1000;
    const threshold = monitorNumber(db, 'monitor.poll_failures');
    await fanOutAll(rows, async (row, _i, signal) => {
      const ctx = { db, signal, log: () => undefined };
      let answered = true;
      let reason = '';
      let entries: LogEntry[] | undefined;
      let disks: StorageItem[] | undefined;
      const t0 = Date.now();
      try {
        const c = await bindController(db, row, {});
        if (c.info.check) await c.info.check(ctx, c.machine, { deadlineMs, retries: 1 });
        else await c.power.state(ctx, c.machine, { deadlineMs, retries: 1 });
        if (c.info.log) entries = await c.info.log(ctx, c.machine, { deadlineMs, retries: 1, last: SEL_WINDOW }).catch(() => undefined);
        if (c.info.storage) disks = await c.info.storage(ctx, c.machine, { deadlineMs, retries: 1 }).catch(() => undefined);
      } catch (e) {
        if (signal.aborted) return;
        reason = (e as Error).message;
        answered = !noAnswer(e);
        if (answered) this.log(`poll of ${row.name}: the controller answered but refused: ${reason}`);
      }
      if (signal.aborted) return;
      if (answered && !reason) {
        this.latency.add('poll_ms', Date.now() - t0);
        this.latency.add('polls');
      }
      this.record(row, answered, reason, entries, threshold, disks);
    }, { concurrency: monitorNumber(db, 'monitor.poll_fanout'), signal: this.ctl.signal });
    if (!this.ctl.signal.aborted) {
      this.latency.add('poll_rounds');
      // once a round: a watcher waiting for the round sees it as soon as it is done
      this.latency.flush(true);
    }
  }

  private record(row: ControllerRow, answered: boolean, reason: string, entries: LogEntry[] | undefined, threshold: number, disks?: StorageItem[]): void {
    // The state is read where it is written, in one write transaction: another monitor that
    // polled the machine a moment ago (the ring changed in between) is seen, not overwritten.
    this.db.transaction(() => this.recordIn(row, answered, reason, entries, threshold, disks))();
  }

  private recordIn(row: ControllerRow, answered: boolean, reason: string, entries: LogEntry[] | undefined, threshold: number, disks?: StorageItem[]): void {
    const { db } = this;
    const st = (db.prepare('SELECT failures, inaccessible, sel_seen FROM monitor_poll_state WHERE machine_id = ?').get(row.id) as PollState | undefined) ?? { failures: 0, inaccessible: 0, sel_seen: null };
    const raise = (event: string, detail: string): void => {
      const r = this.intake.receive({ source: 'SystemMonitorEvent', event, machineId: row.id, origin: 'poll', sender: row.bmc_address ?? row.mgmt_type ?? '', detail });
      if (!r.ok) this.log(`poll of ${row.name}: ${event} not taken: ${r.reason}`);
    };
    let { failures, inaccessible, sel_seen: seen } = st;
    if (!answered) {
      failures++;
      if (failures >= threshold && !inaccessible) {
        inaccessible = 1;
        raise(INACCESSIBLE, `no answer from the controller in ${failures} polls: ${reason}`);
      }
    } else {
      if (inaccessible) raise(ACCESSIBLE, `the controller answers again after ${failures} unanswered polls`);
      failures = 0;
      inaccessible = 0;
    }
    if (entries) {
      const keys = entries.map(entryKey);
      if (seen !== null) {
        const before = new Set(JSON.parse(seen) as string[]);
        entries.forEach((e, i) => {
          const ev = before.has(keys[i]!) ? undefined : selEvent(e);
          if (ev) raise(ev, `SEL ${e.id} ${e.time} ${e.sensorType ?? ''}: ${e.description}`.trim());
        });
      }
      seen = JSON.stringify(keys);
    }
    const disk = disks ? diskChanges(db, row.id, disks) : undefined;
    for (const e of disk?.events ?? []) raise(e.event, e.detail);
    // The events and the state that says they were raised commit together: each once.
    this.intake.flush();
    disk?.commit();
    this.latency.flush();
    db.prepare(
    `INSERT INTO monitor_poll_state (machine_id, failures, inaccessible, sel_seen, polled_at, polled_by, polls) VALUES (?, ?, ?, ?, ?, ?, 1)
     ON CONFLICT (machine_id) DO UPDATE SET failures = excluded.failures, inaccessible = excluded.inaccessible, sel_seen = excluded.sel_seen, polled_at = excluded.polled_at,
       polls = CASE WHEN monitor_poll_state.polled_by = excluded.polled_by THEN monitor_poll_state.polls + 1 ELSE 1 END, polled_by = excluded.polled_by`,
    ).run(row.id, failures, inaccessible, seen, new Date().toISOString(), this.manager ?? DEFAULT_MANAGER);
  }
}
