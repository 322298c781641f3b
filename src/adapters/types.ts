// The driver contract, in the manner of Ironic's hardware interfaces: one small
// interface per subsystem, a declaration of what each driver serves and which
// settings it reads (spec.ts in each driver's folder), and a validation of those
// settings before anything runs. The engine and dscli talk only to these
// interfaces, through the registry (registry.ts), which is the one place that
// decides which driver serves a machine.
import type { ControllerRow } from './controller.js';
import type { SchemaComponent } from '../store/components.js';
import type { Db } from '../store/db.js';
import type { PowerAction, PowerChange, PowerControl, PowerState } from '../util/power-action.js';

/** Interfaces a machine or group names a driver for (`drivers:` in the data-centre description). */
export const INTERFACES = ['power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor'] as const;
export type InterfaceName = (typeof INTERFACES)[number];

/**
 * Every interface a driver can serve. `info` (logs, sensors, inventory, identify) belongs
 * to a machine's management controller: it is served by the driver of the controller
 * registered for the machine (dscli createServer, `bmc:`), never named in `drivers:`.
 */
export type DriverInterface = InterfaceName | 'info';

export interface MachineRef {
  id: number;
  name: string;
  kind: 'physical' | 'virtual' | 'vmserver';
  uuid: string | null;
  macs: string[];
  mgmtAddress: string | null;
  /**
   * The machine's controller registration, when the caller has just read it (dscli's
   * ServerList, the monitor's round): a controller driver then does not read it again.
   */
  controller?: ControllerRow;
}

export interface HostRef {
  id: number;
  hostName: string;
  /** Per NIC (1-based order), the addresses and gateways of the host setting. */
  nics: Array<{ addresses: Array<{ ip: string; netmask: string }>; gateways: string[] }>;
  tags: string[];
}

export interface SoftwareRef {
  id: number;
  name: string;
  kind: 'scenario' | 'template' | 'local_script';
  version: string;
  date: string;
  source: string;
}

export interface DriverContext {
  db: Db;
  /** The job the call belongs to; absent for direct calls (dscli, the monitor's polling). */
  jobId?: number;
  /** Aborted when the job or command is canceled: long operations must stop promptly. */
  signal: AbortSignal;
  /** Appends a line to the step's journal output. */
  log(line: string): void;
  /** The group a configuration-change step acts in: settings of group scope are that group's. */
  group?: { id: number; path: string };
}

/** Limits of one call on one controller; a driver has its own defaults for each. */
export interface CallOptions {
  /** Everything this call does with the controller ends by then (ms from the call). */
  deadlineMs?: number;
  /** Per request before a retransmission (ms). */
  timeoutMs?: number;
  retries?: number;
}

// ---- power -------------------------------------------------------------------------------

export type { PowerAction, PowerChange, PowerControl, PowerState } from '../util/power-action.js';

export interface PowerActOptions extends CallOptions {
  /** Wait this long for the expected state (0: do not wait; absent: the driver's default). */
  waitMs?: number;
  /** cycle/reset of a machine that is off powers it on instead of doing nothing. */
  onIfOff?: boolean;
  /** Send even when the current state cannot be read (never implied). */
  force?: boolean;
}

export interface PowerReading {
  state: PowerState;
  /** Requests sent to read it (retransmissions included). */
  attempts: number;
  elapsedMs: number;
}

/** What a power driver supports, which the one power action (adapters/power.ts) follows. */
export interface PowerSupport {
  /** The commands it can send; an action that needs another is "not supported". */
  commands: readonly PowerAction[];
  /** How long an action waits for the expected state when the caller does not say (ms; 0: read back once). */
  waitMs(db: Db, action: PowerAction): number;
  /** Between two reads of that wait (ms). */
  pollMs: number;
  /** A soft off not seen within the wait is followed by a hard off; the setting of that wait. */
  hardOffAfterSoft?: string;
  /** Why an action it does not take is not supported, in its words. */
  unsupported?(action: PowerAction): string;
  /** Actions harmless to send when the state is not known (a Wake-on-LAN packet). */
  blindSafe?: readonly PowerAction[];
}

/**
 * A driver's power: mechanism only. `open` gives one connection to the machine's power
 * control (one IPMI session, one Redfish login, the VM server's virsh session) with
 * read() and send(); `waitMs` is how long the caller may wait on it beyond its deadline,
 * `change` whether it will send (the privilege it needs). Reading first, planning,
 * waiting, verifying and recording are adapters/power.ts's, for every driver.
 */
export interface PowerInterface {
  open<T>(ctx: DriverContext, m: MachineRef, o: CallOptions & { waitMs?: number; change?: boolean }, use: (c: PowerControl) => Promise<T>): Promise<T>;
  supports: PowerSupport;
}

/** Power as every caller uses it, bound by the registry (adapters/power.ts): read, or an idempotent action. */
export interface PowerActions {
  state(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<PowerReading>;
  /** Reads the state first and sends only what is needed (on for a machine that is on is a no-op). */
  act(ctx: DriverContext, m: MachineRef, action: PowerAction, o?: PowerActOptions): Promise<PowerChange>;
}

// ---- deploy ------------------------------------------------------------------------------

/** The PVM_* variables of spec §5 for one machine and its host setting. */
export type PvmEnvironment = Record<string, string>;

export interface DeployInterface {
  /**
   * Installs one software item on the machine (host is the identity it takes,
   * if any). Scripts see `env`; a driver must stop when ctx.signal aborts and
   * fail the step on a non-zero exit, keeping the output in the journal.
   */
  distribute(ctx: DriverContext, m: MachineRef, software: SoftwareRef, host: HostRef | null, env: PvmEnvironment): Promise<void>;
  /** Registers the machine with the deployment server (DPM registration). */
  register(ctx: DriverContext, m: MachineRef): Promise<void>;
  unregister(ctx: DriverContext, m: MachineRef): Promise<void>;
}

// ---- vm, storage, vlan, lb, monitor --------------------------------------------------------

export interface VmPlacement { server: MachineRef; datastore: string }

/** vCPUs and memory a VM is defined with. */
export interface VmSize { vcpus: number; memoryKiB: number }

/** What a VM server's hypervisor reports of itself (node info, free memory); absent = not known to the driver. */
export interface VmServerInfo { cpus?: number; memoryKiB?: number; freeMemoryKiB?: number }

/**
 * A VM-server event as the monitor receives it: one of the spec's VMwareProvider rows
 * (events-and-policies.md §4), raised by what the hypervisor's own event stream reports.
 */
export interface VmServerEvent {
  source: 'VMwareProvider';
  /** The alarm text of the row, exactly. */
  event: string;
  /** Its event category (ターゲットアクセス不可能障害, ターゲットアクセス復旧, …). */
  category: string;
  /** The VM server, or the VM for VM rows. */
  machine: string;
  /** What the driver saw, for the log. */
  detail: string;
  time: string;
}

export interface VmInterface {
  /** Creates the VM on the server; returns the identity the hypervisor gave it. */
  create(ctx: DriverContext, vm: MachineRef, at: VmPlacement, template: SoftwareRef): Promise<{ uuid: string; macs: string[]; size?: VmSize }>;
  destroy(ctx: DriverContext, vm: MachineRef): Promise<void>;
  /** Puts a running VM into the suspended state (a start resumes it). */
  suspend(ctx: DriverContext, vm: MachineRef): Promise<void>;
  /** The size a VM made from this template will have, when the driver can tell before creating it. */
  templateSize?(ctx: DriverContext, template: SoftwareRef): Promise<VmSize | undefined>;
  /** CPUs, memory and free memory of a VM server, read from its hypervisor now. */
  serverInfo(ctx: DriverContext, server: MachineRef): Promise<VmServerInfo>;
  /** Reports the server's connection and its domains' crashes until ctx.signal aborts. */
  watch?(ctx: DriverContext, server: MachineRef, onEvent: (e: VmServerEvent) => void): Promise<void>;
  /** Hot (powered on) or cold (powered off) migration on shared storage. */
  migrate(ctx: DriverContext, vm: MachineRef, to: MachineRef): Promise<void>;
  /** Moves a powered-off VM together with its disk. */
  move(ctx: DriverContext, vm: MachineRef, to: VmPlacement): Promise<void>;
  failover(ctx: DriverContext, vm: MachineRef, to: MachineRef): Promise<void>;
  applyPersonality(ctx: DriverContext, vm: MachineRef, host: HostRef): Promise<void>;
  configureNetwork(ctx: DriverContext, vm: MachineRef, host: HostRef): Promise<void>;
}

export interface StorageInterface {
  connect(ctx: DriverContext, m: MachineRef, volumes: string[]): Promise<void>;
  disconnect(ctx: DriverContext, m: MachineRef, volumes: string[]): Promise<void>;
}

/** What a VLAN step did on a switch, one entry per port (the event log's VLAN entries, spec/event-log.md §2.10). */
export interface VlanChange {
  kind: 'port-added' | 'port-removed' | 'vlan-missing';
  switch: string;
  vlan: string;
  port?: string;
}

export interface VlanInterface {
  /** Drivers that talk to a switch return what they did per port; the sim driver returns nothing. */
  addPort(ctx: DriverContext, m: MachineRef, vlan: string): Promise<VlanChange[] | void>;
  removePort(ctx: DriverContext, m: MachineRef, vlan: string): Promise<VlanChange[] | void>;
}

export interface LbInterface {
  addMember(ctx: DriverContext, m: MachineRef, lbGroup: string, address: string): Promise<void>;
  removeMember(ctx: DriverContext, m: MachineRef, lbGroup: string): Promise<void>;
  /**
   * Puts the load balancer in line with the store for a group (ctx.group) and says what
   * it changed and what it left, one line each (kanri lb sync). Drivers without a peer omit it.
   */
  sync?(ctx: DriverContext, lbGroup: string): Promise<string[]>;
}

export interface MonitorInterface {
  register(ctx: DriverContext, m: MachineRef, address: string): Promise<void>;
  unregister(ctx: DriverContext, m: MachineRef): Promise<void>;
  /** Hardware information the monitor reports (the model name feeds common-pool rule 3). */
  inventory(ctx: DriverContext, m: MachineRef): Promise<{ hwModel?: string; size?: VmSize }>;
}

// ---- info: what a management controller reports ---------------------------------------------

/** One entry of a controller's event log (IPMI SEL, iLO IML, Redfish LogService), decoded. */
export interface LogEntry {
  /** As printed: 0x0001 for IPMI record IDs, the service's Id otherwise. */
  id: string;
  recordId: number | string;
  recordType: number | null;
  /** ISO-8601, 'pre-init+Ns', 'unspecified' or '-'. */
  time: string;
  timestamp: number | null;
  sensorType: string | null;
  sensorNumber: number | null;
  eventType: string | null;
  direction: 'assertion' | 'deassertion' | null;
  description: string;
  eventData: number[] | null;
  /** The record as the controller sent it (hex for IPMI). */
  raw: string | null;
}

export interface SensorEntry {
  name: string;
  number: number | null;
  type: string;
  value: number | null;
  unit: string | null;
  status: string;
  /** Discrete sensors: the asserted states (IPMI offsets, or the service's names). */
  states: Array<number | string> | null;
  thresholds: Record<string, number> | null;
}

/** LAN settings and accounts of a BMC, as dscli backs them up (BMC-only commands). */
export interface BmcLan { ip_address?: string; ip_source?: 'static' | 'dhcp'; netmask?: string; gateway?: string; vlan?: number | 'disabled'; mac_address?: string }
export type BmcPrivilege = 'callback' | 'user' | 'operator' | 'administrator' | 'no-access';
export interface BmcAccount { id: number; name: string; privilege: BmcPrivilege; enabled?: boolean }
export interface BmcConfig { lan: BmcLan; users: BmcAccount[] }

/** The controller's watchdog timer (IPMI), as dscli getWatchdog prints it. */
export interface WatchdogInfo {
  running: boolean;
  action: string;
  timeoutS: number;
  /** Unknown when the BMC does not say. */
  remainingS?: number;
  use: string;
  /** Timer uses whose expiration flag is set. */
  expired: string[];
  logging: boolean;
}

export type WatchdogAction = 'none' | 'reset' | 'off' | 'cycle';

/** Power consumption and the power limit in force (Redfish Power/Control, IPMI DCMI). */
export interface PowerUsage {
  /** Present consumption; null when the controller does not say. */
  watts: number | null;
  averageWatts?: number;
  minWatts?: number;
  maxWatts?: number;
  /** The span of the average, minimum and maximum. */
  intervalMin?: number;
  /** The limit in force; null when none is. */
  limitWatts: number | null;
  /** The limits the controller accepts, when it says. */
  limitMin?: number;
  limitMax?: number;
  /** Where it was read: 'redfish-control', 'redfish-power', 'dcmi'. */
  source: string;
}

/** One firmware of a machine (Redfish FirmwareInventory, IPMI Device ID). */
export interface FirmwareItem {
  id: string;
  name: string;
  version: string;
  updateable: boolean | null;
  health: string | null;
}

/** How a firmware update ended. */
export interface FirmwareUpdateResult {
  /** The task followed, if the service gave one. */
  task: string | null;
  /** The task's final state ('Completed', 'Exception', …), or 'Accepted' without a task. */
  state: string;
  /** What the service said (task messages), short. */
  messages: string[];
  /** Versions that changed, read before and after. */
  changed: Array<{ id: string; before: string; after: string }>;
}

export type BiosValue = string | number | boolean | null;

/** BIOS attributes as they are, and as they will be after the next boot. */
export interface BiosSettings {
  attributes: Record<string, BiosValue>;
  /** Attributes waiting for the next boot (their new values). */
  pending: Record<string, BiosValue>;
  /** Where they live: 'redfish-bios' or 'ipmi-boot-options'. */
  source: string;
}

export interface BiosChange {
  key: string;
  value: BiosValue;
  /** 'applied' (in force now) or 'pending' (in force after the next boot). */
  state: 'applied' | 'pending';
}

export interface NicInfo {
  id: string;
  name: string;
  mac: string | null;
  speedMbps: number | null;
  link: string | null;
  enabled: boolean | null;
  ipv4: string[];
  health: string | null;
}

export interface StorageItem {
  kind: 'controller' | 'drive' | 'volume';
  /** The storage subsystem it belongs to. */
  storage: string;
  id: string;
  name: string;
  capacityBytes: number | null;
  /** Drive media type or volume RAID type, when given. */
  type: string | null;
  health: string | null;
  state: string | null;
}

/** A machine's serial console, open until closed (IPMI Serial over LAN). */
export interface ConsoleSession {
  /** Queues characters for the serial port; false when too many already wait. */
  write(data: Buffer): boolean;
  sendBreak(): void;
  /** Leaves the console and releases it at the controller; idempotent. */
  close(): Promise<void>;
  /** Resolves with the reason when the console ended by itself, or 'closed'. */
  readonly ended: Promise<string>;
}

export interface InfoInterface {
  /** Opens a session (or reads the service root) and says what answered. */
  check?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<string>;
  log?(ctx: DriverContext, m: MachineRef, o?: CallOptions & { last?: number }): Promise<LogEntry[]>;
  /** Reads, then clears, without losing an entry that arrives in between; returns how many were read. */
  clearLog?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<number>;
  sensors?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<SensorEntry[]>;
  /** Inventory as key/value lines in a stable order. */
  hardware?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<Array<[string, string]>>;
  identify?(ctx: DriverContext, m: MachineRef, what: number | 'off' | 'on', o?: CallOptions): Promise<void>;
  /** BMC-only: LAN configuration and accounts of one channel. */
  readBmcConfig?(ctx: DriverContext, m: MachineRef, channel: number, o?: CallOptions): Promise<BmcConfig>;
  writeBmcLan?(ctx: DriverContext, m: MachineRef, channel: number, lan: BmcLan, o?: CallOptions): Promise<void>;
  /** Restores LAN settings and accounts (never passwords); checks the BMC's limits before writing. */
  restoreBmcConfig?(ctx: DriverContext, m: MachineRef, channel: number, cfg: BmcConfig, o?: CallOptions): Promise<void>;
  /** Subscribes the controller's events to an event listener (replacing an earlier subscription); says what was made. */
  subscribeEvents?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<string>;
  /** Removes the controller's event subscription, if any; says what was removed. */
  unsubscribeEvents?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<string>;
  watchdog?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<WatchdogInfo>;
  /** Sets and starts the watchdog timer (action none stops it). */
  setWatchdog?(ctx: DriverContext, m: MachineRef, timeoutS: number, action: WatchdogAction, o?: CallOptions): Promise<WatchdogInfo>;
  powerReading?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<PowerUsage>;
  /** Sets (watts) or removes (null) the power limit; returns what the controller then says. */
  setPowerLimit?(ctx: DriverContext, m: MachineRef, watts: number | null, o?: CallOptions): Promise<PowerUsage>;
  firmware?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<FirmwareItem[]>;
  /** Starts an update from an image URI and follows its task to the end (within waitMs). */
  updateFirmware?(ctx: DriverContext, m: MachineRef, image: string, target: string | null, o?: CallOptions & { waitMs?: number }): Promise<FirmwareUpdateResult>;
  bios?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<BiosSettings>;
  /** Writes settings (checked against the current ones first); says of each whether it is in force or pending. */
  setBios?(ctx: DriverContext, m: MachineRef, values: Record<string, string>, o?: CallOptions): Promise<BiosChange[]>;
  nics?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<NicInfo[]>;
  storage?(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<StorageItem[]>;
  /** Opens the serial console; the serial port's bytes go to onData. */
  console?(ctx: DriverContext, m: MachineRef, onData: (b: Buffer) => void, o?: CallOptions): Promise<ConsoleSession>;
}

export interface InterfaceMap {
  power: PowerInterface;
  deploy: DeployInterface;
  vm: VmInterface;
  storage: StorageInterface;
  vlan: VlanInterface;
  lb: LbInterface;
  monitor: MonitorInterface;
  info: InfoInterface;
}

/** The interfaces as callers get them from the registry: power bound to the one power action. */
export type BoundInterfaceMap = Omit<InterfaceMap, 'power'> & { power: PowerActions };

/** A loaded driver: the implementations of the interfaces its spec declares. */
export interface Driver {
  readonly name: string;
  readonly interfaces: Partial<InterfaceMap>;
  /** May refuse a job (exit 6) after validation, before its first step, e.g. after contacting the hardware. */
  prepare?(ctx: DriverContext, machines: MachineRef[], sequence: string): Promise<void>;
  /** Releases connections and sessions the driver keeps between calls. */
  close?(): void;
}

// ---- the declaration: what a driver serves and reads ------------------------------------------

export type SettingType = 'string' | 'integer' | 'number' | 'boolean' | 'path' | 'secret';

/**
 * A setting a driver reads (Ironic's get_properties()). `global` settings live in the
 * `settings:` section under `<driver>.<key>`; `machine` and `group` settings in the
 * driver_settings table (`driver_settings:` of a machine or group, secrets only through
 * a command); `controller` settings are the columns of a machine's controller
 * registration (`bmc:`, dscli createServer).
 */
export interface SettingSpec {
  key: string;
  type: SettingType;
  scope: 'global' | 'machine' | 'group' | 'controller';
  description: string;
  default?: string | number | boolean;
  required?: boolean;
  /** Allowed values (strings as written). */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Global settings with a variable last part, e.g. sim.delay_ms.<operation>. */
  suffixes?: readonly string[];
  /** Machine and controller settings kept in a column of `machines` rather than in driver_settings. */
  column?: string;
  /**
   * A numbered family of keys: the key holds `<n>` (e.g. `nic<n>.port` for nic1.port,
   * nic2.port …) and n runs over this range.
   */
  index?: { min: number; max: number };
  /** Strings: the longest value, in bytes (UTF-8). */
  maxBytes?: number;
  /** A check beyond the type (e.g. the form of a fingerprint): what is wrong, or undefined. */
  check?(raw: string): string | undefined;
  /** What a user setting this value must be told (e.g. that it turns a protection off). */
  warning?(raw: string): string | undefined;
}

/** What a driver declares; read without loading the driver's implementation. */
export interface DriverSpec {
  name: string;
  description: string;
  /** The interfaces it serves (Ironic's supported_*_interfaces, turned around). */
  interfaces: readonly DriverInterface[];
  /** Controller drivers serve power and info of a registered management controller. */
  controller?: boolean;
  settings: readonly SettingSpec[];
  /** Its own tables, as a schema component (never columns added to machines); the store gets it from here. */
  schema?: SchemaComponent;
  /**
   * Problems with the settings of one machine this driver would serve on `iface`
   * (Ironic's validate()), read from the store; empty when it can serve. `groupId` is the
   * group the job acts in (its settings of group scope), when there is one.
   */
  validate?(db: Db, machine: MachineRef, iface: DriverInterface, groupId?: number | null): string[];
  /** Loads the implementation (imported on first use only). */
  load(): Promise<Driver>;
}

export type FailureLayer =
  | 'network' | 'authentication' | 'cipher' | 'privilege' | 'completion-code' | 'protocol'
  | 'verify' | 'not-supported' | 'configuration' | 'controller' | 'certificate' | 'os'
  /** The request does not fit this controller (e.g. more accounts than it has slots). */
  | 'input';

export interface DriverErrorDetails {
  /** Worth trying again later (a timeout, a busy controller). */
  retryable?: boolean;
  /** Which layer failed: front ends map it to their codes (dscli/errors.ts). */
  layer?: FailureLayer;
  /** A protocol code (IPMI completion code, HTTP status). */
  code?: number;
  /** What the driver was doing. */
  step?: string;
  /** The call ended because its signal was aborted. */
  aborted?: boolean;
  /** The reason without the machine and layer the message starts with, for front ends that print those themselves. */
  detail?: string;
  /** Requests sent before it failed (retransmissions included), when the protocol counts them. */
  attempts?: number;
}

export class DriverError extends Error {
  readonly retryable: boolean;
  readonly layer: FailureLayer;
  readonly code?: number;
  readonly step?: string;
  readonly aborted?: boolean;
  readonly detail: string;
  readonly attempts?: number;

  constructor(message: string, details: DriverErrorDetails = {}) {
    super(message);
    this.name = 'DriverError';
    this.retryable = details.retryable ?? false;
    this.layer = details.layer ?? 'controller';
    if (details.code !== undefined) this.code = details.code;
    if (details.step !== undefined) this.step = details.step;
    if (details.aborted !== undefined) this.aborted = details.aborted;
    this.detail = details.detail ?? message;
    if (details.attempts !== undefined) this.attempts = details.attempts;
  }
}

export const notSupported = (message: string): DriverError => new DriverError(message, { layer: 'not-supported' });

/** A VLAN step that failed on one port of one switch (the event log names them), with what it had done before. */
export class VlanPortError extends DriverError {
  constructor(
    cause: DriverError,
    readonly failed: { kind: 'add' | 'remove'; switch: string; vlan: string; port: string },
    readonly done: VlanChange[] = [],
  ) {
    super(cause.message, {
      retryable: cause.retryable, layer: cause.layer, detail: cause.detail,
      ...(cause.code !== undefined ? { code: cause.code } : {}), ...(cause.step !== undefined ? { step: cause.step } : {}), ...(cause.aborted !== undefined ? { aborted: cause.aborted } : {}),
    });
    this.name = 'VlanPortError';
  }
}
