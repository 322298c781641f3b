// The VM-server sequences on the sim driver (engine logic; the libvirt driver's own test
// runs them on real daemons): FailoverVMServer, LoadBalanceVMServer (load balance, power
// saving), SuspendMachine, DeleteManagedVirtualMachine, MoveFromManagedToPool and VM
// optimal start-up. Expected placements are worked out from the spec's rules here.
import { describe, expect, it } from 'vitest';
import { Engine, type ChangeRequest, type ChangeResult } from '../src/engine/service.js';
import { openStore } from '../src/open-store.js';
import { fixtureStore, queryAll, storeDigest } from './support/store.js';
import { run as cli } from './support/cli.js';

const SIM = '{ power: sim, deploy: sim, vm: sim, monitor: sim }';
const hosts = (p: string, n: number): string => Array.from({ length: n }, (_, i) => `{ host: ${p}${i + 1} }`).join(', ');
const vm = (name: string, server: string, cost: number, power: 'on' | 'off', host?: string, ds = 'ds'): string =>
  `  - { name: ${name}, kind: virtual, vm_server: ${server}, datastore: ${ds}, cost: ${cost}, power: ${power}${host ? `, active: { group: V, model: vm, host: ${host}, from: common_pool }` : ''} }`;

function dc(opts: { vs2Maintenance?: boolean; extra?: string } = {}): string {
  return `
kanri: 1
settings: { sim.delay_ms: "0" }
software: [{ name: T, kind: template, cost: 10 }]
groups:
  - name: Hosts
    type: vmserver
    drivers: ${SIM}
    models: [{ name: esx, placement: { high: 60, target_high: 50, target_low: 30, low: 25 } }]
    host_settings: [${hosts('h', 3)}]
  - name: V
    type: virtual
    template: T
    drivers: ${SIM}
    models: [{ name: vm, priority: 1, vm_server_model: Hosts/esx, optimal_startup: true }, { name: fixed, priority: 2, vm_server_model: Hosts/esx }]
    host_settings: [${hosts('v', 8)}]
machines:
  - { name: vs1, kind: vmserver, power: on, capacity: 100, datastores: [{ name: ds, shared: true }, { name: local1 }], active: { group: Hosts, model: esx, host: h1, from: master } }
  - { name: vs2, kind: vmserver, power: on, capacity: 50, maintenance: ${opts.vs2Maintenance ? 'true' : 'false'}, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h2, from: master } }
  - { name: vs3, kind: vmserver, power: off, capacity: 100, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h3, from: master } }
${opts.extra ?? ''}
`;
}

async function run(db: string, r: ChangeRequest): Promise<ChangeResult> {
  const store = openStore(db);
  try {
    return await new Engine(store).run(r, { origin: 'test', command: 'test' });
  } finally {
    store.close();
  }
}

const where = (db: string, name: string): { server: string; power: string } =>
  queryAll<{ server: string; power: string }>(db, 'SELECT s.name AS server, v.power_state AS power FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.name = ?', name)[0]!;

function steps(db: string, jobId: number): string[] {
  return queryAll<{ name: string; status: string }>(db, 'SELECT name, status FROM job_steps WHERE job_id = ? ORDER BY seq', jobId).map((s) => `${s.name}:${s.status}`);
}

describe('FailoverVMServer (vms-evacuate)', () => {
  const extra = [vm('a1', 'vs1', 20, 'on', 'v1'), vm('a2', 'vs1', 20, 'on', 'v2'), vm('a3', 'vs1', 30, 'on', 'v3'), vm('a4', 'vs1', 10, 'off', 'v4')].join('\n');

  it('places the biggest running VMs first by capacity; one that fits nowhere is reported and stays where it was', async () => {
    const db = fixtureStore(dc({ extra }));
    const r = await run(db, { action: 'vms-evacuate', server: 'vs1', how: 'failover' });
    // vs2 (50 free) is the only running server: a3 (30), then a1 (20, name before a2); a2 fits nowhere;
    // a4 is off and stays (the running VMs are moved: seed 004 L6777–6802).
    expect(r.jobs.map((j) => [j.machine, j.outcome])).toEqual([['a3', 'completed'], ['a1', 'completed'], ['a2', 'failed']]);
    expect(r.jobs[2]!.error).toBe('a2 fits on no VM server: VM server vs2 has no free capacity: cost 20 needed, 0 of 50 free');
    expect(r.parent?.outcome).toBe('failed');
    expect([where(db, 'a3'), where(db, 'a1'), where(db, 'a4')]).toEqual([{ server: 'vs2', power: 'on' }, { server: 'vs2', power: 'on' }, { server: 'vs1', power: 'off' }]);
    expect(where(db, 'a2').server).toBe('vs1');
    expect(steps(db, r.jobs[0]!.id)).toEqual(['Failover:completed', 'Check power state:completed', 'Start:completed']);
    expect(steps(db, r.jobs[2]!.id)).toEqual(['Decide destination VM server:failed']);
    expect(queryAll(db, "SELECT sequence FROM jobs WHERE id = ?", r.parent!.id)).toEqual([{ sequence: 'FailoverVMServer' }]);
    expect(queryAll(db, 'SELECT count(*) AS n FROM vm_claims')).toEqual([{ n: 0 }]);
  });

  it('migration first, failover when it fails (4.2.17); migration only leaves a VM that cannot migrate where it is (4.2.16)', async () => {
    const local = [vm('b1', 'vs1', 10, 'on', 'v1', 'local1'), vm('b2', 'vs1', 10, 'on', 'v2')].join('\n');
    let db = fixtureStore(dc({ extra: local }));
    let r = await run(db, { action: 'vms-evacuate', server: 'vs1', how: 'migrate' });
    expect(r.jobs.map((j) => [j.machine, j.outcome])).toEqual([['b1', 'failed'], ['b2', 'completed']]);
    expect(where(db, 'b1').server).toBe('vs1');
    db = fixtureStore(dc({ extra: local }));
    // b2's migration fails (an injected fault): it fails over. b1 is on vs1's own datastore:
    // failover needs shared storage too (seed 004 L3706–3708), so it stays.
    const w = openStore(db);
    w.prepare("INSERT INTO sim_faults (machine, operation, remaining, message) VALUES ('b2', 'migrate', 1, 'migration refused')").run();
    w.close();
    r = await run(db, { action: 'vms-evacuate', server: 'vs1', how: 'migrate-then-failover' });
    expect(r.jobs.map((j) => [j.machine, j.outcome])).toEqual([['b1', 'failed'], ['b2', 'completed']]);
    expect(steps(db, r.jobs[0]!.id)).toEqual(['HotMigrate/ColdMigrate:failed', 'Failover:failed']);
    expect(steps(db, r.jobs[1]!.id)).toEqual(['HotMigrate/ColdMigrate:failed', 'Failover:completed', 'Check power state:completed', 'Start:completed']);
    expect(where(db, 'b1')).toEqual({ server: 'vs1', power: 'on' });
    expect(where(db, 'b2')).toEqual({ server: 'vs2', power: 'on' });
  });
});

describe('LoadBalanceVMServer', () => {
  const busy = [vm('c1', 'vs1', 20, 'on', 'v1'), vm('c2', 'vs1', 20, 'on', 'v2'), vm('c3', 'vs1', 30, 'on', 'v3')].join('\n');

  it('moves the smallest VMs off a server above its high-load boundary until it is within its target range', async () => {
    const db = fixtureStore(dc({ extra: busy }));
    const r = await run(db, { action: 'vms-load-balance', group: 'Hosts' });
    // vs1 is at 70% > 60%: c1 (20) goes to vs2 (0% → 40% ≤ 50%), and vs1 is at 50%.
    expect(r.jobs.map((j) => [j.sequence, j.machine, j.outcome])).toEqual([['MoveMachine', 'c1', 'completed']]);
    expect(where(db, 'c1').server).toBe('vs2');
    expect(queryAll(db, 'SELECT sequence FROM jobs WHERE id = ?', r.parent!.id)).toEqual([{ sequence: 'LoadBalanceVMServer' }]);
  });

  it('starts a stopped server when the running ones cannot take the load', async () => {
    const db = fixtureStore(dc({ vs2Maintenance: true, extra: busy }));
    const r = await run(db, { action: 'vms-load-balance', group: 'Hosts' });
    expect(r.jobs.map((j) => [j.sequence, j.machine, j.outcome])).toEqual([['StartupMachine', 'vs3', 'completed'], ['MoveMachine', 'c1', 'completed']]);
    expect(where(db, 'c1').server).toBe('vs3');
    expect(queryAll(db, "SELECT power_state FROM machines WHERE name = 'vs3'")).toEqual([{ power_state: 'on' }]);
  });

  it('power saving empties a server below its low-load boundary onto the others and shuts it down', async () => {
    const db = fixtureStore(dc({ extra: [vm('d1', 'vs1', 30, 'on', 'v1'), vm('d2', 'vs2', 10, 'on', 'v2')].join('\n') }));
    const r = await run(db, { action: 'vms-power-save', group: 'Hosts' });
    // vs2 is at 20% < 25%: d2 fits on vs1 (30% → 40% ≤ 50%); vs1 (30%) is not below 25%.
    expect(r.jobs.map((j) => [j.sequence, j.machine, j.outcome])).toEqual([['MoveMachine', 'd2', 'completed'], ['ShutdownMachine', 'vs2', 'completed']]);
    expect(where(db, 'd2').server).toBe('vs1');
    expect(queryAll(db, "SELECT power_state FROM machines WHERE name = 'vs2'")).toEqual([{ power_state: 'off' }]);
  });

  it('kanri vmserver list shows capacity, the cost of the running VMs and the load', () => {
    const db = fixtureStore(dc({ extra: busy }));
    const rows = cli('kanri', ['vmserver', 'list', '--json'], { db }).out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.name, r.group, r.power, r.capacity, r.used, r.load])).toEqual([['vs1', 'Hosts', 'on', 100, 70, 70], ['vs2', 'Hosts', 'on', 50, 0, 0], ['vs3', 'Hosts', 'off', 100, 0, 0]]);
  });

  it('a group without optimal placement is refused, the store unchanged', async () => {
    const db = fixtureStore(dc().replace("placement: { high: 60, target_high: 50, target_low: 30, low: 25 } ", ''));
    const before = storeDigest(db);
    await expect(run(db, { action: 'vms-load-balance', group: 'Hosts' })).rejects.toThrow('optimal placement is not enabled on any VM server model of Hosts');
    expect(storeDigest(db)).toBe(before);
  });
});

describe('SuspendMachine, DeleteManagedVirtualMachine, MoveFromManagedToPool', () => {
  it('suspend puts a running VM in the suspended state (events 2080/2081); poweron resumes it', async () => {
    const db = fixtureStore(dc({ extra: vm('e1', 'vs1', 10, 'on', 'v1') }));
    const r = await run(db, { action: 'suspend', group: 'V', hosts: ['v1'] });
    expect(r.jobs.map((j) => [j.sequence, j.outcome])).toEqual([['SuspendMachine', 'completed']]);
    expect(where(db, 'e1').power).toBe('suspended');
    expect(queryAll(db, 'SELECT event_id FROM events WHERE job_id = ? ORDER BY id', r.jobs[0]!.id)).toEqual([{ event_id: 2080 }, { event_id: 2081 }]);
    await run(db, { action: 'power', cmd: 'poweron', group: 'V', hosts: ['v1'] });
    expect(where(db, 'e1').power).toBe('on');
  });

  it('a VM of the common pool is deleted from its server and from kanri; an active one is refused', async () => {
    const db = fixtureStore(dc({ extra: [vm('f1', 'vs1', 10, 'on', 'v1'), `  - { name: f2, kind: virtual, vm_server: vs1, datastore: ds, cost: 10, power: on, drivers: ${SIM} }`].join('\n') }));
    await expect(run(db, { action: 'vm-delete-managed', machine: 'f1' })).rejects.toThrow('f1 is active in a group; remove it with vmdelete');
    const r = await run(db, { action: 'vm-delete-managed', machine: 'f2' });
    expect(r.jobs.map((j) => [j.sequence, j.outcome])).toEqual([['DeleteManagedVirtualMachine', 'completed']]);
    expect(steps(db, r.jobs[0]!.id)).toEqual(['Shut down machine:completed', 'Delete virtual machine:completed']);
    expect(queryAll(db, "SELECT 1 FROM machines WHERE name = 'f2'")).toEqual([]);
  });

  it('a machine active nowhere joins a group pool, once', async () => {
    const db = fixtureStore(dc({ extra: `  - { name: g1, kind: virtual, vm_server: vs1, datastore: ds, cost: 10 }` }));
    const r = await run(db, { action: 'pool-add', group: 'V/fixed', machine: 'g1' });
    expect(r.jobs.map((j) => [j.sequence, j.outcome])).toEqual([['MoveFromManagedToPool', 'completed']]);
    expect(queryAll(db, "SELECT g.name AS g, md.name AS model FROM pool_members p JOIN groups g ON g.id = p.group_id JOIN models md ON md.id = p.model_id JOIN machines m ON m.id = p.machine_id WHERE m.name = 'g1'")).toEqual([{ g: 'V', model: 'fixed' }]);
    await expect(run(db, { action: 'pool-add', group: 'V', machine: 'g1' })).rejects.toThrow('g1 is already in the pool of V');
  });
});

describe('VM optimal start-up (§3.5)', () => {
  const fixed = (name: string, server: string, host: string): string =>
    `  - { name: ${name}, kind: virtual, vm_server: ${server}, datastore: ds, cost: 10, power: off, active: { group: V, model: fixed, host: ${host}, from: common_pool } }`;

  it('a VM whose host is in maintenance starts on the fullest server that fits; without optimal start-up it fails to start', async () => {
    const db = fixtureStore(dc({ vs2Maintenance: true, extra: [vm('o1', 'vs2', 10, 'off', 'v1'), fixed('o2', 'vs2', 'v2'), vm('o3', 'vs1', 30, 'on', 'v3')].join('\n') }));
    const r = await run(db, { action: 'power', cmd: 'poweron', group: 'V', hosts: ['v1', 'v2'] });
    expect(r.jobs.map((j) => [j.machine, j.outcome])).toEqual([['o1', 'completed'], ['o2', 'failed']]);
    expect(steps(db, r.jobs[0]!.id)).toEqual(['HotMigrate/ColdMigrate:completed', 'Start machine:completed']);
    expect(where(db, 'o1')).toEqual({ server: 'vs1', power: 'on' });
    expect(r.jobs[1]!.error).toBe('o2 cannot start: its VM server vs2 is in maintenance mode (VM optimal start-up is off for its model)');
    expect(where(db, 'o2')).toEqual({ server: 'vs2', power: 'off' });
  });

  it('when no running server has room, a stopped one is started and used', async () => {
    const db = fixtureStore(dc({ vs2Maintenance: true, extra: [vm('p1', 'vs1', 100, 'on', 'v1'), vm('p2', 'vs1', 10, 'off', 'v2')].join('\n') }));
    const r = await run(db, { action: 'power', cmd: 'poweron', group: 'V', hosts: ['v2'] });
    expect(r.jobs.map((j) => j.outcome)).toEqual(['completed']);
    expect(steps(db, r.jobs[0]!.id)).toEqual(['Start VM server:completed', 'HotMigrate/ColdMigrate:completed', 'Start machine:completed']);
    expect(where(db, 'p2')).toEqual({ server: 'vs3', power: 'on' });
  });
});
