// Firmware, BIOS, network interfaces and storage over Redfish: the UpdateService's
// FirmwareInventory and SimpleUpdate (its task followed to the end), the system's Bios
// resource and its settings object (pending until the next boot), EthernetInterfaces, and
// Storage with its drives and volumes (SimpleStorage on older services). Every walk is
// bounded by the info module's collection caps.
import {
  type BiosChange, type BiosSettings, type BiosValue, type CallOptions, DriverError, type DriverContext, type FirmwareItem, type FirmwareUpdateResult,
  type MachineRef, type NicInfo, type StorageItem,
} from '../types.js';
import { type Json, arr, isObj, link, num, obj, str } from './session.js';
import { type Controller, onController } from './target.js';
import { links, members, optionalGet } from './info.js';
import { didYouMean } from '../../util/nearest.js';
import { wait } from '../../util/wait.js';

const fail = (c: Controller, layer: 'not-supported' | 'input' | 'controller' | 'protocol', detail: string): DriverError =>
  new DriverError(`${c.m.name}: ${layer} error: ${detail}`, { layer, detail });

const health = (x: unknown): string | null => str(obj(x, 'Status'), 'Health') ?? null;
const state = (x: unknown): string | null => str(obj(x, 'Status'), 'State') ?? null;
const bool = (x: unknown, k: string): boolean | null => (isObj(x) && typeof x[k] === 'boolean' ? (x[k] as boolean) : null);

// ---- firmware ---------------------------------------------------------------------------------

async function updateService(c: Controller): Promise<Json | undefined> {
  return optionalGet(c, link(await c.root(), 'UpdateService'));
}

/** The FirmwareInventory, else what the system and its manager say of their own firmware. */
async function firmwareList(c: Controller): Promise<FirmwareItem[]> {
  const us = await updateService(c);
  const inv = link(us, 'FirmwareInventory');
  if (inv) {
    const got = await members(c, inv, 256).catch((e: unknown) => {
      if (e instanceof DriverError && e.code === 404) return undefined;
      throw e;
    });
    if (got && got.items.length) {
      return got.items.map((x) => ({
        id: str(x, 'Id') ?? link(x) ?? '?', name: str(x, 'Name') ?? '', version: str(x, 'Version') ?? '', updateable: bool(x, 'Updateable'), health: health(x),
      }));
    }
  }
  const sys = await c.system();
  const out: FirmwareItem[] = [];
  if (str(sys, 'BiosVersion')) out.push({ id: 'BIOS', name: 'system BIOS', version: str(sys, 'BiosVersion')!, updateable: null, health: null });
  for (const mgr of links(sys, 'ManagedBy')) {
    const m = await optionalGet(c, mgr);
    if (m && str(m, 'FirmwareVersion')) out.push({ id: str(m, 'Id') ?? mgr, name: `manager ${str(m, 'Name') ?? ''}`.trim(), version: str(m, 'FirmwareVersion')!, updateable: null, health: health(m) });
  }
  if (!out.length) throw fail(c, 'not-supported', 'the service has no FirmwareInventory, and the system and its manager name no firmware version');
  return out;
}

const FINAL = new Set(['Completed', 'Exception', 'Killed', 'Cancelled', 'Interrupted', 'Suspended']);

/** The URI of a `target=` word: system, manager, a FirmwareInventory Id, or a path. */
async function targetUri(c: Controller, us: Json, target: string): Promise<string> {
  if (target.startsWith('/')) return target;
  if (target === 'system') return c.systemUri;
  const sys = await c.system();
  if (target === 'manager') {
    const mgr = links(sys, 'ManagedBy')[0];
    if (!mgr) throw fail(c, 'input', 'target=manager, but the system names no manager');
    return mgr;
  }
  const inv = link(us, 'FirmwareInventory');
  const items = inv ? (await members(c, inv, 256)).items : [];
  const hit = items.find((x) => str(x, 'Id') === target);
  if (!hit) throw fail(c, 'input', `no firmware '${target}' in the inventory${didYouMean(target, items.map((x) => str(x, 'Id') ?? ''))} (target=system, manager, an inventory Id or a path)`);
  return link(hit)!;
}

async function simpleUpdate(c: Controller, image: string, target: string | null, waitMs: number): Promise<FirmwareUpdateResult> {
  const us = await updateService(c);
  const action = obj(obj(us, 'Actions'), '#UpdateService.SimpleUpdate');
  const uri = str(action, 'target');
  if (!us || !uri) throw fail(c, 'not-supported', 'the service has no UpdateService with the SimpleUpdate action');
  const before = await firmwareList(c).catch(() => [] as FirmwareItem[]);
  const body: Json = { ImageURI: image };
  if (target) body.Targets = [await targetUri(c, us, target)];
  const r = await c.s.request('POST', c.path(uri), body);
  let taskUri = typeof r.headers.location === 'string' ? r.headers.location : undefined;
  if (!taskUri && str(r.data, 'TaskState')) taskUri = link(r.data);
  const result: FirmwareUpdateResult = { task: taskUri ?? null, state: 'Accepted', messages: [], changed: [] };
  if (taskUri) {
    c.waitPhase(waitMs);
    const until = Date.now() + waitMs;
    let task: Json = str(r.data, 'TaskState') ? r.data : {};
    for (;;) {
      const t = await c.s.request('GET', c.path(taskUri), undefined, { allow: [202] });
      if (str(t.data, 'TaskState')) task = t.data;
      const st = str(task, 'TaskState');
      // A task monitor answers 202 while the task runs and the final response after it.
      if ((st && FINAL.has(st)) || (!st && t.status !== 202)) break;
      if (Date.now() > until) {
        const detail = `the update task ${taskUri} is still ${st ?? 'running'} after ${Math.round(waitMs / 1000)} s; follow it on the controller`;
        throw new DriverError(`${c.m.name}: controller error: ${detail}`, { layer: 'controller', detail });
      }
      const after = Number(t.headers['retry-after']);
      // A cancel ends the pause; the next request says so.
      await wait(Math.min(10_000, Math.max(500, Number.isFinite(after) ? after * 1000 : 2000)), c.ctx.signal).catch(() => undefined);
      if (c.ctx.signal.aborted) throw fail(c, 'controller', `cancelled while following the update task ${taskUri}; it goes on on the controller`);
    }
    result.state = str(task, 'TaskState') ?? 'Completed';
    result.messages = arr(task, 'Messages').map((mm) => str(mm, 'Message') ?? str(mm, 'MessageId') ?? '').filter(Boolean).slice(0, 5);
    if (result.state !== 'Completed' || (str(task, 'TaskStatus') && str(task, 'TaskStatus') !== 'OK')) {
      const detail = `the update task ended ${result.state}${str(task, 'TaskStatus') ? ` (${str(task, 'TaskStatus')})` : ''}${result.messages.length ? `: ${result.messages.join('; ')}` : ''}`;
      throw new DriverError(`${c.m.name}: controller error: ${detail}`, { layer: 'controller', detail });
    }
  }
  const after = await firmwareList(c).catch(() => [] as FirmwareItem[]);
  for (const a of after) {
    const b = before.find((x) => x.id === a.id);
    if (b && b.version !== a.version) result.changed.push({ id: a.id, before: b.version, after: a.version });
  }
  return result;
}

// ---- BIOS ---------------------------------------------------------------------------------------

interface BiosRes { uri: string; res: Json; settingsUri: string | undefined; settings: Json | undefined }

async function biosOf(c: Controller): Promise<BiosRes> {
  const sys = await c.system();
  const uri = link(sys, 'Bios');
  const res = await optionalGet(c, uri);
  if (!uri || !res) throw fail(c, 'not-supported', 'the system has no Bios resource');
  const settingsUri = link(obj(res, '@Redfish.Settings'), 'SettingsObject');
  const settings = await optionalGet(c, settingsUri);
  return { uri: c.path(uri), res, settingsUri: settingsUri ? c.path(settingsUri) : undefined, settings };
}

const attrs = (x: Json | undefined): Record<string, BiosValue> => {
  const a = obj(x, 'Attributes') ?? {};
  const out: Record<string, BiosValue> = {};
  for (const [k, v] of Object.entries(a)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v as BiosValue;
  return out;
};

function biosSettings(b: BiosRes): BiosSettings {
  const now = attrs(b.res);
  const pending: Record<string, BiosValue> = {};
  for (const [k, v] of Object.entries(attrs(b.settings))) if (now[k] !== v) pending[k] = v;
  return { attributes: now, pending, source: 'redfish-bios' };
}

/** A value typed as the attribute is now: numbers and booleans stay numbers and booleans. */
function typed(c: Controller, key: string, raw: string, now: BiosValue): BiosValue {
  if (typeof now === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(raw)) throw fail(c, 'input', `${key} is a number, not '${raw}'; nothing was changed`);
    return Number(raw);
  }
  if (typeof now === 'boolean') {
    if (!/^(true|false)$/i.test(raw)) throw fail(c, 'input', `${key} is true or false, not '${raw}'; nothing was changed`);
    return raw.toLowerCase() === 'true';
  }
  return raw;
}

async function setBios(c: Controller, values: Record<string, string>): Promise<BiosChange[]> {
  const b = await biosOf(c);
  const now = attrs(b.res);
  const body: Record<string, BiosValue> = {};
  // Every key and value is checked before anything is written.
  for (const [k, raw] of Object.entries(values)) {
    if (!(k in now)) throw fail(c, 'input', `the BIOS has no attribute ${k}${didYouMean(k, Object.keys(now))}; nothing was changed`);
    body[k] = typed(c, k, raw, now[k]!);
  }
  await c.s.request('PATCH', b.settingsUri ?? b.uri, { Attributes: body });
  const after = await biosOf(c);
  const cur = attrs(after.res), pend = attrs(after.settings);
  return Object.entries(body).map(([key, value]) => {
    if (cur[key] === value) return { key, value, state: 'applied' as const };
    if (after.settingsUri && pend[key] === value) return { key, value, state: 'pending' as const };
    throw fail(c, 'controller', `the service accepted ${key}=${String(value)} but shows ${String(cur[key])} now and ${String(pend[key] ?? 'nothing')} pending`);
  });
}

// ---- network interfaces and storage ------------------------------------------------------------

async function nics(c: Controller): Promise<NicInfo[]> {
  const sys = await c.system();
  const coll = link(sys, 'EthernetInterfaces');
  if (!coll) throw fail(c, 'not-supported', 'the system has no EthernetInterfaces');
  const { items } = await members(c, coll, 256);
  return items.map((x) => ({
    id: str(x, 'Id') ?? link(x) ?? '?', name: str(x, 'Name') ?? '', mac: str(x, 'MACAddress') ?? str(x, 'PermanentMACAddress') ?? null,
    speedMbps: num(x, 'SpeedMbps') ?? null, link: str(x, 'LinkStatus') ?? null, enabled: bool(x, 'InterfaceEnabled'),
    ipv4: arr(x, 'IPv4Addresses').map((a) => str(a, 'Address')).filter((a): a is string => !!a), health: health(x),
  }));
}

async function storage(c: Controller): Promise<StorageItem[]> {
  const sys = await c.system();
  const out: StorageItem[] = [];
  const coll = link(sys, 'Storage');
  if (coll) {
    const { items } = await members(c, coll, 64);
    for (const st of items) {
      const sid = str(st, 'Id') ?? link(st) ?? '?';
      for (const ctl of arr(st, 'StorageControllers').filter(isObj)) {
        out.push({ kind: 'controller', storage: sid, id: str(ctl, 'MemberId') ?? str(ctl, 'Id') ?? '?', name: str(ctl, 'Name') ?? str(ctl, 'Model') ?? '', capacityBytes: null, type: null, health: health(ctl), state: state(ctl) });
      }
      for (const d of arr(st, 'Drives').slice(0, 256)) {
        const drive = isObj(d) && d.Id ? d : await optionalGet(c, link(d));
        if (!drive) continue;
        out.push({ kind: 'drive', storage: sid, id: str(drive, 'Id') ?? '?', name: str(drive, 'Name') ?? '', capacityBytes: num(drive, 'CapacityBytes') ?? null, type: str(drive, 'MediaType') ?? null, health: health(drive), state: state(drive) });
      }
      const vols = link(st, 'Volumes');
      if (vols) {
        const v = await members(c, vols, 256).catch(() => ({ items: [] as Json[] }));
        for (const vol of v.items) {
          out.push({ kind: 'volume', storage: sid, id: str(vol, 'Id') ?? '?', name: str(vol, 'Name') ?? '', capacityBytes: num(vol, 'CapacityBytes') ?? null, type: str(vol, 'RAIDType') ?? str(vol, 'VolumeType') ?? null, health: health(vol), state: state(vol) });
        }
      }
    }
  }
  const simple = link(sys, 'SimpleStorage');
  if (!out.length && simple) {
    const { items } = await members(c, simple, 64);
    for (const st of items) {
      const sid = str(st, 'Id') ?? '?';
      out.push({ kind: 'controller', storage: sid, id: sid, name: str(st, 'Name') ?? '', capacityBytes: null, type: null, health: health(st), state: state(st) });
      arr(st, 'Devices').filter(isObj).forEach((d, i) => {
        out.push({ kind: 'drive', storage: sid, id: String(i), name: str(d, 'Name') ?? '', capacityBytes: num(d, 'CapacityBytes') ?? null, type: null, health: health(d), state: state(d) });
      });
    }
  }
  if (!out.length && !coll && !simple) throw fail(c, 'not-supported', 'the system has neither Storage nor SimpleStorage');
  return out;
}

export const redfishInventory = {
  firmware: (ctx: DriverContext, m: MachineRef, o?: CallOptions) => onController(ctx, m, o, firmwareList),
  updateFirmware: (ctx: DriverContext, m: MachineRef, image: string, target: string | null, o: CallOptions & { waitMs?: number } = {}) =>
    onController(ctx, m, o, (c) => simpleUpdate(c, image, target, o.waitMs ?? 1_800_000)),
  bios: (ctx: DriverContext, m: MachineRef, o?: CallOptions) => onController(ctx, m, o, async (c) => biosSettings(await biosOf(c))),
  setBios: (ctx: DriverContext, m: MachineRef, values: Record<string, string>, o?: CallOptions) => onController(ctx, m, o, (c) => setBios(c, values)),
  nics: (ctx: DriverContext, m: MachineRef, o?: CallOptions) => onController(ctx, m, o, nics),
  storage: (ctx: DriverContext, m: MachineRef, o?: CallOptions) => onController(ctx, m, o, storage),
};
