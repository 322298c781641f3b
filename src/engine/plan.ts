// What a job is about to do: the sides of the change, the resources it holds,
// and the steps of its table that apply to this group, model and machine.
import type { HostRef, MachineRef, SoftwareRef } from '../adapters/types.js';
import type { StepDef } from './steps.js';
import type { Claim } from './capacity.js';

export type ResourceKind = 'machine' | 'host_setting' | 'vm_server' | 'datastore' | 'group';
export type Resource = readonly [ResourceKind, string];

export interface GroupInfo {
  id: number;
  name: string;
  path: string;
  type: 'physical' | 'virtual' | 'vmserver';
  storage: boolean;
  vlan: string | null;
  lbGroup: string | null;
  dpm: boolean;
}

export interface ModelInfo { id: number; name: string; registerDpmOnCreate: boolean }

/** One side of a change: where a machine comes from (src) or goes to (dst). */
export interface Side {
  group: GroupInfo | null;
  model: ModelInfo | null;
  machine: MachineRef | null;
  host: HostRef | null;
}

export interface VmCreation { name: string; server: MachineRef; datastore: string; template: SoftwareRef; cost: number }

export interface JobPlan {
  sequence: string;
  /** Shown by `asjob -d`, one key=value per line. */
  params: Record<string, string>;
  resources: Resource[];
  src: Side;
  dst: Side;
  steps: StepDef[];
  /** Steps run instead of failing when the step numbered `after` fails (VM move, §9.10), tried in order. */
  fallbacks?: Array<{ after: number; steps: StepDef[] }>;
  /** How the destination machine becomes active (spec §8.3 decides where it returns). */
  activatedFrom?: 'group_pool' | 'common_pool' | 'master';
  vm?: VmCreation;
  /** VM moves: the destination server and datastore. */
  moveTo?: { server: MachineRef; datastore: string };
  /** Capacity the job holds on VM servers while it runs (VMs it puts there). */
  claims?: Claim[];
  /** Why a VM of FailoverVMServer or optimal placement fits on no VM server (its job fails with it). */
  unplaced?: string;
  /** Software jobs: differential or full redistribution of the registered software, or the named software. */
  distribution?: { mode: 'differential' | 'full' | 'specified'; software?: number[] };
  event: { machine: string; group: string; srcGroup?: string; vmName?: string; host?: string };
}

/** Whether a step of the table runs for this change (the tags of spec §9). */
export function applies(step: StepDef, plan: Pick<JobPlan, 'src' | 'dst'>): boolean {
  const side = step.side === 'src' ? plan.src : plan.dst;
  if (step.when === 'dpm' && !side.group?.dpm) return false;
  if (step.when === 'vm-distribution' && !side.model?.registerDpmOnCreate) return false;
  switch (step.tag) {
    case 'Storage': return !!side.group?.storage;
    case 'VLAN': return !!side.group?.vlan;
    case 'LB': return !!side.group?.lbGroup;
    case 'mgmt NW': return !!side.machine?.mgmtAddress;
    default: return true;
  }
}

export function applicable(table: StepDef[], plan: Pick<JobPlan, 'src' | 'dst'>): StepDef[] {
  return table.filter((s) => applies(s, plan));
}

/** Jobs are shown as 5-digit management IDs (00011) everywhere: asjob, events, messages. */
export function formatJobId(id: number): string {
  return String(id).padStart(5, '0');
}

export const EMPTY_SIDE: Side = { group: null, model: null, machine: null, host: null };
