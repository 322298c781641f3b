// The sim driver: a simulated data centre whose state lives in the store (its own
// tables, schema.ts), so that it survives between commands and processes. Every
// operation waits a configurable delay (settings sim.delay_ms and
// sim.delay_ms.<operation>, default 5 ms) that a cancel interrupts, and fails
// when a fault is injected for it (kanri sim fail). It serves the demo and the
// engine's tests; it proves no protocol.
import type { Db } from '../../store/db.js';
import {
  type Driver, type DriverContext, DriverError, type HostRef, type MachineRef, type PowerAction, type PowerControl,
  type SoftwareRef, type VmPlacement, notSupported,
} from '../types.js';
import { recordPower } from '../controller.js';
import { type SimOperation, delayFor, setSimPower, simPowerOf, takeFault } from './state.js';
import { wait } from '../../util/wait.js';

async function simulate(ctx: DriverContext, m: MachineRef, op: SimOperation): Promise<void> {
  const ms = delayFor(ctx.db, op, m.id);
  if (ms > 0) await wait(ms, ctx.signal);
  ctx.signal.throwIfAborted();
  const fault = takeFault(ctx.db, m.name, op);
  if (fault !== undefined) throw new DriverError(`sim: ${op} on ${m.name}: ${fault}`);
}

const powerOf = (db: Db, m: MachineRef): 'on' | 'off' | 'suspended' => simPowerOf(db, m.id);
const setPower = (db: Db, m: MachineRef, state: 'on' | 'off'): void => setSimPower(db, m.id, state);

interface ServerLoad { capacity: number; used: number }

/** Capacity control (spec §3.3): the cost of powered-on VMs never exceeds the server's capacity. */
function load(db: Db, serverId: number, except?: number): ServerLoad {
  const s = db.prepare('SELECT capacity FROM machines WHERE id = ?').get(serverId) as { capacity: number | null };
  const vms = db.prepare('SELECT id, cost FROM machines WHERE vm_server_id = ? AND kind = ?').all(serverId, 'virtual') as Array<{ id: number; cost: number | null }>;
  let used = 0;
  for (const vm of vms) {
    if (vm.id === except) continue;
    if (powerOf(db, { id: vm.id } as MachineRef) === 'on') used += vm.cost ?? 0;
  }
  return { capacity: s.capacity ?? Number.MAX_SAFE_INTEGER, used };
}

function checkCapacity(db: Db, vm: MachineRef, server: MachineRef, cost: number): void {
  const l = load(db, server.id, vm.id);
  if (l.used + cost > l.capacity) {
    throw new DriverError(`sim: ${server.name} has no capacity for ${vm.name} (cost ${cost}, ${l.capacity - l.used} of ${l.capacity} free)`);
  }
}

const vmCost = (db: Db, vm: MachineRef): number =>
  (db.prepare('SELECT cost FROM machines WHERE id = ?').get(vm.id) as { cost: number | null } | undefined)?.cost ?? 0;

/**
 * A VM server that shuts down or restarts leaves its running VMs stopped (seed 004
 * L7984–8002): the VMs are off afterwards, and so no longer count on its load.
 */
function stopGuests(ctx: DriverContext, server: MachineRef): void {
  const vms = ctx.db.prepare("SELECT id, name FROM machines WHERE vm_server_id = ? AND kind = 'virtual'").all(server.id) as Array<{ id: number; name: string }>;
  for (const vm of vms) {
    if (powerOf(ctx.db, { id: vm.id } as MachineRef) === 'off') continue;
    setPower(ctx.db, { id: vm.id } as MachineRef, 'off');
    recordPower(ctx.db, vm.id, 'off', 'ok');
    ctx.log(`${vm.name}: stopped with its VM server ${server.name}`);
  }
}

/** Whether a VM's datastore is one the server `to` shares (migration and failover need it). */
function onSharedStorage(db: Db, vm: MachineRef, to: MachineRef): boolean {
  return !!db.prepare('SELECT 1 FROM machines v JOIN datastores d ON d.vm_server_id = ? AND d.name = v.datastore AND d.shared = 1 WHERE v.id = ?').get(to.id, vm.id);
}

/** The simulated operation each power command is. */
const SIM_OP: Record<Exclude<PowerAction, 'diag'>, SimOperation> = { on: 'power-on', off: 'shutdown', soft: 'shutdown', cycle: 'reboot', reset: 'reboot' };

/** The simulated machine's power: read and set in the store, each a simulated operation (delay, injected fault). */
function control(ctx: DriverContext, m: MachineRef): PowerControl {
  let sent = 0;
  return {
    async read() {
      await simulate(ctx, m, 'power-state');
      return powerOf(ctx.db, m);
    },
    async send(command, before) {
      if (command === 'diag') throw notSupported('dump (NMI) is not simulated by mgmt=sim');
      sent++;
      await simulate(ctx, m, SIM_OP[command]);
      const to = command === 'off' || command === 'soft' ? 'off' : 'on';
      if (to === 'on' && before !== 'on' && m.kind === 'virtual') {
        const vm = ctx.db.prepare('SELECT vm_server_id FROM machines WHERE id = ?').get(m.id) as { vm_server_id: number | null };
        if (vm.vm_server_id !== null) {
          const server = ctx.db.prepare('SELECT id, name FROM machines WHERE id = ?').get(vm.vm_server_id) as MachineRef;
          if (powerOf(ctx.db, server) !== 'on') throw new DriverError(`sim: VM server ${server.name} is not running`);
          checkCapacity(ctx.db, m, server, vmCost(ctx.db, m));
        }
      }
      setPower(ctx.db, m, to);
      if (m.kind === 'vmserver') stopGuests(ctx, m);
      return { sent: command };
    },
    get attempts() { return sent; },
  };
}

export function createSimDriver(): Driver {
  return {
    name: 'sim',
    async prepare(ctx, machines) {
      for (const m of machines) await simulate(ctx, m, 'start');
    },
    interfaces: {
      power: {
        open: (ctx, m, _o, use) => use(control(ctx, m)),
        // The simulated state changes with the command: a read back sees it at once.
        supports: { commands: ['on', 'off', 'soft', 'cycle', 'reset'], waitMs: () => 60_000, pollMs: 100 },
      },
      info: {
        async check(ctx, m) {
          await simulate(ctx, m, 'inventory');
          return 'simulated';
        },
      },
      deploy: {
        async distribute(ctx, m, sw: SoftwareRef, host: HostRef | null) {
          // The sim installs without running anything; the environment is for real drivers.
          await simulate(ctx, m, 'distribute');
          const next = (ctx.db.prepare('SELECT ifnull(max(seq), 0) + 1 AS n FROM sim_installed WHERE machine_id = ?').get(m.id) as { n: number }).n;
          ctx.db.prepare('INSERT INTO sim_installed (machine_id, seq, software, version) VALUES (?, ?, ?, ?)').run(m.id, next, sw.name, sw.version);
          ctx.log(`${m.name}: installed ${sw.name}${sw.version ? ' ' + sw.version : ''}${host ? ` as ${host.hostName}` : ''}`);
        },
        async register(ctx, m) {
          await simulate(ctx, m, 'dpm-register');
          ctx.db.prepare("INSERT OR REPLACE INTO sim_registrations (system, machine_id) VALUES ('dpm', ?)").run(m.id);
        },
        async unregister(ctx, m) {
          await simulate(ctx, m, 'dpm-unregister');
          ctx.db.prepare("DELETE FROM sim_registrations WHERE system = 'dpm' AND machine_id = ?").run(m.id);
        },
      },
      vm: {
        async create(ctx, vm, at: VmPlacement, template) {
          await simulate(ctx, vm, 'vm-create');
          const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
          const uuid = `564d${hex(vm.id, 4)}-${hex(at.server.id, 4)}-4000-8000-${hex(Date.now() % 0xffffffffffff, 12)}`;
          const mac = `00:50:56:${hex((vm.id >> 16) & 0x3f, 2)}:${hex((vm.id >> 8) & 0xff, 2)}:${hex(vm.id & 0xff, 2)}`.toUpperCase();
          ctx.log(`${vm.name}: created on ${at.server.name} ${at.datastore} from ${template.name}`);
          setPower(ctx.db, vm, 'off');
          return { uuid, macs: [mac] };
        },
        async destroy(ctx, vm) {
          await simulate(ctx, vm, 'vm-destroy');
          ctx.log(`${vm.name}: deleted from its VM server`);
        },
        async migrate(ctx, vm, to) {
          await simulate(ctx, vm, 'migrate');
          if (powerOf(ctx.db, to) !== 'on') throw new DriverError(`sim: migration target ${to.name} is not running`);
          if (powerOf(ctx.db, vm) === 'on') checkCapacity(ctx.db, vm, to, vmCost(ctx.db, vm));
          if (!onSharedStorage(ctx.db, vm, to)) throw new DriverError(`sim: ${vm.name} is not on storage shared with ${to.name}`);
          ctx.log(`${vm.name}: ${powerOf(ctx.db, vm) === 'on' ? 'hot' : 'cold'}-migrated to ${to.name}`);
        },
        async move(ctx, vm, to) {
          await simulate(ctx, vm, 'move');
          if (powerOf(ctx.db, vm) === 'on') throw new DriverError(`sim: ${vm.name} must be powered off to move`);
          ctx.log(`${vm.name}: moved with its disk to ${to.server.name} ${to.datastore}`);
        },
        async suspend(ctx, vm) {
          await simulate(ctx, vm, 'suspend');
          const before = powerOf(ctx.db, vm);
          if (before === 'off') throw new DriverError(`sim: ${vm.name} is off; only a running VM can be suspended`);
          setSimPower(ctx.db, vm.id, 'suspended');
          ctx.log(`${vm.name}: ${before === 'suspended' ? 'already suspended' : 'suspended'}`);
        },
        async serverInfo(ctx, server) {
          // The sim knows no CPUs or memory: placement goes by cost and capacity alone.
          await simulate(ctx, server, 'server-info');
          return {};
        },
        async failover(ctx, vm, to) {
          await simulate(ctx, vm, 'failover');
          // Failover starts the VM from its disk: it must be on shared storage (seed 004 L3706–3708).
          if (!onSharedStorage(ctx.db, vm, to)) throw new DriverError(`sim: ${vm.name} is not on storage shared with ${to.name}: it cannot fail over`);
          ctx.log(`${vm.name}: failed over to ${to.name}`);
        },
        async applyPersonality(ctx, vm, host) {
          if (powerOf(ctx.db, vm) === 'on') setPower(ctx.db, vm, 'off');
          await simulate(ctx, vm, 'personality');
          ctx.log(`${vm.name}: identity set to ${host.hostName}`);
        },
        async configureNetwork(ctx, vm, host) {
          await simulate(ctx, vm, 'network');
          ctx.log(`${vm.name}: ${host.nics.length} virtual NIC(s) configured`);
        },
      },
      storage: {
        async connect(ctx, m, volumes) {
          await simulate(ctx, m, 'storage-connect');
          for (const v of volumes) ctx.db.prepare('INSERT OR IGNORE INTO sim_volumes (volume, machine_id) VALUES (?, ?)').run(v, m.id);
          ctx.log(`${m.name}: connected ${volumes.join(', ') || 'no volumes'}`);
        },
        async disconnect(ctx, m, volumes) {
          await simulate(ctx, m, 'storage-disconnect');
          for (const v of volumes) ctx.db.prepare('DELETE FROM sim_volumes WHERE volume = ? AND machine_id = ?').run(v, m.id);
          ctx.log(`${m.name}: disconnected ${volumes.join(', ') || 'no volumes'}`);
        },
      },
      vlan: {
        async addPort(ctx, m, vlan) {
          await simulate(ctx, m, 'vlan-add');
          ctx.db.prepare('INSERT OR IGNORE INTO sim_vlan_ports (vlan, machine_id) VALUES (?, ?)').run(vlan, m.id);
          ctx.log(`${m.name}: port added to ${vlan}`);
        },
        async removePort(ctx, m, vlan) {
          await simulate(ctx, m, 'vlan-remove');
          ctx.db.prepare('DELETE FROM sim_vlan_ports WHERE vlan = ? AND machine_id = ?').run(vlan, m.id);
          ctx.log(`${m.name}: port removed from ${vlan}`);
        },
      },
      lb: {
        async addMember(ctx, m, group, address) {
          await simulate(ctx, m, 'lb-add');
          ctx.db.prepare('INSERT OR REPLACE INTO sim_lb_members (lb_group, machine_id, address) VALUES (?, ?, ?)').run(group, m.id, address);
          ctx.log(`${m.name}: member of ${group} at ${address}`);
        },
        async removeMember(ctx, m, group) {
          await simulate(ctx, m, 'lb-remove');
          ctx.db.prepare('DELETE FROM sim_lb_members WHERE lb_group = ? AND machine_id = ?').run(group, m.id);
          ctx.log(`${m.name}: removed from ${group}`);
        },
      },
      monitor: {
        async register(ctx, m, address) {
          await simulate(ctx, m, 'monitor-register');
          ctx.db.prepare("INSERT OR REPLACE INTO sim_registrations (system, machine_id, address) VALUES ('monitor', ?, ?)").run(m.id, address);
          ctx.log(`${m.name}: monitored at ${address}`);
        },
        async unregister(ctx, m) {
          await simulate(ctx, m, 'monitor-unregister');
          ctx.db.prepare("DELETE FROM sim_registrations WHERE system = 'monitor' AND machine_id = ?").run(m.id);
        },
        async inventory(ctx, m) {
          await simulate(ctx, m, 'inventory');
          const r = ctx.db.prepare('SELECT hw_model_name FROM machines WHERE id = ?').get(m.id) as { hw_model_name: string | null };
          return r.hw_model_name ? { hwModel: r.hw_model_name } : {};
        },
      },
    },
  };
}
