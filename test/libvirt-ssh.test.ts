// A VM server reached over SSH (test+ssh://, as qemu+ssh:// would be): a real sshd on
// loopback in front of a real libvirtd. The host key must have been accepted (kanri ssh
// trust, table ssh_known_hosts); an unknown or changed key is never accepted.
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { addKnownKey, forgetKeys } from '../src/adapters/ssh/known-hosts.js';
import { connectionUri } from '../src/adapters/libvirt/connection.js';
import { closeSessions } from '../src/adapters/libvirt/virsh.js';
import { machineRef } from '../src/engine/refs.js';
import { run } from './support/cli.js';
import { requirePeer } from './support/peers.js';
import { type Libvirtd, removeDir, startLibvirtd } from './support/libvirtd.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { fixtureStore, queryAll } from './support/store.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ok = requirePeer('libvirtd', 'libvirt over ssh') && requirePeer('sshd', 'libvirt over ssh') && requirePeer('nc', 'libvirt over ssh');
const d = ok ? describe : describe.skip;

d('libvirt over SSH with accepted host keys only', () => {
  let lv: Libvirtd;
  let sshd: Sshd;
  let db = '';

  beforeAll(async () => {
    [lv, sshd] = await Promise.all([startLibvirtd('ssh'), startSshd()]);
    const sock = lv.uri.split('socket=')[1]!;
    db = fixtureStore(`
kanri: 1
groups:
  - { name: Hosts, type: vmserver, drivers: { power: sim, vm: libvirt }, models: [{ name: kvm }], host_settings: [{ host: h1 }] }
machines:
  - name: vs1
    kind: vmserver
    power: on
    capacity: 10
    os_address: 127.0.0.1
    ssh_port: ${sshd.port}
    driver_settings: { libvirt: { uri: "test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default?socket=${sock}", ssh_key_path: ${sshd.userKey} } }
    active: { group: Hosts, model: kvm, host: h1, from: master }
`);
  }, 60_000);

  afterAll(async () => {
    closeSessions();
    await lv?.stop();
    if (lv) removeDir(lv);
    await sshd?.stop();
  });

  const collect = (): { code: number; out: string; err: string } => run('kanri', ['vmserver', 'collect', 'vs1'], { db, timeout: 60_000 });

  it('without an accepted host key the server is refused before anything connects (exit 6)', () => {
    const r = collect();
    expect(r.code).toBe(6);
    expect(r.err).toBe(`kanri: vs1: no accepted SSH host key for 127.0.0.1:${sshd.port}; accept it with kanri ssh trust vs1 (its os_address must be 127.0.0.1)\n`);
  });

  it('with the key accepted, node info is read over SSH; the known_hosts file kanri writes holds that key only, mode 0600', () => {
    expect(run('kanri', ['ssh', 'trust', 'vs1', '--fingerprint', sshd.hostFingerprint], { db, timeout: 30_000 }).code).toBe(0);
    const r = collect();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^vs1: cpus=\d+ memory=\d+KiB free=\d+KiB\n$/);
    expect(queryAll<{ error: string | null }>(db, 'SELECT error FROM vm_server_readings')).toEqual([{ error: null }]);
    const store = openStore(db);
    try {
      const uri = connectionUri(store, machineRef(store, 1));
      expect(uri).toMatch(/^test\+libssh:\/\//);
      const q = new URLSearchParams(uri.split('?')[1]);
      expect(q.get('known_hosts_verify')).toBe('normal');
      expect(q.get('keyfile')).toBe(sshd.userKey);
      const file = q.get('known_hosts')!;
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const hostPub = readFileSync(join(sshd.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${hostPub}\n`);
    } finally {
      store.close();
    }
  }, 60_000);

  it('a changed host key fails the connection: the reading records the verification failure', () => {
    const store = openStore(db);
    try {
      forgetKeys(store, '127.0.0.1', sshd.port);
      addKnownKey(store, '127.0.0.1', sshd.port, Buffer.from(sshd.otherHostKey.key, 'base64'));
    } finally {
      store.close();
    }
    const r = collect();
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/HOST KEY VERIFICATION FAILED|differs from stored identity/);
  }, 60_000);
});
