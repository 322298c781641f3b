// The adapter interfaces, one per subsystem, in the manner of Ironic's hardware
// interfaces. The engine talks only to these; a machine (or its group) names
// the driver that serves each interface.
import type { Db } from '../store/db.js';

export const INTERFACES = ['power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor'] as const;
export type InterfaceName = (typeof INTERFACES)[number];

export interface MachineRef {
  id: number;
  name: string;
  kind: 'physical' | 'virtual' | 'vmserver';
  uuid: string | null;
  macs: string[];
  mgmtAddress: string | null;
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
  jobId: number;
  /** Aborted when the job is canceled: long operations must stop promptly. */
  signal: AbortSignal;
  /** Appends a line to the step's journal output. */
  log(line: string): void;
}

export interface PowerInterface {
  powerOn(ctx: DriverContext, m: MachineRef): Promise<void>;
  shutdown(ctx: DriverContext, m: MachineRef): Promise<void>;
  reboot(ctx: DriverContext, m: MachineRef): Promise<void>;
  state(ctx: DriverContext, m: MachineRef): Promise<'on' | 'off' | 'suspended' | 'unknown'>;
}

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

export interface VmPlacement { server: MachineRef; datastore: string }

export interface VmInterface {
  /** Creates the VM on the server; returns the identity the hypervisor gave it. */
  create(ctx: DriverContext, vm: MachineRef, at: VmPlacement, template: SoftwareRef): Promise<{ uuid: string; macs: string[] }>;
  destroy(ctx: DriverContext, vm: MachineRef): Promise<void>;
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

export interface VlanInterface {
  addPort(ctx: DriverContext, m: MachineRef, vlan: string): Promise<void>;
  removePort(ctx: DriverContext, m: MachineRef, vlan: string): Promise<void>;
}

export interface LbInterface {
  addMember(ctx: DriverContext, m: MachineRef, lbGroup: string, address: string): Promise<void>;
  removeMember(ctx: DriverContext, m: MachineRef, lbGroup: string): Promise<void>;
}

export interface MonitorInterface {
  register(ctx: DriverContext, m: MachineRef, address: string): Promise<void>;
  unregister(ctx: DriverContext, m: MachineRef): Promise<void>;
  /** Hardware information the monitor reports (the model name feeds common-pool rule 3). */
  inventory(ctx: DriverContext, m: MachineRef): Promise<{ hwModel?: string }>;
}

export interface InterfaceMap {
  power: PowerInterface;
  deploy: DeployInterface;
  vm: VmInterface;
  storage: StorageInterface;
  vlan: VlanInterface;
  lb: LbInterface;
  monitor: MonitorInterface;
}

/** A driver serves some interfaces; prepare() may refuse a job before any step runs. */
export interface Driver {
  readonly name: string;
  readonly interfaces: Partial<InterfaceMap>;
  prepare?(ctx: DriverContext, machines: MachineRef[], sequence: string): Promise<void>;
}

export class DriverError extends Error {
  constructor(message: string, readonly retryable = false) {
    super(message);
    this.name = 'DriverError';
  }
}
