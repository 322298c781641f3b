// The redfish driver's info interface: the LogServices of the system and of its managers
// (SEL, IML, event log) decoded to the columns of an IPMI SEL, ClearLog, the chassis
// Sensors (or Thermal and Power on older services) as IPMI-like sensor rows, System,
// Chassis and Manager inventory, identify by LocationIndicatorActive or IndicatorLED,
// and a connection check. Every collection walk is bounded: a service whose nextLink
// repeats, or that lists more than the caps, cannot keep a call going.
import { type CallOptions, DriverError, type InfoInterface, type LogEntry, type SensorEntry } from '../types.js';
import { type Json, arr, isObj, link, num, obj, str } from './session.js';
import { type Controller, onController } from './target.js';
import { trustText } from './trust.js';
import { subscribeEvents, unsubscribeEvents } from './subscriptions.js';
import { wait } from '../../util/wait.js';

const MAX_PAGES = 50;
const MAX_ENTRIES = 5000;
const MAX_FETCHED = 512;
const PARALLEL = 6;

/** Runs fn over items with at most `n` at a time, keeping their order. */
async function mapLimited<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/**
 * The members of a collection, following nextLink; members given only as links are read
 * one by one (at most MAX_FETCHED). A page seen twice ends the walk.
 */
export async function members(c: Controller, uri: string, limit = MAX_ENTRIES): Promise<{ items: Json[]; etag: string | undefined }> {
  const seenPages = new Set<string>();
  const seenIds = new Set<string>();
  const out: Json[] = [];
  let etag: string | undefined;
  let page: string | undefined = c.path(uri);
  while (page && !seenPages.has(page) && seenPages.size < MAX_PAGES && out.length < limit) {
    const first = seenPages.size === 0;
    seenPages.add(page);
    const answer = await c.s.request('GET', page);
    const coll = answer.data;
    if (first) etag = typeof answer.headers.etag === 'string' ? answer.headers.etag : str(coll, '@odata.etag');
    let added = 0;
    for (const x of arr(coll, 'Members')) {
      if (!isObj(x)) continue;
      const id = link(x) ?? JSON.stringify(x);
      if (seenIds.has(id)) continue;
      seenIds.add(id);
      out.push(x);
      added++;
      if (out.length >= limit) break;
    }
    const nextLink = str(coll, 'Members@odata.nextLink') ?? str(coll, '@odata.nextLink');
    // A service that answers every page with the first one has nothing more to give.
    page = added > 0 && nextLink ? c.path(nextLink) : undefined;
  }
  const bare = (x: Json): boolean => Object.keys(x).every((k) => k.startsWith('@odata.'));
  const toFetch = out.filter(bare).slice(0, MAX_FETCHED);
  const fetched = new Map<Json, Json>();
  await mapLimited(toFetch, PARALLEL, async (x) => { fetched.set(x, await c.s.get(c.path(link(x)!))); });
  return { items: out.filter((x) => !bare(x) || fetched.has(x)).map((x) => fetched.get(x) ?? x), etag };
}

export async function optionalGet(c: Controller, uri: string | undefined): Promise<Json | undefined> {
  if (!uri) return undefined;
  try {
    return await c.s.get(c.path(uri));
  } catch (e) {
    if (e instanceof DriverError && e.code === 404) return undefined;
    throw e;
  }
}

export const links = (o: Json | undefined, k: string): string[] => arr(obj(o, 'Links'), k).map((x) => link(x)).filter((x): x is string => !!x);

// ---- logs -----------------------------------------------------------------------------------

interface LogService { owner: string; service: Json; uri: string }

/** The log services of the system and of the managers that manage it. */
async function logServices(c: Controller, sys: Json): Promise<LogService[]> {
  const owners: Array<{ owner: string; coll: string | undefined }> = [{ owner: 'system', coll: link(sys, 'LogServices') }];
  for (const mgr of links(sys, 'ManagedBy')) {
    const m = await optionalGet(c, mgr);
    owners.push({ owner: `manager ${str(m, 'Id') ?? mgr}`, coll: link(m, 'LogServices') });
  }
  const out: LogService[] = [];
  for (const o of owners) {
    if (!o.coll) continue;
    const coll = await optionalGet(c, o.coll);
    if (!coll) continue;
    for (const x of arr(coll, 'Members')) {
      const uri = link(x);
      if (!uri) continue;
      const service = isObj(x) && x.Entries ? x : await optionalGet(c, uri);
      if (service) out.push({ owner: o.owner, service, uri });
    }
  }
  return out;
}

const DIRECTION: Record<string, 'assertion' | 'deassertion'> = { Assert: 'assertion', Deassert: 'deassertion' };

function isoTime(v: string | undefined): { time: string; timestamp: number | null } {
  if (!v) return { time: '-', timestamp: null };
  const t = Date.parse(v);
  if (!Number.isFinite(t)) return { time: v, timestamp: null };
  return { time: new Date(t).toISOString().replace('.000Z', 'Z'), timestamp: Math.floor(t / 1000) };
}

/** A Redfish LogEntry in the columns of a decoded IPMI SEL record. */
export function logEntryOf(serviceId: string, e: Json): LogEntry {
  const id = str(e, 'Id') ?? str(e, 'MemberId') ?? '?';
  const { time, timestamp } = isoTime(str(e, 'Created') ?? str(e, 'EventTimestamp'));
  const code = str(e, 'EntryCode');
  const severity = str(e, 'Severity') ?? str(e, 'MessageSeverity');
  const message = str(e, 'Message') ?? str(e, 'Name') ?? '';
  const messageId = str(e, 'MessageId');
  return {
    id: `${serviceId}/${id}`,
    recordId: id,
    recordType: null,
    time,
    timestamp,
    sensorType: str(e, 'SensorType') ?? null,
    sensorNumber: num(e, 'SensorNumber') ?? null,
    eventType: code ?? null,
    direction: (code && DIRECTION[code]) || null,
    description: `${severity ? `${severity}: ` : ''}${message}${messageId ? ` [${messageId}]` : ''}`,
    eventData: null,
    raw: JSON.stringify(e),
  };
}

async function readLog(c: Controller, ls: LogService): Promise<{ entries: LogEntry[]; etag: string | undefined }> {
  const entriesUri = link(ls.service, 'Entries');
  if (!entriesUri) return { entries: [], etag: undefined };
  const serviceId = str(ls.service, 'Id') ?? ls.uri.split('/').pop() ?? 'log';
  const { items, etag } = await members(c, entriesUri);
  return { entries: items.map((e) => logEntryOf(serviceId, e)), etag };
}

async function readLogs(c: Controller): Promise<{ services: LogService[]; entries: LogEntry[] }> {
  const services = await logServices(c, await c.system());
  if (services.length === 0) {
    throw new DriverError(`${c.m.name}: not-supported error: neither the system nor its manager has a LogService`, { layer: 'not-supported', detail: 'neither the system nor its manager has a LogService' });
  }
  const all: LogEntry[] = [];
  for (const ls of services) all.push(...(await readLog(c, ls)).entries);
  // Oldest first, newest last, as a BMC keeps its SEL (services list in either order).
  const order = all.map((e, i) => ({ e, i }));
  order.sort((a, b) => ((a.e.timestamp ?? Infinity) - (b.e.timestamp ?? Infinity)) || a.i - b.i);
  return { services, entries: order.map((x) => x.e) };
}

async function clearLogs(c: Controller): Promise<number> {
  const services = (await logServices(c, await c.system())).filter((ls) => str(obj(obj(ls.service, 'Actions'), '#LogService.ClearLog'), 'target'));
  if (services.length === 0) {
    throw new DriverError(`${c.m.name}: not-supported error: no LogService of the system or its manager offers ClearLog`, { layer: 'not-supported', detail: 'no LogService of the system or its manager offers ClearLog' });
  }
  let read = 0;
  for (const ls of services) {
    const target = c.path(str(obj(obj(ls.service, 'Actions'), '#LogService.ClearLog'), 'target')!);
    // With the entries' ETag the service clears only what was read (LogEntriesETag); an
    // entry that arrived in between makes it refuse, and the log is read again.
    for (let attempt = 1; ; attempt++) {
      const { entries, etag } = await readLog(c, ls);
      const r = await c.s.request('POST', target, etag ? { LogEntriesETag: etag } : {}, { allow: etag ? [400, 412] : [] });
      if (r.status < 300) { read += entries.length; break; }
      if (attempt >= 3) throw new DriverError(`${c.m.name}: controller error: ${ls.uri} keeps changing while being cleared (HTTP ${r.status})`, { layer: 'controller', code: r.status, detail: `${ls.uri} keeps changing while being cleared` });
    }
  }
  return read;
}

// ---- sensors --------------------------------------------------------------------------------

const THRESHOLDS: Record<string, string> = { LowerCaution: 'lnc', LowerCritical: 'lcr', LowerFatal: 'lnr', UpperCaution: 'unc', UpperCritical: 'ucr', UpperFatal: 'unr' };
const OLD_THRESHOLDS: Record<string, string> = {
  LowerThresholdNonCritical: 'lnc', LowerThresholdCritical: 'lcr', LowerThresholdFatal: 'lnr',
  UpperThresholdNonCritical: 'unc', UpperThresholdCritical: 'ucr', UpperThresholdFatal: 'unr',
};

/** ok, or the service's health (Warning, Critical), or disabled/absent when it is not enabled. */
function statusOf(o: Json): string {
  const s = obj(o, 'Status');
  const state = str(s, 'State');
  if (state && state !== 'Enabled') return state.toLowerCase();
  const health = str(s, 'Health');
  return !health || health === 'OK' ? 'ok' : health.toLowerCase();
}

const UNITS: Record<string, string> = { Cel: 'degrees C', V: 'Volts', A: 'Amps', W: 'Watts', RPM: 'RPM', '%': 'percent', Hz: 'Hz', J: 'Joules', kW_h: 'kWh' };

export function sensorOf(s: Json): SensorEntry {
  const th: Record<string, number> = {};
  for (const [k, short] of Object.entries(THRESHOLDS)) {
    const v = num(obj(obj(s, 'Thresholds'), k), 'Reading');
    if (v !== undefined) th[short] = v;
  }
  const unit = str(s, 'ReadingUnits');
  const reading = num(s, 'Reading');
  return {
    name: str(s, 'Name') ?? str(s, 'Id') ?? '?',
    number: num(s, 'SensorNumber') ?? null,
    type: str(s, 'ReadingType') ?? (unit === 'Cel' ? 'Temperature' : str(s, 'PhysicalContext') ?? 'Sensor'),
    value: reading ?? null,
    unit: unit ? UNITS[unit] ?? unit : null,
    status: statusOf(s),
    states: null,
    thresholds: Object.keys(th).length ? th : null,
  };
}

/** A member of Thermal (Temperatures, Fans) or Power (Voltages, PowerSupplies) as a sensor row. */
export function legacySensorOf(kind: 'Temperature' | 'Fan' | 'Voltage' | 'PowerSupply', s: Json): SensorEntry {
  const th: Record<string, number> = {};
  for (const [k, short] of Object.entries(OLD_THRESHOLDS)) {
    const v = num(s, k);
    if (v !== undefined) th[short] = v;
  }
  let value: number | undefined, unit: string | null = null;
  if (kind === 'Temperature') { value = num(s, 'ReadingCelsius'); unit = 'degrees C'; }
  else if (kind === 'Voltage') { value = num(s, 'ReadingVolts'); unit = 'Volts'; }
  else if (kind === 'Fan') { value = num(s, 'Reading'); unit = str(s, 'ReadingUnits') === 'Percent' ? 'percent' : 'RPM'; }
  else { value = num(s, 'LastPowerOutputWatts') ?? num(s, 'PowerOutputWatts'); unit = 'Watts'; }
  return {
    name: str(s, 'Name') ?? str(s, 'MemberId') ?? '?', number: num(s, 'SensorNumber') ?? null, type: kind,
    value: value ?? null, unit: value === undefined ? null : unit, status: statusOf(s), states: null, thresholds: Object.keys(th).length ? th : null,
  };
}

async function sensors(c: Controller): Promise<SensorEntry[]> {
  const sys = await c.system();
  const chassisUri = links(sys, 'Chassis')[0];
  const chassis = await optionalGet(c, chassisUri);
  if (!chassis) throw new DriverError(`${c.m.name}: not-supported error: the system names no chassis`, { layer: 'not-supported', detail: 'the system names no chassis' });
  const sensorsUri = link(chassis, 'Sensors');
  if (sensorsUri) return (await members(c, sensorsUri, MAX_FETCHED)).items.map(sensorOf);
  const out: SensorEntry[] = [];
  const thermal = await optionalGet(c, link(chassis, 'Thermal'));
  for (const t of arr(thermal, 'Temperatures')) if (isObj(t)) out.push(legacySensorOf('Temperature', t));
  for (const f of arr(thermal, 'Fans')) if (isObj(f)) out.push(legacySensorOf('Fan', f));
  const power = await optionalGet(c, link(chassis, 'Power'));
  for (const v of arr(power, 'Voltages')) if (isObj(v)) out.push(legacySensorOf('Voltage', v));
  for (const p of arr(power, 'PowerSupplies')) if (isObj(p)) out.push(legacySensorOf('PowerSupply', p));
  if (!thermal && !power) throw new DriverError(`${c.m.name}: not-supported error: the chassis has no Sensors, Thermal or Power`, { layer: 'not-supported', detail: 'the chassis has no Sensors, Thermal or Power' });
  return out;
}

// ---- inventory and identify -------------------------------------------------------------------

async function hardware(c: Controller): Promise<Array<[string, string]>> {
  const sys = await c.system();
  const chassis = await optionalGet(c, links(sys, 'Chassis')[0]);
  const manager = await optionalGet(c, links(sys, 'ManagedBy')[0]);
  const l: Array<[string, string]> = [];
  const put = (k: string, v: string | number | undefined): void => { if (v !== undefined && v !== '') l.push([k, String(v)]); };
  put('redfish_version', c.version);
  put('system_id', str(sys, 'Id'));
  put('manufacturer', str(sys, 'Manufacturer'));
  put('model', str(sys, 'Model'));
  put('sku', str(sys, 'SKU'));
  put('serial', str(sys, 'SerialNumber'));
  put('part_number', str(sys, 'PartNumber'));
  put('asset_tag', str(sys, 'AssetTag'));
  put('uuid', str(sys, 'UUID'));
  put('bios_version', str(sys, 'BiosVersion'));
  put('power', str(sys, 'PowerState'));
  put('health', str(obj(sys, 'Status'), 'Health'));
  put('processors', num(obj(sys, 'ProcessorSummary'), 'Count'));
  put('processor_model', str(obj(sys, 'ProcessorSummary'), 'Model'));
  put('memory_gib', num(obj(sys, 'MemorySummary'), 'TotalSystemMemoryGiB'));
  if (chassis) {
    put('chassis_id', str(chassis, 'Id'));
    put('chassis_type', str(chassis, 'ChassisType'));
    put('chassis_manufacturer', str(chassis, 'Manufacturer'));
    put('chassis_model', str(chassis, 'Model'));
    put('chassis_serial', str(chassis, 'SerialNumber'));
    put('chassis_part_number', str(chassis, 'PartNumber'));
  }
  if (manager) {
    put('manager_id', str(manager, 'Id'));
    put('manager_type', str(manager, 'ManagerType'));
    put('manager_model', str(manager, 'Model'));
    put('firmware', str(manager, 'FirmwareVersion'));
    put('manager_uuid', str(manager, 'UUID'));
  }
  return l;
}


/** Sets the identify indicator of the system (else its chassis); reads it back. */
async function setIndicator(c: Controller, on: boolean): Promise<string> {
  const sys = await c.system();
  const candidates: Array<{ uri: string; res: Json }> = [{ uri: c.systemUri, res: sys }];
  const chassisUri = links(sys, 'Chassis')[0];
  if (chassisUri) {
    const ch = await optionalGet(c, chassisUri);
    if (ch) candidates.push({ uri: c.path(chassisUri), res: ch });
  }
  for (const { uri, res } of candidates) {
    const body = 'LocationIndicatorActive' in res ? { LocationIndicatorActive: on } : 'IndicatorLED' in res ? { IndicatorLED: on ? 'Lit' : 'Off' } : undefined;
    if (!body) continue;
    const etag = str(res, '@odata.etag');
    await c.s.request('PATCH', uri, body, etag ? { ifMatch: etag } : {});
    const back = await c.s.get(uri);
    const [k, want] = Object.entries(body)[0]!;
    if (back[k] !== want) {
      throw new DriverError(`${c.m.name}: verify error: ${k} is ${String(back[k])} after setting it to ${String(want)}`, { layer: 'verify', detail: `${k} is ${String(back[k])} after setting it to ${String(want)}` });
    }
    return `${k} of ${uri}`;
  }
  throw new DriverError(`${c.m.name}: not-supported error: neither the system nor its chassis has LocationIndicatorActive or IndicatorLED`, { layer: 'not-supported', detail: 'neither the system nor its chassis has LocationIndicatorActive or IndicatorLED' });
}

export const redfishInfo: InfoInterface = {
  async check(ctx, m, o) {
    return onController(ctx, m, o, async (c) => {
      const root = await c.root();
      const sys = await c.system();
      const what = [str(sys, 'Manufacturer'), str(sys, 'Model')].filter(Boolean).join(' ') || 'system';
      return `Redfish ${str(root, 'RedfishVersion') ?? c.version}, ${what}, system ${str(sys, 'Id') ?? c.systemUri} ${str(sys, 'PowerState') ?? '?'}, ${c.s.auth} login, ${trustText(c.t.ep.trust)}`;
    });
  },
  async log(ctx, m, o = {}) {
    const { entries } = await onController(ctx, m, o, readLogs);
    return o.last !== undefined ? entries.slice(Math.max(0, entries.length - o.last)) : entries;
  },
  async clearLog(ctx, m, o) {
    return onController(ctx, m, o, clearLogs);
  },
  async sensors(ctx, m, o) {
    return onController(ctx, m, o, sensors);
  },
  async hardware(ctx, m, o) {
    return onController(ctx, m, o, hardware);
  },
  async identify(ctx, m, what, o: CallOptions = {}) {
    if (what === 'on' || what === 'off') {
      const where = await onController(ctx, m, o, (c) => setIndicator(c, what === 'on'));
      ctx.log(`${m.name}: ${where} ${what}`);
      return;
    }
    // Redfish indicators have no timer: on now, off after the time (the call lasts that long).
    await onController(ctx, m, o, async (c) => {
      await setIndicator(c, true);
      c.waitPhase(what * 1000);
      // A cancel ends the pause; the next request says so.
      await wait(what * 1000, ctx.signal).catch(() => undefined);
      // Turned off even when the command was canceled meanwhile, within a few seconds of its own.
      if (ctx.signal.aborted) {
        c.s.lim.deadline = Date.now() + 5000;
        c.s.lim.signal = AbortSignal.timeout(5000);
      }
      await setIndicator(c, false);
    });
  },
  subscribeEvents,
  unsubscribeEvents,
};
