// The VM-server sequences (pvmutl.md §3.3, events-and-policies.md §6 actions 4.2.16–4.2.20):
// FailoverVMServer moves every VM of a VM server to the other servers of its group (by
// migration, by failover from the kept definition, or migration then failover), and
// LoadBalanceVMServer keeps each server of a group within the placement bounds of its model
// (provisioning-model.md §3.4): VMs off a server above the high-load boundary, a stopped
// server started when the running ones cannot take them; for power saving, a server below
// the low-load boundary emptied and shut down. Every destination is chosen by capacity
// control (capacity.ts) and the hypervisor's readings; a VM that fits nowhere gets a job
// that fails with the reason, and stays recorded where it was.
import type { Db } from '../../store/db.js';
import { foldName } from '../../domain/names.js';
import { L } from '../../cli/locale.js';
import { driverNameFor } from '../../adapters/registry.js';
import { type Need, type ServerLoad, loadPercent, misfit, serverLoad, sizeOf } from '../capacity.js';
import { refuse } from '../errors.js';
import { EMPTY_SIDE, type JobPlan } from '../plan.js';
import { machineRef } from '../refs.js';
import { Readings } from '../readings.js';
import type { MachineRow } from '../select.js';
import { vmServerByName } from './vm.js';
import { MOVE_VM, NO_DESTINATION, SHUTDOWN, STARTUP, type StepDef, pick } from '../steps.js';
import type { Planned } from './index.js';
import { plan, side, targetGroups } from './machines.js';

export type EvacuateHow = 'migrate' | 'migrate-then-failover' | 'failover';

/** The group whose drivers serve a VM: its own, else the first group whose pool holds it. */
export function driverGroupOf(db: Db, vm: MachineRow): number | null {
  if (vm.group_id !== null) return vm.group_id;
  return (db.prepare('SELECT group_id FROM pool_members WHERE machine_id = ? ORDER BY group_id LIMIT 1').get(vm.id) as { group_id: number } | undefined)?.group_id ?? null;
}

const vmsOn = (db: Db, serverId: number): MachineRow[] =>
  db.prepare("SELECT * FROM machines WHERE kind = 'virtual' AND vm_server_id = ? ORDER BY name COLLATE NOCASE").all(serverId) as MachineRow[];

const usable = (s: MachineRow): boolean => s.maintenance === 0 && s.hardware_status === 'normal';

function groupServers(db: Db, groupId: number): MachineRow[] {
  return db.prepare("SELECT * FROM machines WHERE kind = 'vmserver' AND group_id = ? ORDER BY name COLLATE NOCASE").all(groupId) as MachineRow[];
}

const needOf = (db: Db, vm: MachineRow): Need => ({
  vm: vm.name, cost: vm.power_state === 'on' ? vm.cost ?? 0 : 0, memoryKiB: vm.power_state === 'on' ? sizeOf(db, vm.id)?.memoryKiB : undefined,
});

/** One VM's MoveMachine job to `dst` (or, without one, a job that fails with `unplaced`). */
function moveJob(db: Db, vm: MachineRow, dst: MachineRow | undefined, steps: StepDef[], fallbacks: JobPlan['fallbacks'], how: string, unplaced?: string): JobPlan {
  const src = side(db, { group: driverGroupOf(db, vm), model: vm.model_id, machine: vm.id, host: vm.host_setting_id });
  const need = needOf(db, vm);
  const base = {
    sequence: 'MoveMachine',
    resources: [['machine', String(vm.id)]] as JobPlan['resources'],
    src, dst: EMPTY_SIDE,
    event: { machine: vm.name, group: src.group?.path ?? '' },
  };
  if (!dst) {
    return { ...base, params: { HostName: vm.name, method: how, group: src.group?.path ?? '', machine: vm.name }, steps: NO_DESTINATION, unplaced: unplaced ?? '' };
  }
  return {
    ...base,
    params: { HostName: vm.name, VMSName: dst.name, method: how, group: src.group?.path ?? '', machine: vm.name },
    steps, fallbacks,
    moveTo: { server: machineRef(db, dst.id), datastore: vm.datastore ?? '' },
    claims: need.cost > 0 || need.memoryKiB !== undefined ? [{ server: dst.id, vm: vm.name, cost: need.cost, memoryKiB: need.memoryKiB ?? null }] : [],
  };
}

/** What is planned onto each server so far in this change. */
class Planning {
  private readonly added = new Map<number, { cost: number; memoryKiB: number }>();
  constructor(private readonly db: Db, private readonly readings: Readings) {}
  load(serverId: number, except?: string): ServerLoad {
    const l = serverLoad(this.db, serverId, except, this.readings.map);
    const a = this.added.get(serverId);
    if (a) {
      l.used += a.cost;
      if (l.freeMemoryKiB !== undefined) l.freeMemoryKiB -= a.memoryKiB;
    }
    return l;
  }
  add(serverId: number, need: Need): void {
    const a = this.added.get(serverId) ?? { cost: 0, memoryKiB: 0 };
    a.cost += need.cost;
    a.memoryKiB += need.memoryKiB ?? 0;
    this.added.set(serverId, a);
  }
  remove(serverId: number, need: Need): void {
    this.add(serverId, { vm: need.vm, cost: -need.cost, memoryKiB: -(need.memoryKiB ?? 0) });
  }
}

function firstVmDriver(db: Db, vms: MachineRow[]): string | undefined {
  for (const vm of vms) {
    const d = driverNameFor(db, vm.id, driverGroupOf(db, vm), 'vm');
    if (d) return d;
  }
  return undefined;
}

// ---- FailoverVMServer: every VM of one server elsewhere --------------------------------------

export function evacuatePlanner(db: Db, r: { server: string; how: EvacuateHow }): Planned {
  const readings = new Readings(db);
  const scope = (): { server: MachineRow; vms: MachineRow[]; others: MachineRow[] } => {
    const server = vmServerByName(db, r.server);
    if (server.group_id === null) {
      throw refuse('group', L(`${server.name} is not active in a group of VM servers: its VMs have no other server to go to`, `${server.name} は VM サーバのグループで稼動していません`));
    }
    // Every way of moving "all VMs of a VM server" moves its running VMs (seed 004 L6777–6802):
    // stopped and common-pool VMs stay where they are.
    const vms = vmsOn(db, server.id).filter((v) => v.power_state === 'on');
    const others = groupServers(db, server.group_id).filter((s) => s.id !== server.id && s.power_state === 'on' && usable(s));
    return { server, vms, others };
  };
  return {
    parent: { sequence: 'FailoverVMServer', params: { VMSName: r.server, method: r.how } },
    async prepare(signal) {
      try {
        const { vms, others } = scope();
        await readings.refresh(firstVmDriver(db, vms), others.map((s) => s.id), signal);
      } catch {
        // build() refuses with the reason.
      }
    },
    accepted: () => readings.record(),
    build() {
      const { server, vms, others } = scope();
      const planning = new Planning(db, readings);
      // The biggest running VMs are placed first, while there is most room.
      const order = [...vms].sort((a, b) => (b.power_state === 'on' ? 1 : 0) - (a.power_state === 'on' ? 1 : 0) || (b.cost ?? 0) - (a.cost ?? 0) || a.name.localeCompare(b.name));
      return order.map((vm) => {
        // A VM no driver serves fails alone, visibly; the others still move.
        if (!driverNameFor(db, vm.id, driverGroupOf(db, vm), 'vm')) {
          return moveJob(db, vm, undefined, [], [], r.how, L(`${vm.name}: no vm driver is configured for it (drivers: { vm: … } on it or its group)`, `${vm.name} に vm ドライバが設定されていません`));
        }
        const need = needOf(db, vm);
        const running = vm.power_state === 'on';
        const failover = running ? pick(MOVE_VM, [5, 6, 7]) : pick(MOVE_VM, [5]);
        const steps = r.how === 'failover' ? failover : pick(MOVE_VM, [1]);
        const fallbacks = r.how === 'migrate-then-failover' ? [{ after: 1, steps: failover }] : [];
        const reasons: string[] = [];
        // Spread: the server with the most room left takes the next VM.
        const fitting = others.map((s) => ({ s, l: planning.load(s.id, vm.name) }))
          .filter(({ l }) => { const why = misfit(l, need); if (why) reasons.push(why); return !why; })
          .sort((a, b) => (b.l.capacity - b.l.used) - (a.l.capacity - a.l.used) || a.s.name.localeCompare(b.s.name));
        const dst = fitting[0]?.s;
        if (!dst) {
          const why = others.length === 0
            ? L(`no other VM server of ${server.name}'s group is running`, `${server.name} のグループに稼動中の他の VM サーバがありません`)
            : reasons.join('; ');
          return moveJob(db, vm, undefined, [], [], r.how, L(`${vm.name} fits on no VM server: ${why}`, `${vm.name} を移動できる VM サーバがありません: ${why}`));
        }
        planning.add(dst.id, need);
        return moveJob(db, vm, dst, steps, fallbacks, r.how);
      });
    },
  };
}

// ---- LoadBalanceVMServer: the placement bounds of §3.4 ----------------------------------------

interface Bounds { high: number; targetHigh: number; targetLow: number; low: number }

function boundsOf(db: Db, server: MachineRow): Bounds | undefined {
  if (server.model_id === null) return undefined;
  const m = db.prepare('SELECT placement, load_high, load_target_high, load_target_low, load_low FROM models WHERE id = ?').get(server.model_id) as
    { placement: number; load_high: number | null; load_target_high: number | null; load_target_low: number | null; load_low: number | null };
  if (!m.placement) return undefined;
  return { high: m.load_high ?? 100, targetHigh: m.load_target_high ?? m.load_high ?? 100, targetLow: m.load_target_low ?? 0, low: m.load_low ?? 0 };
}

function vmServerGroup(db: Db, path: string): { id: number; name: string; path: string } {
  const { group: g } = targetGroups(db, path, 'highest-first', false)[0]!;
  if (g.machine_type !== 'vmserver') {
    throw refuse('group', L(`${g.name} is not a group of VM servers (it holds ${g.machine_type} machines)`, `${g.name} は VM サーバのグループではありません`));
  }
  return { id: g.id, name: g.name, path };
}

function serverJob(db: Db, s: MachineRow, sequence: 'StartupMachine' | 'ShutdownMachine', group: string): JobPlan {
  const src = side(db, { group: s.group_id, model: s.model_id, machine: s.id, host: s.host_setting_id });
  return plan({
    sequence, table: sequence === 'StartupMachine' ? STARTUP : SHUTDOWN,
    params: { GroupName: group, HostName: src.host?.hostName ?? s.name, group: src.group?.path ?? '', machine: s.name },
    resources: [['machine', String(s.id)]],
    src, dst: EMPTY_SIDE,
    event: { machine: s.name, group: src.group?.path ?? '' },
  });
}

export function placementPlanner(db: Db, r: { group: string; server?: string }, mode: 'load-balance' | 'power-save'): Planned {
  const readings = new Readings(db);
  const scope = (): { g: { id: number; name: string; path: string }; enabled: Array<{ s: MachineRow; b: Bounds }> } => {
    const g = vmServerGroup(db, r.group);
    const enabled = groupServers(db, g.id).map((s) => ({ s, b: boundsOf(db, s) })).filter((x): x is { s: MachineRow; b: Bounds } => x.b !== undefined);
    if (enabled.length === 0) {
      throw refuse('group', L(`optimal placement is not enabled on any VM server model of ${g.name}`, `${g.name} の VM サーバモデルで最適配置が有効になっていません`));
    }
    if (r.server !== undefined) {
      const named = vmServerByName(db, r.server);
      if (!enabled.some((x) => x.s.id === named.id)) {
        throw refuse('machine', L(`${named.name} is not a VM server of ${g.name} with optimal placement enabled`, `${named.name} は最適配置が有効な ${g.name} の VM サーバではありません`));
      }
    }
    return { g, enabled };
  };
  return {
    parent: { sequence: 'LoadBalanceVMServer', params: { GroupName: r.group, mode, ...(r.server ? { VMSName: r.server } : {}) } },
    // One move after another: a server is shut down only after every VM left it.
    sequential: true,
    async prepare(signal) {
      try {
        const { enabled } = scope();
        const vms = enabled.flatMap((x) => vmsOn(db, x.s.id));
        await readings.refresh(firstVmDriver(db, vms), enabled.filter((x) => x.s.power_state === 'on').map((x) => x.s.id), signal);
      } catch {
        // build() refuses with the reason.
      }
    },
    accepted: () => readings.record(),
    build() {
      const { g, enabled } = scope();
      return mode === 'load-balance' ? balance(db, g.path, enabled, r.server, readings) : powerSave(db, g.path, enabled, r.server, readings);
    },
  };
}

const running = (x: { s: MachineRow }): boolean => x.s.power_state === 'on' && usable(x.s);

function balance(db: Db, group: string, enabled: Array<{ s: MachineRow; b: Bounds }>, named: string | undefined, readings: Readings): JobPlan[] {
  const planning = new Planning(db, readings);
  const plans: JobPlan[] = [];
  const sources = enabled.filter(running)
    .filter((x) => (named ? foldName(x.s.name) === foldName(named) : loadPercent(planning.load(x.s.id)) > x.b.high))
    .sort((a, b) => loadPercent(planning.load(b.s.id)) - loadPercent(planning.load(a.s.id)));
  const dests = enabled.filter((x) => running(x) && !sources.includes(x));
  const stopped = enabled.filter((x) => x.s.power_state === 'off' && usable(x.s));
  for (const src of sources) {
    // The smallest VMs first: the fewest moves that bring the server into its target range.
    const vms = vmsOn(db, src.s.id).filter((v) => v.power_state === 'on').sort((a, b) => (a.cost ?? 0) - (b.cost ?? 0) || a.name.localeCompare(b.name));
    for (const vm of vms) {
      if (loadPercent(planning.load(src.s.id)) <= src.b.targetHigh) break;
      const need = needOf(db, vm);
      const pickDest = (): { s: MachineRow; b: Bounds } | undefined => dests
        .map((d) => ({ d, l: planning.load(d.s.id, vm.name) }))
        .filter(({ d, l }) => !misfit(l, need) && loadPercent(l, need.cost) <= d.b.targetHigh)
        .sort((a, b) => loadPercent(a.l) - loadPercent(b.l) || a.d.s.name.localeCompare(b.d.s.name))[0]?.d;
      let dst = pickDest();
      // The running servers cannot take it: a stopped one is started (§3.4, action 4.2.20).
      while (!dst && stopped.length) {
        const s = stopped.shift()!;
        plans.push(serverJob(db, s.s, 'StartupMachine', group));
        dests.push(s);
        dst = pickDest();
      }
      if (!dst) break;
      planning.add(dst.s.id, need);
      planning.remove(src.s.id, need);
      plans.push(moveJob(db, vm, dst.s, pick(MOVE_VM, [1]), [], 'migrate'));
    }
  }
  return plans;
}

function powerSave(db: Db, group: string, enabled: Array<{ s: MachineRow; b: Bounds }>, named: string | undefined, readings: Readings): JobPlan[] {
  const planning = new Planning(db, readings);
  const plans: JobPlan[] = [];
  const emptied = new Set<number>();
  const candidates = enabled.filter(running)
    .filter((x) => (named ? foldName(x.s.name) === foldName(named) : loadPercent(planning.load(x.s.id)) < x.b.low))
    .sort((a, b) => loadPercent(planning.load(a.s.id)) - loadPercent(planning.load(b.s.id)));
  for (const c of candidates) {
    const vms = vmsOn(db, c.s.id).filter((v) => v.power_state === 'on').sort((a, b) => (b.cost ?? 0) - (a.cost ?? 0) || a.name.localeCompare(b.name));
    const dests = enabled.filter((x) => running(x) && x.s.id !== c.s.id && !emptied.has(x.s.id));
    const moves: Array<{ vm: MachineRow; dst: MachineRow; need: Need }> = [];
    for (const vm of vms) {
      const need = needOf(db, vm);
      // Consolidate: the fullest server that stays within its target range takes it.
      const dst = dests
        .map((d) => ({ d, l: planning.load(d.s.id, vm.name) }))
        .filter(({ d, l }) => !misfit(l, need) && loadPercent(l, need.cost) <= d.b.targetHigh)
        .sort((a, b) => loadPercent(b.l) - loadPercent(a.l) || a.d.s.name.localeCompare(b.d.s.name))[0]?.d;
      if (!dst) break;
      planning.add(dst.s.id, need);
      moves.push({ vm, dst: dst.s, need });
    }
    if (moves.length < vms.length) {
      // Not every VM can go: this server stays as it is.
      for (const m of moves) planning.remove(m.dst.id, m.need);
      continue;
    }
    for (const m of moves) {
      planning.remove(c.s.id, m.need);
      plans.push(moveJob(db, m.vm, m.dst, pick(MOVE_VM, [1]), [], 'migrate'));
    }
    emptied.add(c.s.id);
    plans.push(serverJob(db, c.s, 'ShutdownMachine', group));
  }
  return plans;
}
