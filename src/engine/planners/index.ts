// Planners, keyed by action: each turns a requested change into the plans of its jobs
// (an action sequence, its sides, resources and steps). They run inside the reservation
// transaction, again for as long as the jobs are held, and refuse with an EngineError.
import type { Db } from '../../store/db.js';
import type { JobPlan } from '../plan.js';
import { deployGroup, deployMachine, deployServer } from './deploy.js';
import { planAdd, planAddSpecName, planDelete, planMaster, planMove, planReplace } from './machines.js';
import { planPower } from './power.js';
import { planVmAdd, planVmDelete, planVmMigrate } from './vm.js';

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
  | { action: 'deploy-machine'; machine: string; software: string[] };

export type Action = ChangeRequest['action'];

export interface Planned {
  /** The plans of the jobs, one per machine. */
  build(): JobPlan[];
  /** One job at a time, in plan order, stopping at the first failure (deploygrp /seq). */
  sequential?: boolean;
  /** A group-level job the planned jobs belong to; its events name the group of the first plan. */
  parent?: { sequence: string; params: Record<string, string> };
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
  'power': each(planPower),
  'vmadd': each(planVmAdd),
  'vmdelete': each(planVmDelete),
  'vmmigrate': each(planVmMigrate),
  'deploy-group': (db, r) => deployGroup(db, r),
  'deploy-server': (db, r) => deployServer(db, r),
  'deploy-machine': (db, r) => deployMachine(db, r),
};

export function planChange(db: Db, r: ChangeRequest): Planned {
  return (PLANNERS[r.action] as Planner<Action>)(db, r as never);
}
