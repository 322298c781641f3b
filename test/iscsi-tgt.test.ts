// The iscsi-tgt storage driver against a real tgtd (its own control port), checked with
// tgtadm --op show: initiators allowed and removed per volume, shared and non-shared
// volumes, tgtd's management socket spoken directly and tgtadm run as a command, and
// tgtadm on a storage host over SSH with its host key checked.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { putDriverSecret } from '../src/adapters/settings.js';
import { openStore } from '../src/open-store.js';
import { run } from './support/cli.js';
import { requirePeer } from './support/peers.js';
import { type Sshd, SSHD, startSshd } from './support/sshd.js';
import { type Tgtd, startTgtd } from './support/tgtd.js';
import { fixtureStore, pvmutl, storeBytes, storeDigest } from './support/store.js';

const have = requirePeer('tgtd', 'iscsi-tgt driver') && requirePeer('tgtadm', 'iscsi-tgt driver');
const haveSshd = requirePeer(SSHD, 'iscsi-tgt driver over SSH');

const PREFIX = 'iqn.2026-01.test.kanri';
const IQN1 = 'iqn.1994-05.com.example:m1';

function dc(t: Tgtd, sshPort = 22): string {
  const g = (name: string, settings: string, hosts: Array<[string, string, string[]]>, pool: string[]): string => `
  - name: ${name}
    type: physical
    storage: true
    drivers: { power: sim, deploy: sim, monitor: sim, storage: iscsi-tgt }
    driver_settings: { iscsi-tgt: { control_port: ${t.controlPort}, target_prefix: ${PREFIX}${settings} } }
    models: [{ name: std }]
    host_settings:
${hosts.map(([h, ip, v]) => `      - { host: ${h}, nics: [{ addresses: [{ ip: ${ip}, netmask: 255.0.0.0 }] }], volumes: [${v.join(', ')}] }`).join('\n')}
    pool: [${pool.join(', ')}]`;
  return `
kanri: 1
settings: { sim.delay_ms: "0" }
volumes:
  - { name: vol1, array: tgt1, kind: istorage }
  - { name: vol2, array: tgt1, kind: istorage }
  - { name: vol3, array: tgt1, kind: istorage }
  - { name: shared, array: tgt1, kind: istorage, shared: true }
  - { name: gone, array: tgt1, kind: istorage }
groups:${g('S', '', [['s1', '127.0.1.1', ['vol1', 'shared']], ['s2', '127.0.1.2', ['vol2', 'shared']], ['s3', '127.0.1.3', ['vol3', 'shared']]], ['m1', 'm2', 'm3'])}${g('C', ', client: tgtadm', [['c1', '127.0.1.11', ['vol1']]], ['m11'])}${g('R', `, host: 127.0.0.1, ssh_port: ${sshPort}`, [['r1', '127.0.1.21', ['vol2']]], ['m21'])}${g('Gone', '', [['g1', '127.0.1.31', ['gone']]], ['m31'])}
machines:
  - { name: m1, kind: physical, driver_settings: { iscsi-tgt: { initiator: "${IQN1}" } } }
  - { name: m2, kind: physical }
  - { name: m3, kind: physical }
  - { name: m11, kind: physical }
  - { name: m21, kind: physical }
  - { name: m31, kind: physical, driver_settings: { iscsi-tgt: { initiator: "not an initiator" } } }
`;
}

describe.skipIf(!have)('iscsi-tgt driver', () => {
  let t: Tgtd;
  beforeAll(async () => {
    t = await startTgtd();
    t.addTargets(PREFIX, ['vol1', 'vol2', 'vol3', 'shared']);
  });
  afterAll(async () => { await t?.stop(); });
  // Every test starts with no initiator allowed anywhere.
  beforeEach(() => {
    for (const [iqn, acl] of Object.entries(t.acls())) {
      const tid = String(Object.keys(t.acls()).indexOf(iqn) + 1);
      for (const a of acl) t.tgtadm('--op', 'unbind', '--mode', 'target', '--tid', tid, ...(a.startsWith('iqn.') ? ['--initiator-name', a] : ['-I', a]));
    }
  });

  it('connect allows the initiator (IQN or host address) on each volume; shared volumes take several; disconnect removes only its own', async () => {
    const db = fixtureStore(dc(t));
    expect((await pvmutl(db, ['add', 'S', 'm1'])).code).toBe(0);
    expect((await pvmutl(db, ['add', 'S', 'm2'])).code).toBe(0);
    expect(t.acls()).toEqual({ [`${PREFIX}:vol1`]: [IQN1], [`${PREFIX}:vol2`]: ['127.0.1.2'], [`${PREFIX}:vol3`]: [], [`${PREFIX}:shared`]: ['127.0.1.2', IQN1] });
    expect((await pvmutl(db, ['delete', 'S', 's1'])).code).toBe(0);
    expect(t.acls()).toEqual({ [`${PREFIX}:vol1`]: [], [`${PREFIX}:vol2`]: ['127.0.1.2'], [`${PREFIX}:vol3`]: [], [`${PREFIX}:shared`]: ['127.0.1.2'] });
    expect((await pvmutl(db, ['delete', 'S', 's2'])).code).toBe(0);
    expect(Object.values(t.acls()).flat()).toEqual([]);
  });

  it('a volume that is not shared is never given to a second machine: exit 7, and the volume connected before it is put back', async () => {
    const db = fixtureStore(dc(t));
    t.tgtadm('--op', 'bind', '--mode', 'target', '--tid', '3', '-I', '10.9.9.9');
    // s1 and s2 go first (the first unused host settings): hold them.
    expect((await pvmutl(db, ['add', 'S', '/c', '2'])).code).toBe(0);
    const r = await pvmutl(db, ['add', 'S', 'm3']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`volume vol3 is not shared, and its target ${PREFIX}:vol3 already allows 10.9.9.9: disconnect it from that machine first (or mark the volume shared)`);
    expect(r.err).toContain('tgtd is as it was');
    expect(t.acls()[`${PREFIX}:vol3`]).toEqual(['10.9.9.9']);
    expect(t.acls()[`${PREFIX}:shared`]).not.toContain('127.0.1.3');
  });

  it('tgtadm run as a command does the same', async () => {
    const db = fixtureStore(dc(t));
    expect((await pvmutl(db, ['add', 'C', 'm11'])).code).toBe(0);
    expect(t.acls()[`${PREFIX}:vol1`]).toEqual(['127.0.1.11']);
    expect((await pvmutl(db, ['delete', 'C', 'c1'])).code).toBe(0);
    expect(t.acls()[`${PREFIX}:vol1`]).toEqual([]);
  });

  it('a volume without a target fails the step (exit 7) naming it; an initiator that is neither IQN nor address is refused first (exit 6)', async () => {
    const db = fixtureStore(dc(t).replace('initiator: "not an initiator"', 'initiator: "127.0.1.31"'));
    const r = await pvmutl(db, ['add', 'Gone', 'm31']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`has no target for volume gone (${PREFIX}:gone)`);
    const bad = fixtureStore(dc(t));
    const before = storeDigest(bad);
    const v = await pvmutl(bad, ['add', 'Gone', 'm31']);
    expect(v.code).toBe(6);
    expect(v.err).toContain("m31: iscsi-tgt setting initiator 'not an initiator' is neither an iSCSI name (iqn.…) nor an IP address");
    expect(storeDigest(bad)).toBe(before);
  });

  describe.skipIf(!haveSshd)('on a storage host over SSH', () => {
    let sshd: Sshd;
    beforeAll(async () => { sshd = await startSshd(); });
    afterAll(async () => { await sshd?.stop(); });

    it('refused until the host key is trusted; then tgtadm runs there with the sealed key', async () => {
      const db = fixtureStore(dc(t, sshd.port));
      const d = openStore(db);
      const g = d.prepare("SELECT id FROM groups WHERE name = 'R'").get() as { id: number };
      putDriverSecret(d, { groupId: g.id }, 'iscsi-tgt', 'ssh_key', readFileSync(sshd.userKey, 'utf8'));
      d.close();
      const before = storeDigest(db);
      const refused = await pvmutl(db, ['add', 'R', 'm21']);
      expect(refused.code).toBe(6);
      expect(refused.err).toContain(`the host key of the storage host 127.0.0.1:${sshd.port} is not trusted: check it and run kanri ssh trust --address 127.0.0.1 --port ${sshd.port}`);
      expect(storeDigest(db)).toBe(before);
      const trust = run('kanri', ['ssh', 'trust', '--address', '127.0.0.1', '--port', String(sshd.port), '--fingerprint', sshd.hostFingerprint], { db });
      expect(trust).toMatchObject({ code: 0, out: expect.stringContaining(`accepted for 127.0.0.1:${sshd.port}`) });
      const add = await pvmutl(db, ['add', 'R', 'm21']);
      expect(add, add.err).toMatchObject({ code: 0 });
      expect(t.acls()[`${PREFIX}:vol2`]).toEqual(['127.0.1.21']);
      const del = await pvmutl(db, ['delete', 'R', 'r1']);
      expect(del, del.err).toMatchObject({ code: 0 });
      expect(t.acls()[`${PREFIX}:vol2`]).toEqual([]);
      expect(storeBytes(db).includes('PRIVATE KEY')).toBe(false);
    });
  });
});
