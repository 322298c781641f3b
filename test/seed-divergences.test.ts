// Where the product parted from the seed (issue 21, items 1–7), each pinned to the line of
// seed 004 (/work/shared/seeds/004_*.txt) that says what is right.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/service.js';
import { openStore } from '../src/open-store.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { fixtureStore, pvmutl, queryAll as q, storeDigest } from './support/store.js';

const opts = { origin: 'test', command: 'seed divergences test' };

describe('item 1: a VM server is never replaced (seed 004 L8594, L4051)', () => {
  it('pvmutl replace of a VM server is exit 3 and changes nothing', async () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const r = await pvmutl(db, ['replace', 'Infra\\VMHosts', 'vms01']);
    expect(r).toEqual({ code: 3, out: '', err: 'pvmutl: replace is not usable for VM servers (VMHosts)\n' });
    expect(storeDigest(db)).toBe(before);
  });
});

describe('item 3: VM names (seed 004 L8341–8344; exit 15: L4192–4193)', () => {
  it("a name with other characters, or longer than 80, is exit 15 and changes nothing; 80 alphanumerics, '-' and '_' are a name", async () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    for (const bad of ['bad name!', 'x'.repeat(81), 'vm.01', 'ｖｍ01']) {
      const r = await pvmutl(db, ['vmadd', 'Infra\\Desktops', bad]);
      expect({ name: bad, code: r.code, out: r.out }).toEqual({ name: bad, code: 15, out: '' });
      expect(r.err).toMatch(/^pvmutl: vmadd: the VM name /);
    }
    expect(storeDigest(db)).toBe(before);
    const name = 'A-' + 'b_9'.repeat(26);
    expect(name).toHaveLength(80);
    expect((await pvmutl(db, ['vmadd', 'Infra\\Desktops', name])).code).toBe(0);
    expect(q(db, 'SELECT kind FROM machines WHERE name = ?', name)).toEqual([{ kind: 'virtual' }]);
  });
});

describe('item 4: a job canceled before its first step (seed 004 L3866–3872)', () => {
  it('ends canceled (exit 7, not 6) with its canceled event, and marks nothing abnormal', async () => {
    const path = fixtureStore(ENGINE_DC);
    const db = openStore(path);
    try {
      // The sim driver's prepare() (before the first step) takes 20 s: the cancel lands in it.
      db.prepare("INSERT INTO settings (key, value) VALUES ('sim.delay_ms.start', '20000')").run();
      const e = new Engine(db);
      const job = e.run({ action: 'add', group: 'Bare', machine: 'pb1' }, opts);
      const t0 = Date.now();
      while (e.running().length === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      e.cancelAll('canceled by the test');
      const r = await job;
      expect(r.jobs[0]).toMatchObject({ outcome: 'canceled' });
      expect(r.jobs[0]!.failedStep).toBeUndefined();
    } finally {
      db.close();
    }
    expect(q(path, 'SELECT status FROM jobs')).toEqual([{ status: 'canceled' }]);
    expect(q(path, 'SELECT count(*) AS n FROM job_steps')).toEqual([{ n: 0 }]);
    // 2036: "Cancelled the process of adding a machine to a group" (spec/event-log.md).
    expect(q<{ event_id: number }>(path, "SELECT event_id FROM events WHERE source = 'PVM' ORDER BY id").map((x) => x.event_id)).toContain(2036);
    expect(q(path, "SELECT management_status FROM machines WHERE name = 'pb1'")).toEqual([{ management_status: 'normal' }]);
  });
});

describe('item 2: moving all VMs of a VM server moves its running VMs (seed 004 L6777–6802)', () => {
  it('on the shipped fixture the running VMs of vms01 move; stopped and common-pool ones stay; a VM no driver serves fails alone', async () => {
    const path = fixtureStore();
    const db = openStore(path);
    try {
      // vdi-vm02 loses its vm driver: its job fails with the reason, vdi-vm01 still moves.
      db.prepare("DELETE FROM group_drivers WHERE interface = 'vm' AND group_id = (SELECT id FROM groups WHERE name = 'Desktops')").run();
      db.prepare("INSERT INTO machine_drivers (machine_id, interface, driver) SELECT id, 'vm', 'sim' FROM machines WHERE name = 'vdi-vm01'").run();
      const r = await new Engine(db).run({ action: 'vms-evacuate', server: 'vms01', how: 'failover' }, opts);
      expect(r.jobs.map((j) => [j.machine, j.outcome])).toEqual([['vdi-vm01', 'completed'], ['vdi-vm02', 'failed']]);
      expect(r.jobs[1]!.error).toBe('vdi-vm02: no vm driver is configured for it (drivers: { vm: … } on it or its group)');
    } finally {
      db.close();
    }
    const where = q<{ name: string; server: string }>(path, "SELECT v.name, s.name AS server FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.name IN ('vdi-vm01', 'vdi-vm02', 'vdi-vm05', 'vdi-vm07') ORDER BY v.name");
    expect(where).toEqual([
      { name: 'vdi-vm01', server: 'vms02' }, { name: 'vdi-vm02', server: 'vms01' }, { name: 'vdi-vm05', server: 'vms01' }, { name: 'vdi-vm07', server: 'vms01' },
    ]);
  });

  it('with every driver in place, the standard failover of the fixture moves both running VMs and nothing else', async () => {
    const path = fixtureStore();
    const db = openStore(path);
    try {
      const r = await new Engine(db).run({ action: 'vms-evacuate', server: 'vms01', how: 'migrate-then-failover' }, opts);
      expect(r.jobs.map((j) => [j.machine, j.outcome])).toEqual([['vdi-vm01', 'completed'], ['vdi-vm02', 'completed']]);
    } finally {
      db.close();
    }
  });
});

describe('item 7: the sim driver does what it simulates', () => {
  it('a VM server that shuts down leaves its VMs stopped, off its load (seed 004 L7984–8002)', async () => {
    const db = fixtureStore();
    expect(q(db, "SELECT count(*) AS n FROM machines WHERE vm_server_id = (SELECT id FROM machines WHERE name = 'vms02') AND power_state = 'on'")).toEqual([{ n: 1 }]);
    const r = await pvmutl(db, ['shutdown', 'Infra\\VMHosts', 'vms02']);
    expect(r.code).toBe(0);
    expect(q(db, "SELECT name, power_state FROM machines WHERE vm_server_id = (SELECT id FROM machines WHERE name = 'vms02') ORDER BY name"))
      .toEqual([{ name: 'vdi-vm03', power_state: 'off' }, { name: 'vdi-vm04', power_state: 'off' }, { name: 'vdi-vm06', power_state: 'off' }]);
  });

  it('a VM on a datastore only its server has cannot fail over (seed 004 L3706–3708)', async () => {
    const path = fixtureStore();
    const db = openStore(path);
    try {
      // vdi-vm04 runs from [local-vms02], which only vms02 has.
      db.prepare("UPDATE machines SET power_state = 'on' WHERE name = 'vdi-vm04'").run();
      const r = await new Engine(db).run({ action: 'vms-evacuate', server: 'vms02', how: 'failover' }, opts);
      const byVm = Object.fromEntries(r.jobs.map((j) => [j.machine, j]));
      expect(byVm['vdi-vm04']).toMatchObject({ outcome: 'failed', error: 'sim: vdi-vm04 is not on storage shared with vms01: it cannot fail over' });
      expect(byVm['vdi-vm03']).toMatchObject({ outcome: 'completed' });
    } finally {
      db.close();
    }
  });
});

describe('item 6: NIC count (seed 004 L10323–10345), MoveFromPoolToManaged, the events a policy can match (L5963–5969)', () => {
  const NICS = `
kanri: 1
settings: { sim.delay_ms: "0" }
groups:
  - name: G
    type: physical
    drivers: { power: sim, deploy: sim, monitor: sim }
    models: [{ name: m }]
    host_settings:
      - { host: two, nics: [{ addresses: [{ ip: 10.1.0.1, netmask: 255.255.255.0 }] }, { addresses: [{ ip: 10.2.0.1, netmask: 255.255.255.0 }] }] }
      - { host: one, nics: [{ addresses: [{ ip: 10.1.0.2, netmask: 255.255.255.0 }] }] }
    pool: [m1, m2, m3]
machines:
  - { name: m1, kind: physical, macs: ["00:00:00:00:00:01"] }
  - { name: m2, kind: physical, macs: ["00:00:00:00:00:02"] }
  - { name: m3, kind: physical }
`;

  it('activation writes warning 2079 when the machine has another number of NICs than its host setting, and goes on', async () => {
    const db = fixtureStore(NICS);
    expect((await pvmutl(db, ['add', 'G', '/c', '2'])).code).toBe(0);
    const ev = q<{ type: string; machine: string; message: string }>(db, 'SELECT type, machine, message FROM events WHERE event_id = 2079');
    expect(ev).toEqual([{ type: 'warning', machine: 'm1', message: 'The number of NICs installed in machine (m1) (1) differs from the number of NICs (2) in host setting (two). Check the host setting.' }]);
    expect(q(db, "SELECT name FROM machines WHERE group_id IS NOT NULL ORDER BY name")).toEqual([{ name: 'm1' }, { name: 'm2' }]);
  });

  it('kanri pool remove is the job MoveFromPoolToManaged; an active machine is refused, changing nothing', async () => {
    const db = fixtureStore(NICS);
    expect((await pvmutl(db, ['add', 'G'])).code).toBe(0);
    const before = storeDigest(db);
    const { run } = await import('./support/cli.js');
    expect(run('kanri', ['pool', 'remove', 'G', 'm1'], { db })).toMatchObject({ code: 2, err: 'kanri: m1 is active in G; only a machine standing by leaves the pool\n' });
    expect(storeDigest(db)).toBe(before);
    expect(run('kanri', ['pool', 'remove', 'G', 'm3'], { db }).code).toBe(0);
    expect(q(db, "SELECT j.sequence, j.status FROM jobs j ORDER BY id DESC LIMIT 1")).toEqual([{ sequence: 'MoveFromPoolToManaged', status: 'completed' }]);
    expect(q(db, "SELECT count(*) AS n FROM pool_members p JOIN machines m ON m.id = p.machine_id WHERE m.name = 'm3'")).toEqual([{ n: 0 }]);
  });

  it('kanri policy events lists every event a rule can match, by source', async () => {
    const { run } = await import('./support/cli.js');
    const all = run('kanri', ['policy', 'events']);
    expect(all.code).toBe(0);
    const lines = all.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(50);
    expect(lines).toContain('SystemMonitorEvent\tESMDSVNT[0xC0000002]\tマシンアクセス不可能障害\t' + lines.find((l) => l.startsWith('SystemMonitorEvent\tESMDSVNT[0xC0000002]\t'))!.split('\t')[3]);
    const vmw = run('kanri', ['policy', 'events', 'vmwareprovider']).out.trim().split('\n');
    expect(vmw.every((l) => l.startsWith('VMwareProvider\t'))).toBe(true);
    expect(vmw.some((l) => l.startsWith('VMwareProvider\tAlarm Host connection state on VMS changed from green to red\t'))).toBe(true);
    expect(run('kanri', ['policy', 'events', 'Nope'])).toMatchObject({ code: 2, out: '' });
  });
});
