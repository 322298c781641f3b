// Runs jobs step by step: binds each step's driver once, journals every step's start,
// end, result and driver output, keeps progress and phase current for asjob, stops
// between steps (and inside interruptible steps) when canceled, writes the job's
// events, and returns what happened as a result object.
import { L } from '../cli/locale.js';
import { bindInterface, driverNameFor, driverProblems, loadDriver } from '../adapters/registry.js';
import type { DriverContext, InterfaceName, MachineRef } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { printableLine, printableText } from '../util/peer-gate.js';
import { refuse } from './errors.js';
import { writeJobEvent } from './events.js';
import { type JobOutcome, endStep, finishJob, markStarted, setPhase, startStep } from './job-state.js';
import { type Job, type JobWatch, releaseReservations } from './jobs.js';
import { OPERATIONS, type OpContext, interfaceOf, stepTarget } from './operations.js';
import type { JobPlan, Side } from './plan.js';
import type { StepDef } from './steps.js';

export type { JobOutcome };

/** What one job did: the result every front end reports from, without reading the journal again. */
export interface JobResult {
  id: number;
  sequence: string;
  /** The machine (or VM) the job is about. */
  machine: string;
  outcome: JobOutcome;
  /** The step that failed or was canceled, if one did. */
  failedStep?: string;
  error?: string;
  /** Not run: an earlier job of a one-at-a-time change did not complete. */
  notRun?: boolean;
}

const MAX_OUTPUT = 64 * 1024;

export interface DriverUse { step: StepDef; iface: InterfaceName; driver: string | undefined; target: string; machine: MachineRef | null; groupId: number | null }

/** The VM server a vm step puts its VM on, if it is one that does. */
function destinationServer(step: StepDef, plan: JobPlan): MachineRef | undefined {
  switch (step.op) {
    case 'create-vm':
    case 'recreate-vm':
      return plan.vm?.server;
    case 'migrate':
    case 'move-vm':
    case 'failover':
      return plan.moveTo?.server;
    default:
      return undefined;
  }
}

/** The drivers a plan will use, per step; undefined names a missing configuration. */
export function driverUses(db: Db, plan: JobPlan): DriverUse[] {
  const out: DriverUse[] = [];
  for (const step of [...plan.steps, ...(plan.fallbacks ?? []).flatMap((f) => f.steps)]) {
    const iface = interfaceOf(step);
    if (!iface) continue;
    const side = step.side === 'src' ? plan.src : plan.dst;
    const groupId = side.group?.id ?? null;
    const driver = driverNameFor(db, side.machine?.id ?? null, groupId, iface);
    out.push({ step, iface, driver, target: stepTarget(step, plan), machine: side.machine, groupId });
    // The VM server a VM is created on or moved to must be one the driver can serve too.
    const server = iface === 'vm' ? destinationServer(step, plan) : undefined;
    if (server) out.push({ step, iface, driver, target: server.name, machine: server, groupId });
  }
  return out;
}

/**
 * Refuses (reason not-startable) a plan with a step no driver can serve: none configured,
 * an unknown one, one that does not serve the step's interface, or one whose settings
 * for the machine are incomplete. Runs before anything is written.
 */
export function checkDrivers(db: Db, plan: JobPlan): void {
  const seen = new Set<string>();
  for (const u of driverUses(db, plan)) {
    const where = u.target || L('the group', 'グループ');
    if (u.driver === undefined) {
      throw refuse('not-startable', L(
        `${plan.sequence} cannot start: no ${u.iface} driver is configured for ${where} (step '${u.step.name}')`,
        `${plan.sequence} を開始できません: ${where} に ${u.iface} ドライバが設定されていません (ステップ '${u.step.name}')`,
      ));
    }
    const key = `${u.driver}/${u.iface}/${u.machine?.id ?? ''}/${u.groupId ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const [problem] = driverProblems(db, u.driver, u.iface, u.machine, u.groupId);
    if (!problem) continue;
    if (problem.kind === 'unknown') {
      throw refuse('not-startable', L(
        `${plan.sequence} cannot start: ${problem.message} for ${where}`,
        `${plan.sequence} を開始できません: 不明な ${u.iface} ドライバ '${u.driver}' (${where})`,
      ));
    }
    throw refuse('not-startable', L(
      `${plan.sequence} cannot start: ${problem.message} (step '${u.step.name}' for ${where})`,
      `${plan.sequence} を開始できません: ${problem.message} (ステップ '${u.step.name}', ${where})`,
    ));
  }
}

/** What a front end may show as a step starts: which one of how many, and the time so far. */
export interface StepProgress { jobId: number; n: number; of: number; name: string; target: string; elapsedMs: number }

export class JobRunner {
  constructor(private readonly db: Db, private readonly watch: JobWatch, private readonly onStep?: (p: StepProgress) => void) {}

  async run(job: Job): Promise<JobResult> {
    const { db } = this;
    const { plan } = job;
    const signal = this.watch.add(job.id);
    markStarted(db, job.id);
    const result: JobResult = { id: job.id, sequence: plan.sequence, machine: plan.event.machine || plan.event.vmName || '', outcome: 'completed' };
    // What each side acts on; a VM created by a step becomes the destination's machine.
    const bound: Record<'src' | 'dst', MachineRef | null> = { src: plan.src.machine, dst: plan.dst.machine };
    const ctxOf = (log: (line: string) => void): DriverContext => ({ db, jobId: job.id, signal, log });
    let seq = 0;
    // The sides a step began to act on: only their machines can be left half done.
    const touched = new Set<'src' | 'dst'>();
    const t0 = Date.now();
    try {
      // A driver may refuse the job before anything changes (exit 6).
      const machines = [plan.src.machine, plan.dst.machine].filter((m): m is MachineRef => m !== null);
      try {
        for (const name of new Set(driverUses(db, plan).map((u) => u.driver).filter((d): d is string => d !== undefined))) {
          await (await loadDriver(name)).prepare?.(ctxOf(() => {}), machines, plan.sequence);
        }
      } catch (err) {
        // Canceled before its first step (seed 004 L3866–3872): a canceled job, with its canceled event.
        result.outcome = signal.aborted ? 'canceled' : 'not-started';
        result.error = signal.aborted ? `canceled before the first step: ${(signal.reason as Error)?.message ?? 'canceled'}` : (err as Error).message;
        return result;
      }
      writeJobEvent(db, plan.sequence, 'start', { jobId: job.id, ...plan.event });

      let steps = [...plan.steps];
      const fallbacks = [...(plan.fallbacks ?? [])];
      let done = 0;
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        const side: Side = step.side === 'src' ? plan.src : plan.dst;
        const machine = bound[step.side];
        seq++;
        const target = machine?.name ?? stepTarget(step, plan);
        startStep(db, job.id, seq, { name: step.name, tag: step.tag, target });
        setPhase(db, job.id, step.name, Math.min(99, Math.floor((100 * done) / steps.length)));
        this.onStep?.({ jobId: job.id, n: i + 1, of: steps.length, name: step.name, target, elapsedMs: Date.now() - t0 });
        let output = '';
        // What a driver passes on (a script's output, a peer's error text) reaches the journal and
        // a terminal: control bytes are shown escaped, never interpreted.
        const log = (line: string): void => { if (output.length < MAX_OUTPUT) output += printableText(line) + '\n'; };
        if (signal.aborted) {
          endStep(db, job.id, seq, 'canceled', output + 'canceled before the step started\n');
          Object.assign(result, { outcome: 'canceled', failedStep: step.name });
          break;
        }
        touched.add(step.side);
        const op = OPERATIONS[step.op];
        const c: OpContext = { ...ctxOf(log), jobId: job.id, plan, side, machine, ...(side.group ? { group: { id: side.group.id, path: side.group.path } } : {}) };
        try {
          let driver: unknown;
          if (op.iface) {
            const name = driverNameFor(db, machine?.id ?? null, side.group?.id ?? null, op.iface);
            if (!name) throw new Error(`no ${op.iface} driver is configured for ${target || 'this step'}`);
            driver = await bindInterface(db, name, op.iface);
          }
          const made = await (op.run as (c: OpContext, d: unknown) => Promise<MachineRef | void>)(c, driver);
          if (made) bound[step.side] = made;
          endStep(db, job.id, seq, 'completed', output);
          done++;
        } catch (err) {
          if (signal.aborted) {
            endStep(db, job.id, seq, 'canceled', output + `canceled: ${(signal.reason as Error)?.message ?? 'canceled'}\n`);
            Object.assign(result, { outcome: 'canceled', failedStep: step.name });
            break;
          }
          endStep(db, job.id, seq, 'failed', output + `error: ${printableLine((err as Error).message)}\n`);
          const fb = fallbacks.findIndex((f) => f.after === step.no);
          if (fb >= 0) {
            // The fallback path replaces what was left of the plan (spec §9.10).
            const [taken] = fallbacks.splice(fb, 1);
            steps = [...steps.slice(0, i + 1), ...taken!.steps];
            continue;
          }
          Object.assign(result, { outcome: 'failed', failedStep: step.name, error: printableLine((err as Error).message) });
          break;
        }
      }
      if (bound.dst && plan.vm) result.machine = bound.dst.name;
      return result;
    } catch (err) {
      Object.assign(result, { outcome: 'failed', error: printableLine((err as Error).message) });
      return result;
    } finally {
      this.watch.remove(job.id);
      this.finish(job, { src: touched.has('src') ? bound.src : null, dst: touched.has('dst') ? bound.dst : null }, result);
    }
  }

  private finish(job: Job, bound: Record<'src' | 'dst', MachineRef | null>, r: JobResult): void {
    const { db } = this;
    const { plan } = job;
    db.transaction(() => {
      if (!finishJob(db, job.id, r.outcome, r.error ?? null)) return;
      // A job canceled before its first step (no failedStep) left nothing half done.
      if (r.outcome === 'failed' || (r.outcome === 'canceled' && r.failedStep !== undefined)) {
        // The administrator must see the machine the change left half done.
        for (const m of [bound.src, bound.dst]) {
          if (m) db.prepare("UPDATE machines SET management_status = 'abnormal' WHERE id = ?").run(m.id);
        }
      }
      releaseReservations(db, job.id);
      if (r.outcome !== 'not-started') writeJobEvent(db, plan.sequence, r.outcome === 'completed' ? 'complete' : r.outcome, { jobId: job.id, ...plan.event });
    }).immediate();
  }
}
