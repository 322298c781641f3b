// One driver call on a machine's Redfish controller: the endpoint and trust of its
// registration, the call's limits, the login, and discovery — service root → Systems →
// the system (the one named by system=ID, else the only one) — remembered with the
// registration (bmc_probe) so that the next call goes straight to the system.
import { rememberControllerProbe, type ControllerRow, controllerOf, controllerPassword } from '../controller.js';
import { type CallOptions, type DriverContext, DriverError, type MachineRef } from '../types.js';
import { type SettingReader, settingNumber } from '../setting-reader.js';
import { declaredSetting } from '../settings.js';
import type { Db } from '../../store/db.js';
import type { Endpoint, Limits } from './client.js';
import { type AuthMode, type Json, RedfishSession, arr, link, obj, pathOf, str } from './session.js';
import { REDFISH_SETTINGS, machineSettings } from './spec.js';
import { normaliseCertFingerprint } from './fingerprint.js';
import { readCaFile, type Trust } from './trust.js';

/** HTTPS's port, as the spec declares it. */
export const DEFAULT_REDFISH_PORT = Number(declaredSetting(REDFISH_SETTINGS, 'port')!.default);
const ROOT = '/redfish/v1/';

const setting = (db: Db, key: string): number => settingNumber(db, REDFISH_SETTINGS, key);

export const onWaitMs = (db: Db): number => setting(db, 'redfish.on_wait_s') * 1000;
export const softOffWaitMs = (db: Db): number => setting(db, 'redfish.soft_off_wait_s') * 1000;

export interface Target {
  row: ControllerRow;
  ep: Endpoint;
  auth: AuthMode;
  /** The system=ID setting, if any. */
  system: string | undefined;
}

function trustOf(row: ControllerRow, r: SettingReader): Trust {
  const t: Trust = { verify: r.bool('verify') };
  // checked against its declaration (fingerprintProblem) by the reader
  const fp = r.str('fingerprint');
  if (fp !== undefined && fp.trim() !== '') t.fingerprint = normaliseCertFingerprint(fp)!;
  const ca = r.str('ca_file');
  if (ca !== undefined && ca.trim() !== '') t.ca = readCaFile(ca.trim(), row.name);
  return t;
}

/** The controller registration of a machine, which must be a redfish one. */
export function targetFor(db: Db, m: MachineRef): Target {
  const row = controllerOf(db, m);
  if (!row || row.mgmt_type !== 'redfish' || !row.bmc_address) {
    throw new DriverError(`${m.name}: no Redfish controller registered for this machine (dscli createServer ${m.name} mgmt=redfish address=… user=… password_file=…)`, { layer: 'configuration' });
  }
  if (!row.bmc_secret) {
    throw new DriverError(`${m.name}: no Redfish password stored (dscli setServer ${m.name} password_file=…)`, {
      layer: 'authentication', detail: `no Redfish password stored (dscli setServer ${m.name} password_file=…)`,
    });
  }
  const r = machineSettings(db, row.id);
  const auth = r.need('auth') as AuthMode;
  const system = r.str('system')?.trim() || undefined;
  return { row, auth, system, ep: { machine: row.name, host: row.bmc_address, port: row.bmc_port ?? DEFAULT_REDFISH_PORT, trust: trustOf(row, r) } };
}

/** The call's limits: the caller's deadline, else the setting; per request at most the request timeout. */
export function limitsOf(ctx: DriverContext, o: CallOptions = {}): Limits {
  const deadlineMs = o.deadlineMs ?? setting(ctx.db, 'redfish.deadline_s') * 1000;
  const retries = o.retries !== undefined && Number.isInteger(o.retries) && o.retries >= 0 ? o.retries : setting(ctx.db, 'redfish.retries');
  // The IPMI retransmission interval (CallOptions.timeoutMs) does not apply: TCP retransmits; one
  // answer may take up to the request timeout, within the deadline.
  return {
    deadline: Date.now() + deadlineMs,
    requestTimeoutMs: setting(ctx.db, 'redfish.request_timeout_s') * 1000,
    retries,
    signal: ctx.signal,
  };
}

/** What discovery learnt, kept with the registration. */
interface Probe {
  redfish: 1;
  /** The endpoint and system= it was made for: a change makes it stale. */
  for: string;
  version: string;
  sessions: string | null;
  eventService: string | null;
  system: string;
}

const probeKey = (t: Target): string => `${t.ep.host}:${t.ep.port}:${t.system ?? ''}`;

function rememberedProbe(t: Target): Probe | undefined {
  if (!t.row.bmc_probe) return undefined;
  try {
    const p = JSON.parse(t.row.bmc_probe) as Probe;
    return p.redfish === 1 && p.for === probeKey(t) && typeof p.system === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

/** A call on one controller, with what its service offers. */
export class Controller {
  /** The call's own deadline, as a span. */
  private readonly spanMs: number;

  constructor(
    readonly ctx: DriverContext,
    readonly m: MachineRef,
    readonly t: Target,
    readonly s: RedfishSession,
    private probe: Probe,
  ) {
    this.spanMs = Math.max(0, s.lim.deadline - Date.now());
  }

  /**
   * Gives the requests of a waiting phase of `ms` their time: the wait, plus the call's
   * own deadline for the requests at its end. A controller that does not answer before
   * the wait still fails within the deadline.
   */
  waitPhase(ms: number): void {
    this.s.lim.deadline = Math.max(this.s.lim.deadline, Date.now() + ms + this.spanMs);
  }

  get version(): string { return this.probe.version; }
  get systemUri(): string { return this.probe.system; }
  get eventService(): string | null { return this.probe.eventService; }

  /** The ComputerSystem resource; a system that moved (404) is looked up again once. */
  async system(): Promise<Json> {
    try {
      return await this.s.get(this.probe.system);
    } catch (e) {
      if (!(e instanceof DriverError && e.code === 404)) throw e;
      this.probe = await discover(this.ctx.db, this.t, this.s);
      return this.s.get(this.probe.system);
    }
  }

  /** The service root (read at discovery; read again here when needed). */
  root(): Promise<Json> {
    return this.s.getPublic(ROOT);
  }

  path(uri: string): string {
    return pathOf(this.t.ep, uri);
  }
}

async function discover(db: Db, t: Target, s: RedfishSession): Promise<Probe> {
  const root = await s.getPublic(ROOT);
  const sessions = link(obj(root, 'Links'), 'Sessions') ?? (link(root, 'SessionService') ? `${link(root, 'SessionService')!.replace(/\/$/, '')}/Sessions` : undefined);
  s.sessions = sessions ? pathOf(t.ep, sessions) : null;
  const systemsUri = link(root, 'Systems');
  if (!systemsUri) throw new DriverError(`${t.ep.machine}: not-supported error: the Redfish service has no Systems collection`, { layer: 'not-supported', detail: 'the Redfish service has no Systems collection' });
  const members = arr(await s.get(pathOf(t.ep, systemsUri)), 'Members').map((x) => link(x)).filter((x): x is string => !!x);
  let system: string | undefined;
  const idOf = (u: string): string => decodeURIComponent(u.replace(/\/+$/, '').split('/').pop() ?? '');
  if (t.system) {
    system = members.find((u) => idOf(u) === t.system);
    if (!system) {
      // The Id is usually the last path segment; otherwise compare each member's Id, UUID and Name.
      for (const u of members.slice(0, 64)) {
        const sys = await s.get(pathOf(t.ep, u));
        if ([str(sys, 'Id'), str(sys, 'UUID'), str(sys, 'Name')].includes(t.system)) { system = u; break; }
      }
    }
    if (!system) {
      const detail = `the service has no system '${t.system}' (its systems: ${members.map(idOf).join(', ') || 'none'}); dscli setServer ${t.ep.machine} system=ID`;
      throw new DriverError(`${t.ep.machine}: configuration error: ${detail}`, { layer: 'configuration', detail });
    }
  } else if (members.length === 1) {
    system = members[0]!;
  } else {
    const detail = members.length === 0
      ? 'the Redfish service lists no system'
      : `the Redfish service has ${members.length} systems (${members.map(idOf).join(', ')}): name one with dscli setServer ${t.ep.machine} system=ID`;
    throw new DriverError(`${t.ep.machine}: configuration error: ${detail}`, { layer: 'configuration', detail });
  }
  const p: Probe = {
    redfish: 1, for: probeKey(t), version: str(root, 'RedfishVersion') ?? '?', sessions: s.sessions,
    eventService: link(root, 'EventService') ?? null, system: pathOf(t.ep, system),
  };
  try {
    rememberControllerProbe(db, t.row.id, JSON.stringify(p));
  } catch {
    // Only costs a discovery next time.
  }
  return p;
}

/**
 * Runs fn on the machine's controller; the session ends on every way out. A phase that
 * waits (for a power state, an identify time) extends the deadline with waitPhase().
 */
export async function onController<T>(ctx: DriverContext, m: MachineRef, o: CallOptions | undefined, fn: (c: Controller) => Promise<T>): Promise<T> {
  const t = targetFor(ctx.db, m);
  const lim = limitsOf(ctx, o);
  const row = t.row;
  const s = new RedfishSession(t.ep, lim, { user: row.bmc_user ?? '', password: () => controllerPassword(ctx.db, row) }, t.auth, null, ctx.log);
  try {
    let probe = rememberedProbe(t);
    if (probe) s.sessions = probe.sessions;
    else probe = await discover(ctx.db, t, s);
    return await fn(new Controller(ctx, m, t, s, probe));
  } finally {
    await s.close();
  }
}
