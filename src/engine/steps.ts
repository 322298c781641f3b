// The ordered step tables of every configuration change (spec/provisioning-model.md
// §9, guide §1.11), as data. The engine runs them in this order; a step whose tag
// names an optional subsystem runs only when the group, model or machine is
// configured for it. Step names are the spec's, and are what the journal records.

/** [standard] always; [Storage] / [VLAN] / [LB] by group settings; [mgmt NW] when the machine has a management address. */
export type Tag = 'standard' | 'Storage' | 'VLAN' | 'LB' | 'mgmt NW' | 'distribution';

/**
 * Extra conditions the spec states in prose: 'dpm' = the group registers machines
 * to the deployment server; 'vm-distribution' = the VM model has [Register to DPM
 * when VM is created] (§9.6, §9.7).
 */
export type Condition = 'dpm' | 'vm-distribution';

/** Which machine/group a step acts on: the source or the destination side of a change. */
export type Side = 'src' | 'dst';

export type Operation =
  | 'assign-host' | 'connect-storage' | 'distribute-activation' | 'start' | 'monitor-register'
  | 'collect-info' | 'update-config' | 'lb-add' | 'vlan-add' | 'lb-remove' | 'vlan-remove'
  | 'monitor-unregister' | 'distribute-standby' | 'shutdown' | 'disconnect-storage' | 'release-host'
  | 'replace-machine' | 'decide-machine' | 'create-vm' | 'dpm-register' | 'personality'
  | 'network-setting' | 'dpm-unregister' | 'delete-vm' | 'migrate' | 'check-power' | 'move-vm'
  | 'failover' | 'reboot' | 'recreate-vm' | 'redistribute' | 'distribute-specified'
  | 'suspend' | 'pool-add' | 'pool-remove' | 'no-destination' | 'fence-off';

export interface StepDef {
  no: number;
  tag: Tag;
  name: string;
  op: Operation;
  side: Side;
  when?: Condition;
}

const s = (no: number, tag: Tag, name: string, op: Operation, side: Side = 'dst', when?: Condition): StepDef =>
  when ? { no, tag, name, op, side, when } : { no, tag, name, op, side };

/** §9.1 Machine activation / resource assignment (physical). */
export const ACTIVATE_PHYSICAL: StepDef[] = [
  s(1, 'standard', 'Assign host setting', 'assign-host'),
  s(2, 'Storage', 'Connect storage (disk volume)', 'connect-storage'),
  s(3, 'standard', 'Distribute activation-time software', 'distribute-activation'),
  s(4, 'standard', 'Start machine', 'start'),
  s(5, 'mgmt NW', 'Register to ESMPRO/ServerManager', 'monitor-register'),
  s(6, 'standard', 'Get and update machine information', 'collect-info'),
  s(7, 'standard', 'Update configuration information', 'update-config'),
  s(8, 'LB', 'Register to load-balancing group', 'lb-add'),
  s(9, 'VLAN', 'VLAN setting', 'vlan-add'),
];

/** §9.2 Machine activation / master machine registration (physical). */
export const MASTER_PHYSICAL: StepDef[] = [
  s(1, 'standard', 'Assign host setting', 'assign-host'),
  s(2, 'Storage', 'Connect storage (disk volume)', 'connect-storage'),
  s(3, 'standard', 'Start machine', 'start'),
  s(4, 'mgmt NW', 'Register to ESMPRO/ServerManager', 'monitor-register'),
  s(5, 'standard', 'Get and update machine information', 'collect-info'),
  s(6, 'standard', 'Update configuration information', 'update-config'),
  s(7, 'LB', 'Register to load-balancing group', 'lb-add'),
  s(8, 'VLAN', 'VLAN setting', 'vlan-add'),
];

/** §9.3 Machine deletion (physical). */
export const DELETE_PHYSICAL: StepDef[] = [
  s(1, 'LB', 'Unregister from load-balancing group', 'lb-remove', 'src'),
  s(2, 'VLAN', 'VLAN setting', 'vlan-remove', 'src'),
  s(3, 'mgmt NW', 'Delete from ESMPRO/ServerManager', 'monitor-unregister', 'src'),
  s(4, 'standard', 'Distribute standby-time software', 'distribute-standby', 'src'),
  s(5, 'standard', 'Shut down machine', 'shutdown', 'src'),
  s(6, 'Storage', 'Disconnect storage (disk volume)', 'disconnect-storage', 'src'),
  s(7, 'standard', 'Release host setting', 'release-host', 'src'),
  s(8, 'standard', 'Update configuration information', 'update-config', 'src'),
];

/** §9.4 Machine replacement (physical). */
export const REPLACE_PHYSICAL: StepDef[] = [
  s(1, 'LB', 'Unregister from load-balancing group', 'lb-remove', 'src'),
  s(2, 'VLAN', 'VLAN setting', 'vlan-remove', 'src'),
  s(3, 'mgmt NW', 'Delete from ESMPRO/ServerManager', 'monitor-unregister', 'src'),
  s(4, 'standard', 'Distribute standby-time software', 'distribute-standby', 'src'),
  // The source is fenced (engine/fencing.ts): its host setting moves only once it is known to be off.
  s(5, 'standard', 'Shut down source machine', 'fence-off', 'src'),
  s(6, 'Storage', 'Disconnect storage (disk volume)', 'disconnect-storage', 'src'),
  s(7, 'standard', 'Replace machine', 'replace-machine'),
  s(8, 'Storage', 'Connect storage (disk volume)', 'connect-storage'),
  s(9, 'standard', 'Distribute activation-time software', 'distribute-activation'),
  s(10, 'standard', 'Start destination machine', 'start'),
  s(11, 'mgmt NW', 'Register to ESMPRO/ServerManager', 'monitor-register'),
  s(12, 'standard', 'Get and update machine information', 'collect-info'),
  s(13, 'standard', 'Update configuration information', 'update-config'),
  s(14, 'LB', 'Register to load-balancing group', 'lb-add'),
  s(15, 'VLAN', 'VLAN setting', 'vlan-add'),
];

/** §9.5 Machine move (purpose change, physical): the source side, then the destination side. */
export const MOVE_PHYSICAL: StepDef[] = [
  s(1, 'standard', 'Decide machine to move', 'decide-machine', 'src'),
  s(2, 'LB', 'Unregister from load-balancing group', 'lb-remove', 'src'),
  s(3, 'VLAN', 'VLAN setting', 'vlan-remove', 'src'),
  s(4, 'mgmt NW', 'Delete from ESMPRO/ServerManager', 'monitor-unregister', 'src'),
  s(5, 'standard', 'Distribute standby-time software', 'distribute-standby', 'src'),
  s(6, 'standard', 'Shut down machine', 'shutdown', 'src'),
  s(7, 'Storage', 'Disconnect storage (disk volume)', 'disconnect-storage', 'src'),
  s(8, 'standard', 'Release host setting', 'release-host', 'src'),
  s(9, 'standard', 'Assign host setting', 'assign-host'),
  s(10, 'Storage', 'Connect storage (disk volume)', 'connect-storage'),
  s(11, 'standard', 'Distribute activation-time software', 'distribute-activation'),
  s(12, 'standard', 'Start machine', 'start'),
  s(13, 'mgmt NW', 'Register to ESMPRO/ServerManager', 'monitor-register'),
  s(14, 'standard', 'Get and update machine information', 'collect-info'),
  s(15, 'standard', 'Update configuration information', 'update-config'),
  s(16, 'LB', 'Register to load-balancing group', 'lb-add'),
  s(17, 'VLAN', 'VLAN setting', 'vlan-add'),
];

/** §9.6 Machine activation / new resource assignment (virtual). */
export const CREATE_VM: StepDef[] = [
  s(1, 'standard', 'Assign host setting', 'assign-host'),
  s(2, 'standard', 'Create virtual machine', 'create-vm'),
  s(3, 'standard', 'Get and update machine information', 'collect-info'),
  s(4, 'standard', 'Update configuration information', 'update-config'),
  s(5, 'standard', 'Register machine to DPM', 'dpm-register', 'dst', 'dpm'),
  s(6, 'distribution', 'Distribute activation-time software', 'distribute-activation', 'dst', 'vm-distribution'),
  s(7, 'standard', 'Start machine', 'start'),
  s(8, 'LB', 'Register to load-balancing group', 'lb-add'),
];

/** §9.7 Machine activation / resource assignment (virtual); variants A and B differ in step 1's host choice only. */
export const ACTIVATE_VM: StepDef[] = [
  s(1, 'standard', 'Assign host setting', 'assign-host'),
  s(2, 'standard', 'Personality reflection', 'personality'),
  s(3, 'standard', 'Register machine to DPM', 'dpm-register', 'dst', 'dpm'),
  s(4, 'standard', 'Distribute activation-time software', 'distribute-activation', 'dst', 'vm-distribution'),
  s(5, 'standard', 'Start machine', 'start'),
  s(6, 'LB', 'Register to load-balancing group', 'lb-add'),
];

/** §9.8 Machine activation / master machine registration (virtual). */
export const MASTER_VM: StepDef[] = [
  s(1, 'standard', 'Assign host setting', 'assign-host'),
  s(2, 'standard', 'Network setting', 'network-setting'),
  s(3, 'standard', 'Register machine to DPM', 'dpm-register', 'dst', 'dpm'),
  s(4, 'standard', 'Start machine', 'start'),
  s(5, 'LB', 'Register to load-balancing group', 'lb-add'),
];

/** §9.9 variant A: remove the VM from the group. */
export const REMOVE_VM: StepDef[] = [
  s(1, 'LB', 'Unregister from load-balancing group', 'lb-remove', 'src'),
  s(2, 'standard', 'Distribute standby-time software', 'distribute-standby', 'src'),
  s(3, 'standard', 'Shut down machine', 'shutdown', 'src'),
  s(4, 'standard', 'Release host setting', 'release-host', 'src'),
  s(5, 'standard', 'Delete machine registration from DPM', 'dpm-unregister', 'src', 'dpm'),
  s(6, 'standard', 'Update configuration information', 'update-config', 'src'),
];

/** §9.9 variant B: remove the VM from the group and delete it. */
export const DELETE_VM: StepDef[] = [...REMOVE_VM, s(7, 'standard', 'Delete virtual machine', 'delete-vm', 'src')];

/** §9.10 VM move: step 1, and steps 2–7 as the fallback path. */
export const MOVE_VM: StepDef[] = [
  s(1, 'standard', 'HotMigrate/ColdMigrate', 'migrate', 'src'),
  s(2, 'standard', 'Check power state', 'check-power', 'src'),
  s(3, 'standard', 'Shut down', 'shutdown', 'src'),
  s(4, 'standard', 'Move', 'move-vm', 'src'),
  s(5, 'standard', 'Failover', 'failover', 'src'),
  s(6, 'standard', 'Check power state', 'check-power', 'src'),
  s(7, 'standard', 'Start', 'start', 'src'),
];

/** pvmutl §4.19: the last resort of vmmigrateandmove when Migrate and Move both fail. */
export const RECREATE_VM: StepDef[] = [
  s(8, 'standard', 'Delete and re-create virtual machine', 'recreate-vm', 'src'),
  s(9, 'standard', 'Start', 'start', 'src'),
];

/** Software redistribution to a machine (spec §4.6, §4.8–4.9): differential or full. */
export const REDISTRIBUTE: StepDef[] = [s(1, 'standard', 'Distribute activation-time software', 'redistribute', 'src')];
/** Specified distribution (spec §4.7): exactly the named software, not recorded. */
export const DISTRIBUTE_SPECIFIED: StepDef[] = [s(1, 'standard', 'Distribute specified software', 'distribute-specified', 'src')];

/** Power sequences have no table in §9: one step each. */
export const STARTUP: StepDef[] = [s(1, 'standard', 'Start machine', 'start', 'src')];
export const SHUTDOWN: StepDef[] = [s(1, 'standard', 'Shut down machine', 'shutdown', 'src')];
export const REBOOT: StepDef[] = [s(1, 'standard', 'Reboot machine', 'reboot', 'src')];

/** SuspendMachine (pvmutl.md §3.3 no. 22): no table in §9, one step. */
export const SUSPEND: StepDef[] = [s(1, 'standard', 'Suspend machine', 'suspend', 'src')];

/**
 * DeleteManagedVirtualMachine (pvmutl.md §3.3 no. 3): the VM of the common pool is shut
 * down, its DPM registration (if any) removed, and it is deleted from its VM server —
 * §9.9 variant B without the group steps, which a managed VM has none of.
 */
export const DELETE_MANAGED_VM: StepDef[] = [
  s(1, 'standard', 'Shut down machine', 'shutdown', 'src'),
  s(2, 'standard', 'Delete machine registration from DPM', 'dpm-unregister', 'src'),
  s(3, 'standard', 'Delete virtual machine', 'delete-vm', 'src'),
];

/** MoveFromManagedToPool (pvmutl.md §3.3 no. 14): state transition 3 of §2.2, a change of the store only. */
export const MANAGED_TO_POOL: StepDef[] = [s(1, 'standard', 'Register as pool machine', 'pool-add', 'dst')];

/** MoveFromPoolToManaged (pvmutl.md §3.3 no. 16): a pool machine leaves a group's pool for the common pool; a change of the store only. */
export const POOL_TO_MANAGED: StepDef[] = [s(1, 'standard', 'Delete from pool', 'pool-remove', 'src')];

/**
 * A VM that fits on no VM server during FailoverVMServer or optimal placement: its job
 * fails at this step with the reason, and the VM stays recorded where it was.
 */
export const NO_DESTINATION: StepDef[] = [s(0, 'standard', 'Decide destination VM server', 'no-destination', 'src')];

/**
 * VM optimal start-up (provisioning-model.md §3.5): when the VM cannot start on its host,
 * a stopped VM server may be started (the destination side), the VM moved there by cold
 * migration (or by failover from its kept definition when its host is down), then started.
 */
export const OPTIMAL_START: StepDef[] = [
  s(1, 'standard', 'Start VM server', 'start', 'dst'),
  s(2, 'standard', 'HotMigrate/ColdMigrate', 'migrate', 'src'),
  s(3, 'standard', 'Failover', 'failover', 'src'),
  s(4, 'standard', 'Start machine', 'start', 'src'),
];

/**
 * Steps that read a machine or only choose one: a job that ended (or was abandoned) in
 * them, or before its first step, has changed no machine. Journaled by name.
 */
export const READ_ONLY_STEPS: ReadonlySet<string> = new Set(['Check power state', 'Decide machine to move', 'Decide destination VM server']);

export function pick(table: StepDef[], numbers: number[]): StepDef[] {
  return numbers.map((n) => {
    const step = table.find((x) => x.no === n);
    if (!step) throw new Error(`step ${n} is not in the table`);
    return step;
  });
}
