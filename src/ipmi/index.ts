// Public API of the IPMI 2.0 / RMCP+ driver. Every function takes a BmcTarget and
// options with per-request timeout, retries, a per-BMC deadline and an AbortSignal; every
// function opens one session, closes it on every way out, and throws IpmiError.
import { chassisIdentify, getChassisStatus, type ChassisStatus } from './commands/chassis.js';
import { getDeviceId, getSystemGuid, type DeviceId } from './commands/device.js';
import { getFru as readFru, type FruInventory } from './commands/fru.js';
import { getLanConfig as readLan, setLanConfig as writeLan, type LanConfig, type LanSettings } from './commands/lan.js';
import { getSensors as readSensors, type SensorReading } from './commands/sdr.js';
import { clearSel as eraseSel, getSelEntries, getSelInfo, type SelClearResult, type SelEntry, type SelInfo } from './commands/sel.js';
import { listUsers as readUsers, setUserAccess, setUserEnabled, setUserName, setUserPassword, type BmcUser, type UserAccessSettings } from './commands/user.js';
import { fanOutAll, type FanOutOptions, type FanOutResult } from './fanout.js';
import { power, type PowerAction, type PowerOptions, type PowerResult } from './power.js';
import { withSession, type BmcTarget, type SessionOptions } from './session.js';

export * from './errors.js';
export { CIPHER_SUITES } from './crypto.js';
export { Session, withSession, probe, rememberedProbe, rememberProbe, forgetProbes, PRIVILEGE_LEVEL, privilegeName } from './session.js';
export type { BmcTarget, SessionOptions, ProbeResult, Privilege, CommandOptions } from './session.js';
export { Transport, sharedTransport } from './transport.js';
export { fanOut, fanOutAll, fanOutEach, publicTarget, DEFAULT_FANOUT, MAX_FANOUT } from './fanout.js';
export type { FanOutOptions, FanOutResult, FanOutTask, PublicTarget } from './fanout.js';
export { power } from './power.js';
export type { PowerAction, PowerOptions, PowerResult, PowerWait } from './power.js';
export { decodePetVarbind, decodePetSpecificTrap, encodePetVarbind, PET_ENTERPRISE_OID, PET_VARBIND_OID } from './pet.js';
export type { PetEvent, PetSeverity, PetSpecificTrap } from './pet.js';
export * as chassis from './commands/chassis.js';
export * as device from './commands/device.js';
export * as sel from './commands/sel.js';
export * as sdr from './commands/sdr.js';
export * as fru from './commands/fru.js';
export * as lan from './commands/lan.js';
export * as user from './commands/user.js';
export * as watchdog from './commands/watchdog.js';
export * as dcmi from './commands/dcmi.js';
export * as boot from './commands/boot.js';
export type { ChassisStatus, DeviceId, FruInventory, LanConfig, LanSettings, SensorReading, SelEntry, SelInfo, SelClearResult, BmcUser, UserAccessSettings };

export interface ControllerInfo {
  device: DeviceId;
  guid?: string;
  chassis: ChassisStatus;
}

/** Opens a session and reads Device ID: the dscli checkConnection. */
export function checkConnection(t: BmcTarget, o: SessionOptions = {}): Promise<DeviceId> {
  return withSession(t, { privilege: 'user', ...o }, (s) => getDeviceId(s));
}

export function getControllerInfo(t: BmcTarget, o: SessionOptions = {}): Promise<ControllerInfo> {
  return withSession(t, { privilege: 'user', ...o }, async (s) => {
    const device = await getDeviceId(s);
    const chassis = await getChassisStatus(s);
    const info: ControllerInfo = { device, chassis };
    try {
      info.guid = await getSystemGuid(s);
    } catch {
      // Get System GUID is optional.
    }
    return info;
  });
}

export function getPowerStatus(t: BmcTarget, o: PowerOptions = {}): Promise<PowerResult> {
  return power(t, 'status', o);
}

export function getSel(t: BmcTarget, o: SessionOptions & { last?: number } = {}): Promise<{ info: SelInfo; entries: SelEntry[] }> {
  return withSession(t, { privilege: 'user', ...o }, async (s) => ({ info: await getSelInfo(s), entries: await getSelEntries(s, o.last !== undefined ? { last: o.last } : {}) }));
}

/** Read-and-clear under one reservation (see commands/sel.ts clearSel). */
export function clearSel(t: BmcTarget, o: SessionOptions & { readFirst?: boolean; afterRead?: (round: number) => Promise<void> } = {}): Promise<SelClearResult> {
  return withSession(t, { privilege: 'operator', ...o }, (s) => eraseSel(s, {
    ...(o.readFirst !== undefined ? { readFirst: o.readFirst } : {}),
    ...(o.afterRead ? { afterRead: o.afterRead } : {}),
  }));
}

export function getSensors(t: BmcTarget, o: SessionOptions = {}): Promise<SensorReading[]> {
  return withSession(t, { privilege: 'user', ...o }, (s) => readSensors(s));
}

export function getFru(t: BmcTarget, o: SessionOptions & { fruId?: number } = {}): Promise<FruInventory> {
  return withSession(t, { privilege: 'user', ...o }, (s) => readFru(s, o.fruId ?? 0));
}

export function identify(t: BmcTarget, what: number | 'off' | 'force' = 15, o: SessionOptions = {}): Promise<void> {
  return withSession(t, { privilege: 'operator', ...o }, (s) => chassisIdentify(s, what));
}

export function getLanConfig(t: BmcTarget, o: SessionOptions & { channel?: number } = {}): Promise<LanConfig> {
  return withSession(t, { privilege: 'operator', ...o }, (s) => readLan(s, o.channel ?? 1));
}

export function setLanConfig(t: BmcTarget, v: LanSettings, o: SessionOptions & { channel?: number } = {}): Promise<void> {
  return withSession(t, { privilege: 'administrator', ...o }, (s) => writeLan(s, o.channel ?? 1, v));
}

export function listUsers(t: BmcTarget, o: SessionOptions & { channel?: number } = {}): Promise<BmcUser[]> {
  return withSession(t, { privilege: 'operator', ...o }, (s) => readUsers(s, o.channel ?? 1));
}

export interface UserSettings {
  name?: string;
  password?: Buffer | string;
  enabled?: boolean;
  access?: UserAccessSettings;
}

/** Creates or changes a BMC account in slot `id`. */
export function setUser(t: BmcTarget, id: number, v: UserSettings, o: SessionOptions & { channel?: number } = {}): Promise<void> {
  return withSession(t, { privilege: 'administrator', ...o }, async (s) => {
    if (v.name !== undefined) await setUserName(s, id, v.name);
    if (v.password !== undefined) await setUserPassword(s, id, v.password);
    if (v.access) await setUserAccess(s, o.channel ?? 1, id, v.access);
    if (v.enabled !== undefined) await setUserEnabled(s, id, v.enabled);
  });
}

/** Power action on many BMCs; results in input order. */
export function powerAll(targets: readonly BmcTarget[], action: PowerAction, o: PowerOptions & FanOutOptions = {}): Promise<FanOutResult<PowerResult>[]> {
  const { concurrency, signal, ...rest } = o;
  const fo: FanOutOptions = {};
  if (concurrency !== undefined) fo.concurrency = concurrency;
  if (signal) fo.signal = signal;
  return fanOutAll(targets, (t, _i, sig) => power(t, action, { ...rest, signal: sig }), fo);
}
