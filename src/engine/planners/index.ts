// Planners, keyed by action: each turns a requested change into the plans of its jobs
// (an action sequence, its sides, resources and steps). They run inside the reservation
// transaction, again for as long as the jobs are held, and refuse with an EngineError.
import type { Db } from '../../store/db.js';
import type { JobPlan } from '../plan.js';
import { deployGroup, deployMachine, deployServer } from './deploy.js';
import { planAdd, planAddSpecName, planDelete, planMaster, planMove, planReplace } from './machines.js';
import { powerPlanner } from './power.js';
import { planDeleteManaged, planPoolAdd, planPoolRemove, planSuspend } from './managed.js';
import { type EvacuateHow, evacuatePlanner, placementPlanner } from './vm-servers.js';
import { planVmDelete, vmAddPlanner, vmMigratePlanner } from './vm.js';

/** A change as front ends request it (pvmutl commands, kanri register-master, policy actions). */
export type ChangeRequest =
  | { action: 'add'; group: string; machine?: string; count?: number }
  | { action: 'addspecname'; group: string; netInfo: string; machine?: string }
  | { action: 'delete'; group: string; host?: string; count?: number }
  | { action: 'replace'; group: string; host: string }
  | { action: 'move'; dest: string; src: string; host?: string; count?: number }
  | { action: 'register-master'; group: string; machine: string; netInfo: string }
  | { action: 'power'; cmd: 'shutdown' | 'reboot' | 'poweron'; group: string; hosts: string[] }
  | { action: 'vmadd'; group: string; vm: string; vmServer?: string; datastore?: string; netInfo?: string; existing: boolean }
  | { action: 'vmdelete'; group: string; host?: string; removeOnly: boolean }
  | { action: 'vmmigrate'; cmd: 'vmmigrate' | 'vmmigrateandmove'; group: string; host: string; vmServer: string }
  | { action: 'deploy-group'; group: string; full: boolean; software?: string[]; sequential: boolean }
  | { action: 'deploy-server'; group: string; host?: string; full: boolean; registered?: string[]; software?: string[] }
  | { action: 'deploy-machine'; machine: string; software: string[] }
  /** SuspendMachine of the machines named (every running one of the group without names): policy "group suspend" (4.2.14). */
  | { action: 'suspend'; group: string; hosts: string[] }
  /** FailoverVMServer: every VM of a VM server to the other servers of its group (4.2.16–4.2.18). */
  | { action: 'vms-evacuate'; server: string; how: EvacuateHow }
  /** LoadBalanceVMServer, power saving (4.2.19): a group's low-load servers emptied and shut down; `server` names one. */
  | { action: 'vms-power-save'; group: string; server?: string }
  /** LoadBalanceVMServer (4.2.20): VMs off the group's high-load servers, a stopped server started if needed. */
  | { action: 'vms-load-balance'; group: string; server?: string }
  /** DeleteManagedVirtualMachine: a VM of the common pool deleted from its VM server and from kanri. */
  | { action: 'vm-delete-managed'; machine: string }
  /** MoveFromManagedToPool: a machine active nowhere joins the pool of a group (or of a model). */
  | { action: 'pool-add'; group: string; machine: string }
  /** MoveFromPoolToManaged: a machine standing by in a group's pool leaves it (for the common pool). */
  | { action: 'pool-remove'; group: string; machine: string };

export type Action = ChangeRequest['action'];

export interface Planned {
  /** The plans of the jobs, one per machine. */
  build(): JobPlan[];
  /** One job at a time, in plan order, stopping at the first failure (deploygrp /seq). */
  sequential?: boolean;
  /** A group-level job the planned jobs belong to; its events name the group of the first plan. */
  parent?: { sequence: string; params: Record<string, string> };
  /** Reads what planning needs from drivers (VM server readings), before the planning transaction. */
  prepare?(signal: AbortSignal): Promise<void>;
  /** Called once the change is accepted (its jobs exist): records what prepare read. */
  accepted?(): void;
}

type Planner<A extends Action> = (db: Db, r: Extract<ChangeRequest, { action: A }>) => Planned;

const each = <A extends Action>(fn: (db: Db, r: Extract<ChangeRequest, { action: A }>) => JobPlan[]): Planner<A> => (db, r) => ({ build: () => fn(db, r) });

export const PLANNERS: { [A in Action]: Planner<A> } = {
  'add': each(planAdd),
  'addspecname': each(planAddSpecName),
  'delete': each(planDelete),
  'replace': each(planReplace),
  'move': each(planMove),
  'register-master': each(planMaster),
  'power': (db, r) => powerPlanner(db, r),
  'vmadd': (db, r) => vmAddPlanner(db, r),
  'vmdelete': each(planVmDelete),
  'vmmigrate': (db, r) => vmMigratePlanner(db, r),
  'deploy-group': (db, r) => deployGroup(db, r),
  'deploy-server': (db, r) => deployServer(db, r),
  'deploy-machine': (db, r) => deployMachine(db, r),
  'suspend': each(planSuspend),
  'vms-evacuate': (db, r) => evacuatePlanner(db, r),
  'vms-power-save': (db, r) => placementPlanner(db, r, 'power-save'),
  'vms-load-balance': (db, r) => placementPlanner(db, r, 'load-balance'),
  'vm-delete-managed': each(planDeleteManaged),
  'pool-add': each(planPoolAdd),
  'pool-remove': each(planPoolRemove),
};

export function planChange(db: Db, r: ChangeRequest): Planned {
  return (PLANNERS[r.action] as Planner<Action>)(db, r as never);
}
