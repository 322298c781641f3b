// kanri monitor: the event-driven half as one long-running process per store (per manager on
// a shared store). It takes the store's lease (lease.ts; a second monitor exits), finishes what
// the last one left (abandoned jobs, chains in the middle), starts the intake (trap receiver,
// HTTP endpoint, polling; events other processes queued), decides every queued event and runs
// the chains, each decision and start claimed under the lease. SIGHUP re-reads the settings
// (a burst of them is one re-read); SIGTERM stops the intake, gives running policy jobs and
// chains monitor.drain_s to end (Engine.drain; mail canceled at the bound) and leaves what is
// pending in the store for the next start; a second SIGTERM or SIGINT during the drain is
// logged and ignored. It logs one line per event and per action to stderr, never a secret.
//
// On a PostgreSQL store shared by several managers every manager's monitor runs at once, each
// holding its manager's lease: their intakes store an event received by several once (intake.ts),
// each decision and chain is claimed by one of them (chains.ts), polling is spread over them by
// a hash ring (ring.ts), and a monitor whose lease expired has its chains taken over by the
// survivors within a beat of its expiry (recoverOrphans).
import type { Db } from '../store/db.js';
import { openStore } from '../open-store.js';
import { requireStoreKey } from '../store/secrets.js';
import { Engine } from '../engine/service.js';
import { sweepAbandoned } from '../engine/jobs.js';
import { receiverWasDown, writeServiceEvent } from '../engine/events.js';
import { isBusy, withBusyTimeout } from '../store/busy.js';
import { Alerts } from './alerts.js';
import { ChainRunner, ClaimLost } from './chains.js';
import { Counters } from './counters.js';
import { Forwarder } from './forwarding.js';
import { Intake, type QueuedEvent, pruneEvents, undecided } from './intake.js';
import { Notifier } from './notify.js';
import { Poller } from './polling.js';
import { monitorNumber, monitorSetting, parseHostPort } from './settings.js';
import { TrapReceiver } from './traps.js';
import { RedfishIntake } from './redfish.js';
import { Webhook } from './webhook.js';
import { VmEventIntake } from './vm-events.js';
import { Watchers } from './watchers.js';
import { DEFAULT_MANAGER, Lease, monitorManager } from './lease.js';
import { printableLine } from '../util/peer-gate.js';
import { wait } from '../util/wait.js';

const TICK_MS = 250;
/**
 * How long one write of the monitor waits for the store before it is tried again later: the
 * event loop, which also answers HTTP and reads the trap socket, never waits long on another
 * process's lock.
 */
const STORE_WAIT_MS = 50;
const DECIDE_BATCH = 200;

export interface MonitorOptions {
  log?: (line: string) => void;
  /** The store's lease this monitor holds: every decision and start is claimed under it. */
  lease?: Lease;
  /** The lease was lost (another monitor took it): the monitor must stop. */
  onLeaseLost?: (why: string) => void;
}

/** The monitor's parts, started and stopped together; one per store. */
export class Monitor {
  readonly intake: Intake;
  readonly counters: Counters;
  readonly forwarder: Forwarder;
  readonly traps: TrapReceiver;
  readonly webhook: Webhook;
  readonly redfish: RedfishIntake;
  readonly vmEvents: VmEventIntake;
  readonly poller: Poller;
  readonly watchers: Watchers;
  readonly chains: ChainRunner;
  readonly engine: Engine;
  private readonly alerts: Alerts;
  private timer: NodeJS.Timeout | undefined;
  private kicked = false;
  /** Events this process queued and has not decided yet (others' come from the store). */
  private fresh: QueuedEvent[] = [];
  private fromStore = false;
  private stopped = false;
  private stopping = false;
  private readonly log: (line: string) => void;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly notifier: Notifier;

  constructor(readonly db: Db, private readonly o: MonitorOptions = {}) {
    this.log = o.log ?? ((l) => process.stderr.write(`kanri monitor: ${printableLine(l)}\n`));
    this.engine = new Engine(db, { role: 'monitor' });
    this.counters = new Counters(db);
    this.forwarder = new Forwarder(this.log);
    this.alerts = new Alerts(db, () => monitorNumber(db, 'monitor.alerts_kept'), STORE_WAIT_MS);
    this.intake = new Intake(db, {
      onQueued: (e) => { this.fresh.push(e); this.kick(); },
      busyMs: STORE_WAIT_MS,
      onDuplicate: () => this.counters.add('duplicates'),
      onTrouble: (what, e) => {
        this.counters.add(what);
        this.storeTrouble(what === 'queue_full' ? 'the intake queue is full: events refused' : `events kept in memory until the store takes them (${this.intake.queued} waiting): ${e?.message ?? what}`);
      },
    });
    this.traps = new TrapReceiver({ db, intake: this.intake, forwarder: this.forwarder, alerts: this.alerts, counters: this.counters, log: this.log });
    this.webhook = new Webhook(this.intake, this.log);
    this.redfish = new RedfishIntake({ db, intake: this.intake, alerts: this.alerts, counters: this.counters, log: this.log });
    this.poller = new Poller(db, this.intake, this.log, o.lease?.manager);
    this.vmEvents = new VmEventIntake({ db, intake: this.intake, log: this.log, ...(o.lease ? { manager: o.lease.manager } : {}) });
    this.watchers = new Watchers({ db, engine: this.engine, intake: this.intake, log: this.log, ...(o.lease ? { manager: o.lease.manager, holder: o.lease.holder } : {}) });
    this.notifier = new Notifier(db, this.forwarder, this.log);
    const lease = o.lease;
    this.chains = new ChainRunner({
      db, engine: this.engine, notifier: this.notifier, log: this.log,
      coalesceSeconds: () => monitorNumber(db, 'monitor.coalesce_s'),
      ...(lease ? { claim: () => lease.holds(), runner: lease.holder } : {}),
    });
  }

  async start(): Promise<void> {
    const { db } = this;
    const swept = sweepAbandoned(db);
    if (swept.length) this.log(`jobs left by a process that ended: ${swept.join(', ')} marked abandoned`);
    for (const l of this.chains.recover()) this.log(l);
    writeServiceEvent(db, 'pvm-started');
    this.startHeartbeat();
    await this.startIntake();
    this.timer = setInterval(() => { this.fromStore = true; this.kick(); }, TICK_MS);
    this.fromStore = true;
    this.kick();
    this.log(`running (pid ${process.pid})${this.traps.address ? `; traps on ${this.traps.address.host}:${this.traps.address.port}` : ''}${this.webhook.address ? `; HTTP on ${this.webhook.address.host}:${this.webhook.address.port}` : ''}${this.redfish.address ? `; Redfish events on ${this.redfish.address.host}:${this.redfish.address.port}` : ''}${this.o.lease && this.o.lease.manager !== DEFAULT_MANAGER ? `; manager ${this.o.lease.manager}` : ''}`);
  }

  private async startIntake(): Promise<void> {
    const { db } = this;
    this.forwarder.reload(db);
    try {
      await this.traps.start();
      if (receiverWasDown(db)) writeServiceEvent(db, 'receiver-recovered');
    } catch (e) {
      // Said once, by the caller ("cannot start: …"), not here as well.
      writeServiceEvent(db, 'receiver-down', (e as Error).message);
      throw e;
    }
    await this.startWebhook();
    await this.redfish.start();
    this.poller.start();
    this.vmEvents.start();
    this.watchers.start();
  }

  /** The lease's heartbeat, every third of monitor.lease_s; a lost lease stops the monitor. */
  private startHeartbeat(): void {
    const lease = this.o.lease;
    if (!lease) return;
    // The lease was taken for monitor.lease_s as it was at the start; a reload does not change it.
    this.leaseThirdMs = monitorNumber(this.db, 'monitor.lease_s') * 1000 / 3;
    const every = Math.max(1000, this.leaseThirdMs);
    this.heartbeat = setInterval(() => {
      let held: boolean;
      try {
        held = withBusyTimeout(this.db, 1000, () => lease.renew());
      } catch (e) {
        // Busy: tried again at the next beat (the lease runs three beats).
        this.storeTrouble(`the lease heartbeat waits for the store: ${(e as Error).message}`);
        return;
      }
      if (!held) {
        clearInterval(this.heartbeat);
        this.o.onLeaseLost?.('another monitor took the lease on the store');
      }
    }, every);
    this.heartbeat.unref();
  }

  private async stopIntake(until: number): Promise<void> {
    await Promise.all([this.traps.close(), this.webhook.close(), this.redfish.close(), this.poller.stop(), this.watchers.stop(), this.vmEvents.close()]);
    // What was received and not written yet (the store was busy) gets a last chance, within the drain.
    for (;;) {
      this.intake.flush();
      this.alerts.flush();
      if (this.intake.queued === 0 || Date.now() > until) break;
      await wait(100);
    }
    if (this.intake.queued) this.log(`${this.intake.queued} received event(s) not written: the store stayed busy (none was acknowledged)`);
    this.intake.close();
    this.alerts.close();
    this.counters.flush(true);
  }

  /** SIGHUP: the settings, communities, users and forwarding destinations are read again. */
  async reload(): Promise<void> {
    const { db } = this;
    this.forwarder.reload(db);
    await this.traps.reload();
    const http = monitorSetting(db, 'monitor.http_listen');
    if (http !== this.httpText) {
      await this.webhook.close();
      await this.startWebhook();
    }
    await this.redfish.reload();
    await this.poller.stop();
    this.poller.start();
    await this.vmEvents.close();
    this.vmEvents.start();
    await this.watchers.reload();
    // counted, so that another process (a test, a health check) sees the re-read done
    this.counters.add('reloads');
    this.log('configuration re-read');
  }

  private httpText = '';

  private async startWebhook(): Promise<void> {
    const { db } = this;
    const http = monitorSetting(db, 'monitor.http_listen');
    this.httpText = http;
    if (!http) return;
    const hp = parseHostPort(http);
    if (!hp) throw new Error(`monitor.http_listen '${http}' is not address:port`);
    const token = monitorSetting(db, 'monitor.http_token_file');
    const hardwareEvents = /^(1|true|yes|on)$/i.test(monitorSetting(db, 'monitor.http_hardware_events'));
    await this.webhook.start({ ...hp, hardwareEvents, ...(token ? { tokenFile: token } : {}) });
  }

  private troubleAt = 0;

  /** A store that does not take the monitor's writes: one log line per 10 s at most. */
  private storeTrouble(line: string): void {
    const now = Date.now();
    if (now - this.troubleAt < 10_000) return;
    this.troubleAt = now;
    this.log(line);
  }

  /** Decides what is queued and starts what is due, soon (coalesces many calls into one). */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      if (this.stopped) return;
      try {
        withBusyTimeout(this.db, STORE_WAIT_MS, () => this.cycle());
      } catch (e) {
        if (e instanceof ClaimLost) {
          this.stopped = true;
          this.o.onLeaseLost?.(e.message);
        } else if (isBusy(e)) {
          // Tried again on the next tick; what was queued stays queued (in memory or in the store).
          this.counters.add('store_busy');
          this.storeTrouble(`the store is busy: deciding waits (${(e as Error).message})`);
        } else this.log(`policy engine: ${(e as Error).message}`);
      }
    });
  }

  /**
   * Decides at most DECIDE_BATCH queued events, starts what is due, and comes back for the
   * rest on the next turn: the loop keeps reading the trap socket while a storm is decided.
   */
  private cycle(start = true): void {
    this.intake.flush();
    let batch = this.fresh.splice(0, DECIDE_BATCH);
    if (batch.length === 0 && this.fromStore) {
      this.fromStore = false;
      batch = undecided(this.db, DECIDE_BATCH);
      if (batch.length === DECIDE_BATCH) this.fromStore = true;
    }
    if (batch.length) for (const l of this.chains.decide(batch)) this.log(l);
    if (start) {
      this.recoverOrphans();
      this.chains.tick();
      this.counters.add('chain_sweeps');
    }
    this.counters.flush();
    if (this.fresh.length || this.fromStore) this.kick();
    if (Math.random() < 0.01) pruneEvents(this.db, monitorNumber(this.db, 'monitor.events_kept'));
  }

  private orphansAt = Date.now();
  /** A third of the lease taken at the start (startHeartbeat): how often orphans are looked for. */
  private leaseThirdMs = 0;

  /**
   * Chains another monitor was running when its lease expired (it died, or lost the store):
   * looked for every third of monitor.lease_s, so that they go on (or are abandoned when their
   * action's effect is unknown) within one lease. Its jobs are swept first, so that an engine
   * action is judged by jobs marked abandoned rather than still running.
   */
  private recoverOrphans(): void {
    if (!this.o.lease || Date.now() - this.orphansAt < this.leaseThirdMs) return;
    this.orphansAt = Date.now();
    if (this.chains.orphans().length === 0) return;
    const swept = sweepAbandoned(this.db);
    if (swept.length) this.log(`jobs left by a process that ended: ${swept.join(', ')} marked abandoned`);
    for (const l of this.chains.recover()) this.log(`taken over from a monitor whose lease expired: ${l}`);
  }

  /** Stops intake, drains the chains' jobs within drainMs, keeps what is pending. */
  async stop(drainMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + drainMs;
    if (this.timer) clearInterval(this.timer);
    await this.stopIntake(Math.min(deadline, Date.now() + 5_000));
    // Events that arrived: decided now (within the drain), so that nothing received is left undecided longer than needed.
    try {
      for (let n = 0; n < 1000 && Date.now() < deadline && !this.stopped && (this.fresh.length || undecided(this.db, 1).length); n++) {
        this.fromStore = true;
        withBusyTimeout(this.db, STORE_WAIT_MS, () => this.cycle(false));
      }
    } catch (e) {
      this.log(`events left to the next start: ${(e as Error).message}`);
    }
    this.stopped = true;
    const r = await this.chains.stop(Math.max(0, deadline - Date.now()));
    await this.watchers.settled();
    if (r.canceled) this.log(`${r.canceled} change(s) still running after ${drainMs} ms were canceled`);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.counters.flush(true);
    this.forwarder.close();
    writeServiceEvent(this.db, 'pvm-stopping');
  }
}

// ---- one monitor per store -------------------------------------------------------------------

/** `kanri monitor`: runs in the foreground until SIGTERM or SIGINT; exit 0 after a clean stop. */
/** How long the first SIGHUP of a burst waits for the rest before the re-read starts. */
const HUP_GATHER_MS = 200;

export async function runMonitor(dbPath: string): Promise<number> {
  const log = (l: string): void => { process.stderr.write(`kanri monitor: ${printableLine(l)}\n`); };
  const db = openStore(dbPath);
  let manager: string;
  try {
    // A monitor with another key than the store's would fail on every secret it opens.
    requireStoreKey(db);
    // And one that cannot say which manager it speaks for could own nothing (ManagerNameError:
    // a store problem, one line from kanri's main).
    manager = monitorManager(db);
  } catch (e) {
    db.close();
    throw e;
  }
  const lease = Lease.take(db, monitorNumber(db, 'monitor.lease_s'), manager);
  if ('heldBy' in lease) {
    const h = lease.heldBy;
    const whose = manager === DEFAULT_MANAGER ? '' : ` for manager ${manager}`;
    process.stderr.write(`kanri monitor: another monitor (pid ${h.pid}) already runs on ${dbPath}${whose} (host ${h.host}; its lease runs until ${h.expiresAt})\n`);
    db.close();
    return 1;
  }
  let lost: ((why: string) => void) | undefined;
  const m = new Monitor(db, { log, lease, onLeaseLost: (why) => lost?.(why) });
  const release = (): void => {
    try {
      lease.release();
    } catch (e) {
      log(`the lease is left to expire: ${(e as Error).message}`);
    }
  };
  // Signals are caught from here on: one that arrives while the monitor starts waits for the
  // start (a SIGHUP then, or a SIGTERM, is handled once it runs) instead of ending the process.
  const early: string[] = [];
  let onSignal = (sig: string): void => { early.push(sig); };
  const signals: Array<[NodeJS.Signals, () => void]> = (['SIGHUP', 'SIGTERM', 'SIGINT'] as const).map((sig) => [sig, () => onSignal(sig)]);
  for (const [sig, h] of signals) process.on(sig, h);
  const unhook = (): void => { for (const [sig, h] of signals) process.off(sig, h); };
  try {
    await m.start();
  } catch (e) {
    log(`cannot start: ${(e as Error).message}`);
    await m.stop(0).catch(() => undefined);
    unhook();
    release();
    db.close();
    return 1;
  }
  return await new Promise<number>((resolve) => {
    let stopping = false;
    let reloading = false;
    let again = false;
    let gathering: NodeJS.Timeout | undefined;
    // A burst of SIGHUPs is one re-read (and one more if some came during it): never several at
    // once. The signals of a burst reach the process over several turns of the event loop, and a
    // re-read can end within one: the re-read starts HUP_GATHER_MS after the first signal, so that
    // a burst sent at once is one re-read however fast the machine is.
    const hup = (): void => {
      if (stopping) return;
      if (reloading) { again = true; return; }
      if (gathering) return;
      gathering = setTimeout(() => {
        gathering = undefined;
        if (stopping) return;
        reloading = true;
        m.reload().catch((e: unknown) => log(`configuration not re-read: ${(e as Error).message}`)).finally(() => {
          reloading = false;
          if (again && !stopping) { again = false; hup(); }
        });
      }, HUP_GATHER_MS);
    };
    const stop = (why: string, code: number, keepLease = false): void => {
      stopping = true;
      clearTimeout(gathering);
      const drainMs = monitorNumber(db, 'monitor.drain_s') * 1000;
      log(`${why}: stopping intake; running policy jobs have ${drainMs / 1000} s to end`);
      // The drain is bounded whatever runs: past it (and a moment to write what was cut off) the process ends.
      const hard = setTimeout(() => {
        log(`the drain did not end within monitor.drain_s (${drainMs / 1000} s): stopping now; what is left goes on at the next start`);
        finish(code);
      }, drainMs + 3000);
      hard.unref();
      let done = false;
      const finish = (c: number): void => {
        if (done) return;
        done = true;
        clearTimeout(hard);
        unhook();
        if (!keepLease) release();
        try { db.close(); } catch { /* a statement still running: the process ends anyway */ }
        log('stopped');
        resolve(c);
      };
      m.stop(drainMs).then(() => code, (e: unknown) => { log(`stop: ${(e as Error).message}`); return 1; }).then(finish);
    };
    const term = (sig: string): void => {
      if (stopping) {
        log(`${sig} during the drain: ignored (it ends within monitor.drain_s)`);
        return;
      }
      stop(sig, 0);
    };
    lost = (why) => {
      if (stopping) return;
      log(`${why}: this monitor stops`);
      stop('lease lost', 1, true);
    };
    onSignal = (sig) => (sig === 'SIGHUP' ? hup() : term(sig));
    const stop1 = early.find((x) => x !== 'SIGHUP');
    if (stop1) term(stop1);
    else if (early.length) hup();
  });
}
