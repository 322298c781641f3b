// ServerList operations: every target runs concurrently under the bounded fan-out, each
// within its own deadline, through the power or info driver the registry resolves for
// its controller; one result line per target is printed in input order as soon as the
// targets before it are done (`--json`: one object per line). What a call learns about
// a controller is recorded by the registry, not here.
import { batchRecords, type ControllerRow } from '../adapters/controller.js';
import { type BoundController, bindController } from '../adapters/registry.js';
import { type CallOptions, type DriverContext, DriverError, type InfoInterface, type PowerAction, type PowerChange } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { fanOut } from '../util/fanout.js';
import { localize } from '../cli/messages.js';
import { combine, describeFailure, DscliError, formatError, RC } from './errors.js';
import { parseSettings } from './words.js';
import { DSCLI_SETTINGS, dscliNumber } from './settings.js';
import { declaredSetting } from '../adapters/settings.js';

export interface Out {
  out(text: string): void;
  err(text: string): void;
  json: boolean;
  /** Standard output is a terminal: results are printed as targets finish, not in input order. */
  tty?: boolean;
}

export interface TargetOutcome {
  status: 'ok' | 'failed';
  code: number;
  line: string;
  before?: string | null;
  after?: string | null;
  layer?: string | null;
  message?: string | null;
  attempts?: number;
  /** The lines (JSON records, with --json) of a command that prints more than a result line. */
  block?: string[];
}

export interface RunSettings {
  fanout: number;
  /** Limits of every call on one controller. */
  call: CallOptions;
  /** ms to wait for the expected state after a power change (0: do not wait). */
  waitMs: number;
  /** shutdownOs: through the controller (ipmi and redfish name it too), or in-band over SSH. */
  via: 'controller' | 'ssh';
}

export const RUN_KEYS = ['fanout', 'timeout', 'retries', 'wait', 'via'] as const;

function intSetting(s: Map<string, string>, k: string, min: number, max: number): number | undefined {
  const v = s.get(k);
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < min || Number(v) > max) throw formatError(`${k} must be a number from ${min} to ${max}, not '${v}'`);
  return Number(v);
}

/** A word that overrides a setting (fanout=N for dscli.fanout): the setting's declared range, else the setting. */
function overriding(db: Db, s: Map<string, string>, k: string, key: string): number {
  const d = declaredSetting(DSCLI_SETTINGS, key)!;
  return intSetting(s, k, d.min!, d.max!) ?? dscliNumber(db, key);
}

/** fanout=N, timeout=S per controller, retries=N (each in the range and with the default of its dscli.* setting), wait=S. */
export function runSettings(db: Db, words: string[], defaultWaitS: number): RunSettings {
  const s = parseSettings(words, RUN_KEYS);
  const fanout = overriding(db, s, 'fanout', 'dscli.fanout');
  const timeoutS = overriding(db, s, 'timeout', 'dscli.timeout_s');
  const retries = overriding(db, s, 'retries', 'dscli.retries');
  const viaWord = s.get('via') ?? 'controller';
  if (!['controller', 'ipmi', 'redfish', 'ssh'].includes(viaWord)) throw formatError(`via must be ssh or controller (ipmi, redfish), not '${viaWord}'`);
  const via = viaWord === 'ssh' ? 'ssh' : 'controller';
  const waitS = intSetting(s, 'wait', 0, 3600) ?? (via === 'ssh' ? dscliNumber(db, 'dscli.ssh_wait_s') : defaultWaitS);
  const deadlineMs = Math.round(timeoutS * 1000);
  // Retransmissions fit inside the deadline: a dead controller costs one deadline, not more.
  const timeoutMs = Math.max(50, Math.min(1000, Math.floor(deadlineMs / (retries + 1))));
  return { fanout: Math.floor(fanout), call: { deadlineMs, timeoutMs, retries }, waitMs: Math.round(waitS * 1000), via };
}

/** A call outside any job: aborted with the fan-out, no journal to log to. */
export function callContext(db: Db, signal: AbortSignal): DriverContext {
  return { db, signal, log: () => {} };
}

/** A "not supported" (6) failure unless the controller's driver offers the info operation `op`. */
export function requireInfo(c: BoundController, op: keyof InfoInterface, what: string, bmcOnly = false): void {
  if (c.info[op]) return;
  throw new DscliError(RC.UNSUPPORTED, bmcOnly ? `${what} is for BMC (IPMI) servers only; ${c.row.name} is mgmt=${c.driver}` : `${what} is not supported for mgmt=${c.driver}`);
}

export interface Handler {
  /** What the operation needs of the controller, named as a failure would name it. */
  needs: { power?: string; info?: string };
  run(c: BoundController, ctx: DriverContext, rs: RunSettings): Promise<TargetOutcome>;
}

function failure(name: string, e: unknown): TargetOutcome {
  const f = describeFailure(e);
  // --json says as many attempts as the message does.
  const attempts = e instanceof DriverError && e.attempts !== undefined ? { attempts: e.attempts } : {};
  return { status: 'failed', code: f.code, layer: f.layer, message: f.message, line: `${name} failed ${f.layer}: ${f.message}`, ...attempts };
}

function statusFailure(name: string, e: unknown): TargetOutcome {
  const f = failure(name, e);
  return { ...f, before: 'unknown', after: 'unknown', line: `${name} unknown (${f.layer}: ${f.message})` };
}

/**
 * Runs the handler on every row and returns the combined code. Results are printed in input
 * order on a pipe (each as soon as the targets before it are done) and as they finish on a
 * terminal, where one dead controller must not hold back the others. `grouped`: each
 * target's block under a header line, as several servers' SELs or sensors are printed.
 */
export async function runOnServers(db: Db, rows: ControllerRow[], operation: string, rs: RunSettings, out: Out, handler: Handler, o: { grouped?: boolean } = {}): Promise<number> {
  const results = new Array<(TargetOutcome & { elapsed: number }) | undefined>(rows.length);
  const tty = !!out.tty;
  let blocks = 0;
  /** What target i prints. */
  const text = (i: number): string => {
    const r = results[i]!;
    const row = rows[i]!;
    if (out.json) {
      if (r.block && r.status === 'ok') return r.block.map((l) => l + '\n').join('');
      return JSON.stringify({
        target: row.name, operation, before: r.before ?? null, after: r.after ?? null, status: r.status,
        layer: r.layer ?? null, message: r.message ?? null, elapsed_ms: r.elapsed, attempts: r.attempts ?? 0, code: r.code,
      }) + '\n';
    }
    if (!o.grouped) return r.line + '\n';
    const body = r.status === 'ok' ? r.block ?? [] : [r.line];
    return `${blocks++ ? '\n' : ''}==> ${row.name} <==\n${body.map((l) => l + '\n').join('')}`;
  };
  let printed = 0;
  // The lines that are ready go out in one write.
  const flush = (): void => {
    let ready = '';
    while (printed < rows.length && results[printed]) ready += text(printed++);
    if (ready) out.out(ready);
  };
  const task = async (row: ControllerRow, _i: number, signal: AbortSignal): Promise<TargetOutcome> => {
    try {
      return await handler.run(await bindController(db, row, handler.needs), callContext(db, signal), rs);
    } catch (e) {
      return operation === 'getPowerStatus' ? statusFailure(row.name, e) : failure(row.name, e);
    }
  };
  // What the calls learn about the controllers is written a turn of the event loop at a time.
  await batchRecords(db, async () => {
    for await (const r of fanOut(rows, task, { concurrency: rs.fanout })) {
      results[r.index] = { ...(r.ok ? r.value! : failure(rows[r.index]!.name, r.error)), elapsed: r.elapsedMs };
      if (tty) {
        const t = text(r.index);
        if (t) out.out(t);
      } else flush();
    }
  });
  return combine(results.map((r) => r!.code));
}

// ---- power ----------------------------------------------------------------------------

export const POWER_COMMANDS: Record<string, PowerAction | 'status'> = {
  powerOn: 'on', powerOff: 'off', powerCycle: 'cycle', reset: 'reset', dump: 'diag', shutdownOs: 'soft', getPowerStatus: 'status',
};

function powerOutcome(name: string, action: PowerAction, r: PowerChange, waitMs: number): TargetOutcome {
  const base = { before: r.before, after: r.after, attempts: r.attempts };
  if (r.changed && r.verified === false) {
    const message = `${r.sent} sent; still ${r.after} after ${Math.round(waitMs / 1000)} s`;
    return { ...base, status: 'failed', code: RC.CONTROLLER, layer: 'verify', message, line: `${name} failed verify: ${message}` };
  }
  if (!r.changed) return { ...base, status: 'ok', code: RC.OK, message: r.note ?? 'no change', layer: null, line: `${name} ok ${r.after} (no change)` };
  let line = `${name} ok ${r.before}->${r.after}`;
  if (r.before === r.after) line += action === 'soft' ? ' (soft-off requested; the OS shuts down)' : ` (${r.sent} sent)`;
  return { ...base, status: 'ok', code: RC.OK, message: r.note ?? null, layer: null, line };
}

export function powerHandler(action: PowerAction | 'status'): Handler {
  return {
    needs: { power: action === 'status' ? 'power status' : 'power control' },
    async run(c, ctx, rs) {
      if (action === 'soft' && rs.via === 'ssh') {
        // Loaded only here: the SSH library is large, and no other command needs it.
        const { shutdownOverSsh } = await import('../adapters/ssh/shutdown.js');
        const r = await shutdownOverSsh(ctx, c.machine, c.power, { waitMs: rs.waitMs, call: rs.call });
        return powerOutcome(c.row.name, action, r, rs.waitMs);
      }
      if (action === 'status') {
        const r = await c.power.state(ctx, c.machine, rs.call);
        return { before: r.state, after: r.state, attempts: r.attempts, status: 'ok', code: RC.OK, line: `${c.row.name} ${r.state}`, message: null, layer: null };
      }
      const waitMs = action === 'diag' ? 0 : rs.waitMs;
      const r = await c.power.act(ctx, c.machine, action, { ...rs.call, waitMs });
      return powerOutcome(c.row.name, action, r, waitMs);
    },
  };
}

// ---- event subscription (createServer/setServer events=on|off) -------------------------

/** Subscribes (or unsubscribes) a registered server's controller events; one line on success. */
export async function registerEvents(db: Db, row: ControllerRow, on: boolean, out: Out): Promise<number> {
  const what = on ? 'event subscription' : 'event unsubscription';
  try {
    const c = await bindController(db, row, { info: what });
    const op = on ? 'subscribeEvents' : 'unsubscribeEvents';
    requireInfo(c, op, what);
    const msg = await c.info[op]!(callContext(db, AbortSignal.timeout(120_000)), c.machine, runSettings(db, [], 0).call);
    out.out(out.json ? JSON.stringify({ target: row.name, operation: on ? 'subscribeEvents' : 'unsubscribeEvents', status: 'ok', message: msg }) + '\n' : `${row.name} ok ${msg}\n`);
    return RC.OK;
  } catch (e) {
    const f = describeFailure(e);
    out.err(`dscli: ${on
      ? localize(`${row.name} is registered, but the event subscription failed ${f.layer}: ${f.message}; retry with dscli setServer ${row.name} events=on`)
      : localize(`${row.name} is registered, but the event unsubscription failed ${f.layer}: ${f.message}; retry with dscli setServer ${row.name} events=off`)}\n`);
    return f.code;
  }
}

// ---- checkConnection / clearSel -----------------------------------------------------

export function checkHandler(): Handler {
  return {
    needs: { info: 'checkConnection' },
    async run(c, ctx, rs) {
      requireInfo(c, 'check', 'checkConnection');
      const msg = await c.info.check!(ctx, c.machine, rs.call);
      return { status: 'ok', code: RC.OK, message: msg, line: `${c.row.name} ok (${msg})` };
    },
  };
}

export function clearSelHandler(): Handler {
  return {
    needs: { info: 'clearSel' },
    async run(c, ctx, rs) {
      requireInfo(c, 'clearLog', 'clearSel');
      const n = await c.info.clearLog!(ctx, c.machine, rs.call);
      const msg = `cleared (${n} entr${n === 1 ? 'y' : 'ies'} read before clearing)`;
      return { status: 'ok', code: RC.OK, message: msg, line: `${c.row.name} ok ${msg}`, attempts: 1 };
    },
  };
}
