// The libvirt driver's declaration: VMs on libvirt VM servers, reached through virsh.
import type { DriverSpec } from '../types.js';
import { COMPONENT } from './schema.js';
import type { Db } from '../../store/db.js';
import { KEY_SETTING, URI_SETTING, serverSettings, uriProblem } from './connection.js';

function serverProblems(db: Db, server: { id: number; name: string }): string[] {
  const r = serverSettings(db, server);
  const declared = r.problems([URI_SETTING.key]);
  if (declared.length) return declared;
  const p = uriProblem(db, server.name, r.str(URI_SETTING.key));
  return p ? [p] : [];
}

export const LIBVIRT: DriverSpec = {
  name: 'libvirt',
  schema: COMPONENT,
  description: 'virtual machines on libvirt VM servers (KVM/QEMU, Xen, LXC, test; local or qemu+ssh), through virsh; power and inventory of those VMs',
  interfaces: ['vm', 'power', 'monitor'],
  settings: [
    URI_SETTING,
    KEY_SETTING,
    { key: 'libvirt.virsh', scope: 'global', type: 'path', default: 'virsh', description: 'the virsh executable' },
    { key: 'libvirt.timeout_s', scope: 'global', type: 'number', min: 0.1, default: 60, description: 'deadline of one virsh command (s)' },
    { key: 'libvirt.migrate_timeout_s', scope: 'global', type: 'number', min: 1, default: 600, description: 'deadline of a migration or a volume clone (s)' },
    { key: 'libvirt.watch_interval_s', scope: 'global', type: 'number', min: 0.1, default: 5, description: "how often kanri vmserver watch probes a VM server's connection (s)" },
    { key: 'vm.shutdown_timeout_s', scope: 'global', type: 'number', min: 0.1, default: 120, description: 'a VM still running this long after an ACPI shutdown is destroyed (s)' },
    { key: 'libvirt.ssh_key_path', scope: 'global', type: 'path', description: 'private key file for +ssh URIs when the VM server sets none' },
  ],
  validate(db, m, iface) {
    if (m.kind === 'vmserver') {
      if (iface === 'power') return [`the libvirt driver powers the VMs a VM server hosts, not ${m.name} itself: give it a power driver of its own (ipmi, redfish, sim)`];
      return serverProblems(db, m);
    }
    if (m.kind !== 'virtual') return [`the libvirt driver serves virtual machines; ${m.name} is a ${m.kind} machine`];
    const s = db.prepare('SELECT s.id, s.name FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.id = ?').get(m.id) as { id: number; name: string } | undefined;
    if (!s) return [`${m.name} is on no VM server`];
    return serverProblems(db, s);
  },
  load: async () => (await import('./index.js')).createLibvirtDriver(),
};
