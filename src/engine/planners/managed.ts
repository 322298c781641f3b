// SuspendMachine, DeleteManagedVirtualMachine and MoveFromManagedToPool (pvmutl.md §3.3
// nos. 22, 3 and 14): action sequences no pvmutl subcommand starts, reached from kanri and
// from policy actions (group suspend, 4.2.14).
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import { refuse } from '../errors.js';
import { EMPTY_SIDE, type JobPlan } from '../plan.js';
import { machineByName } from '../select.js';
import { DELETE_MANAGED_VM, MANAGED_TO_POOL, POOL_TO_MANAGED, SUSPEND, pick } from '../steps.js';
import { plan, side, targetGroups } from './machines.js';
import { powerTargets } from './power.js';
import { driverGroupOf } from './vm-servers.js';
import { machineNotFound } from './targets.js';

export function planSuspend(db: Db, c: { group: string; hosts: string[] }): JobPlan[] {
  // Without host names: the machines of the group that run.
  const chosen = powerTargets(db, c.group, c.hosts).filter((m) => c.hosts.length > 0 || m.power_state === 'on');
  if (chosen.length === 0) throw refuse('machine', L(`no running machine in ${c.group} to suspend`, `${c.group} にサスペンドできる稼動中のマシンがありません`));
  for (const m of chosen) {
    if (m.kind !== 'virtual') {
      throw refuse('machine', L(`${m.name} is a ${m.kind} machine: kanri suspends virtual machines (a BMC has no suspend)`, `${m.name} は仮想マシンではありません (サスペンドは仮想マシンのみ)`));
    }
  }
  return chosen.map((m) => {
    const src = side(db, { group: m.group_id, model: m.model_id, machine: m.id, host: m.host_setting_id });
    return plan({
      sequence: 'SuspendMachine', table: SUSPEND,
      params: { GroupName: c.group, HostName: src.host?.hostName ?? '', group: src.group!.path, machine: m.name },
      resources: [['machine', String(m.id)]],
      src, dst: EMPTY_SIDE,
      event: { machine: m.name, group: src.group!.path },
    });
  });
}

/** DeleteManagedVirtualMachine: a VM of the common pool, deleted from its VM server and from kanri. */
export function planDeleteManaged(db: Db, c: { machine: string }): JobPlan[] {
  const m = machineByName(db, c.machine);
  if (!m) throw refuse('machine', machineNotFound(db, c.machine));
  if (m.kind !== 'virtual') throw refuse('machine', L(`${m.name} is not a virtual machine`, `${m.name} は仮想マシンではありません`));
  if (m.group_id !== null) {
    throw refuse('vm-active', L(`${m.name} is active in a group; remove it with vmdelete`, `${m.name} はグループで稼動しています (vmdelete を使用してください)`));
  }
  const registered = (db.prepare('SELECT dpm_registered FROM machines WHERE id = ?').get(m.id) as { dpm_registered: number }).dpm_registered === 1;
  const src = side(db, { group: driverGroupOf(db, m), machine: m.id });
  return [{
    sequence: 'DeleteManagedVirtualMachine',
    params: { MachineName: m.name, machine: m.name, group: '' },
    resources: [['machine', String(m.id)]],
    src, dst: EMPTY_SIDE,
    steps: pick(DELETE_MANAGED_VM, registered ? [1, 2, 3] : [1, 3]),
    event: { machine: m.name, group: '' },
  }];
}

/** MoveFromPoolToManaged: a machine standing by in a group's pool leaves it; a machine active in the group is refused. */
export function planPoolRemove(db: Db, c: { group: string; machine: string }): JobPlan[] {
  const { group: g } = targetGroups(db, c.group, 'highest-first', false)[0]!;
  const m = machineByName(db, c.machine);
  if (!m) throw refuse('machine', L(`machine not found: ${c.machine}`, `マシンが見つかりません: ${c.machine}`));
  if (!db.prepare('SELECT 1 FROM pool_members WHERE group_id = ? AND machine_id = ?').get(g.id, m.id)) {
    throw refuse('machine', L(`${m.name} is not in the pool of ${g.name}`, `${m.name} は ${g.name} のプールにありません`));
  }
  if (m.group_id === g.id) throw refuse('machine', L(`${m.name} is active in ${g.name}; only a machine standing by leaves the pool`, `${m.name} は ${g.name} で稼動しています`));
  const src = side(db, { group: g.id, model: null, machine: m.id });
  return [plan({
    sequence: 'MoveFromPoolToManaged', table: POOL_TO_MANAGED,
    params: { GroupName: c.group, MachineName: m.name, group: src.group!.path, machine: m.name },
    resources: [['machine', String(m.id)]],
    src, dst: EMPTY_SIDE,
    event: { machine: m.name, group: src.group!.path },
  })];
}

/** MoveFromManagedToPool: a machine that is active nowhere joins a group's pool (for a model, with a model path). */
export function planPoolAdd(db: Db, c: { group: string; machine: string }): JobPlan[] {
  const { group: g, modelId } = targetGroups(db, c.group, 'highest-first', false)[0]!;
  const m = machineByName(db, c.machine);
  if (!m) throw refuse('machine', machineNotFound(db, c.machine));
  if (m.group_id !== null) throw refuse('machine', L(`${m.name} is active in a group; only a machine active nowhere joins a pool`, `${m.name} はグループで稼動しています`));
  if (m.kind !== g.machine_type) throw refuse('machine', L(`${m.name} is a ${m.kind} machine; ${g.name} takes ${g.machine_type} machines`, `${m.name} の種類 (${m.kind}) は ${g.name} (${g.machine_type}) と異なります`));
  if (db.prepare('SELECT 1 FROM pool_members WHERE group_id = ? AND machine_id = ?').get(g.id, m.id)) {
    throw refuse('machine', L(`${m.name} is already in the pool of ${g.name}`, `${m.name} は既に ${g.name} のプールにあります`));
  }
  const dst = side(db, { group: g.id, model: modelId, machine: m.id });
  return [plan({
    sequence: 'MoveFromManagedToPool', table: MANAGED_TO_POOL,
    params: { GroupName: c.group, MachineName: m.name, group: dst.group!.path, machine: m.name },
    resources: [['machine', String(m.id)]],
    src: EMPTY_SIDE, dst,
    event: { machine: m.name, group: dst.group!.path },
  })];
}
