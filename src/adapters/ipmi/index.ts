// The ipmi power driver: the engine's PowerInterface over the machine's BMC (IPMI 2.0 /
// RMCP+ through src/ipmi), with the BMC settings and the decrypted password from the
// store (registered by `dscli createServer … mgmt=ipmi`). pvmutl poweron/shutdown/reboot
// and dscli powerOn/… drive the same BMC the same way.
import { IpmiError, power, type PowerAction, type PowerResult } from '../../ipmi/index.js';
import { SecretError } from '../../store/secrets.js';
import type { Db } from '../../store/db.js';
import { type Driver, type DriverContext, DriverError, type MachineRef, type PowerInterface } from '../types.js';
import { bmcRowById, bmcTargetOf } from './target.js';
import { getSetting } from '../../store/settings.js';

/** Deadlines (ms): commands on one BMC, and waiting for the state to follow. */
export interface IpmiDriverOptions {
  deadlineMs?: number;
  timeoutMs?: number;
  retries?: number;
  /** Waiting for "on" after power on / cycle. */
  onWaitMs?: number;
  /** Waiting for "off" after a soft (ACPI) shutdown: the OS decides how long it takes. */
  softOffWaitMs?: number;
}

function setting(db: Db, key: string, fallback: number): number {
  try {
    const v = getSetting(db, key);
    const n = v !== undefined ? Number(v) : NaN;
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

function targetFor(ctx: DriverContext, m: MachineRef) {
  const row = bmcRowById(ctx.db, m.id);
  if (!row || row.mgmt_type !== 'ipmi' || !row.bmc_address) {
    throw new DriverError(`${m.name}: no IPMI BMC registered for this machine (dscli createServer ${m.name} mgmt=ipmi address=… user=… password_file=…)`);
  }
  try {
    return bmcTargetOf(ctx.db, row);
  } catch (e) {
    if (e instanceof SecretError) throw new DriverError(`${m.name}: BMC password cannot be read: ${e.message}`);
    throw new DriverError(`${m.name}: ${(e as Error).message}`);
  }
}

function driverError(m: MachineRef, e: unknown): DriverError {
  if (e instanceof DriverError) return e;
  if (e instanceof IpmiError) return new DriverError(`${m.name}: BMC ${e.layer} error: ${e.message}`, e.layer === 'network' && !e.aborted);
  return new DriverError(`${m.name}: ${(e as Error)?.message ?? String(e)}`);
}

function remember(db: Db, id: number, state: string, status: string): void {
  try {
    db.prepare('UPDATE machines SET last_power = ?, last_status = ?, last_checked_at = ? WHERE id = ?').run(state, status, new Date().toISOString(), id);
  } catch {
    // Bookkeeping only.
  }
}

export function createIpmiDriver(o: IpmiDriverOptions = {}): Driver {
  const run = async (ctx: DriverContext, m: MachineRef, action: PowerAction, waitMs: number, onIfOff = false): Promise<PowerResult> => {
    const t = targetFor(ctx, m);
    const deadlineMs = o.deadlineMs ?? setting(ctx.db, 'ipmi.deadline_s', 10) * 1000;
    try {
      const r = await power(t, action, {
        signal: ctx.signal, deadlineMs, timeoutMs: o.timeoutMs ?? 1000, retries: o.retries ?? 2, onIfOff,
        ...(waitMs > 0 ? { wait: { deadlineMs: waitMs, intervalMs: 500 } } : {}),
      });
      remember(ctx.db, m.id, r.after, 'ok');
      return r;
    } catch (e) {
      const err = driverError(m, e);
      remember(ctx.db, m.id, 'unknown', err.message);
      throw err;
    }
  };
  const describe = (m: MachineRef, r: PowerResult): string =>
    `${m.name}: ${r.changed ? `${r.before}->${r.after} (${r.sent})` : `${r.after} (no change${r.note ? ': ' + r.note : ''})`} in ${r.elapsedMs} ms`;
  const expect = (m: MachineRef, r: PowerResult, want: 'on' | 'off', waited: number) => {
    if (r.changed && r.verified === false) throw new DriverError(`${m.name}: BMC accepted the request but the machine is still ${r.after} after ${Math.round(waited / 1000)} s`, true);
    if (!r.changed && r.after !== want && r.before !== 'unknown') throw new DriverError(`${m.name}: machine is ${r.after}, expected ${want}`);
  };
  const powerIface: PowerInterface = {
    async powerOn(ctx, m) {
      const wait = o.onWaitMs ?? setting(ctx.db, 'ipmi.on_wait_s', 60) * 1000;
      const r = await run(ctx, m, 'on', wait);
      ctx.log(describe(m, r));
      expect(m, r, 'on', wait);
    },
    async shutdown(ctx, m) {
      // Soft (ACPI) off: the OS shuts down in order; the BMC reports off when it is done.
      const wait = o.softOffWaitMs ?? setting(ctx.db, 'ipmi.soft_off_wait_s', 300) * 1000;
      const r = await run(ctx, m, 'soft', wait);
      ctx.log(describe(m, r));
      expect(m, r, 'off', wait);
    },
    async reboot(ctx, m) {
      // Power cycle (on if it was off), then wait until it is on again.
      const wait = o.onWaitMs ?? setting(ctx.db, 'ipmi.on_wait_s', 60) * 1000;
      const r = await run(ctx, m, 'cycle', wait, true);
      ctx.log(describe(m, r));
      expect(m, r, 'on', wait);
    },
    async state(ctx, m) {
      const r = await run(ctx, m, 'status', 0);
      return r.before;
    },
  };
  return { name: 'ipmi', interfaces: { power: powerIface } };
}
