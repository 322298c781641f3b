// kanri monitor: the event-driven half as one long-running process per store. It takes
// the store's lock (a second monitor exits), finishes what the last one left (abandoned jobs,
// chains in the middle), starts the intake (trap receiver, HTTP endpoint, polling; events other
// processes queued), decides every queued event and runs the chains. SIGHUP re-reads the
// settings; SIGTERM stops the intake, gives running policy jobs monitor.drain_s to end
// (Engine.drain) and leaves what is pending in the store for the next start. It logs one
// line per event and per action to stderr, never a secret.
import { createConnection, createServer, type Server } from 'node:net';
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { openStore } from '../open-store.js';
import { Engine } from '../engine/service.js';
import { sweepAbandoned } from '../engine/jobs.js';
import { receiverWasDown, writeServiceEvent } from '../engine/events.js';
import { Alerts } from './alerts.js';
import { ChainRunner } from './chains.js';
import { Counters } from './counters.js';
import { Forwarder } from './forwarding.js';
import { Intake, type QueuedEvent, pruneEvents, undecided } from './intake.js';
import { Notifier } from './notify.js';
import { Poller } from './polling.js';
import { monitorNumber, monitorSetting, parseHostPort } from './settings.js';
import { TrapReceiver } from './traps.js';
import { RedfishIntake } from './redfish.js';
import { Webhook } from './webhook.js';

const TICK_MS = 250;
const DECIDE_BATCH = 200;

export interface MonitorOptions {
  log?: (line: string) => void;
}

/** The monitor's parts, started and stopped together; one per store. */
export class Monitor {
  readonly intake: Intake;
  readonly counters: Counters;
  readonly forwarder: Forwarder;
  readonly traps: TrapReceiver;
  readonly webhook: Webhook;
  readonly redfish: RedfishIntake;
  readonly poller: Poller;
  readonly chains: ChainRunner;
  readonly engine: Engine;
  private readonly alerts: Alerts;
  private timer: NodeJS.Timeout | undefined;
  private kicked = false;
  /** Events this process queued and has not decided yet (others' come from the store). */
  private fresh: QueuedEvent[] = [];
  private fromStore = false;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(readonly db: Db, o: MonitorOptions = {}) {
    this.log = o.log ?? ((l) => process.stderr.write(`kanri monitor: ${l}\n`));
    this.engine = new Engine(db);
    this.counters = new Counters(db);
    this.forwarder = new Forwarder(this.log);
    this.alerts = new Alerts(db, () => monitorNumber(db, 'monitor.alerts_kept'));
    this.intake = new Intake(db, (e) => { this.fresh.push(e); this.kick(); });
    this.traps = new TrapReceiver({ db, intake: this.intake, forwarder: this.forwarder, alerts: this.alerts, counters: this.counters, log: this.log });
    this.webhook = new Webhook(this.intake, this.log);
    this.redfish = new RedfishIntake({ db, intake: this.intake, alerts: this.alerts, counters: this.counters, log: this.log });
    this.poller = new Poller(db, this.intake, this.log, this.counters);
    this.chains = new ChainRunner({
      db, engine: this.engine, notifier: new Notifier(db, this.forwarder, this.log), log: this.log,
      coalesceSeconds: () => monitorNumber(db, 'monitor.coalesce_s'),
    });
  }

  async start(): Promise<void> {
    const { db } = this;
    const swept = sweepAbandoned(db);
    if (swept.length) this.log(`jobs left by a process that ended: ${swept.join(', ')} marked abandoned`);
    for (const l of this.chains.recover()) this.log(l);
    writeServiceEvent(db, 'pvm-started');
    await this.startIntake();
    this.timer = setInterval(() => { this.fromStore = true; this.kick(); }, TICK_MS);
    this.fromStore = true;
    this.kick();
    this.log(`running (pid ${process.pid})${this.traps.address ? `; traps on ${this.traps.address.host}:${this.traps.address.port}` : ''}${this.webhook.address ? `; HTTP on ${this.webhook.address.host}:${this.webhook.address.port}` : ''}${this.redfish.address ? `; Redfish events on ${this.redfish.address.host}:${this.redfish.address.port}` : ''}`);
  }

  private async startIntake(): Promise<void> {
    const { db } = this;
    this.forwarder.reload(db);
    try {
      await this.traps.start();
      if (receiverWasDown(db)) writeServiceEvent(db, 'receiver-recovered');
    } catch (e) {
      this.log(`the trap receiver cannot start: ${(e as Error).message}`);
      writeServiceEvent(db, 'receiver-down', (e as Error).message);
      throw e;
    }
    await this.startWebhook();
    await this.redfish.start();
    this.poller.start();
  }

  private async stopIntake(): Promise<void> {
    await Promise.all([this.traps.close(), this.webhook.close(), this.redfish.close(), this.poller.stop()]);
    this.intake.flush();
    this.alerts.flush();
    this.counters.flush();
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
    await this.webhook.start({ ...hp, ...(token ? { tokenFile: token } : {}) });
  }

  /** Decides what is queued and starts what is due, soon (coalesces many calls into one). */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      if (this.stopped) return;
      try {
        this.cycle();
      } catch (e) {
        this.log(`policy engine: ${(e as Error).message}`);
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
    if (start) this.chains.tick();
    this.counters.flush();
    if (this.fresh.length || this.fromStore) this.kick();
    if (Math.random() < 0.01) pruneEvents(this.db, monitorNumber(this.db, 'monitor.events_kept'));
  }

  /** Stops intake, drains the chains' jobs within drainMs, keeps what is pending. */
  async stop(drainMs: number): Promise<void> {
    if (this.stopped) return;
    await this.stopIntake();
    // Events that arrived: decided now, so that nothing received is left undecided longer than needed.
    for (let n = 0; n < 1000 && (this.fresh.length || undecided(this.db, 1).length); n++) {
      this.fromStore = true;
      this.cycle(false);
    }
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const r = await this.chains.stop(drainMs);
    if (r.canceled) this.log(`${r.canceled} change(s) still running after ${drainMs} ms were canceled`);
    this.counters.flush();
    this.forwarder.close();
    writeServiceEvent(this.db, 'pvm-stopping');
  }
}

// ---- one monitor per store -------------------------------------------------------------------

/**
 * The lock: an abstract unix socket named after the store file (device and inode), held as
 * long as the process lives — the kernel frees it when the process dies, so there is no
 * stale lock. A second monitor that connects learns the first one's pid.
 */
export async function takeLock(dbPath: string): Promise<{ release(): void } | { heldBy: string }> {
  const st = statSync(dbPath);
  const name = `\0kanri-monitor-${createHash('sha256').update(`${st.dev}:${st.ino}`).digest('hex').slice(0, 32)}`;
  const srv: Server = createServer((c) => { c.end(`${process.pid}\n`); });
  const bound = await new Promise<boolean>((res, rej) => {
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? res(false) : rej(e)));
    srv.listen(name, () => res(true));
  });
  if (bound) {
    srv.unref();
    return { release: () => srv.close() };
  }
  const pid = await new Promise<string>((res) => {
    const c = createConnection(name);
    let d = '';
    const t = setTimeout(() => { c.destroy(); res('?'); }, 1000);
    c.on('data', (x) => { d += x.toString(); });
    c.on('end', () => { clearTimeout(t); res(d.trim() || '?'); });
    c.on('error', () => { clearTimeout(t); res('?'); });
  });
  return { heldBy: pid };
}

/** `kanri monitor`: runs in the foreground until SIGTERM or SIGINT; exit 0 after a clean stop. */
export async function runMonitor(dbPath: string): Promise<number> {
  const log = (l: string): void => { process.stderr.write(`kanri monitor: ${l}\n`); };
  const db = openStore(dbPath);
  const lock = await takeLock(dbPath);
  if ('heldBy' in lock) {
    process.stderr.write(`kanri monitor: another monitor (pid ${lock.heldBy}) already runs on ${dbPath}\n`);
    db.close();
    return 1;
  }
  const m = new Monitor(db, { log });
  try {
    await m.start();
  } catch (e) {
    log(`cannot start: ${(e as Error).message}`);
    await m.stop(0).catch(() => undefined);
    lock.release();
    db.close();
    return 1;
  }
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const hup = (): void => {
      if (stopping) return;
      m.reload().catch((e: unknown) => log(`configuration not re-read: ${(e as Error).message}`));
    };
    const term = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      const drainMs = monitorNumber(db, 'monitor.drain_s') * 1000;
      log(`${sig}: stopping intake; running policy jobs have ${drainMs / 1000} s to end`);
      m.stop(drainMs).then(() => 0, (e: unknown) => { log(`stop: ${(e as Error).message}`); return 1; }).then((code) => {
        process.off('SIGHUP', hup);
        lock.release();
        db.close();
        log('stopped');
        resolve(code);
      });
    };
    process.on('SIGHUP', hup);
    process.once('SIGTERM', () => term('SIGTERM'));
    process.once('SIGINT', () => term('SIGINT'));
  });
}
