// The ipmi driver's info interface: SEL, sensors, controller and FRU inventory, identify,
// and the BMC's LAN configuration and accounts, decoded into the driver contract's
// records (adapters/types.ts) that dscli prints.
import {
  boot, chassis, clearSel, checkConnection, dcmi, device, watchdog, fru, getSel, getSensors, identify, lan, rememberedProbe, setLanConfig, user, withSession,
  IpmiError, type BmcTarget, type ControllerInfo, type FruInventory, type LanSettings, type Privilege, type SelEntry, type SensorReading, type Session, type SessionOptions,
} from '../../ipmi/index.js';
import { eventText } from '../../ipmi/tables.js';
import { type BmcAccount, type BmcConfig, type BmcLan, type BmcPrivilege, DriverError, type BiosChange, type BiosSettings, type InfoInterface, type LogEntry, type PowerUsage, type SensorEntry } from '../types.js';
import { onBmc, sessionOptions } from './index.js';
import { openConsole } from './console.js';

const EVENT_TYPE_NAMES: Record<number, string> = { 0x01: 'threshold', 0x6f: 'sensor-specific' };

export function eventTypeName(t: number): string {
  if (EVENT_TYPE_NAMES[t]) return EVENT_TYPE_NAMES[t]!;
  if (t >= 0x02 && t <= 0x0c) return `generic 0x${t.toString(16).padStart(2, '0')}`;
  if (t >= 0x70 && t <= 0x7f) return `OEM 0x${t.toString(16)}`;
  return `0x${t.toString(16).padStart(2, '0')}`;
}

export function selTime(ts: number | undefined): string {
  if (ts === undefined) return '-';
  if (ts === 0xffffffff) return 'unspecified';
  // Below 0x20000000 the BMC clock was not set: seconds since its initialisation.
  if (ts < 0x20000000) return `pre-init+${ts}s`;
  return new Date(ts * 1000).toISOString().replace('.000Z', 'Z');
}

export function logEntryOf(e: SelEntry): LogEntry {
  const decoded = e.sensorType !== undefined && e.eventType !== undefined && e.eventData;
  return {
    id: `0x${e.recordId.toString(16).padStart(4, '0')}`,
    recordId: e.recordId,
    recordType: e.recordType,
    time: selTime(e.timestamp),
    timestamp: e.timestamp ?? null,
    sensorType: e.sensorTypeName ?? null,
    sensorNumber: e.sensorNumber ?? null,
    eventType: e.eventType !== undefined ? eventTypeName(e.eventType) : null,
    direction: e.direction ?? null,
    description: decoded ? eventText(e.eventType!, e.sensorType!, e.eventData![0] & 0x0f) : e.text,
    eventData: e.eventData ? [...e.eventData] : null,
    raw: e.raw.toString('hex'),
  };
}

export function sensorEntryOf(s: SensorReading): SensorEntry {
  const r = s.record;
  return {
    name: r.name, number: r.number, type: r.sensorTypeName, value: s.value ?? null, unit: s.unit ?? null, status: s.status,
    states: s.states ?? null,
    // Threshold sensors carry the readable thresholds (possibly none); discrete sensors have no such notion.
    thresholds: r.recordType === 0x01 && r.eventType === 0x01 ? { ...(s.thresholds ?? {}) } : null,
  };
}

export function hardwareLines(info: ControllerInfo, fru: FruInventory | undefined, fruError?: string): Array<[string, string]> {
  const d = info.device;
  const l: Array<[string, string]> = [
    ['device_id', `0x${d.deviceId.toString(16).padStart(2, '0')}`],
    ['device_revision', String(d.deviceRevision)],
    ['firmware', d.firmware],
    ['ipmi_version', d.ipmiVersion],
    ['manufacturer_id', String(d.manufacturerId)],
    ['product_id', `0x${d.productId.toString(16).padStart(4, '0')}`],
  ];
  if (d.auxFirmware) l.push(['aux_firmware', d.auxFirmware]);
  if (info.guid) l.push(['guid', info.guid]);
  l.push(['power', info.chassis.power]);
  if (fru?.chassis) {
    l.push(['chassis_type', fru.chassis.typeName], ['chassis_part_number', fru.chassis.partNumber], ['chassis_serial', fru.chassis.serialNumber]);
  }
  if (fru?.board) {
    const b = fru.board;
    l.push(['board_manufacturer', b.manufacturer], ['board_product', b.product], ['board_serial', b.serialNumber], ['board_part_number', b.partNumber]);
    if (b.manufacturedAt) l.push(['board_manufactured', b.manufacturedAt]);
  }
  if (fru?.product) {
    const p = fru.product;
    l.push(['product_manufacturer', p.manufacturer], ['product_name', p.name], ['product_part_number', p.partNumber], ['product_version', p.version],
      ['product_serial', p.serialNumber], ['product_asset_tag', p.assetTag]);
  }
  if (fru && fru.badChecksums.length) l.push(['fru_bad_checksums', fru.badChecksums.join(',')]);
  if (fruError) l.push(['fru', `unavailable (${fruError})`]);
  return l;
}

const PRIV_BY_LEVEL: Record<number, BmcPrivilege> = { 1: 'callback', 2: 'user', 3: 'operator', 4: 'administrator', 15: 'no-access' };

/** LAN configuration and accounts of one channel, read in one session. */
async function readConfig(s: Session, channel: number): Promise<BmcConfig> {
  const cfg = await lan.getLanConfig(s, channel);
  const users = await user.listUsers(s, channel);
  const l: BmcLan = {};
  if (cfg.ipAddress !== undefined) l.ip_address = cfg.ipAddress;
  if (cfg.ipAddressSource === 'static' || cfg.ipAddressSource === 'dhcp') l.ip_source = cfg.ipAddressSource;
  if (cfg.subnetMask !== undefined) l.netmask = cfg.subnetMask;
  if (cfg.defaultGateway !== undefined) l.gateway = cfg.defaultGateway;
  if (cfg.vlanId !== undefined) l.vlan = cfg.vlanId;
  if (cfg.macAddress !== undefined) l.mac_address = cfg.macAddress;
  return {
    lan: l,
    users: users.map((u): BmcAccount => ({ id: u.id, name: u.name, privilege: PRIV_BY_LEVEL[u.privilege] ?? 'no-access', ...(u.enabled !== undefined ? { enabled: u.enabled } : {}) })),
  };
}

function lanSettings(v: BmcLan): LanSettings {
  const out: LanSettings = {};
  if (v.ip_address !== undefined) out.ipAddress = v.ip_address;
  if (v.netmask !== undefined) out.subnetMask = v.netmask;
  if (v.gateway !== undefined) out.defaultGateway = v.gateway;
  if (v.ip_source !== undefined) out.ipAddressSource = v.ip_source;
  if (v.vlan !== undefined) out.vlanId = v.vlan;
  return out;
}

/** DCMI's reading and limit, in one session. */
async function dcmiReading(s: Session): Promise<PowerUsage> {
  const r = await dcmi.getPowerReading(s);
  const l = await dcmi.getPowerLimit(s);
  return {
    watts: r.currentWatts, averageWatts: r.averageWatts, minWatts: r.minWatts, maxWatts: r.maxWatts,
    intervalMin: Math.round(r.periodMs / 60_000), limitWatts: l.active ? l.limitWatts : null, source: 'dcmi',
  };
}

/**
 * A DCMI call at the privilege DCMI names, and once more as administrator when the BMC
 * answers "insufficient privilege": some BMCs (OpenIPMI's simulator among them) admit
 * group-extension commands they do not know to administrators only.
 */
async function dcmiCall<T>(t: BmcTarget, o: SessionOptions, privilege: Privilege, fn: (s: Session) => Promise<T>): Promise<T> {
  try {
    return await withSession(t, { ...o, privilege }, fn);
  } catch (e) {
    if (!(e instanceof IpmiError && e.code === 0xd4 && e.layer === 'privilege' && privilege !== 'administrator')) throw e;
    return withSession(t, { ...o, privilege: 'administrator' }, fn);
  }
}

/** Boot flags as BIOS settings: what the next boot (or every boot) does. */
function bootSettings(f: boot.BootFlags): BiosSettings {
  return {
    // The selector as the BMC holds it; boot_override says whether the flags are marked valid
    // (some BMCs, OpenIPMI's simulator among them, never mark them).
    attributes: { boot_device: f.device, boot_override: f.valid ? 'yes' : 'no', boot_persistent: f.persistent ? 'yes' : 'no', boot_mode: f.mode },
    pending: {}, source: 'ipmi-boot-options',
  };
}

const BOOT_KEYS: Record<string, readonly string[]> = {
  boot_device: Object.keys(boot.BOOT_DEVICES), boot_persistent: ['yes', 'no'], boot_mode: ['uefi', 'legacy'],
};

async function setBootSettings(s: Session, values: Record<string, string>): Promise<BiosChange[]> {
  for (const [k, v] of Object.entries(values)) {
    const allowed = BOOT_KEYS[k];
    if (!allowed) throw new DriverError(`a BMC has boot options only: boot_device, boot_persistent, boot_mode, not ${k}; nothing was changed`, { layer: 'input' });
    if (k === 'boot_device' && v === 'none' && Object.keys(values).length > 1) throw new DriverError('boot_device=none clears the boot flags; give it alone', { layer: 'input' });
    if (!allowed.includes(v)) throw new DriverError(`${k} must be one of ${allowed.join(', ')}, not '${v}'; nothing was changed`, { layer: 'input' });
  }
  const now = await boot.getBootFlags(s);
  const want = {
    device: values.boot_device ?? now.device,
    persistent: values.boot_persistent !== undefined ? values.boot_persistent === 'yes' : now.persistent,
    mode: (values.boot_mode ?? now.mode) as 'uefi' | 'legacy',
  };
  await boot.setBootFlags(s, want);
  const after = bootSettings(await boot.getBootFlags(s)).attributes;
  return Object.entries(values).map(([key, value]) => {
    if (after[key] !== value) throw new DriverError(`the BMC took ${key}=${value} but reads back ${String(after[key])}`, { layer: 'controller' });
    // The BIOS reads the boot flags when it starts: in force from the next boot.
    return { key, value, state: 'pending' as const };
  });
}

export const ipmiInfo: InfoInterface = {
  console: openConsole,
  async firmware(ctx, m, o) {
    const d = await onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'user' }, (s) => device.getDeviceId(s)));
    return [{ id: 'BMC', name: 'BMC firmware', version: d.auxFirmware && !/^0+$/.test(d.auxFirmware) ? `${d.firmware} (aux ${d.auxFirmware})` : d.firmware, updateable: null, health: null }];
  },
  async bios(ctx, m, o) {
    // Get System Boot Options is an operator command (IPMI 2.0 appendix G).
    return onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'operator' }, async (s) => bootSettings(await boot.getBootFlags(s))));
  },
  async setBios(ctx, m, values, o) {
    return onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'operator' }, (s) => setBootSettings(s, values)));
  },
  async nics(ctx, m, o) {
    const cfg = await onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'operator' }, (s) => lan.getLanConfig(s, 1)));
    return [{
      id: 'bmc-lan1', name: 'BMC LAN channel 1', mac: cfg.macAddress ?? null, speedMbps: null, link: null, enabled: null,
      ipv4: cfg.ipAddress ? [cfg.ipAddress] : [], health: null,
    }];
  },
  async powerReading(ctx, m, o) {
    return onBmc(ctx, m, (t) => dcmiCall(t, sessionOptions(ctx, o), 'user', dcmiReading));
  },
  async setPowerLimit(ctx, m, watts, o) {
    return onBmc(ctx, m, (t) => dcmiCall(t, sessionOptions(ctx, o), 'operator', async (s) => {
      await dcmi.setPowerLimit(s, watts);
      return dcmiReading(s);
    }));
  },
  async watchdog(ctx, m, o) {
    return onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'user' }, (s) => watchdog.getWatchdog(s)));
  },
  async setWatchdog(ctx, m, timeoutS, action, o) {
    // Set and read back in one session: what the BMC now holds is what is printed.
    return onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'operator' }, async (s) => {
      await watchdog.setWatchdog(s, timeoutS, action);
      return watchdog.getWatchdog(s);
    }));
  },
  async check(ctx, m, o) {
    return onBmc(ctx, m, async (t) => {
      const d = await checkConnection(t, { ...sessionOptions(ctx, o), privilege: 'user' });
      const suite = typeof t.cipherSuite === 'number' ? t.cipherSuite : rememberedProbe(t.host, t.port)?.chosen;
      return `IPMI ${d.ipmiVersion}, firmware ${d.firmware}, manufacturer ${d.manufacturerId}, product 0x${d.productId.toString(16).padStart(4, '0')}, cipher suite ${suite ?? '?'}`;
    });
  },
  async log(ctx, m, o = {}) {
    const { entries } = await onBmc(ctx, m, (t) => getSel(t, { ...sessionOptions(ctx, o), ...(o.last !== undefined ? { last: o.last } : {}) }));
    return entries.map(logEntryOf);
  },
  async clearLog(ctx, m, o) {
    const r = await onBmc(ctx, m, (t) => clearSel(t, { ...sessionOptions(ctx, o), readFirst: true }));
    return r.entries.length;
  },
  async sensors(ctx, m, o) {
    return (await onBmc(ctx, m, (t) => getSensors(t, sessionOptions(ctx, o)))).map(sensorEntryOf);
  },
  async hardware(ctx, m, o) {
    // One session for the whole inventory: one deadline, one login.
    return onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'user' }, async (s) => {
      const info: ControllerInfo = { device: await device.getDeviceId(s), chassis: await chassis.getChassisStatus(s) };
      try {
        info.guid = await device.getSystemGuid(s);
      } catch {
        // Get System GUID is optional.
      }
      let inventory: FruInventory | undefined, fruError: string | undefined;
      try {
        inventory = await fru.getFru(s, 0);
      } catch (e) {
        fruError = (e as Error).message;
      }
      return hardwareLines(info, inventory, fruError);
    }));
  },
  async identify(ctx, m, what, o) {
    await onBmc(ctx, m, (t) => identify(t, what === 'on' ? 'force' : what, sessionOptions(ctx, o)));
  },
  async readBmcConfig(ctx, m, channel, o) {
    return onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'operator' }, (s) => readConfig(s, channel)));
  },
  async writeBmcLan(ctx, m, channel, v, o) {
    await onBmc(ctx, m, (t) => setLanConfig(t, lanSettings(v), { ...sessionOptions(ctx, o), channel }));
  },
  async restoreBmcConfig(ctx, m, channel, cfg, o) {
    await onBmc(ctx, m, (t) => withSession(t, { ...sessionOptions(ctx, o), privilege: 'administrator' }, async (s) => {
      // The BMC's own limit is checked too before anything is written.
      const { maxUsers } = (await user.getUserAccess(s, channel, 1)).header;
      const over = cfg.users.filter((u) => u.id > maxUsers);
      if (over.length) throw new DriverError(`backup file: user id ${over.map((u) => u.id).join(', ')} above this BMC's ${maxUsers} user slots; nothing was written`, { layer: 'input' });
      const settings = lanSettings(cfg.lan);
      if (Object.keys(settings).length) await lan.setLanConfig(s, channel, settings);
      for (const u of cfg.users) {
        // Slot 1 is the anonymous user with a fixed name on most BMCs; the login account's name is kept.
        if (u.id !== 1 && !(u.name !== t.user && (await user.getUserName(s, u.id)) === t.user)) {
          if (u.name) await user.setUserName(s, u.id, u.name);
        }
        await user.setUserAccess(s, channel, u.id, { privilege: u.privilege });
        if (u.enabled !== undefined) await user.setUserEnabled(s, u.id, u.enabled);
      }
    }));
  },
};
