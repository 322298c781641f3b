// Idempotent power control: the state is read first, only a needed change is sent, and
// the result says what the machine was, what it is now, and whether anything changed.
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

export interface PowerResult {
  action: PowerAction;
  before: PowerState | 'unknown';
  after: PowerState | 'unknown';
  changed: boolean;
  /** Chassis Control sub-function actually sent, if any. */
  sent?: ChassisAction;
  /** Transmissions of the request that decided the result (retransmissions included). */
  attempts: number;
  elapsedMs: number;
  /** With wait: whether the expected state was observed before the wait deadline. */
  verified?: boolean;
  /** Why nothing was sent, or what to expect (e.g. soft shutdown depends on the OS). */
  note?: string;
}

const NEEDS: Record<PowerAction, 'user' | 'operator'> = {
  status: 'user', on: 'operator', off: 'operator', cycle: 'operator', reset: 'operator', soft: 'operator', diag: 'operator',
};

function plan(action: PowerAction, before: PowerState | 'unknown', onIfOff: boolean): { send?: ChassisAction; expect?: PowerState; note?: string } {
  switch (action) {
    case 'status':
      return {};
    case 'on':
      return before === 'on' ? { note: 'already on' } : { send: 'on', expect: 'on' };
    case 'off':
      return before === 'off' ? { note: 'already off' } : { send: 'off', expect: 'off' };
    case 'soft':
      return before === 'off' ? { note: 'already off' } : { send: 'soft', expect: 'off', note: 'soft shutdown asks the OS (ACPI); it may take a while or be ignored' };
    case 'cycle':
    case 'reset':
      if (before === 'off') return onIfOff ? { send: 'on', expect: 'on', note: `was off: powered on instead of ${action}` } : { note: `off: not ${action === 'cycle' ? 'cycled' : 'reset'} (use onIfOff to power on)` };
      return { send: action, expect: 'on' };
    case 'diag':
      return before === 'off' ? { note: 'off: no diagnostic interrupt sent' } : { send: 'diag' };
  }
}

async function runPower(s: Session, action: PowerAction, o: PowerOptions, started: number): Promise<PowerResult> {
  let before: PowerState | 'unknown' = 'unknown';
  try {
    before = (await getChassisStatus(s)).power;
  } catch (e) {
    if (action === 'status' || !o.force) throw e;
  }
  const attemptsBefore = s.sent;
  const p = plan(action, before, o.onIfOff ?? false);
  const result: PowerResult = { action, before, after: before, changed: false, attempts: 0, elapsedMs: 0 };
  if (p.note) result.note = p.note;
  if (!p.send) {
    result.attempts = action === 'status' ? attemptsBefore : 0;
    result.elapsedMs = Date.now() - started;
    return result;
  }
  const sentBefore = s.sent;
  await chassisControl(s, p.send);
  result.sent = p.send;
  result.attempts = s.sent - sentBefore;
  result.changed = true;
  if (o.wait && p.expect) {
    const w: PowerWait = typeof o.wait === 'object' ? o.wait : {};
    const until = Date.now() + (w.deadlineMs ?? 60_000);
    const interval = w.intervalMs ?? 500;
    // A cycle goes through off; wait to see it back on (ipmi_sim and real BMCs alike).
    for (;;) {
      const st = (await getChassisStatus(s)).power;
      result.after = st;
      if (st === p.expect) { result.verified = true; break; }
      if (Date.now() + interval > until) { result.verified = false; break; }
      await sleep(interval, o.signal);
    }
  } else {
    result.after = (await getChassisStatus(s)).power;
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(new IpmiError('network', 'cancelled while waiting for the power state', { aborted: true })); }, { once: true });
  });
}

/** Power status or an idempotent power change on one BMC. */
export async function power(target: BmcTarget, action: PowerAction, o: PowerOptions = {}): Promise<PowerResult> {
  const started = Date.now();
  const waitMs = o.wait ? (typeof o.wait === 'object' ? o.wait.deadlineMs ?? 60_000 : 60_000) : 0;
  // The wait has its own deadline on top of the per-BMC deadline for the commands.
  const deadline = o.deadline ?? started + (o.deadlineMs ?? 10_000) + waitMs;
  return withSession(target, { ...o, deadline, privilege: o.privilege ?? NEEDS[action], warm: action === 'status' }, (s) => runPower(s, action, o, started));
}
