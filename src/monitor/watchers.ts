// The monitor's timed parts beyond polling, started and stopped together by the daemon
// (small hooks in daemon.ts): scheduled operations (schedules.ts), SNMP checks
// (snmp-checks.ts), the UPS source (ups.ts) and the alert mail queue (alerting.ts). Each
// feeds Intake.receive or the engine like the other sources. With several monitors on one
// store, each reads its share of the SNMP agents and UPSs (ring.ts); due times and queued mail
// are claimed in the store, so each is run or sent by one monitor.
import type { Db } from '../store/db.js';
import type { Engine } from '../engine/service.js';
import { MailQueue } from './alerting.js';
import type { Intake } from './intake.js';
import { Scheduler } from './schedules.js';
import { SnmpChecker } from './snmp-checks.js';
import { UpsWatcher } from './ups.js';

export class Watchers {
  readonly scheduler: Scheduler;
  readonly snmpChecks: SnmpChecker;
  readonly ups: UpsWatcher;
  readonly alertMail: MailQueue;

  /** `manager`, `holder`: this monitor's manager and lease holder (unset: the only monitor, without a lease). */
  constructor(d: { db: Db; engine: Engine; intake: Intake; log: (line: string) => void; manager?: string; holder?: string }) {
    this.scheduler = new Scheduler(d);
    this.snmpChecks = new SnmpChecker(d.db, d.intake, d.log, d.manager);
    this.ups = new UpsWatcher(d);
    this.alertMail = new MailQueue(d.db, d.log, d.holder);
  }

  start(): void {
    this.scheduler.start();
    this.snmpChecks.start();
    this.ups.start();
    this.alertMail.start();
  }

  /** Stops looking; what they started (jobs, a mail being sent) ends in settled(). */
  async stop(): Promise<void> {
    this.scheduler.stop();
    await Promise.all([this.snmpChecks.stop(), this.ups.stop()]);
  }

  /** SIGHUP: the sources that read settings at start read them again. */
  async reload(): Promise<void> {
    await Promise.all([this.snmpChecks.stop(), this.ups.stop()]);
    this.snmpChecks.start();
    this.ups.start();
  }

  /** After the engine's drain: the runs and sequences they started have ended. */
  async settled(): Promise<void> {
    await Promise.all([this.scheduler.settled(), this.ups.settled(), this.alertMail.stop()]);
  }
}
