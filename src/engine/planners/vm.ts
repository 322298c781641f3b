// vmadd, vmdelete, vmmigrate, vmmigrateandmove (virtual machines only):
// capacity control (spec §3.3), datastore selection, and the VM move fallbacks.
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import type { GroupRow } from '../../domain/paths.js';
import { EMPTY_SIDE, type JobPlan, type VmCreation } from '../plan.js';
import { machineRef, softwareRef } from '../refs.js';
import { type MachineRow, activeByHost, freeHosts, hostByNetInfo, hostInUse, machineByName, modelsByPriority, removalCandidates } from '../select.js';
import { ACTIVATE_VM, CREATE_VM, DELETE_VM, MOVE_VM, RECREATE_VM, REMOVE_VM, pick } from '../steps.js';
import { refuse } from '../errors.js';
import { type Need, misfit, serverLoad, sizeOf } from '../capacity.js';
import { Readings, templateSize } from '../readings.js';
import { driverNameFor } from '../../adapters/registry.js';
import type { VmSize } from '../../adapters/types.js';
import type { Planned } from './index.js';
import { firstServing, plan, side, targetGroups } from './machines.js';
import { byName, closestName, foldName } from '../../domain/names.js';
import { hostNotFound, machineNotFound, notActiveHost } from './targets.js';

function requireVmGroup(g: GroupRow, cmd: string): void {
  if (g.machine_type !== 'virtual') {
    throw refuse('group', L(`${cmd} needs a group of virtual machines; ${g.name} holds ${g.machine_type} machines`, `${cmd} には仮想マシンのグループを指定してください (${g.name})`));
  }
}

function requireVm(m: MachineRow): void {
  if (m.kind !== 'virtual') throw refuse('machine', L(`${m.name} is not a virtual machine`, `${m.name} は仮想マシンではありません`));
}

export function vmServerByName(db: Db, name: string): MachineRow {
  const s = machineByName(db, name);
  if (!s || s.kind !== 'vmserver') {
    const hint = closestName(db, "SELECT name FROM machines WHERE kind = 'vmserver'", name);
    throw refuse('machine', L(`VM server not found: ${name}${hint}`, `VM サーバが見つかりません: ${name}${hint}`));
  }
  return s;
}

/** Capacity control (spec §3.3) on one server, counting what running jobs put there. */
function checkCapacity(db: Db, server: MachineRow, need: Need, readings?: Readings): void {
  const why = misfit(serverLoad(db, server.id, need.vm, readings?.map), need);
  if (why) throw refuse('machine', why);
}

/** VM servers that may take a VM: running, usable, of the VM-server model if one is named. */
export function runningServers(db: Db, vmServerModel: number | null): MachineRow[] {
  return db.prepare(
    `SELECT * FROM machines WHERE kind = 'vmserver' AND power_state = 'on' AND maintenance = 0 AND hardware_status = 'normal'
       AND (? IS NULL OR model_id = ?) ORDER BY name COLLATE NOCASE`,
  ).all(vmServerModel, vmServerModel) as MachineRow[];
}

/** The server a new VM goes to: one it fits on, the one with the least free capacity first (spec §3.5). */
function autoServer(db: Db, vmServerModel: number | null, need: Need, readings: Readings): MachineRow {
  const fitting = runningServers(db, vmServerModel)
    .map((s) => ({ s, l: serverLoad(db, s.id, need.vm, readings.map) }))
    .filter((x) => !misfit(x.l, need))
    .sort((a, b) => (a.l.capacity - a.l.used) - (b.l.capacity - b.l.used));
  if (!fitting[0]) throw refuse('machine', L(`no VM server has free capacity for cost ${need.cost}`, `コスト ${need.cost} の VM を作成できる VM サーバがありません`));
  return fitting[0].s;
}

function datastoreOn(db: Db, server: MachineRow, wanted: string | undefined): string {
  if (wanted !== undefined) {
    const d = byName<{ name: string }>(db, 'SELECT name FROM datastores WHERE vm_server_id = ? AND {name}', 'name', wanted, server.id);
    if (!d) throw refuse('machine', L(`datastore ${wanted} not found on ${server.name}`, `${server.name} にデータストア ${wanted} がありません`));
    return d.name;
  }
  const d = db.prepare('SELECT name FROM datastores WHERE vm_server_id = ? ORDER BY shared DESC, name COLLATE NOCASE LIMIT 1').get(server.id) as { name: string } | undefined;
  if (!d) throw refuse('machine', L(`${server.name} has no datastore`, `${server.name} にデータストアがありません`));
  return d.name;
}

function templateOf(db: Db, g: GroupRow, modelId: number): number | null {
  const m = db.prepare('SELECT template_id FROM models WHERE id = ?').get(modelId) as { template_id: number | null };
  const gr = db.prepare('SELECT template_id FROM groups WHERE id = ?').get(g.id) as { template_id: number | null };
  return m.template_id ?? gr.template_id;
}

function chooseHost(db: Db, g: GroupRow, netInfo: string | undefined): number {
  if (netInfo !== undefined) {
    const h = hostByNetInfo(db, g.id, netInfo);
    if (!h) throw refuse('host-setting', hostNotFound(db, [g.id], netInfo, g.name));
    if (hostInUse(db, h.id)) throw refuse('host-setting', L(`host setting ${h.host_name} is in use`, `ホスト設定 ${h.host_name} は使用中です`));
    return h.id;
  }
  const h = freeHosts(db, g.id)[0];
  if (!h) throw refuse('host-setting', L(`host settings of ${g.name} are insufficient: none unused`, `${g.name} のホスト設定が不足しています`));
  return h.id;
}

type VmAddRequest = { group: string; vm: string; vmServer?: string; datastore?: string; netInfo?: string; existing: boolean };

/** vmadd: the VM's size and the candidate servers' readings are read first (readings.ts). */
export function vmAddPlanner(db: Db, c: VmAddRequest): Planned {
  const readings = new Readings(db);
  let size: VmSize | undefined;
  return {
    build: () => planVmAdd(db, c, readings, size),
    async prepare(signal) {
      if (c.existing) return;
      // Only what the planner will look at; an invalid request is refused by build() itself.
      const r = targetGroups(db, c.group, 'highest-first', false)[0];
      if (!r || r.group.machine_type !== 'virtual') return;
      const modelId = r.modelId ?? modelsByPriority(db, r.group.id, 'highest-first')[0]?.id;
      if (modelId === undefined) return;
      const driver = driverNameFor(db, null, r.group.id, 'vm');
      const templateId = templateOf(db, r.group, modelId);
      if (templateId !== null) size = await templateSize(db, driver, softwareRef(db, templateId), signal);
      const vsm = (db.prepare('SELECT vm_server_model_id FROM models WHERE id = ?').get(modelId) as { vm_server_model_id: number | null }).vm_server_model_id;
      const named = c.vmServer !== undefined ? machineByName(db, c.vmServer) : undefined;
      await readings.refresh(driver, named ? [named.id] : runningServers(db, vsm).map((x) => x.id), signal);
    },
    accepted: () => readings.record(),
  };
}

export function planVmAdd(db: Db, c: VmAddRequest, readings = new Readings(db), size?: VmSize): JobPlan[] {
  const { group: g, modelId: fixedModel } = targetGroups(db, c.group, 'highest-first', false)[0]!;
  requireVmGroup(g, 'vmadd');
  const modelId = fixedModel ?? modelsByPriority(db, g.id, 'highest-first')[0]!.id;
  const vsm = (db.prepare('SELECT vm_server_model_id FROM models WHERE id = ?').get(modelId) as { vm_server_model_id: number | null }).vm_server_model_id;
  const given: Record<string, string> = { GroupName: c.group, VMName: c.vm, ...(c.vmServer ? { VMS: c.vmServer } : {}), ...(c.datastore ? { DATASTORE: c.datastore } : {}), ...(c.netInfo ? { NETINFO: c.netInfo } : {}) };

  if (c.existing) {
    const m = machineByName(db, c.vm);
    if (!m) throw refuse('machine', machineNotFound(db, c.vm));
    requireVm(m);
    if (m.group_id !== null) throw refuse('vm-active', L(`${m.name} is already active in a group`, `${m.name} は既にグループで稼動しています`));
    if (c.vmServer !== undefined && m.vm_server_id !== vmServerByName(db, c.vmServer).id) {
      throw refuse('machine', L(`${m.name} is not on VM server ${c.vmServer}`, `${m.name} は VM サーバ ${c.vmServer} 上にありません`));
    }
    const hostId = chooseHost(db, g, c.netInfo);
    const inPool = db.prepare('SELECT 1 FROM pool_members WHERE group_id = ? AND machine_id = ?').get(g.id, m.id);
    const dst = side(db, { group: g.id, model: modelId, machine: m.id, host: hostId });
    return [plan({
      sequence: inPool ? 'MoveFromPoolToGroup' : 'MoveFromManagedToGroup', table: ACTIVATE_VM,
      params: { ...given, a: 'yes', HostName: dst.host!.hostName, group: dst.group!.path, machine: m.name },
      resources: [['machine', String(m.id)], ['host_setting', String(hostId)]],
      src: EMPTY_SIDE, dst, activatedFrom: inPool ? 'group_pool' : 'common_pool',
      event: { machine: m.name, group: dst.group!.path },
    })];
  }

  if (machineByName(db, c.vm)) throw refuse('vm-exists', L(`a machine named ${c.vm} already exists`, `${c.vm} という名前のマシンは既に存在します`));
  const templateId = templateOf(db, g, modelId);
  if (templateId === null) throw refuse('software', L(`no template is registered on ${g.name}`, `${g.name} にテンプレートが登録されていません`));
  const template = softwareRef(db, templateId);
  const cost = (db.prepare('SELECT cost FROM software WHERE id = ?').get(templateId) as { cost: number | null }).cost ?? 0;
  const need: Need = { vm: c.vm, cost, memoryKiB: size?.memoryKiB };
  let server: MachineRow;
  if (c.vmServer !== undefined) {
    server = vmServerByName(db, c.vmServer);
    checkCapacity(db, server, need, readings);
  } else {
    server = autoServer(db, vsm, need, readings);
  }
  const datastore = datastoreOn(db, server, c.datastore);
  const hostId = chooseHost(db, g, c.netInfo);
  const dst = side(db, { group: g.id, model: modelId, host: hostId });
  const vm: VmCreation = { name: c.vm, server: machineRef(db, server.id), datastore, template, cost };
  return [plan({
    sequence: 'CreateMachineToGroup', table: CREATE_VM,
    params: { ...given, VMS: server.name, DATASTORE: datastore, HostName: dst.host!.hostName, group: dst.group!.path, machine: c.vm },
    resources: [['machine', `new:${foldName(c.vm)}`], ['host_setting', String(hostId)]],
    claims: [{ server: server.id, vm: c.vm, cost, memoryKiB: size?.memoryKiB ?? null }],
    src: EMPTY_SIDE, dst, vm, activatedFrom: 'common_pool',
    event: { machine: c.vm, vmName: c.vm, group: dst.group!.path, host: dst.host!.hostName },
  })];
}

export function planVmDelete(db: Db, c: { group: string; host?: string; removeOnly: boolean }): JobPlan[] {
  const targets = targetGroups(db, c.group, 'lowest-first', c.host === undefined).filter((t) => c.host !== undefined || t.group.machine_type === 'virtual');
  if (targets.length === 0) throw refuse('group', L(`no group of virtual machines under ${c.group}`, `${c.group} の下に仮想マシンのグループがありません`));
  return firstServing(targets, ({ group: g, modelId }) => {
    let m: MachineRow | undefined;
    if (c.host !== undefined) {
      // A machine that is not a VM is exit 2 (seed 004 l. 4146-4148), whatever group it is in.
      m = activeByHost(db, g.id, c.host);
      if (m && m.kind !== 'virtual') throw refuse('machine', L('the specified machine is not a virtual machine', '指定したマシンが仮想マシンではありません'));
      requireVmGroup(g, 'vmdelete');
      if (!m) throw refuse('machine', notActiveHost(db, c.host, g));
    } else {
      requireVmGroup(g, 'vmdelete');
      m = removalCandidates(db, g.id, modelId)[0];
      if (!m) throw refuse('machine', L(`no active virtual machine in ${g.name} can be deleted`, `${g.name} に削除できる稼動中の仮想マシンがありません`));
    }
    const src = side(db, { group: g.id, model: m.model_id, machine: m.id, host: m.host_setting_id });
    const sequence = !c.removeOnly ? 'DeleteVirtualMachine' : m.activated_from === 'group_pool' ? 'MoveFromGroupToPool' : 'MoveFromGroupToManaged';
    return [plan({
      sequence, table: c.removeOnly ? REMOVE_VM : DELETE_VM,
      params: { GroupName: c.group, HostName: src.host?.hostName ?? '', ...(c.removeOnly ? { d: 'yes' } : {}), group: src.group!.path, machine: m.name },
      resources: [['machine', String(m.id)], ['host_setting', String(m.host_setting_id)]],
      src, dst: EMPTY_SIDE,
      event: { machine: m.name, group: src.group!.path },
    })];
  });
}

type VmMigrateRequest = { cmd: 'vmmigrate' | 'vmmigrateandmove'; group: string; host: string; vmServer: string };

export function vmMigratePlanner(db: Db, c: VmMigrateRequest): Planned {
  const readings = new Readings(db);
  return {
    build: () => planVmMigrate(db, c, readings),
    async prepare(signal) {
      const server = machineByName(db, c.vmServer);
      const g = targetGroups(db, c.group, 'highest-first', false)[0]?.group;
      if (server?.kind === 'vmserver' && g) await readings.refresh(driverNameFor(db, null, g.id, 'vm'), [server.id], signal);
    },
    accepted: () => readings.record(),
  };
}

export function planVmMigrate(db: Db, c: VmMigrateRequest, readings = new Readings(db)): JobPlan[] {
  const g = targetGroups(db, c.group, 'highest-first', false)[0]!.group;
  const m = activeByHost(db, g.id, c.host);
  if (!m) throw refuse('machine', notActiveHost(db, c.host, g));
  requireVm(m);
  const server = vmServerByName(db, c.vmServer);
  if (m.vm_server_id === server.id) {
    throw refuse('machine', L(`${m.name} is already on ${server.name}; give another VM server`, `${m.name} は既に ${server.name} 上にあります`));
  }
  const need: Need = { vm: m.name, cost: m.cost ?? 0, memoryKiB: sizeOf(db, m.id)?.memoryKiB };
  if (m.power_state === 'on') checkCapacity(db, server, need, readings);
  // The VM's datastore is a name on another server: it finds the target's as a typed one would.
  const onTarget = m.datastore ? byName<{ name: string }>(db, 'SELECT name FROM datastores WHERE vm_server_id = ? AND {name}', 'name', m.datastore, server.id) : undefined;
  const datastore = onTarget?.name ?? datastoreOn(db, server, undefined);
  const src = side(db, { group: g.id, model: m.model_id, machine: m.id, host: m.host_setting_id });
  const moveTo = { server: machineRef(db, server.id), datastore };
  const fallbacks: JobPlan['fallbacks'] = [];
  let vm: VmCreation | undefined;
  if (c.cmd === 'vmmigrateandmove') {
    fallbacks.push({ after: 1, steps: pick(MOVE_VM, [2, 3, 4, 6, 7]) });
    const templateId = m.model_id !== null ? templateOf(db, g, m.model_id) : null;
    if (templateId !== null) {
      vm = { name: m.name, server: moveTo.server, datastore, template: softwareRef(db, templateId), cost: m.cost ?? 0 };
      fallbacks.push({ after: 4, steps: RECREATE_VM });
    }
  }
  return [{
    sequence: 'MoveMachine',
    params: { GroupName: c.group, HostName: c.host, VMSName: server.name, method: c.cmd === 'vmmigrate' ? 'migrate' : 'migrate, move', group: src.group!.path, machine: m.name },
    resources: [['machine', String(m.id)]],
    // A VM that runs keeps running on the destination: its cost goes there with it.
    claims: m.power_state === 'on' ? [{ server: server.id, vm: m.name, cost: need.cost, memoryKiB: need.memoryKiB ?? null }] : [],
    src, dst: EMPTY_SIDE, steps: pick(MOVE_VM, [1]), fallbacks, moveTo, ...(vm ? { vm } : {}),
    event: { machine: m.name, group: src.group!.path },
  }];
}
