// The ipmi driver: power and info of a machine's BMC over IPMI 2.0 / RMCP+ (src/ipmi),
// with the login of the machine's registered controller. pvmutl jobs, dscli and the
// monitor drive a BMC through this one driver.
// The library's modules one by one, not its index: a power call loads neither the SEL,
// SDR, FRU, LAN and user commands nor the info interface that uses them.
import { IpmiError } from '../../ipmi/errors.js';
import { ipmiControl } from '../../ipmi/power.js';
import { rememberedProbe, withSession, type SessionOptions } from '../../ipmi/session.js';
import type { Db } from '../../store/db.js';
import { settingNumber } from '../setting-reader.js';
import { rememberControllerProbe } from '../controller.js';
import {
  type CallOptions, type Driver, type DriverContext, DriverError, type InfoInterface, type MachineRef, type PowerAction, type PowerInterface,
} from '../types.js';
import { IPMI } from './spec.js';
import { targetFor } from './target.js';

const seconds = (db: Db, key: string): number => settingNumber(db, IPMI.settings, key);

/** The IPMI library's error as the driver contract's, keeping the layer and the bare reason. */
export function driverError(m: MachineRef, e: unknown): DriverError {
  if (e instanceof DriverError) return e;
  if (e instanceof IpmiError) {
    const mark = `${e.layer}: `;
    const at = e.message.indexOf(mark);
    const detail = at >= 0 ? e.message.slice(at + mark.length) : e.message;
    return new DriverError(`${m.name}: BMC ${e.layer} error: ${e.message}`, {
      layer: e.layer, retryable: e.layer === 'network' && !e.aborted, detail,
      ...(e.code !== undefined ? { code: e.code } : {}), ...(e.step !== undefined ? { step: e.step } : {}), ...(e.aborted ? { aborted: true } : {}),
      ...(e.attempts !== undefined ? { attempts: e.attempts } : {}),
    });
  }
  return new DriverError(`${m.name}: ${(e as Error)?.message ?? String(e)}`, { layer: 'protocol', detail: (e as Error)?.message ?? String(e) });
}

/** Session limits of one call: the caller's, else the driver's settings. */
export function sessionOptions(ctx: DriverContext, o: CallOptions = {}): SessionOptions {
  const deadlineMs = o.deadlineMs ?? seconds(ctx.db, 'ipmi.deadline_s') * 1000;
  const retries = o.retries ?? 2;
  return { deadlineMs, retries, timeoutMs: o.timeoutMs ?? 1000, signal: ctx.signal };
}

/** Runs one call on the machine's BMC; keeps a new cipher-suite probe with the registration. */
export async function onBmc<T>(ctx: DriverContext, m: MachineRef, fn: (t: ReturnType<typeof targetFor>['target']) => Promise<T>): Promise<T> {
  const { row, target } = targetFor(ctx.db, m);
  const known = target.cipherSuite === 'auto' ? rememberedProbe(target.host, target.port) : undefined;
  try {
    return await fn(target);
  } catch (e) {
    throw driverError(m, e);
  } finally {
    if (target.cipherSuite === 'auto') {
      const p = rememberedProbe(target.host, target.port);
      // Written when this call probed, or when the registration holds no probe yet.
      if (p && (p !== known || !row.bmc_probe)) {
        try {
          rememberControllerProbe(ctx.db, row.id, JSON.stringify(p));
        } catch {
          // Only costs a new probe next time.
        }
      }
    }
  }
}

function waitFor(db: Db, action: PowerAction): number {
  if (action === 'soft') return seconds(db, 'ipmi.soft_off_wait_s') * 1000;
  if (action === 'diag') return 0;
  return seconds(db, 'ipmi.on_wait_s') * 1000;
}

/** Mechanism only: one RMCP+ session on the machine's BMC, its chassis read and driven through it. */
const ipmiPower: PowerInterface = {
  async open(ctx, m, o, use) {
    const so = sessionOptions(ctx, o);
    // The wait has its own time on top of the deadline of the commands.
    const deadline = Date.now() + (so.deadlineMs ?? 0) + (o.waitMs ?? 0);
    // A read only (a status) may run in a session a long-running process keeps warm.
    return onBmc(ctx, m, (t) => withSession(t, { ...so, deadline, privilege: o.change ? 'operator' : 'user', warm: !o.change }, (s) => use(ipmiControl(s))));
  },
  supports: { commands: ['on', 'off', 'soft', 'cycle', 'reset', 'diag'], waitMs: waitFor, pollMs: 250 },
};

/** Every method of the info interface (./info.ts): the same set, each loading the module on its first call. */
export const INFO_METHODS = ['check', 'log', 'clearLog', 'sensors', 'hardware', 'identify', 'readBmcConfig', 'writeBmcLan', 'restoreBmcConfig', 'console', 'watchdog', 'setWatchdog', 'powerReading', 'setPowerLimit', 'firmware', 'bios', 'setBios', 'nics'] as const satisfies ReadonlyArray<keyof InfoInterface>;

function lazyInfo(): InfoInterface {
  const info: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const k of INFO_METHODS) {
    info[k] = async (...args) => {
      const { ipmiInfo } = await import('./info.js');
      return (ipmiInfo[k] as (...a: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return info as InfoInterface;
}

export function createIpmiDriver(): Driver {
  return { name: 'ipmi', interfaces: { power: ipmiPower, info: lazyInfo() } };
}
