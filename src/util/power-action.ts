// A power action, written once for every controller (in the manner of Ironic's
// conductor: node_power_action, _can_skip_state_change, node_wait_for_power_state).
// A driver only reads the state and sends a command (PowerControl); here the state is
// read first, only a needed command is sent, the expected state is waited for and read
// back, and the result says what the machine was, is now, and what was sent. The ipmi
// library's power() and every driver behind the registry (src/adapters/power.ts) use it.
import { wait } from './wait.js';

export type PowerState = 'on' | 'off' | 'suspended' | 'unknown';
/** on, hard off, soft (ACPI) off, power cycle, hard reset, diagnostic interrupt (NMI, dump). */
export type PowerAction = 'on' | 'off' | 'soft' | 'cycle' | 'reset' | 'diag';

/** One connection to a machine's power control: the mechanism a driver gives. */
export interface PowerControl {
  read(): Promise<PowerState>;
  /**
   * Sends one command as it is, to a machine last read as `before`; returns what was sent
   * in the controller's words (a chassis sub-function, a ResetType, a virsh command), and a
   * note when the driver had to do it its own way (a paused guest destroyed, …).
   */
  send(command: PowerAction, before: PowerState): Promise<{ sent: string; note?: string }>;
  /** Requests transmitted on this connection so far (retransmissions included). */
  readonly attempts: number;
  /** Called before a wait of `ms`, so that the connection's deadline allows for it. */
  waiting?(ms: number): void;
}

/** The idempotent result of a power action: what the machine was, is now, and what was sent. */
export interface PowerChange {
  action: PowerAction;
  before: PowerState;
  after: PowerState;
  changed: boolean;
  /** What was actually sent to the controller, if anything. */
  sent?: string;
  /** With a wait: whether the expected state was seen before the wait ended. */
  verified?: boolean;
  /** Transmissions of the command that was sent (0 when nothing was). */
  attempts: number;
  elapsedMs: number;
  /** Why nothing was sent, or what to expect. */
  note?: string;
}

export type PowerFailure = 'unknown-state' | 'not-supported' | 'cancelled';

export interface PowerActionOptions {
  /** Wait this long for the expected state (0: read it back once). */
  waitMs: number;
  /** Between two reads of a wait. */
  pollMs: number;
  /** cycle/reset of a machine that is off powers it on instead of doing nothing. */
  onIfOff?: boolean;
  /** Send even when the current state cannot be read (never implied). */
  force?: boolean;
  signal?: AbortSignal;
  /** The commands the controller takes; an action that needs another is not supported. */
  commands?: readonly PowerAction[];
  /** Why an action the controller does not take is not supported, in the driver's words. */
  unsupported?(action: PowerAction): string;
  /** Actions harmless to send when the state is not known (a Wake-on-LAN packet): no force needed. */
  blindSafe?: readonly PowerAction[];
  /**
   * A soft off not seen within the wait is followed by a hard off (a guest that ignores
   * ACPI); the value names the setting of that wait, for the note.
   */
  hardOffAfterSoft?: string;
  /** The error of a failure of the action itself, in the caller's terms. */
  fail(kind: PowerFailure, detail: string): Error;
}

interface Plan { send?: PowerAction; expect?: PowerState; note?: string }

/** What an action needs, given the state read first (Ironic's _can_skip_state_change). */
export function planPower(action: PowerAction, before: PowerState, onIfOff: boolean): Plan {
  switch (action) {
    case 'on':
      return before === 'on' ? { note: 'already on' } : { send: 'on', expect: 'on' };
    case 'off':
      return before === 'off' ? { note: 'already off' } : { send: 'off', expect: 'off' };
    case 'soft':
      return before === 'off' ? { note: 'already off' } : { send: 'soft', expect: 'off', note: 'soft off asks the OS (ACPI); it may take a while or be ignored' };
    case 'cycle':
    case 'reset':
      if (before === 'off') return onIfOff ? { send: 'on', expect: 'on', note: `was off: powered on instead of ${action}` } : { note: `off: not ${action === 'cycle' ? 'cycled' : 'reset'} (use onIfOff to power on)` };
      return { send: action, expect: 'on' };
    case 'diag':
      return before === 'off' ? { note: 'off: no diagnostic interrupt (NMI) sent' } : { send: 'diag' };
  }
}

/**
 * Reads until the state is `expect` or the wait ends; whether it was seen. `read` may
 * answer undefined for a reading that failed in a way the wait outlives.
 */
export async function waitForPower(
  read: () => Promise<PowerState | undefined>, expect: PowerState, o: { waitMs: number; pollMs: number; signal?: AbortSignal; cancelled: () => Error; seen?: (s: PowerState) => void },
): Promise<boolean> {
  const until = Date.now() + o.waitMs;
  for (;;) {
    const st = await read();
    if (st !== undefined) {
      o.seen?.(st);
      if (st === expect) return true;
    }
    if (Date.now() + o.pollMs > until) return false;
    await wait(o.pollMs, o.signal, o.cancelled);
  }
}

/** Reads first, sends only what is needed, waits for the expected state and reads it back. */
export async function runPowerAction(c: PowerControl, action: PowerAction, o: PowerActionOptions): Promise<PowerChange> {
  const started = Date.now();
  if (o.commands && !o.commands.includes(action)) {
    throw o.fail('not-supported', o.unsupported?.(action) ?? `${action === 'diag' ? 'a diagnostic interrupt (NMI, dump)' : `power ${action}`} is not supported by this controller`);
  }
  const force = o.force || !!o.blindSafe?.includes(action);
  let before: PowerState = 'unknown';
  try {
    before = await c.read();
  } catch (e) {
    if (!force) throw e;
  }
  if (before === 'unknown' && !force) throw o.fail('unknown-state', 'the controller reports no known power state; nothing sent (force sends anyway)');
  const p = planPower(action, before, o.onIfOff ?? false);
  const out: PowerChange = { action, before, after: before, changed: false, attempts: 0, elapsedMs: 0 };
  if (p.note) out.note = p.note;
  if (!p.send) {
    out.elapsedMs = Date.now() - started;
    return out;
  }
  const sentBefore = c.attempts;
  const s = await c.send(p.send, before);
  out.sent = s.sent;
  out.changed = true;
  out.attempts = c.attempts - sentBefore;
  if (s.note) out.note = s.note;
  const cancelled = (): Error => o.fail('cancelled', 'canceled while waiting for the power state');
  if (before === 'unknown') {
    // Sent without a known state: there is nothing to wait for, only what a read says now.
    out.after = await c.read();
    if (out.after === 'unknown') out.note = 'sent without a known state: whether it took effect is not known';
  } else if (o.waitMs > 0 && p.expect) {
    c.waiting?.(o.waitMs);
    out.verified = await waitForPower(() => c.read(), p.expect, { ...o, cancelled, seen: (st) => { out.after = st; } });
    if (!out.verified && p.send === 'soft' && o.hardOffAfterSoft) {
      const hard = await c.send('off', out.after);
      out.sent = `${out.sent}, ${hard.sent}`;
      out.note = `the OS did not shut down within ${o.waitMs / 1000} s (${o.hardOffAfterSoft}): powered off`;
      out.after = await c.read();
      out.verified = out.after === 'off';
    }
  } else {
    out.after = await c.read();
  }
  out.elapsedMs = Date.now() - started;
  return out;
}
