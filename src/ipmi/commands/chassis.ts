import { IpmiError } from '../errors.js';
import type { Session } from '../session.js';

export type PowerState = 'on' | 'off';

export interface ChassisStatus {
  power: PowerState;
  powerOverload: boolean;
  interlock: boolean;
  powerFault: boolean;
  powerControlFault: boolean;
  restorePolicy: 'always-off' | 'previous' | 'always-on' | 'unknown';
  lastPowerEvent: string[];
  intrusion: boolean;
  frontPanelLockout: boolean;
  driveFault: boolean;
  fanFault: boolean;
  identify?: 'off' | 'temporary' | 'indefinite';
}

export function decodeChassisStatus(d: Buffer): ChassisStatus {
  const b = (i: number) => (i < d.length ? d.readUInt8(i) : 0);
  const p = b(0), last = b(1), misc = b(2);
  const events: string[] = [];
  if (last & 0x01) events.push('ac-failed');
  if (last & 0x02) events.push('overload');
  if (last & 0x04) events.push('interlock');
  if (last & 0x08) events.push('fault');
  if (last & 0x10) events.push('ipmi-command');
  const policy = (['always-off', 'previous', 'always-on', 'unknown'] as const)[(p >> 5) & 3]!;
  const s: ChassisStatus = {
    power: p & 0x01 ? 'on' : 'off',
    powerOverload: (p & 0x02) !== 0,
    interlock: (p & 0x04) !== 0,
    powerFault: (p & 0x08) !== 0,
    powerControlFault: (p & 0x10) !== 0,
    restorePolicy: policy,
    lastPowerEvent: events,
    intrusion: (misc & 0x01) !== 0,
    frontPanelLockout: (misc & 0x02) !== 0,
    driveFault: (misc & 0x04) !== 0,
    fanFault: (misc & 0x08) !== 0,
  };
  if (misc & 0x40) s.identify = (['off', 'temporary', 'indefinite', 'off'] as const)[(misc >> 4) & 3]!;
  return s;
}

export async function getChassisStatus(s: Session): Promise<ChassisStatus> {
  const r = await s.request(0x00, 0x01, Buffer.alloc(0), { step: 'Get Chassis Status' });
  // A short answer must not read as "off": that would turn into a power-on.
  if (r.data.length < 3) throw new IpmiError('protocol', `Get Chassis Status answer has ${r.data.length} data bytes, at least 3 expected`, { host: s.target.host, port: s.port, step: 'Get Chassis Status' });
  return decodeChassisStatus(r.data);
}

/** Chassis Control sub-functions (IPMI 2.0 §28.3). */
export const CHASSIS_CONTROL = { off: 0, on: 1, cycle: 2, reset: 3, diag: 4, soft: 5 } as const;
export type ChassisAction = keyof typeof CHASSIS_CONTROL;
const ACTION_STEP: Record<ChassisAction, string> = {
  off: 'power off', on: 'power on', cycle: 'power cycle', reset: 'hard reset', diag: 'diag interrupt', soft: 'soft shutdown',
};

/**
 * Sends Chassis Control. Not retransmitted: a lost answer to "cycle" must not cycle twice;
 * the power helper reads the state back instead.
 */
export async function chassisControl(s: Session, action: ChassisAction): Promise<void> {
  await s.request(0x00, 0x02, Buffer.from([CHASSIS_CONTROL[action]]), {
    step: ACTION_STEP[action], retries: 0,
    codes: { 0xcc: `${ACTION_STEP[action]} not supported by this BMC` },
  });
}

/** Chassis Identify: seconds (0 turns it off, default 15 on the BMC) or 'force' for on until turned off. */
export async function chassisIdentify(s: Session, what: number | 'off' | 'force' = 15): Promise<void> {
  const data = what === 'force' ? Buffer.from([0, 1]) : Buffer.from([what === 'off' ? 0 : Math.max(0, Math.min(255, what))]);
  await s.request(0x00, 0x04, data, { step: 'Chassis Identify' });
}
