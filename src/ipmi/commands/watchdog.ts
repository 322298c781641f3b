// The BMC watchdog timer (IPMI 2.0 §27): Get, Set and Reset Watchdog Timer. The OS (its
// watchdog daemon) restarts the countdown with Reset; when it stops doing so the BMC
// takes the timeout action and logs a Watchdog 2 event (sensor type 23h) in the SEL.
import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';

export type WatchdogAction = 'none' | 'reset' | 'off' | 'cycle';
export const WATCHDOG_ACTIONS: readonly WatchdogAction[] = ['none', 'reset', 'off', 'cycle'];
const USES = ['reserved', 'bios-frb2', 'bios-post', 'os-load', 'sms-os', 'oem', 'reserved', 'reserved'] as const;
/** The timer use dscli sets: SMS/OS, the one an OS watchdog daemon restarts. */
export const USE_SMS_OS = 4;
/** The countdown is a 16-bit count of 100 ms. */
export const MAX_TIMEOUT_S = 6553;

export interface WatchdogState {
  use: string;
  running: boolean;
  /** Whether the BMC logs an expiry (Watchdog 2 event in the SEL). */
  logging: boolean;
  action: WatchdogAction | string;
  pretimeoutS: number;
  /** Timer uses whose expiration flag is set (an expiry happened since it was cleared). */
  expired: string[];
  timeoutS: number;
  /** Undefined when the BMC leaves the present countdown out (OpenIPMI's simulator does). */
  remainingS?: number;
}

export function decodeWatchdog(d: Buffer): WatchdogState {
  if (d.length < 6) throw new Error(`Get Watchdog Timer answer has ${d.length} data bytes, 8 expected`);
  const use = d.readUInt8(0), act = d.readUInt8(1), flags = d.readUInt8(3);
  const expired: string[] = [];
  for (let bit = 1; bit <= 5; bit++) if (flags & (1 << bit)) expired.push(USES[bit]!);
  const w: WatchdogState = {
    use: USES[use & 0x07]!,
    running: (use & 0x40) !== 0,
    logging: (use & 0x80) === 0,
    action: WATCHDOG_ACTIONS[act & 0x07] ?? `0x${(act & 0x07).toString(16)}`,
    pretimeoutS: d.readUInt8(2),
    expired,
    timeoutS: d.readUInt16LE(4) / 10,
  };
  if (d.length >= 8) w.remainingS = d.readUInt16LE(6) / 10;
  return w;
}

export async function getWatchdog(s: Session): Promise<WatchdogState> {
  const r = await s.request(0x06, 0x25, Buffer.alloc(0), { step: 'Get Watchdog Timer' });
  try {
    return decodeWatchdog(r.data);
  } catch (e) {
    throw new IpmiError('protocol', (e as Error).message, { host: s.target.host, port: s.port, step: 'Get Watchdog Timer' });
  }
}

/**
 * Sets the SMS/OS timer to `timeoutS` with `action` and, unless the action is none, starts
 * it (Reset Watchdog Timer); action none stops it. The expiration flags are cleared, so
 * that a later expiry is a new one.
 */
export async function setWatchdog(s: Session, timeoutS: number, action: WatchdogAction): Promise<void> {
  const count = Math.round(timeoutS * 10);
  if (!(count >= 1 && count <= 0xffff)) throw new IpmiError('protocol', `watchdog timeout must be 0.1-${MAX_TIMEOUT_S} s`, { host: s.target.host, port: s.port, step: 'Set Watchdog Timer' });
  // Bit 6 (do not stop a running timer) is set unless the timer is to stop: the new values
  // apply without a gap, and BMCs that echo the byte report the timer as running.
  const use = action === 'none' ? USE_SMS_OS : USE_SMS_OS | 0x40;
  const data = Buffer.from([use, WATCHDOG_ACTIONS.indexOf(action), 0, 0x3e, count & 0xff, count >> 8]);
  // Not retransmitted blindly: setting twice is harmless, but the reset must follow the set.
  await s.request(0x06, 0x24, data, { step: 'Set Watchdog Timer', codes: { 0xcc: 'the BMC cannot take this timeout action' } });
  if (action !== 'none') await s.request(0x06, 0x22, Buffer.alloc(0), { step: 'Reset Watchdog Timer', codes: { 0x80: 'the watchdog timer is not initialised' } });
}
