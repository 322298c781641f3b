// Power reading and capping over Redfish. A service of schema 2020.4 or later describes
// the chassis' consumption in EnvironmentMetrics (PowerWatts) and its limit as a Control
// of ControlType Power (SetPoint, ControlMode, AllowableMin/Max); older services in the
// Power resource's PowerControl (PowerConsumedWatts, PowerMetrics, PowerLimit). The newer
// form is used where the service has it, the older otherwise; every change is read back.
import { type CallOptions, DriverError, type DriverContext, type MachineRef, type PowerUsage } from '../types.js';
import { type Json, arr, isObj, link, num, obj, str } from './session.js';
import { type Controller, onController } from './target.js';
import { links, members, optionalGet } from './info.js';

interface Sources {
  chassis: Json;
  metrics?: Json;
  control?: { uri: string; res: Json };
  power?: { uri: string; res: Json; member: Json };
}

const notSupported = (c: Controller, detail: string): DriverError =>
  new DriverError(`${c.m.name}: not-supported error: ${detail}`, { layer: 'not-supported', detail });

/** The chassis of the system and the resources that describe its power. */
async function sources(c: Controller): Promise<Sources> {
  const sys = await c.system();
  const chassisUri = links(sys, 'Chassis')[0];
  const chassis = await optionalGet(c, chassisUri);
  if (!chassis) throw notSupported(c, 'the system names no chassis');
  const out: Sources = { chassis };
  const metrics = await optionalGet(c, link(chassis, 'EnvironmentMetrics'));
  if (metrics) out.metrics = metrics;
  // The limit's Control: named by the metrics, else the chassis' Controls of type Power.
  let controlUri = str(obj(metrics, 'PowerLimitWatts'), 'DataSourceUri');
  if (!controlUri && link(chassis, 'Controls')) {
    const all = await members(c, link(chassis, 'Controls')!, 64).catch(() => ({ items: [] as Json[] }));
    controlUri = link(all.items.find((x) => str(x, 'ControlType') === 'Power'));
  }
  if (controlUri) {
    const res = await optionalGet(c, controlUri);
    if (res && str(res, 'ControlType') === 'Power') out.control = { uri: c.path(controlUri), res };
  }
  const powerUri = link(chassis, 'Power');
  if (powerUri) {
    const res = await optionalGet(c, powerUri);
    const member = arr(res, 'PowerControl').find(isObj);
    if (res && member) out.power = { uri: c.path(powerUri), res, member };
  }
  return out;
}

function readingOf(c: Controller, s: Sources): PowerUsage {
  const pc = s.power?.member;
  const pm = obj(pc, 'PowerMetrics');
  const ctl = s.control?.res;
  const watts = num(obj(s.metrics, 'PowerWatts'), 'Reading') ?? num(obj(ctl, 'Sensor'), 'Reading') ?? num(pc, 'PowerConsumedWatts') ?? null;
  let limitWatts: number | null = null;
  let source: string;
  const r: Partial<PowerUsage> = {};
  if (ctl) {
    source = 'redfish-control';
    limitWatts = str(ctl, 'ControlMode') === 'Disabled' ? null : num(ctl, 'SetPoint') ?? null;
    const lo = num(ctl, 'AllowableMin'), hi = num(ctl, 'AllowableMax');
    if (lo !== undefined) r.limitMin = lo;
    if (hi !== undefined) r.limitMax = hi;
  } else if (pc) {
    source = 'redfish-power';
    limitWatts = num(obj(pc, 'PowerLimit'), 'LimitInWatts') ?? null;
  } else if (watts !== null) {
    source = 'redfish-metrics';
  } else {
    throw notSupported(c, 'the chassis has neither EnvironmentMetrics, a power Control nor Power');
  }
  const avg = num(pm, 'AverageConsumedWatts'), min = num(pm, 'MinConsumedWatts'), max = num(pm, 'MaxConsumedWatts'), iv = num(pm, 'IntervalInMin');
  if (avg !== undefined) r.averageWatts = avg;
  if (min !== undefined) r.minWatts = min;
  if (max !== undefined) r.maxWatts = max;
  if (iv !== undefined) r.intervalMin = iv;
  return { watts, limitWatts, source, ...r };
}

async function setLimit(c: Controller, watts: number | null): Promise<PowerUsage> {
  const s = await sources(c);
  if (s.control) {
    const ctl = s.control.res;
    const lo = num(ctl, 'AllowableMin'), hi = num(ctl, 'AllowableMax');
    if (watts !== null && ((lo !== undefined && watts < lo) || (hi !== undefined && watts > hi))) {
      const detail = `a limit of ${watts} W is outside what the controller accepts (${lo ?? '?'}-${hi ?? '?'} W); nothing was changed`;
      throw new DriverError(`${c.m.name}: input error: ${detail}`, { layer: 'input', detail });
    }
    await c.s.request('PATCH', s.control.uri, watts === null ? { ControlMode: 'Disabled' } : { SetPoint: watts, ControlMode: 'Automatic' });
  } else if (s.power) {
    // One PowerControl member changed, the others left as they are ({} keeps an element).
    const count = arr(s.power.res, 'PowerControl').length;
    const body = { PowerControl: [{ PowerLimit: { LimitInWatts: watts } }, ...Array.from({ length: Math.max(0, count - 1) }, () => ({}))] };
    const etag = str(s.power.res, '@odata.etag');
    await c.s.request('PATCH', s.power.uri, body, etag ? { ifMatch: etag } : {});
  } else {
    throw notSupported(c, 'the chassis has no power limit (neither a power Control nor PowerControl)');
  }
  const after = readingOf(c, await sources(c));
  if (after.limitWatts !== watts) {
    const detail = `the controller accepted the change but reports a limit of ${after.limitWatts ?? 'none'}, not ${watts ?? 'none'}`;
    throw new DriverError(`${c.m.name}: controller error: ${detail}`, { layer: 'controller', detail });
  }
  return after;
}

export function redfishPowerReading(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<PowerUsage> {
  return onController(ctx, m, o, async (c) => readingOf(c, await sources(c)));
}

export function redfishSetPowerLimit(ctx: DriverContext, m: MachineRef, watts: number | null, o?: CallOptions): Promise<PowerUsage> {
  return onController(ctx, m, o, (c) => setLimit(c, watts));
}
