// shutdown | reboot | poweron GroupName [HostName...]: one job per machine.
// Without host names every active machine of the group (of every group under a
// category) is a target, except machines in maintenance (spec/decisions.md).
// A VM that starts takes its cost on its VM server (capacity control, §3.3); one that
// cannot start on its host starts elsewhere when its model has VM optimal start-up
// (provisioning-model.md §3.5), and fails to start otherwise.
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import { driverNameFor } from '../../adapters/registry.js';
import type { JobPlan } from '../plan.js';
import { EMPTY_SIDE } from '../plan.js';
import { type Need, misfit, serverLoad, sizeOf } from '../capacity.js';
import { Readings } from '../readings.js';
import { machineRef } from '../refs.js';
import { type MachineRow, activeByHost, machineById } from '../select.js';
import { NO_DESTINATION, OPTIMAL_START, REBOOT, SHUTDOWN, STARTUP, pick } from '../steps.js';
import { refuse } from '../errors.js';
import type { Planned } from './index.js';
import { plan, side, targetGroups } from './machines.js';
import { notActiveHost } from './targets.js';

const SEQUENCES = {
  shutdown: { sequence: 'ShutdownMachine', table: SHUTDOWN },
  reboot: { sequence: 'RebootMachine', table: REBOOT },
  poweron: { sequence: 'StartupMachine', table: STARTUP },
} as const;

type PowerRequest = { cmd: 'shutdown' | 'reboot' | 'poweron'; group: string; hosts: string[] };

/** The machines a power command (or suspend) names: the hosts given, else every active machine not in maintenance. */
export function powerTargets(db: Db, group: string, hosts: string[]): MachineRow[] {
  const targets = targetGroups(db, group, 'highest-first', hosts.length === 0);
  const chosen: MachineRow[] = [];
  if (hosts.length > 0) {
    const g = targets[0]!.group;
    for (const h of hosts) {
      const m = activeByHost(db, g.id, h);
      if (!m) throw refuse('machine', notActiveHost(db, h, g, g.name, true));
      if (chosen.some((x) => x.id === m.id)) throw refuse('machine', L(`${h} is given twice`, `${h} が重複しています`));
      chosen.push(m);
    }
  } else {
    for (const { group: g, modelId } of targets) {
      chosen.push(...(db.prepare(
        'SELECT * FROM machines WHERE group_id = ? AND (? IS NULL OR model_id = ?) AND maintenance = 0 ORDER BY name COLLATE NOCASE',
      ).all(g.id, modelId, modelId) as MachineRow[]));
    }
    if (chosen.length === 0) throw refuse('machine', L(`no active machine in ${group}`, `${group} に稼動しているマシンがありません`));
  }
  return chosen;
}

interface StartModel { optimal: boolean; vmServerModel: number | null }

function startModel(db: Db, vm: MachineRow): StartModel {
  const m = vm.model_id === null ? undefined : db.prepare('SELECT optimal_startup, vm_server_model_id FROM models WHERE id = ?').get(vm.model_id) as { optimal_startup: number; vm_server_model_id: number | null } | undefined;
  return { optimal: !!m?.optimal_startup, vmServerModel: m?.vm_server_model_id ?? null };
}

/** Destination candidates of §3.5: the servers of the VM's VM-server model, else of its data centre. */
function startCandidates(db: Db, vm: MachineRow, sm: StartModel): MachineRow[] {
  const rows = sm.vmServerModel !== null
    ? db.prepare("SELECT * FROM machines WHERE kind = 'vmserver' AND model_id = ? ORDER BY name COLLATE NOCASE").all(sm.vmServerModel)
    : db.prepare("SELECT * FROM machines WHERE kind = 'vmserver' AND datacenter IS (SELECT datacenter FROM machines WHERE id = ?) ORDER BY name COLLATE NOCASE").all(vm.id);
  return (rows as MachineRow[]).filter((s) => s.id !== vm.vm_server_id && s.maintenance === 0 && s.hardware_status === 'normal');
}

function startPlan(db: Db, c: PowerRequest, m: MachineRow, readings: Readings): JobPlan {
  const src = side(db, { group: m.group_id, model: m.model_id, machine: m.id, host: m.host_setting_id });
  const base = {
    sequence: 'StartupMachine',
    params: { GroupName: c.group, HostName: src.host?.hostName ?? '', group: src.group!.path, machine: m.name },
    resources: [['machine', String(m.id)]] as JobPlan['resources'],
    src, dst: EMPTY_SIDE,
    event: { machine: m.name, group: src.group!.path },
  };
  if (m.kind !== 'virtual' || m.vm_server_id === null || m.power_state === 'on') return plan({ ...base, table: STARTUP });
  const need: Need = { vm: m.name, cost: m.cost ?? 0, memoryKiB: sizeOf(db, m.id)?.memoryKiB };
  const claim = (server: number): JobPlan['claims'] => [{ server, vm: m.name, cost: need.cost, memoryKiB: need.memoryKiB ?? null }];
  const host = machineById(db, m.vm_server_id);
  const why = host.power_state !== 'on' ? L(`its VM server ${host.name} is not running`, `VM サーバ ${host.name} が稼動していません`)
    : host.maintenance ? L(`its VM server ${host.name} is in maintenance mode`, `VM サーバ ${host.name} はメンテナンスモードです`)
    : misfit(serverLoad(db, host.id, m.name, readings.map), need);
  if (!why) return plan({ ...base, table: STARTUP, claims: claim(host.id) });
  const sm = startModel(db, m);
  if (!sm.optimal) {
    return { ...base, steps: NO_DESTINATION, unplaced: L(`${m.name} cannot start: ${why} (VM optimal start-up is off for its model)`, `${m.name} を起動できません: ${why}`) };
  }
  // Fewer free capacity first, to consolidate VMs on fewer servers (§3.5).
  const candidates = startCandidates(db, m, sm);
  const reasons: string[] = [why];
  const runningFit = candidates.filter((s) => s.power_state === 'on')
    .map((s) => ({ s, l: serverLoad(db, s.id, m.name, readings.map) }))
    .filter(({ l }) => { const w = misfit(l, need); if (w) reasons.push(w); return !w; })
    .sort((a, b) => (a.l.capacity - a.l.used) - (b.l.capacity - b.l.used) || a.s.name.localeCompare(b.s.name));
  let dst = runningFit[0]?.s;
  let startServer = false;
  if (!dst) {
    // No running server can take it: a stopped one may be started and used.
    dst = candidates.find((s) => s.power_state === 'off' && !misfit(serverLoad(db, s.id, m.name), { ...need, memoryKiB: undefined }));
    startServer = dst !== undefined;
  }
  if (!dst) return { ...base, steps: NO_DESTINATION, unplaced: L(`${m.name} fits on no VM server: ${reasons.join('; ')}`, `${m.name} を起動できる VM サーバがありません: ${reasons.join('; ')}`) };
  // Moved by cold migration while its host answers, else defined from its kept definition.
  const numbers = [...(startServer ? [1] : []), host.power_state === 'on' ? 2 : 3, 4];
  return {
    ...base,
    params: { ...base.params, VMSName: dst.name, optimal: 'yes' },
    resources: [...base.resources, ...(startServer ? [['machine', String(dst.id)] as const] : [])],
    dst: startServer ? side(db, { group: dst.group_id, model: dst.model_id, machine: dst.id, host: dst.host_setting_id }) : EMPTY_SIDE,
    steps: pick(OPTIMAL_START, numbers),
    moveTo: { server: machineRef(db, dst.id), datastore: m.datastore ?? '' },
    claims: claim(dst.id),
  };
}

export function powerPlanner(db: Db, c: PowerRequest): Planned {
  const readings = new Readings(db);
  return {
    build: () => planPower(db, c, readings),
    async prepare(signal) {
      if (c.cmd !== 'poweron') return;
      let vms: MachineRow[];
      try {
        vms = powerTargets(db, c.group, c.hosts).filter((m) => m.kind === 'virtual' && m.vm_server_id !== null && m.power_state !== 'on');
      } catch {
        return; // build() refuses with the reason.
      }
      const byDriver = new Map<string, number[]>();
      for (const vm of vms) {
        const d = driverNameFor(db, vm.id, vm.group_id, 'vm');
        if (!d) continue;
        const ids = [vm.vm_server_id!, ...(startModel(db, vm).optimal ? startCandidates(db, vm, startModel(db, vm)).filter((s) => s.power_state === 'on').map((s) => s.id) : [])];
        byDriver.set(d, [...(byDriver.get(d) ?? []), ...ids]);
      }
      for (const [d, ids] of byDriver) await readings.refresh(d, ids, signal);
    },
    accepted: () => readings.record(),
  };
}

export function planPower(db: Db, c: PowerRequest, readings = new Readings(db)): JobPlan[] {
  const chosen = powerTargets(db, c.group, c.hosts);
  if (c.cmd === 'poweron') return chosen.map((m) => startPlan(db, c, m, readings));
  const { sequence, table } = SEQUENCES[c.cmd];
  return chosen.map((m) => {
    const src = side(db, { group: m.group_id, model: m.model_id, machine: m.id, host: m.host_setting_id });
    return plan({
      sequence, table,
      params: { GroupName: c.group, HostName: src.host?.hostName ?? '', group: src.group!.path, machine: m.name },
      resources: [['machine', String(m.id)]],
      src, dst: EMPTY_SIDE,
      event: { machine: m.name, group: src.group!.path },
    });
  });
}
