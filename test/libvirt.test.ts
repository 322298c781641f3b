// The libvirt driver against three real libvirtd daemons (test driver), one per VM server.
// Every result is checked with virsh against the daemon itself.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/service.js';
import { openStore } from '../src/open-store.js';
import { closeSessions } from '../src/adapters/libvirt/virsh.js';
import { requirePeer } from './support/peers.js';
import { type Libvirtd, removeDir, startLibvirtd, testTemplate } from './support/libvirtd.js';
import { fixtureStore, pvmutl, queryAll, storeDigest, tempDir } from './support/store.js';
import { until } from './support/until.js';

/** Whether a `virsh event` stream on `uri` runs: the watch starts it once a probe found the server answering. */
const streaming = (uri: string): boolean => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`-c ${uri} event --all --loop`);
  } catch {
    return false;
  }
});

const ok = requirePeer('libvirtd', 'libvirt driver') && requirePeer('virsh', 'libvirt driver');
const d = ok ? describe : describe.skip;

function dataCentre(servers: Libvirtd[], dir: string): string {
  const tmpl = join(dir, 'web.xml');
  const big = join(dir, 'big.xml');
  writeFileSync(tmpl, testTemplate(256));
  writeFileSync(big, testTemplate(8192));
  const hosts = (p: string, n: number): string => Array.from({ length: n }, (_, i) => `{ host: ${p}${i + 1} }`).join(', ');
  // VM groups on libvirt; no software is registered, so the local deploy driver runs nothing.
  const vmGroup = (name: string, template: string | undefined, prefix: string, n: number): string =>
    `  - { name: ${name}, type: virtual, ${template ? `template: ${template}, ` : ''}drivers: { vm: libvirt, power: libvirt, monitor: libvirt, deploy: local }, `
    + `models: [{ name: vm${template ? ', vm_server_model: Hosts/kvm' : ''} }], host_settings: [${hosts(prefix, n)}] }`;
  const server = (name: string, s: Libvirtd, capacity: number, host: string): string =>
    `  - { name: ${name}, kind: vmserver, power: on, capacity: ${capacity}, datastores: [{ name: default-pool, shared: true }], driver_settings: { libvirt: { uri: "${s.uri}" } }, active: { group: Hosts, model: kvm, host: ${host}, from: master } }`;
  return `
kanri: 1
settings: { sim.delay_ms: "0", vm.shutdown_timeout_s: "5" }
software:
  - { name: T, kind: template, cost: 10, source: ${tmpl} }
  - { name: Big, kind: template, cost: 10, source: ${big} }
groups:
  - name: Hosts
    type: vmserver
    drivers: { power: sim, vm: libvirt }
    models: [{ name: kvm }]
    host_settings: [${hosts('h', 3)}]
${vmGroup('Web', 'T', 'w', 12)}
${vmGroup('Fat', 'Big', 'f', 2)}
${vmGroup('Legacy', undefined, 'l', 2)}
machines:
${server('vs1', servers[0]!, 30, 'h1')}
${server('vs2', servers[1]!, 30, 'h2')}
${server('vs3', servers[2]!, 100, 'h3')}
  - { name: vs0, kind: vmserver, power: on, capacity: 100, datastores: [{ name: default-pool }] }
  - { name: old1, kind: virtual, vm_server: vs2, datastore: default-pool, cost: 10 }
`;
}

/** Where virsh says a domain is defined, and where it runs. */
function whereIs(servers: Record<string, Libvirtd>, name: string): { defined: string[]; running: string[] } {
  const out = { defined: [] as string[], running: [] as string[] };
  for (const [n, s] of Object.entries(servers)) {
    if (!s.alive) continue;
    const { all, running } = s.domains();
    if (all.includes(name)) out.defined.push(n);
    if (running.includes(name)) out.running.push(n);
  }
  return out;
}

const serverOf = (db: string, vm: string): string | undefined =>
  queryAll<{ name: string }>(db, 'SELECT s.name FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.name = ?', vm)[0]?.name;

d('libvirt driver on three libvirtd daemons (test driver)', () => {
  let daemons: Libvirtd[] = [];
  let by: Record<string, Libvirtd> = {};
  let db = '';

  beforeAll(async () => {
    daemons = await Promise.all(['vs1', 'vs2', 'vs3'].map((n) => startLibvirtd(n)));
    by = { vs1: daemons[0]!, vs2: daemons[1]!, vs3: daemons[2]! };
    const dir = tempDir();
    mkdirSync(join(dir, 't'), { recursive: true });
    db = fixtureStore(dataCentre(daemons, join(dir, 't')));
    // A VM made outside kanri, registered as old1 (vmadd /a brings it into a group).
    const xml = join(dir, 'old1.xml');
    writeFileSync(xml, testTemplate(256).replace('<name>template</name>', '<name>old1</name>').replace('{name}', 'old1'));
    by.vs2!.virsh('define', xml);
  }, 60_000);

  afterAll(async () => {
    closeSessions();
    for (const s of daemons) {
      await s.stop();
      removeDir(s);
    }
  });

  it('vmadd creates and starts the domain on the server given, and on the fullest one that fits without /VMS', async () => {
    expect(await pvmutl(db, ['vmadd', 'Web', 'vm01', '/VMS', 'vs2'])).toEqual({ code: 0, out: '', err: '' });
    expect(whereIs(by, 'vm01')).toEqual({ defined: ['vs2'], running: ['vs2'] });
    // vs2 has 20 of 30 free, vs1 30 of 30, vs3 100 of 100: the least free capacity first (§3.5).
    expect((await pvmutl(db, ['vmadd', 'Web', 'vm02'])).code).toBe(0);
    expect(whereIs(by, 'vm02')).toEqual({ defined: ['vs2'], running: ['vs2'] });
    expect(serverOf(db, 'vm02')).toBe('vs2');
    // The identity kanri gave it is the one libvirt holds.
    const uuid = queryAll<{ uuid: string }>(db, "SELECT uuid FROM machines WHERE name = 'vm02'")[0]!.uuid;
    expect(by.vs2!.virsh('domuuid', 'vm02').trim()).toBe(uuid);
    const mac = queryAll<{ mac: string }>(db, "SELECT mac FROM machine_macs m JOIN machines v ON v.id = m.machine_id WHERE v.name = 'vm02'")[0]!.mac;
    expect(by.vs2!.virsh('domiflist', 'vm02').toUpperCase()).toContain(mac);
    expect(by.vs2!.virsh('dumpxml', 'vm02')).toContain("/shared/vm02.img");
    // Node info and free memory were read from the daemons and recorded.
    const r = queryAll<{ cpus: number; free_memory_kib: number }>(db, "SELECT cpus, free_memory_kib FROM vm_server_readings r JOIN machines m ON m.id = r.machine_id WHERE m.name = 'vs2'")[0]!;
    expect(r.cpus).toBe(Number(/CPU\(s\):\s*(\d+)/.exec(by.vs2!.virsh('nodeinfo'))![1]));
    expect(r.free_memory_kib).toBe(Number(/(\d+) KiB/.exec(by.vs2!.virsh('freecell'))![1]));
  }, 60_000);

  it('capacity refuses an overfull server, and a VM too big for the free memory libvirt reports; nothing is defined', async () => {
    expect((await pvmutl(db, ['vmadd', 'Web', 'vm03', '/VMS', 'vs2'])).code).toBe(0);
    const before = storeDigest(db);
    expect(await pvmutl(db, ['vmadd', 'Web', 'vm04', '/VMS', 'vs2'])).toEqual({ code: 2, out: '', err: 'pvmutl: VM server vs2 has no free capacity: cost 10 needed, 0 of 30 free\n' });
    const free = Number(/(\d+) KiB/.exec(by.vs3!.virsh('freecell'))![1]);
    const big = await pvmutl(db, ['vmadd', 'Fat', 'big1', '/VMS', 'vs3']);
    expect(big.code).toBe(2);
    expect(big.err).toContain(`pvmutl: VM server vs3 has too little free memory: 8192 KiB needed, ${free} KiB free`);
    expect(storeDigest(db)).toBe(before);
    expect(whereIs(by, 'vm04').defined).toEqual([]);
    expect(whereIs(by, 'big1').defined).toEqual([]);
  }, 60_000);

  it('a VM server without a URI is refused before the first step (exit 6), the store unchanged', async () => {
    const before = storeDigest(db);
    const r = await pvmutl(db, ['vmadd', 'Web', 'vm09', '/VMS', 'vs0']);
    expect(r.code).toBe(6);
    expect(r.err).toContain('vs0 has no libvirt URI');
    expect(storeDigest(db)).toBe(before);
  }, 30_000);

  it('vmdelete removes the domain from its server and the VM from kanri', async () => {
    expect((await pvmutl(db, ['vmdelete', 'Web', 'vm03'])).code).toBe(0);
    expect(whereIs(by, 'vm03').defined).toEqual([]);
    expect(queryAll(db, "SELECT 1 FROM machines WHERE name = 'vm03'")).toEqual([]);
  }, 60_000);

  it('vmmigrateandmove without live migration (test driver): migration fails with libvirt\'s reason, the cold move ends on the destination only', async () => {
    expect((await pvmutl(db, ['vmmigrateandmove', 'Web', 'vm01', 'vs1'])).code).toBe(0);
    expect(whereIs(by, 'vm01')).toEqual({ defined: ['vs1'], running: ['vs1'] });
    expect(serverOf(db, 'vm01')).toBe('vs1');
    const steps = queryAll<{ name: string; status: string; output: string }>(db,
      "SELECT s.name, s.status, s.output FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.sequence = 'MoveMachine' ORDER BY j.id DESC, s.seq");
    expect(steps[0]).toMatchObject({ name: 'HotMigrate/ColdMigrate', status: 'failed' });
    expect(steps[0]!.output).toMatch(/migration is not supported/);
    expect(steps.slice(1, 6).map((s) => `${s.name}:${s.status}`)).toEqual(['Check power state:completed', 'Shut down:completed', 'Move:completed', 'Check power state:completed', 'Start:completed']);
  }, 60_000);

  it('the destination daemon stopped in the middle of a move: the domain is defined on the source again, never on both', async () => {
    expect((await pvmutl(db, ['vmadd', 'Legacy', 'old1', '/a'])).code).toBe(0);
    const store = openStore(db);
    try {
      const r = await new Engine(store).run({ action: 'vmmigrate', cmd: 'vmmigrateandmove', group: 'Legacy', host: 'old1', vmServer: 'vs3' }, { origin: 'test', command: 'test' }, {
        onStep: (p) => { if (p.name === 'Move') by.vs3!.killNow(); },
      });
      expect(r.jobs[0]).toMatchObject({ outcome: 'failed', failedStep: 'Move' });
      expect(r.jobs[0]!.error).toContain('old1 is defined on vs2 again');
    } finally {
      store.close();
    }
    await by.vs3!.stop();
    expect(whereIs(by, 'old1').defined).toEqual(['vs2']);
    expect(serverOf(db, 'old1')).toBe('vs2');
    await by.vs3!.start();
    expect(whereIs(by, 'old1').defined).toEqual(['vs2']);
  }, 60_000);

  it('failover: with one daemon stopped, every VM it ran runs on another server of the group, each exactly once', async () => {
    for (const vm of ['vm05', 'vm06']) expect((await pvmutl(db, ['vmadd', 'Web', vm, '/VMS', 'vs1'])).code).toBe(0);
    const onVs1 = ['vm01', 'vm05', 'vm06'];
    for (const vm of onVs1) expect(whereIs(by, vm).running).toEqual(['vs1']);
    await by.vs1!.stop();
    const store = openStore(db);
    let r;
    try {
      r = await new Engine(store).run({ action: 'vms-evacuate', server: 'vs1', how: 'failover' }, { origin: 'test', command: 'test' });
    } finally {
      store.close();
    }
    expect(r.jobs.map((j) => j.outcome)).toEqual(['completed', 'completed', 'completed']);
    expect(r.parent?.outcome).toBe('completed');
    for (const vm of onVs1) {
      const w = whereIs(by, vm);
      expect(w.running).toHaveLength(1);
      expect(w.defined).toEqual(w.running);
      expect(w.running[0]).not.toBe('vs1');
      expect(serverOf(db, vm)).toBe(w.running[0]);
    }
    await by.vs1!.start();
  }, 90_000);
});

d('libvirt events as VM-server events', () => {
  it('a lost daemon is the host-connection alarm green → red, its return red → green', async () => {
    const lv = await startLibvirtd('watch');
    const db = fixtureStore(`
kanri: 1
settings: { libvirt.watch_interval_s: "0.2" }
groups:
  - { name: Hosts, type: vmserver, drivers: { power: sim, vm: libvirt }, models: [{ name: kvm }], host_settings: [{ host: h1 }] }
machines:
  - { name: vsw, kind: vmserver, power: on, driver_settings: { libvirt: { uri: "${lv.uri}" } }, active: { group: Hosts, model: kvm, host: h1, from: master } }
`);
    const store = openStore(db);
    const ac = new AbortController();
    const seen: Array<{ event: string; category: string; machine: string }> = [];
    const saw = async (n: number): Promise<void> => { await until(`${n} event(s) (saw ${JSON.stringify(seen)})`, () => seen.length >= n, 10_000, 50); };
    try {
      const { createLibvirtDriver } = await import('../src/adapters/libvirt/index.js');
      const watching = createLibvirtDriver().interfaces.vm!.watch!({ db: store, signal: ac.signal, log: () => undefined }, { id: 1, name: 'vsw', kind: 'vmserver', uuid: null, macs: [], mgmtAddress: null },
        (e) => seen.push({ event: e.event, category: e.category, machine: e.machine }));
      // The first probe found the server answering (the event stream runs): that is no event.
      await until('the watch to find the server answering', () => streaming(lv.uri), 10_000, 50);
      expect(seen).toEqual([]);
      await lv.stop();
      await saw(1);
      await lv.start();
      await saw(2);
      ac.abort();
      await watching;
      expect(seen).toEqual([
        { event: 'Alarm Host connection state on VMS changed from green to red', category: 'ターゲットアクセス不可能障害', machine: 'vsw' },
        { event: 'Alarm Host connection state on VMS changed from red to green', category: 'ターゲットアクセス復旧', machine: 'vsw' },
      ]);
    } finally {
      ac.abort();
      store.close();
      await lv.stop();
      removeDir(lv);
    }
  }, 60_000);

  it('a crashed domain is the VM heartbeat alarm; its start after the crash the recovery', async () => {
    const { domainEvent } = await import('../src/adapters/libvirt/events.js');
    const crashed = new Set<string>();
    expect(domainEvent("event 'lifecycle' for domain 'vm1': Started Booted", crashed)).toBeUndefined();
    expect(domainEvent("event 'lifecycle' for domain 'vm1': Crashed Panicked", crashed)).toEqual({ event: 'Alarm Virtual Machine Heartbeat on VM changed from green to red', domain: 'vm1' });
    expect(domainEvent("event 'lifecycle' for domain 'vm1': Started Booted", crashed)).toEqual({ event: 'Alarm Virtual Machine Heartbeat on VM changed from red to green', domain: 'vm1' });
    expect(domainEvent("event 'lifecycle' for domain 'vm2': Stopped Failed", crashed)?.event).toBe('Alarm Virtual Machine Heartbeat on VM changed from green to red');
    expect(domainEvent("event 'lifecycle' for domain 'vm3': Stopped Shutdown", crashed)).toBeUndefined();
  });
});
