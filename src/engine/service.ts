// The engine as a service: one entry point for every front end (a pvmutl command, a
// kanri command, a policy action of the monitor). run() takes a requested change, plans
// it, checks that every driver it needs can serve it, reserves what it needs (waiting
// while another job holds it), runs its jobs through the fan-out and returns what
// happened. An Engine owns the jobs it started: cancelAll() and drain() act on those only.
import { refreshDrivers } from '../adapters/registry.js';
import type { Db } from '../store/db.js';
import { settingNumber } from '../adapters/setting-reader.js';
import { changeOutcome } from './outcome.js';
import { CORE_SETTINGS } from '../domain/settings.js';
import { fanOutAll } from '../util/fanout.js';
import { writeJobEvent } from './events.js';
import { type JobOutcome, finishJob } from './job-state.js';
import { type Job, JobWatch, releaseReservations, submit, sweepAbandoned } from './jobs.js';
import { ManagerBeat, type Role } from './managers.js';
import type { Resource } from './plan.js';
import { type ChangeRequest, planChange } from './planners/index.js';
import { JobRunner, type JobResult, type StepProgress, checkDrivers } from './runner.js';

export type { ChangeRequest, JobResult, JobOutcome, StepProgress };

export interface ChangeHooks {
  /** Called once when the jobs must wait for another job's resources. */
  onHeld?(jobIds: number[], blockers: Resource[]): void;
  /** Called as each step starts. */
  onStep?(p: StepProgress): void;
  /** Called once the change is accepted and its jobs exist (before any runs): a front end that answers at once (the HTTP API) names them. */
  onAccepted?(jobIds: number[], parentId: number | null): void;
}

export interface ChangeResult {
  /** Every job of the change, in plan order. */
  jobs: JobResult[];
  /** The group-level job the jobs belong to (deploygrp), with its outcome. */
  parent?: { id: number; outcome: JobOutcome };
  /** Canceled (ascancel) while it waited for resources: no job ran. */
  canceledWhileHeld: boolean;
}

export interface RunOptions {
  /** Who asked: recorded as the jobs' origin (pvmutl, kanri, policy). */
  origin: string;
  /** The command line or action, as the journal shows it. */
  command: string;
}

/** Jobs one change runs at the same time; more wait for a free slot. */
function parallelism(db: Db): number {
  return settingNumber(db, CORE_SETTINGS, 'engine.parallel');
}

export interface EngineOptions {
  /**
   * What this process is, as kanri manager list shows it: a command (default) or a daemon. A
   * daemon (monitor, serve) heartbeats in the store from the start until drain(), jobs or not,
   * and sweeps other managers' abandoned jobs meanwhile; a command heartbeats only while it
   * owns jobs.
   */
  role?: Role;
}

export class Engine {
  private readonly watch: JobWatch;
  private readonly beat: ManagerBeat;
  private readonly daemon: boolean;
  private draining = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Driver reads of changes still being planned (VM server readings). */
  private readonly preparing = new Set<AbortController>();

  constructor(private readonly db: Db, o: EngineOptions = {}) {
    this.watch = new JobWatch(db);
    this.daemon = (o.role ?? 'cli') !== 'cli';
    // Every beat also frees what dead owners (of any manager) hold, so that their reservations
    // come free within the lease even when no command runs.
    this.beat = new ManagerBeat(db, o.role ?? 'cli', () => { sweepAbandoned(db); });
    if (this.daemon) db.transaction(() => this.beat.enlist())();
  }

  /** Plans, reserves, runs and waits for one requested change. */
  async run(request: ChangeRequest, opts: RunOptions, hooks: ChangeHooks = {}): Promise<ChangeResult> {
    if (this.draining) throw new Error('the engine is shutting down and takes no new changes');
    const p = this.execute(request, opts, hooks);
    this.inFlight.add(p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(p);
      // A command's heartbeat ends with its last change (its row stays while this process owns jobs).
      if (!this.daemon && this.inFlight.size === 0) this.retire();
    }
  }

  private retire(): void {
    try {
      this.beat.retire();
    } catch {
      // A store that cannot be written now: the row expires with its lease.
    }
  }

  private async execute(request: ChangeRequest, opts: RunOptions, hooks: ChangeHooks): Promise<ChangeResult> {
    const { db } = this;
    refreshDrivers(db);
    const planned = planChange(db, request);
    if (planned.prepare) {
      const ac = new AbortController();
      this.preparing.add(ac);
      try {
        await planned.prepare(ac.signal);
      } finally {
        this.preparing.delete(ac);
      }
    }
    const submitted = await submit(db, planned.build, {
      origin: opts.origin,
      command: opts.command,
      check: (plans) => { for (const p of plans) checkDrivers(db, p); },
      enlist: () => this.beat.enlist(),
      ...(planned.parent ? { parent: planned.parent } : {}),
      ...(hooks.onHeld ? { onHeld: hooks.onHeld } : {}),
    });
    if (submitted === 'canceled') return { jobs: [], canceledWhileHeld: true };
    planned.accepted?.();
    const { jobs, parentId } = submitted;
    hooks.onAccepted?.(jobs.map((j) => j.id), parentId);
    const runner = new JobRunner(db, this.watch, hooks.onStep);
    const parentEvent = { group: jobs[0]?.plan.src.group?.path ?? '', machine: '' };
    if (parentId !== null) writeJobEvent(db, planned.parent!.sequence, 'start', { jobId: parentId, ...parentEvent });
    const results = planned.sequential ? await this.inTurn(runner, jobs) : await this.together(runner, jobs);
    const out: ChangeResult = { jobs: results, canceledWhileHeld: false };
    if (parentId !== null) {
      // A group job that could not start a machine failed.
      const o = changeOutcome(out);
      const outcome: JobOutcome = o === 'not-started' ? 'failed' : o;
      const failed = results.filter((r) => r.outcome !== 'completed').length;
      finishJob(db, parentId, outcome, outcome === 'completed' ? null : `${failed} of ${results.length} machines did not complete`);
      writeJobEvent(db, planned.parent!.sequence, outcome === 'completed' ? 'complete' : outcome, { jobId: parentId, ...parentEvent });
      out.parent = { id: parentId, outcome };
    }
    return out;
  }

  private async together(runner: JobRunner, jobs: Job[]): Promise<JobResult[]> {
    const settled = await fanOutAll(jobs, (j) => runner.run(j), { concurrency: parallelism(this.db) });
    return settled.map((s) => {
      if (!s.ok) throw s.error;
      return s.value!;
    });
  }

  /** One job after another; after one that did not complete, the rest end canceled without running. */
  private async inTurn(runner: JobRunner, jobs: Job[]): Promise<JobResult[]> {
    const out: JobResult[] = [];
    for (const job of jobs) {
      if (out.some((r) => r.outcome !== 'completed')) {
        const error = 'not run: an earlier machine did not complete';
        this.db.transaction(() => {
          finishJob(this.db, job.id, 'canceled', error);
          releaseReservations(this.db, job.id);
        })();
        out.push({ id: job.id, sequence: job.plan.sequence, machine: job.plan.event.machine, outcome: 'canceled', error, notRun: true });
        continue;
      }
      out.push(await runner.run(job));
    }
    return out;
  }

  /** Jobs this engine is running now. */
  running(): number[] {
    return this.watch.running();
  }

  /** Cancels the jobs this engine runs (a command's SIGINT/SIGTERM/SIGHUP); nobody else's. */
  cancelAll(reason: string): void {
    for (const ac of this.preparing) ac.abort(new Error(reason));
    this.watch.cancelAll(reason);
  }

  /**
   * For a daemon that stops: takes no new change, lets running jobs finish for up to
   * `boundMs`, then cancels what is still running and waits for it to stop. Resolves
   * with how many changes finished by themselves and how many were canceled.
   */
  async drain(boundMs: number): Promise<{ finished: number; canceled: number }> {
    this.draining = true;
    const pending = [...this.inFlight];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), boundMs); });
    const all = Promise.allSettled(pending);
    const first = await Promise.race([all.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (first === 'done') {
      this.retire();
      return { finished: pending.length, canceled: 0 };
    }
    const before = this.inFlight.size;
    this.cancelAll('canceled: the daemon is shutting down');
    await all;
    this.retire();
    return { finished: pending.length - before, canceled: before };
  }
}
