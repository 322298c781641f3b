// What each step of the §9 tables does: the store changes it records and the
// adapter interface it drives. No step undoes an earlier one: a failed or
// canceled change leaves the machine where it stopped (spec/event-log.md §5.1).
import type { Db } from '../store/db.js';
import type { DriverContext, InterfaceMap, InterfaceName, MachineRef } from '../adapters/types.js';
import {
  type Item, type Owners, activationList, decideDifferential, installedItems, itemsOf, standbyList,
} from '../domain/distribution.js';
import { writeSoftwareEvent } from './events.js';
import { pvmEnvironment } from '../domain/pvm-env.js';
import type { JobPlan, Side } from './plan.js';
import { hostRef, machineRef, primaryAddress, softwareRef, volumesOf } from './refs.js';
import type { Operation, StepDef } from './steps.js';

/** The interface each operation drives; null = the step only changes the store. */
export const OP_INTERFACE: Record<Operation, InterfaceName | null> = {
  'assign-host': null, 'release-host': null, 'replace-machine': null, 'decide-machine': null,
  'connect-storage': 'storage', 'disconnect-storage': 'storage',
  'distribute-activation': 'deploy', 'distribute-standby': 'deploy', 'dpm-register': 'deploy', 'dpm-unregister': 'deploy',
  'start': 'power', 'shutdown': 'power', 'reboot': 'power', 'check-power': 'power', 'update-config': 'power',
  'monitor-register': 'monitor', 'monitor-unregister': 'monitor', 'collect-info': 'monitor',
  'lb-add': 'lb', 'lb-remove': 'lb', 'vlan-add': 'vlan', 'vlan-remove': 'vlan',
  'create-vm': 'vm', 'delete-vm': 'vm', 'personality': 'vm', 'network-setting': 'vm',
  'migrate': 'vm', 'move-vm': 'vm', 'failover': 'vm', 'recreate-vm': 'vm',
  'redistribute': 'deploy', 'distribute-specified': 'deploy',
};

export interface OpContext extends DriverContext {
  plan: JobPlan;
  side: Side;
  iface<K extends InterfaceName>(name: K): InterfaceMap[K];
}

const now = (): string => new Date().toISOString();

function need<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) throw new Error(`internal: step needs ${what}`);
  return v;
}

/** Spec §8.3: a machine that came from the common pool or by master registration never returns to this group's pool. */
function leaveGroup(db: Db, machineId: number): void {
  const m = db.prepare('SELECT group_id, activated_from FROM machines WHERE id = ?').get(machineId) as { group_id: number | null; activated_from: string | null };
  if (m.group_id !== null && m.activated_from !== 'group_pool') {
    db.prepare('DELETE FROM pool_members WHERE group_id = ? AND machine_id = ?').run(m.group_id, machineId);
  }
  db.prepare('UPDATE machines SET group_id = NULL, model_id = NULL, host_setting_id = NULL, activated_from = NULL, activated_at = NULL WHERE id = ?').run(machineId);
}

function joinGroup(db: Db, machineId: number, side: Side, from: string): void {
  db.prepare('UPDATE machines SET group_id = ?, model_id = ?, host_setting_id = ?, activated_from = ?, activated_at = ? WHERE id = ?')
    .run(need(side.group, 'a group').id, side.model?.id ?? null, need(side.host, 'a host setting').id, from, now(), machineId);
}

/** Installs items one by one, writing the per-software events (2500 / 2502 / 2501). */
async function install(c: OpContext, m: MachineRef, softwareIds: number[]): Promise<void> {
  const deploy = c.iface('deploy');
  const env = pvmEnvironment(c.db, m.id, c.side.host?.id ?? null);
  for (const id of softwareIds) {
    c.signal.throwIfAborted();
    const sw = softwareRef(c.db, id);
    writeSoftwareEvent(c.db, 'start', sw.name, m.name, c.jobId);
    try {
      await deploy.distribute(c, m, sw, c.side.host, env);
    } catch (err) {
      if (!c.signal.aborted) writeSoftwareEvent(c.db, 'failed', sw.name, m.name, c.jobId);
      throw err;
    }
    writeSoftwareEvent(c.db, 'complete', sw.name, m.name, c.jobId);
  }
}

/** Records what a machine received as its activation software (the base of differential distribution). */
function record(db: Db, machineId: number, jobId: number, items: Item[], append: boolean): void {
  db.transaction(() => {
    if (!append) db.prepare('DELETE FROM distribution_history WHERE machine_id = ?').run(machineId);
    let seq = (db.prepare('SELECT ifnull(max(seq), 0) AS n FROM distribution_history WHERE machine_id = ?').get(machineId) as { n: number }).n;
    for (const it of items) {
      db.prepare('INSERT INTO distribution_history (machine_id, seq, software_id, software_name, version, content_date, installed_at, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(machineId, ++seq, it.softwareId, it.name, it.version, it.date, now(), jobId);
    }
  })();
}

function owners(c: OpContext, m: MachineRef): Owners {
  return { machineId: m.id, hostId: c.side.host?.id ?? null, modelId: c.side.model?.id ?? null, groupId: c.side.group?.id ?? null };
}

async function distribute(c: OpContext, m: MachineRef, timing: 'activation' | 'standby'): Promise<void> {
  const entries = timing === 'activation' ? activationList(c.db, owners(c, m)) : standbyList(c.db, owners(c, m));
  if (entries.length === 0) c.log('no software registered for this timing');
  await install(c, m, entries.map((e) => e.softwareId));
  // Activation software is recorded as installed; standby software is not (spec §4.3).
  if (timing === 'activation') record(c.db, m.id, c.jobId, itemsOf(c.db, entries), false);
}

async function powerOn(c: OpContext, m: MachineRef): Promise<void> {
  const power = c.iface('power');
  if ((await power.state(c, m)) === 'on') c.log(`${m.name}: already on`);
  else await power.powerOn(c, m);
  c.db.prepare("UPDATE machines SET power_state = 'on' WHERE id = ?").run(m.id);
}

async function powerOff(c: OpContext, m: MachineRef): Promise<void> {
  const power = c.iface('power');
  if ((await power.state(c, m)) === 'off') c.log(`${m.name}: already off`);
  else await power.shutdown(c, m);
  c.db.prepare("UPDATE machines SET power_state = 'off' WHERE id = ?").run(m.id);
}

type Op = (c: OpContext) => Promise<void>;

const machine = (c: OpContext): MachineRef => need(c.side.machine, 'a machine');

export const OPERATIONS: Record<Operation, Op> = {
  'decide-machine': async (c) => {
    c.log(`${machine(c).name} (host ${c.plan.src.host?.hostName ?? '?'} of ${c.plan.src.group?.path}) moves to ${c.plan.dst.group?.path}`);
  },
  'assign-host': async (c) => {
    const host = need(c.side.host, 'a host setting');
    c.log(`host setting ${host.hostName} (${primaryAddress(host) || 'no address'})`);
    // A VM being created gets its row, and so its host setting, in the create step.
    if (c.side.machine) joinGroup(c.db, c.side.machine.id, c.side, c.plan.activatedFrom ?? 'group_pool');
  },
  'release-host': async (c) => {
    const m = machine(c);
    c.log(`host setting ${c.side.host?.hostName ?? '?'} released`);
    leaveGroup(c.db, m.id);
  },
  'replace-machine': async (c) => {
    const src = need(c.plan.src.machine, 'the source machine');
    const dst = machine(c);
    c.db.transaction(() => {
      leaveGroup(c.db, src.id);
      joinGroup(c.db, dst.id, c.side, c.plan.activatedFrom ?? 'group_pool');
    })();
    c.log(`${dst.name} takes over ${c.side.host?.hostName} from ${src.name}`);
  },
  'connect-storage': async (c) => c.iface('storage').connect(c, machine(c), volumesOf(c.db, need(c.side.host, 'a host setting').id)),
  'disconnect-storage': async (c) => c.iface('storage').disconnect(c, machine(c), volumesOf(c.db, need(c.side.host, 'a host setting').id)),
  'distribute-activation': async (c) => distribute(c, machine(c), 'activation'),
  'distribute-standby': async (c) => distribute(c, machine(c), 'standby'),
  'redistribute': async (c) => {
    // Decided when the step runs, not when the command was given: a held job sees the latest record.
    const m = machine(c);
    const registered = itemsOf(c.db, activationList(c.db, owners(c, m)));
    const mode = need(c.plan.distribution, 'a distribution mode').mode;
    const d = mode === 'full' ? { kind: 'full' as const, items: registered, reason: 'full redistribution requested (/f)' } : decideDifferential(registered, installedItems(c.db, m.id));
    c.log(`${m.name}: ${d.reason}`);
    await install(c, m, d.items.map((i) => i.softwareId));
    if (d.kind !== 'none') record(c.db, m.id, c.jobId, d.items, d.kind === 'tail');
  },
  'distribute-specified': async (c) => {
    // Specified distribution is not recorded, so a later differential run still installs it (spec §4.7).
    const ids = need(c.plan.distribution?.software, 'the software to distribute');
    await install(c, machine(c), ids);
  },
  'start': async (c) => powerOn(c, machine(c)),
  'shutdown': async (c) => powerOff(c, machine(c)),
  'reboot': async (c) => {
    await c.iface('power').reboot(c, machine(c));
    c.db.prepare("UPDATE machines SET power_state = 'on' WHERE id = ?").run(machine(c).id);
  },
  'check-power': async (c) => {
    c.log(`${machine(c).name}: ${await c.iface('power').state(c, machine(c))}`);
  },
  'monitor-register': async (c) => c.iface('monitor').register(c, machine(c), need(machine(c).mgmtAddress, 'a management address')),
  'monitor-unregister': async (c) => c.iface('monitor').unregister(c, machine(c)),
  'collect-info': async (c) => {
    const m = machine(c);
    const inv = await c.iface('monitor').inventory(c, m);
    if (inv.hwModel) {
      const r = c.db.prepare('UPDATE machines SET hw_model_name = ? WHERE id = ? AND hw_model_name_auto = 1').run(inv.hwModel, m.id);
      c.log(`${m.name}: model ${inv.hwModel}${r.changes ? '' : ' (name kept: automatic update is off)'}`);
    }
  },
  'update-config': async (c) => {
    const m = machine(c);
    const state = await c.iface('power').state(c, m);
    c.db.prepare("UPDATE machines SET power_state = ?, management_status = 'normal' WHERE id = ?").run(state, m.id);
    c.log(`${m.name}: power ${state}, processing complete`);
  },
  'lb-add': async (c) => c.iface('lb').addMember(c, machine(c), need(c.side.group?.lbGroup, 'a load-balancing group'), primaryAddress(c.side.host)),
  'lb-remove': async (c) => c.iface('lb').removeMember(c, machine(c), need(c.side.group?.lbGroup, 'a load-balancing group')),
  'vlan-add': async (c) => c.iface('vlan').addPort(c, machine(c), need(c.side.group?.vlan, 'a VLAN')),
  'vlan-remove': async (c) => c.iface('vlan').removePort(c, machine(c), need(c.side.group?.vlan, 'a VLAN')),
  'dpm-register': async (c) => {
    await c.iface('deploy').register(c, machine(c));
    c.db.prepare('UPDATE machines SET dpm_registered = 1 WHERE id = ?').run(machine(c).id);
  },
  'dpm-unregister': async (c) => {
    await c.iface('deploy').unregister(c, machine(c));
    c.db.prepare('UPDATE machines SET dpm_registered = 0 WHERE id = ?').run(machine(c).id);
  },
  'create-vm': async (c) => {
    const vm = need(c.plan.vm, 'the VM to create');
    const id = Number(c.db.prepare(
      `INSERT INTO machines (name, kind, vm_server_id, datastore, cost, datacenter, power_state)
       VALUES (?, 'virtual', ?, ?, ?, (SELECT datacenter FROM machines WHERE id = ?), 'off')`,
    ).run(vm.name, vm.server.id, vm.datastore, vm.cost, vm.server.id).lastInsertRowid);
    const ref = machineRef(c.db, id);
    try {
      const made = await c.iface('vm').create(c, ref, { server: vm.server, datastore: vm.datastore }, vm.template);
      c.db.transaction(() => {
        c.db.prepare('UPDATE machines SET uuid = ? WHERE id = ?').run(made.uuid, id);
        made.macs.forEach((mac, i) => c.db.prepare('INSERT INTO machine_macs (machine_id, nic_no, mac) VALUES (?, ?, ?)').run(id, i + 1, mac));
        joinGroup(c.db, id, c.side, 'common_pool');
      })();
    } catch (err) {
      // The hypervisor has no such VM: keep no record of one.
      c.db.prepare('DELETE FROM machines WHERE id = ?').run(id);
      throw err;
    }
    c.side.machine = machineRef(c.db, id);
    c.plan.event.machine = vm.name;
  },
  'delete-vm': async (c) => {
    const m = machine(c);
    await c.iface('vm').destroy(c, m);
    c.db.prepare('DELETE FROM machines WHERE id = ?').run(m.id);
  },
  'personality': async (c) => {
    await c.iface('vm').applyPersonality(c, machine(c), need(c.side.host, 'a host setting'));
    c.db.prepare("UPDATE machines SET power_state = 'off' WHERE id = ?").run(machine(c).id);
  },
  'network-setting': async (c) => c.iface('vm').configureNetwork(c, machine(c), need(c.side.host, 'a host setting')),
  'migrate': async (c) => {
    const to = need(c.plan.moveTo, 'a destination VM server');
    await c.iface('vm').migrate(c, machine(c), to.server);
    c.db.prepare('UPDATE machines SET vm_server_id = ? WHERE id = ?').run(to.server.id, machine(c).id);
  },
  'move-vm': async (c) => {
    const to = need(c.plan.moveTo, 'a destination VM server');
    await c.iface('vm').move(c, machine(c), to);
    c.db.prepare('UPDATE machines SET vm_server_id = ?, datastore = ? WHERE id = ?').run(to.server.id, to.datastore, machine(c).id);
  },
  'failover': async (c) => {
    const to = need(c.plan.moveTo, 'a destination VM server');
    await c.iface('vm').failover(c, machine(c), to.server);
    c.db.prepare('UPDATE machines SET vm_server_id = ? WHERE id = ?').run(to.server.id, machine(c).id);
  },
  'recreate-vm': async (c) => {
    // pvmutl §4.19: when migrate and move both fail, the VM is deleted and created
    // anew on the destination; if the creation fails it stays deleted.
    const m = machine(c);
    const to = need(c.plan.moveTo, 'a destination VM server');
    const vm = need(c.plan.vm, 'the template to re-create from');
    const drv = c.iface('vm');
    await drv.destroy(c, m);
    try {
      const made = await drv.create(c, m, to, vm.template);
      c.db.prepare('UPDATE machines SET vm_server_id = ?, datastore = ?, uuid = ? WHERE id = ?').run(to.server.id, to.datastore, made.uuid, m.id);
    } catch (err) {
      c.db.prepare('DELETE FROM machines WHERE id = ?').run(m.id);
      throw err;
    }
  },
};

export function stepTarget(step: StepDef, plan: JobPlan): string {
  const side = step.side === 'src' ? plan.src : plan.dst;
  return side.machine?.name ?? plan.vm?.name ?? '';
}
