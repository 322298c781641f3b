// Power, once for every driver (ipmi, redfish, sim, libvirt, and whatever comes next): the
// registry binds a driver's mechanism (PowerInterface: a connection with read() and send(),
// and what it supports) to this module, which reads first, plans, sends, waits, verifies
// (src/util/power-action.ts) and records what it learnt with the machine's controller
// (adapters/controller.ts), whoever asked: a job's power step, dscli, the monitor's polling.
import type { Db } from '../store/db.js';
import { runPowerAction, type PowerFailure } from '../util/power-action.js';
import { recordControllerStatus, recordPower } from './controller.js';
import {
  type DriverContext, DriverError, type MachineRef, type PowerActions, type PowerInterface, notSupported,
} from './types.js';

/** What a failure says about the controller, as the registry keeps it ('layer: message'). */
export function statusOf(e: unknown): string {
  return e instanceof DriverError ? `${e.layer}: ${e.message}` : (e as Error)?.message ?? String(e);
}

/**
 * A call we cut short ourselves (a stopping monitor, Ctrl-C, a canceled job) says nothing
 * about the controller: its status is not recorded ("Open Session: cancelled" is not a
 * controller's state). A deadline that ran out is a fact about the controller: recorded.
 */
export function cutShort(ctx: DriverContext): boolean {
  return ctx.signal.aborted && (ctx.signal.reason as Error | undefined)?.name !== 'TimeoutError';
}

/** A failure of the power action itself, as the driver contract's error. */
function failure(m: MachineRef): (kind: PowerFailure, detail: string) => DriverError {
  return (kind, detail) => {
    if (kind === 'cancelled') return new DriverError(`${m.name}: ${detail}`, { layer: 'network', aborted: true, detail });
    if (kind === 'not-supported') return notSupported(`${m.name}: ${detail}`);
    return new DriverError(`${m.name}: controller error: ${detail}`, { layer: 'controller', detail });
  };
}

/** A record that could not be written costs the caller nothing but a line in its log. */
function note(ctx: DriverContext, m: MachineRef, write: (failed: (e: Error) => void) => void): void {
  const failed = (e: Error): void => ctx.log(`${m.name}: the power state could not be recorded: ${e.message}`);
  try {
    write(failed);
  } catch (e) {
    failed(e as Error);
  }
}

/** A driver's power as callers use it: the state, or an idempotent action; both recorded. */
export function powerActions(db: Db, p: PowerInterface): PowerActions {
  return {
    async state(ctx, m, o) {
      const started = Date.now();
      try {
        const r = await p.open(ctx, m, o ?? {}, async (c) => ({ state: await c.read(), attempts: c.attempts, elapsedMs: 0 }));
        r.elapsedMs = Date.now() - started;
        note(ctx, m, (failed) => recordPower(db, m.id, r.state, 'ok', failed));
        return r;
      } catch (e) {
        if (!cutShort(ctx)) note(ctx, m, (failed) => recordPower(db, m.id, 'unknown', statusOf(e), failed));
        throw e;
      }
    },
    async act(ctx, m, action, o = {}) {
      const { waitMs: asked, onIfOff, force, ...call } = o;
      const s = p.supports;
      const waitMs = asked ?? s.waitMs(ctx.db, action);
      try {
        const r = await p.open(ctx, m, { ...call, waitMs, change: true }, (c) => runPowerAction(c, action, {
          waitMs, pollMs: s.pollMs, onIfOff: onIfOff ?? false, force: force ?? false, signal: ctx.signal, commands: s.commands,
          ...(s.hardOffAfterSoft ? { hardOffAfterSoft: s.hardOffAfterSoft } : {}), ...(s.blindSafe ? { blindSafe: s.blindSafe } : {}),
          ...(s.unsupported ? { unsupported: s.unsupported } : {}), fail: failure(m),
        }));
        note(ctx, m, (failed) => recordPower(db, m.id, r.after, 'ok', failed));
        return r;
      } catch (e) {
        if (!cutShort(ctx)) note(ctx, m, (failed) => recordControllerStatus(db, m.id, statusOf(e), failed));
        throw e;
      }
    },
  };
}

/** The power of a controller whose driver has none: every call is "not supported". */
export function unsupportedPower(type: string): PowerActions {
  const fail = async (): Promise<never> => { throw notSupported(`power control is not supported for mgmt=${type}`); };
  return { state: fail, act: fail };
}
