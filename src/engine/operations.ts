// What each step of the §9 tables does: the interface it drives, the store changes it
// records, and the driver call. The runner binds the step's driver once and passes it
// in; no step changes the plan. No step undoes an earlier one: a failed or canceled
// change leaves the machine where it stopped (spec/event-log.md §5.1).
import type { Db } from '../store/db.js';
import type {
  BoundInterfaceMap, DeployInterface, DriverContext, InterfaceName, LbInterface, MachineRef, MonitorInterface, PowerChange,
  PowerActions, StorageInterface, VlanChange, VlanInterface, VmInterface,
} from '../adapters/types.js';
import { DriverError, VlanPortError } from '../adapters/types.js';
import { recordPower } from '../adapters/controller.js';
import {
  type Item, type Owners, activationList, decideDifferential, installedItems, itemsOf, standbyList,
} from '../domain/distribution.js';
import { controllerAnswers, fenceOff } from './fencing.js';
import { writeNicCountEvent, writeSoftwareEvent, writeVlanEvent, writeVmEvent } from './events.js';
import { recordSize } from './capacity.js';
import { pvmEnvironment } from '../domain/pvm-env.js';
import type { JobPlan, Side } from './plan.js';
import { machineRef, primaryAddress, softwareRef, volumesOf } from './refs.js';
import type { Operation, StepDef } from './steps.js';

export interface OpContext extends DriverContext {
  jobId: number;
  plan: JobPlan;
  side: Side;
  /** The machine the step acts on: the side's, or the VM an earlier step of this job created. */
  machine: MachineRef | null;
}

/** A step's work: the interface it needs (none: only the store changes) and what it does with it. */
export interface Op<K extends InterfaceName | null = InterfaceName | null> {
  iface: K;
  /** May return the machine it created, which later steps of the same side act on. */
  run(c: OpContext, driver: K extends InterfaceName ? BoundInterfaceMap[K] : undefined): Promise<MachineRef | void>;
}

const store = (run: (c: OpContext) => Promise<MachineRef | void>): Op<null> => ({ iface: null, run: (c) => run(c) });
const on = <K extends InterfaceName>(iface: K, run: (c: OpContext, d: BoundInterfaceMap[K]) => Promise<MachineRef | void>): Op<K> => ({ iface, run: run as Op<K>['run'] });

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
async function install(c: OpContext, deploy: DeployInterface, m: MachineRef, softwareIds: number[]): Promise<void> {
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

async function distribute(c: OpContext, deploy: DeployInterface, m: MachineRef, timing: 'activation' | 'standby'): Promise<void> {
  const entries = timing === 'activation' ? activationList(c.db, owners(c, m)) : standbyList(c.db, owners(c, m));
  if (entries.length === 0) c.log('no software registered for this timing');
  await install(c, deploy, m, entries.map((e) => e.softwareId));
  // Activation software is recorded as installed; standby software is not (spec §4.3).
  if (timing === 'activation') record(c.db, m.id, c.jobId, itemsOf(c.db, entries), false);
}

function describe(m: MachineRef, r: PowerChange): string {
  return `${m.name}: ${r.changed ? `${r.before}->${r.after}${r.sent ? ` (${r.sent})` : ''}` : `${r.after} (no change${r.note ? ': ' + r.note : ''})`} in ${r.elapsedMs} ms`;
}

/** A power step: the action, read back; a machine that does not reach the state fails the step. */
async function power(c: OpContext, p: PowerActions, m: MachineRef, action: 'on' | 'soft' | 'cycle', want: 'on' | 'off'): Promise<void> {
  const r = await p.act(c, m, action, action === 'cycle' ? { onIfOff: true } : {});
  c.log(describe(m, r));
  if (r.changed && r.verified === false) throw new DriverError(`${m.name}: the controller accepted ${r.sent ?? action} but the machine is still ${r.after}`, { retryable: true, layer: 'verify' });
  if (!r.changed && r.after !== want && r.before !== 'unknown') throw new DriverError(`${m.name}: machine is ${r.after}, expected ${want}`, { layer: 'verify' });
}

const machine = (c: OpContext): MachineRef => need(c.machine, 'a machine');

/** A VLAN step writes the event log's VLAN entries for what the switch driver reports, port by port. */
async function vlanStep(c: OpContext, run: () => Promise<VlanChange[] | void>): Promise<void> {
  const at = { machine: machine(c).name, group: c.side.group?.path ?? '', jobId: c.jobId };
  const write = (changes: VlanChange[]): void => {
    for (const ch of changes) writeVlanEvent(c.db, ch.kind, { ...at, switch: ch.switch, vlan: ch.vlan, port: ch.port ?? '' });
  };
  try {
    write((await run()) ?? []);
  } catch (err) {
    if (err instanceof VlanPortError) {
      write(err.done);
      if (!c.signal.aborted) writeVlanEvent(c.db, `${err.failed.kind}-failed`, { ...at, ...err.failed });
    }
    throw err;
  }
}

export const OPERATIONS: Record<Operation, Op> = {
  'decide-machine': store(async (c) => {
    c.log(`${machine(c).name} (host ${c.plan.src.host?.hostName ?? '?'} of ${c.plan.src.group?.path}) moves to ${c.plan.dst.group?.path}`);
  }),
  'assign-host': store(async (c) => {
    const host = need(c.side.host, 'a host setting');
    c.log(`host setting ${host.hostName} (${primaryAddress(host) || 'no address'})`);
    // A VM being created gets its row, and so its host setting, in the create step.
    if (c.machine) joinGroup(c.db, c.machine.id, c.side, c.plan.activatedFrom ?? 'group_pool');
  }),
  'release-host': store(async (c) => {
    const m = machine(c);
    c.log(`host setting ${c.side.host?.hostName ?? '?'} released`);
    leaveGroup(c.db, m.id);
  }),
  'replace-machine': store(async (c) => {
    const src = need(c.plan.src.machine, 'the source machine');
    const dst = machine(c);
    c.db.transaction(() => {
      leaveGroup(c.db, src.id);
      joinGroup(c.db, dst.id, c.side, c.plan.activatedFrom ?? 'group_pool');
    })();
    c.log(`${dst.name} takes over ${c.side.host?.hostName} from ${src.name}`);
  }),
  'connect-storage': on('storage', async (c, s: StorageInterface) => s.connect(c, machine(c), volumesOf(c.db, need(c.side.host, 'a host setting').id))),
  'disconnect-storage': on('storage', async (c, s: StorageInterface) => s.disconnect(c, machine(c), volumesOf(c.db, need(c.side.host, 'a host setting').id))),
  'distribute-activation': on('deploy', async (c, d) => distribute(c, d, machine(c), 'activation')),
  'distribute-standby': on('deploy', async (c, d) => distribute(c, d, machine(c), 'standby')),
  // The source of a replacement is usually a failed machine (seed 004 L2437): when neither it
  // nor its controller answers, its standby-time software (whose installation is never
  // recorded, L1202) cannot reach it, and the job goes on to fence it (step 5) rather than fail.
  'distribute-standby-source': on('deploy', async (c, d) => {
    const m = machine(c);
    try {
      await distribute(c, d, m, 'standby');
    } catch (e) {
      c.signal.throwIfAborted();
      if ((await controllerAnswers(c, m)) !== false) throw e;
      c.log(`${m.name}: standby-time software not distributed (${(e as Error)?.message ?? String(e)}) and its controller does not answer: going on to fence it`);
    }
  }),
  'redistribute': on('deploy', async (c, d) => {
    // Decided when the step runs, not when the command was given: a held job sees the latest record.
    const m = machine(c);
    const registered = itemsOf(c.db, activationList(c.db, owners(c, m)));
    const mode = need(c.plan.distribution, 'a distribution mode').mode;
    const decision = mode === 'full' ? { kind: 'full' as const, items: registered, reason: 'full redistribution requested (/f)' } : decideDifferential(registered, installedItems(c.db, m.id));
    c.log(`${m.name}: ${decision.reason}`);
    await install(c, d, m, decision.items.map((i) => i.softwareId));
    if (decision.kind !== 'none') record(c.db, m.id, c.jobId, decision.items, decision.kind === 'tail');
  }),
  'distribute-specified': on('deploy', async (c, d) => {
    // Specified distribution is not recorded, so a later differential run still installs it (spec §4.7).
    const ids = need(c.plan.distribution?.software, 'the software to distribute');
    await install(c, d, machine(c), ids);
  }),
  'start': on('power', async (c, p) => power(c, p, machine(c), 'on', 'on')),
  'shutdown': on('power', async (c, p) => power(c, p, machine(c), 'soft', 'off')),
  'fence-off': on('power', async (c, p) => fenceOff(c, p, machine(c), () => power(c, p, machine(c), 'soft', 'off'))),
  'reboot': on('power', async (c, p) => power(c, p, machine(c), 'cycle', 'on')),
  'check-power': on('power', async (c, p) => {
    c.log(`${machine(c).name}: ${(await p.state(c, machine(c))).state}`);
  }),
  'monitor-register': on('monitor', async (c, mon: MonitorInterface) => mon.register(c, machine(c), need(machine(c).mgmtAddress, 'a management address'))),
  'monitor-unregister': on('monitor', async (c, mon) => mon.unregister(c, machine(c))),
  'collect-info': on('monitor', async (c, mon) => {
    const m = machine(c);
    const inv = await mon.inventory(c, m);
    if (inv.size) recordSize(c.db, m.id, inv.size);
    // Event 2079: a machine whose known NICs differ in number from its host setting's.
    const host = c.side.host;
    if (host && m.macs.length > 0 && host.nics.length > 0 && m.macs.length !== host.nics.length) {
      writeNicCountEvent(c.db, { machine: m.name, machineNics: m.macs.length, host: host.hostName, hostNics: host.nics.length, group: c.side.group?.path ?? '', jobId: c.jobId });
      c.log(`${m.name}: ${m.macs.length} NIC(s), host setting ${host.hostName} has ${host.nics.length}`);
    }
    if (inv.hwModel) {
      const r = c.db.prepare('UPDATE machines SET hw_model_name = ? WHERE id = ? AND hw_model_name_auto = 1').run(inv.hwModel, m.id);
      c.log(`${m.name}: model ${inv.hwModel}${r.changes ? '' : ' (name kept: automatic update is off)'}`);
    }
  }),
  'update-config': on('power', async (c, p) => {
    const m = machine(c);
    const { state } = await p.state(c, m);
    c.db.prepare("UPDATE machines SET management_status = 'normal' WHERE id = ?").run(m.id);
    c.log(`${m.name}: power ${state}, processing complete`);
  }),
  'lb-add': on('lb', async (c, lb: LbInterface) => lb.addMember(c, machine(c), need(c.side.group?.lbGroup, 'a load-balancing group'), primaryAddress(c.side.host))),
  'lb-remove': on('lb', async (c, lb) => lb.removeMember(c, machine(c), need(c.side.group?.lbGroup, 'a load-balancing group'))),
  'vlan-add': on('vlan', async (c, v: VlanInterface) => vlanStep(c, () => v.addPort(c, machine(c), need(c.side.group?.vlan, 'a VLAN')))),
  'vlan-remove': on('vlan', async (c, v) => vlanStep(c, () => v.removePort(c, machine(c), need(c.side.group?.vlan, 'a VLAN')))),
  'dpm-register': on('deploy', async (c, d) => {
    await d.register(c, machine(c));
    c.db.prepare('UPDATE machines SET dpm_registered = 1 WHERE id = ?').run(machine(c).id);
  }),
  'dpm-unregister': on('deploy', async (c, d) => {
    await d.unregister(c, machine(c));
    c.db.prepare('UPDATE machines SET dpm_registered = 0 WHERE id = ?').run(machine(c).id);
  }),
  'create-vm': on('vm', async (c, vmi: VmInterface) => {
    const vm = need(c.plan.vm, 'the VM to create');
    const id = Number(c.db.prepare(
      `INSERT INTO machines (name, kind, vm_server_id, datastore, cost, datacenter, power_state)
       VALUES (?, 'virtual', ?, ?, ?, (SELECT datacenter FROM machines WHERE id = ?), 'off')`,
    ).run(vm.name, vm.server.id, vm.datastore, vm.cost, vm.server.id).lastInsertRowid);
    const ref = machineRef(c.db, id);
    let made: Awaited<ReturnType<VmInterface['create']>>;
    try {
      made = await vmi.create(c, ref, { server: vm.server, datastore: vm.datastore }, vm.template);
    } catch (err) {
      // The hypervisor has no such VM: keep no record of one.
      c.db.prepare('DELETE FROM machines WHERE id = ?').run(id);
      if (!c.signal.aborted) writeVmEvent(c.db, 'create-failed', (err as Error).message, vm.name, c.jobId);
      throw err;
    }
    try {
      c.db.transaction(() => {
        c.db.prepare('UPDATE machines SET uuid = ? WHERE id = ?').run(made.uuid, id);
        made.macs.forEach((mac, i) => c.db.prepare('INSERT INTO machine_macs (machine_id, nic_no, mac) VALUES (?, ?, ?)').run(id, i + 1, mac));
        if (made.size) recordSize(c.db, id, made.size);
        joinGroup(c.db, id, c.side, 'common_pool');
      })();
    } catch (err) {
      // The store could not record the VM: the hypervisor must not keep one kanri does not know.
      await vmi.destroy({ ...c, signal: new AbortController().signal }, ref).catch((e: Error) => c.log(`${vm.name}: could not be deleted again: ${e.message}`));
      c.db.prepare('DELETE FROM machines WHERE id = ?').run(id);
      throw err;
    }
    return machineRef(c.db, id);
  }),
  'delete-vm': on('vm', async (c, vmi) => {
    const m = machine(c);
    try {
      await vmi.destroy(c, m);
    } catch (err) {
      if (!c.signal.aborted) writeVmEvent(c.db, 'delete-failed', (err as Error).message, m.name, c.jobId);
      throw err;
    }
    c.db.prepare('DELETE FROM machines WHERE id = ?').run(m.id);
  }),
  'suspend': on('vm', async (c, vmi) => {
    const m = machine(c);
    await vmi.suspend(c, m);
    recordPower(c.db, m.id, 'suspended', 'ok');
  }),
  'pool-add': store(async (c) => {
    const m = machine(c);
    const g = need(c.side.group, 'a group');
    c.db.prepare('INSERT INTO pool_members (group_id, machine_id, model_id, position) VALUES (?, ?, ?, (SELECT ifnull(max(position), 0) + 1 FROM pool_members WHERE group_id = ?))')
      .run(g.id, m.id, c.side.model?.id ?? null, g.id);
    c.log(`${m.name} stands by in the pool of ${g.path}${c.side.model ? ` (model ${c.side.model.name})` : ''}`);
  }),
  'pool-remove': store(async (c) => {
    const m = machine(c);
    const g = need(c.side.group, 'a group');
    c.db.prepare('DELETE FROM pool_members WHERE group_id = ? AND machine_id = ?').run(g.id, m.id);
    c.log(`${m.name} leaves the pool of ${g.path}`);
  }),
  'no-destination': store(async (c) => {
    throw new Error(need(c.plan.unplaced, 'the reason no VM server fits'));
  }),
  'personality': on('vm', async (c, vmi) => {
    await vmi.applyPersonality(c, machine(c), need(c.side.host, 'a host setting'));
    // Reflecting the personality leaves the VM powered off (spec §9.7).
    recordPower(c.db, machine(c).id, 'off', 'ok');
  }),
  'network-setting': on('vm', async (c, vmi) => vmi.configureNetwork(c, machine(c), need(c.side.host, 'a host setting'))),
  'migrate': on('vm', async (c, vmi) => {
    const to = need(c.plan.moveTo, 'a destination VM server');
    await vmi.migrate(c, machine(c), to.server);
    c.db.prepare('UPDATE machines SET vm_server_id = ? WHERE id = ?').run(to.server.id, machine(c).id);
  }),
  'move-vm': on('vm', async (c, vmi) => {
    const to = need(c.plan.moveTo, 'a destination VM server');
    await vmi.move(c, machine(c), to);
    c.db.prepare('UPDATE machines SET vm_server_id = ?, datastore = ? WHERE id = ?').run(to.server.id, to.datastore, machine(c).id);
  }),
  'failover': on('vm', async (c, vmi) => {
    const to = need(c.plan.moveTo, 'a destination VM server');
    await vmi.failover(c, machine(c), to.server);
    c.db.prepare('UPDATE machines SET vm_server_id = ? WHERE id = ?').run(to.server.id, machine(c).id);
  }),
  'recreate-vm': on('vm', async (c, vmi) => {
    // pvmutl §4.19: when migrate and move both fail, the VM is deleted and created
    // anew on the destination; if the creation fails it stays deleted.
    const m = machine(c);
    const to = need(c.plan.moveTo, 'a destination VM server');
    const vm = need(c.plan.vm, 'the template to re-create from');
    await vmi.destroy(c, m);
    try {
      const made = await vmi.create(c, m, to, vm.template);
      c.db.prepare('UPDATE machines SET vm_server_id = ?, datastore = ?, uuid = ? WHERE id = ?').run(to.server.id, to.datastore, made.uuid, m.id);
    } catch (err) {
      c.db.prepare('DELETE FROM machines WHERE id = ?').run(m.id);
      throw err;
    }
  }),
};

/** The interface each step of a table needs (null: it only changes the store). */
export function interfaceOf(step: StepDef): InterfaceName | null {
  return OPERATIONS[step.op].iface;
}

export function stepTarget(step: StepDef, plan: JobPlan): string {
  const side = step.side === 'src' ? plan.src : plan.dst;
  return side.machine?.name ?? plan.vm?.name ?? '';
}
