// Power of one BMC: Get Chassis Status and Chassis Control on a session (ipmiControl, the
// mechanism the ipmi driver hands the registry), and power(), which runs the one power
// action of src/util/power-action.ts on it: the state read first, only a needed change
// sent, the result saying what the machine was, what it is now, and whether anything changed.
import { type PowerChange, type PowerControl, runPowerAction } from '../util/power-action.js';
import { chassisControl, getChassisStatus, type ChassisAction, type PowerState } from './commands/chassis.js';
import { IpmiError } from './errors.js';
import { withSession, type BmcTarget, type Session, type SessionOptions } from './session.js';

export type PowerAction = 'status' | 'on' | 'off' | 'cycle' | 'reset' | 'soft' | 'diag';

export interface PowerWait {
  /** How long to wait for the expected state, ms (default 60000). */
  deadlineMs?: number;
  /** Poll interval, ms (default 500). */
  intervalMs?: number;
}

export interface PowerOptions extends SessionOptions {
  /** Read back until the expected state is reached (on, or off for off/soft). */
  wait?: boolean | PowerWait;
  /** cycle/reset of a machine that is off powers it on (FreeIPMI --on-if-off). Default false. */
  onIfOff?: boolean;
  /**
   * Send the command even when the current state cannot be read. Without it an unknown
   * state never leads to a destructive action.
   */
  force?: boolean;
}

export interface PowerResult extends Omit<PowerChange, 'action' | 'before' | 'after' | 'sent'> {
  action: PowerAction;
  before: PowerState | 'unknown';
  after: PowerState | 'unknown';
  /** Chassis Control sub-function actually sent, if any. */
  sent?: ChassisAction;
}

/** The chassis of a BMC on an open session, as the one power action reads and drives it. */
export function ipmiControl(s: Session): PowerControl {
  return {
    read: async () => (await getChassisStatus(s)).power,
    async send(command) {
      await chassisControl(s, command);
      return { sent: command };
    },
    get attempts() { return s.sent; },
  };
}

/** A failure of the power action itself, as the library's error. */
function powerFailure(kind: string, detail: string): IpmiError {
  return kind === 'cancelled' ? new IpmiError('network', 'cancelled while waiting for the power state', { aborted: true }) : new IpmiError('protocol', detail);
}

/** Power status or an idempotent power change on one BMC. */
export async function power(target: BmcTarget, action: PowerAction, o: PowerOptions = {}): Promise<PowerResult> {
  const started = Date.now();
  const w: PowerWait = typeof o.wait === 'object' ? o.wait : {};
  const waitMs = o.wait ? w.deadlineMs ?? 60_000 : 0;
  // The wait has its own deadline on top of the per-BMC deadline for the commands.
  const deadline = o.deadline ?? started + (o.deadlineMs ?? 10_000) + waitMs;
  const privilege = o.privilege ?? (action === 'status' ? 'user' : 'operator');
  return withSession(target, { ...o, deadline, privilege, warm: action === 'status' }, async (s) => {
    if (action === 'status') {
      const state = (await getChassisStatus(s)).power;
      return { action, before: state, after: state, changed: false, attempts: s.sent, elapsedMs: Date.now() - started };
    }
    const r = await runPowerAction(ipmiControl(s), action, {
      waitMs, pollMs: w.intervalMs ?? 500, onIfOff: o.onIfOff ?? false, force: o.force ?? false, ...(o.signal ? { signal: o.signal } : {}), fail: powerFailure,
    });
    return { ...r, elapsedMs: Date.now() - started } as PowerResult;
  });
}
