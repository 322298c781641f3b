// libvirt events reach kanri monitor (issue 21 item 5, src/monitor/vm-events.ts): a VM server
// whose libvirtd stops answering is the VMwareProvider connection alarm green → red, the
// VM-server policy's rule for it moves the running VMs (seed 004 L6777–6802) to the other
// server with no command typed; virsh on the surviving daemon shows them running there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePeer } from './support/peers.js';
import { type Libvirtd, removeDir, startLibvirtd, testTemplate } from './support/libvirtd.js';
import { fixtureStore, pvmutl, queryAll, tempDir } from './support/store.js';
import { type RunningMonitor, chainEnded, eventDecided, lastEventId, startMonitor } from './support/monitor.js';

const ok = requirePeer('libvirtd', 'monitor VM-server events') && requirePeer('virsh', 'monitor VM-server events');

function dataCentre(servers: Libvirtd[], dir: string): string {
  const tmpl = join(dir, 'web.xml');
  writeFileSync(tmpl, testTemplate(256));
  const server = (name: string, s: Libvirtd, host: string): string =>
    `  - { name: ${name}, kind: vmserver, power: on, capacity: 100, datastores: [{ name: default-pool, shared: true }], driver_settings: { libvirt: { uri: "${s.uri}" } }, active: { group: Hosts, model: kvm, host: ${host}, from: master } }`;
  return `
kanri: 1
settings:
  vm.shutdown_timeout_s: "5"
  libvirt.watch_interval_s: "0.3"
  monitor.listen: "127.0.0.1:0"
  monitor.poll_s: "3600"
software:
  - { name: T, kind: template, cost: 10, source: ${tmpl} }
policies:
  - name: VMS
    template: 標準ポリシー (仮想マシンサーバ)
    rules:
      - { event: VMSアクセス不可, triggers: [{ source: VMwareProvider, event: "Alarm Host connection state on VMS changed from green to red" }], action_name: 退避, actions: [vms-failover-all] }
groups:
  - { name: Hosts, type: vmserver, policy: VMS, drivers: { vm: libvirt }, models: [{ name: kvm }], host_settings: [{ host: h1 }, { host: h2 }] }
  - { name: Web, type: virtual, template: T, drivers: { vm: libvirt, power: libvirt, deploy: local }, models: [{ name: vm, vm_server_model: Hosts/kvm }], host_settings: [{ host: w1 }, { host: w2 }, { host: w3 }] }
machines:
${server('vs1', servers[0]!, 'h1')}
${server('vs2', servers[1]!, 'h2')}
`;
}

describe.runIf(ok)('kanri monitor takes libvirt events (VM-server connection lost → running VMs moved)', () => {
  let vs1: Libvirtd, vs2: Libvirtd;
  let db: string;
  let mon: RunningMonitor | undefined;

  beforeAll(async () => {
    [vs1, vs2] = await Promise.all([startLibvirtd('ev1'), startLibvirtd('ev2')]);
    const dir = tempDir();
    mkdirSync(join(dir, 't'), { recursive: true });
    db = fixtureStore(dataCentre([vs1, vs2], join(dir, 't')));
    for (const vm of ['vm01', 'vm02']) expect((await pvmutl(db, ['vmadd', 'Web', vm, '/VMS', 'vs1'])).code).toBe(0);
    // vm03 is created, then stopped: it is not moved (only running VMs are).
    expect((await pvmutl(db, ['vmadd', 'Web', 'vm03', '/VMS', 'vs1'])).code).toBe(0);
    expect((await pvmutl(db, ['shutdown', 'Web', 'w3'])).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await mon?.stop();
    for (const d of [vs1, vs2]) {
      if (!d) continue;
      await d.stop();
      removeDir(d);
    }
  });

  it('the connection-lost event reaches the monitor and the running VMs fail over to vs2', async () => {
    expect(vs1.domains().running.sort()).toEqual(['vm01', 'vm02']);
    mon = await startMonitor(db);
    const from = lastEventId(db);
    await vs1.stop();
    const lost = await eventDecided(db, { origin: 'libvirt', source: 'VMwareProvider', event: 'Alarm Host connection state on VMS changed from green to red', machine: 'vs1' }, from, 30_000);
    expect(lost.chain_id).not.toBe(null);
    expect(await chainEnded(db, lost.chain_id!, 90_000)).toMatchObject({ status: 'completed' });
    // The surviving daemon runs both running VMs, and kanri records them there; vm03 stays.
    expect(vs2.domains().running.sort()).toEqual(['vm01', 'vm02']);
    expect(queryAll(db, "SELECT v.name, s.name AS server FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.kind = 'virtual' ORDER BY v.name"))
      .toEqual([{ name: 'vm01', server: 'vs2' }, { name: 'vm02', server: 'vs2' }, { name: 'vm03', server: 'vs1' }]);
    expect(queryAll(db, "SELECT origin, source FROM monitor_events ORDER BY id LIMIT 1")).toEqual([{ origin: 'libvirt', source: 'VMwareProvider' }]);
  }, 150_000);
});
