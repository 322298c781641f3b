// Runs jobs step by step: journals every step's start, end, result and driver
// output, keeps progress and phase current for asjob, stops between steps (and
// inside interruptible steps) when canceled, and writes the job's events.
import type { Db } from '../store/db.js';
import type { Driver, DriverContext, InterfaceMap, InterfaceName, MachineRef } from '../adapters/types.js';
import { loadDriver, driverNameFor } from '../adapters/registry.js';
import { writeJobEvent } from './events.js';
import { type Job, JobWatch, releaseReservations } from './jobs.js';
import { OPERATIONS, OP_INTERFACE, type OpContext, stepTarget } from './operations.js';
import type { JobPlan, Side } from './plan.js';
import type { StepDef } from './steps.js';

export type JobOutcome = 'completed' | 'failed' | 'canceled' | 'not-started';

const now = (): string => new Date().toISOString();
const MAX_OUTPUT = 64 * 1024;

/** The driver names a plan needs, per step; undefined names a missing configuration. */
export function driversOf(db: Db, plan: JobPlan): Array<{ step: StepDef; iface: InterfaceName; driver: string | undefined; target: string }> {
  const out = [];
  for (const step of [...plan.steps, ...(plan.fallbacks ?? []).flatMap((f) => f.steps)]) {
    const iface = OP_INTERFACE[step.op];
    if (!iface) continue;
    const side = step.side === 'src' ? plan.src : plan.dst;
    out.push({ step, iface, driver: driverNameFor(db, side.machine?.id ?? null, side.group?.id ?? null, iface), target: stepTarget(step, plan) });
  }
  return out;
}

export class JobRunner {
  private readonly watch: JobWatch;

  constructor(private readonly db: Db, private readonly onStep?: (jobId: number, line: string) => void) {
    this.watch = new JobWatch(db);
  }

  async run(job: Job): Promise<JobOutcome> {
    const { db } = this;
    const { plan } = job;
    const signal = this.watch.add(job.id);
    // A job waiting for a slot (parallel limit, /seq) starts now, not when it was reserved.
    db.prepare('UPDATE jobs SET started_at = ? WHERE id = ?').run(now(), job.id);
    let seq = 0;
    let outcome: JobOutcome = 'completed';
    let error: string | null = null;
    try {
      const drivers = new Map<string, Driver>();
      for (const d of driversOf(db, plan)) {
        if (d.driver && !drivers.has(d.driver)) drivers.set(d.driver, await loadDriver(d.driver)!);
      }
      // A driver may refuse the job before anything changes (exit 6).
      const machines = [plan.src.machine, plan.dst.machine].filter((m): m is MachineRef => m !== null);
      try {
        for (const d of drivers.values()) await d.prepare?.({ db, jobId: job.id, signal, log: () => {} }, machines, plan.sequence);
      } catch (err) {
        outcome = 'not-started';
        error = (err as Error).message;
        return outcome;
      }
      writeJobEvent(db, plan.sequence, 'start', { jobId: job.id, ...plan.event });

      let steps = [...plan.steps];
      const fallbacks = [...(plan.fallbacks ?? [])];
      let done = 0;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        const side: Side = step.side === 'src' ? plan.src : plan.dst;
        seq++;
        const target = stepTarget(step, plan);
        db.prepare("INSERT INTO job_steps (job_id, seq, name, tag, target, status, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?)")
          .run(job.id, seq, step.name, step.tag, target, now());
        db.prepare('UPDATE jobs SET phase = ?, progress = ? WHERE id = ?').run(step.name, Math.min(99, Math.floor((100 * done) / steps.length)), job.id);
        this.onStep?.(job.id, `${step.name}${target ? ` (${target})` : ''}`);
        let output = '';
        const log = (line: string): void => { if (output.length < MAX_OUTPUT) output += line + '\n'; };
        if (signal.aborted) {
          this.finishStep(job.id, seq, 'canceled', output + 'canceled before the step started\n');
          outcome = 'canceled';
          break;
        }
        const ctx: OpContext = {
          db, jobId: job.id, signal, log, plan, side,
          iface: <K extends InterfaceName>(name: K): InterfaceMap[K] => {
            const driverName = driverNameFor(db, side.machine?.id ?? null, side.group?.id ?? null, name);
            const impl = driverName ? drivers.get(driverName)?.interfaces[name] : undefined;
            if (!impl) throw new Error(`no ${name} driver is configured for ${target || 'this step'}`);
            return impl as InterfaceMap[K];
          },
        };
        try {
          await OPERATIONS[step.op](ctx as OpContext & DriverContext);
          this.finishStep(job.id, seq, 'completed', output);
          done++;
        } catch (err) {
          if (signal.aborted) {
            this.finishStep(job.id, seq, 'canceled', output + `canceled: ${(signal.reason as Error)?.message ?? 'canceled'}\n`);
            outcome = 'canceled';
            break;
          }
          this.finishStep(job.id, seq, 'failed', output + `error: ${(err as Error).message}\n`);
          const fb = fallbacks.findIndex((f) => f.after === step.no);
          if (fb >= 0) {
            // The fallback path replaces what was left of the plan (spec §9.10).
            const [taken] = fallbacks.splice(fb, 1);
            steps = [...steps.slice(0, i + 1), ...taken!.steps];
            continue;
          }
          outcome = 'failed';
          error = (err as Error).message;
          break;
        }
      }
      return outcome;
    } catch (err) {
      outcome = 'failed';
      error = (err as Error).message;
      return outcome;
    } finally {
      this.watch.remove(job.id);
      this.finishJob(job, outcome, error);
    }
  }

  private finishStep(jobId: number, seq: number, status: string, output: string): void {
    this.db.prepare('UPDATE job_steps SET status = ?, ended_at = ?, output = ? WHERE job_id = ? AND seq = ?').run(status, now(), output, jobId, seq);
  }

  private finishJob(job: Job, outcome: JobOutcome, error: string | null): void {
    const { db } = this;
    const { plan } = job;
    const status = outcome === 'completed' ? 'completed' : outcome === 'canceled' ? 'canceled' : 'failed';
    const exit = outcome === 'completed' ? 0 : outcome === 'not-started' ? 6 : 7;
    db.transaction(() => {
      // A job declared abandoned meanwhile keeps that verdict; its reservations are already free.
      const cur = db.prepare('SELECT status FROM jobs WHERE id = ?').get(job.id) as { status: string };
      if (cur.status === 'abandoned') return;
      db.prepare('UPDATE jobs SET status = ?, ended_at = ?, error = ?, exit_code = ?, progress = CASE WHEN ? THEN 100 ELSE progress END WHERE id = ?')
        .run(status, now(), error, exit, outcome === 'completed' ? 1 : 0, job.id);
      if (outcome === 'failed' || outcome === 'canceled') {
        // The administrator must see the machine the change left half done.
        for (const m of [plan.src.machine, plan.dst.machine]) {
          if (m) db.prepare("UPDATE machines SET management_status = 'abnormal' WHERE id = ?").run(m.id);
        }
      }
      releaseReservations(db, job.id);
      if (outcome !== 'not-started') writeJobEvent(db, plan.sequence, outcome === 'completed' ? 'complete' : outcome, { jobId: job.id, ...plan.event });
    }).immediate();
  }
}

/** The command's exit code for a set of jobs: 7 if any failed or was canceled, 6 if any could not start. */
export function exitCodeOf(outcomes: JobOutcome[]): number {
  if (outcomes.some((o) => o === 'failed' || o === 'canceled')) return 7;
  if (outcomes.some((o) => o === 'not-started')) return 6;
  return 0;
}
