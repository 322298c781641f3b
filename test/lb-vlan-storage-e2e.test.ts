// End to end: pvmutl add, replace, move and delete on groups whose load balancer is a
// real HAProxy, whose switch is a real ovsdb-server and whose storage is a real tgtd.
// After each command every peer is read with its own client (the runtime API,
// ovs-vsctl, tgtadm --op show) and must show exactly the active machines as members,
// tagged and connected. Then each peer is killed while a job waits on it mid-step: the
// job fails with exit 7, the peer (restarted from its configuration or database) is not
// half-changed, and running the change again converges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from './support/daemon.js';
import { type Haproxy, startHaproxy } from './support/haproxy.js';
import { type Ovsdb, startOvsdb } from './support/ovsdb.js';
import { requirePeer } from './support/peers.js';
import { fixtureStore, pvmutl, queryAll as q } from './support/store.js';
import { type Tgtd, startTgtd } from './support/tgtd.js';

const have = requirePeer('haproxy', 'lb/vlan/storage end to end') && requirePeer('ovsdb-server', 'lb/vlan/storage end to end')
  && requirePeer('tgtd', 'lb/vlan/storage end to end') && requirePeer('tgtadm', 'lb/vlan/storage end to end');

const PREFIX = 'iqn.2026-01.test.e2e';
const MACHINES = ['m1', 'm2', 'm3', 'm4'];
const VOLUMES = ['lw1', 'lw2', 'lw3', 'la1', 'la2', 'web-shared'];
const iqn = (m: string): string => `iqn.1994-05.com.example:${m}`;

function dc(h: Haproxy, o: Ovsdb, t: Tgtd): string {
  const group = (name: string, lb: string, vid: number, hosts: Array<[string, string, string[]]>, pool: string[]): string => `
  - name: ${name}
    type: physical
    storage: true
    vlan: VLAN-${name.toLowerCase()}
    load_balancer: ${lb}
    drivers: { power: sim, deploy: sim, monitor: sim, lb: haproxy, vlan: ovsdb, storage: iscsi-tgt }
    driver_settings:
      haproxy: { socket: "${h.socket}", port: 8080 }
      ovsdb: { switch: "${o.remote}", vid: ${vid} }
      iscsi-tgt: { control_port: ${t.controlPort}, target_prefix: ${PREFIX} }
    models: [{ name: std }]
    host_settings:
${hosts.map(([host, ip, vols]) => `      - { host: ${host}, nics: [{ addresses: [{ ip: ${ip}, netmask: 255.0.0.0 }] }], volumes: [${vols.join(', ')}] }`).join('\n')}
    pool: [${pool.join(', ')}]`;
  return `
kanri: 1
settings: { sim.delay_ms: "0", lb.drain_timeout_s: "1", haproxy.timeout_s: "3", ovsdb.timeout_s: "3", iscsi-tgt.timeout_s: "3" }
volumes:
${VOLUMES.map((v) => `  - { name: ${v}, array: tgt, kind: istorage${v === 'web-shared' ? ', shared: true' : ''} }`).join('\n')}
groups:${group('Web', 'web', 100, [['w1', '127.0.1.1', ['lw1', 'web-shared']], ['w2', '127.0.1.2', ['lw2', 'web-shared']], ['w3', '127.0.1.3', ['lw3', 'web-shared']]], MACHINES)}${group('App', 'app', 200, [['a1', '127.0.2.1', ['la1']], ['a2', '127.0.2.2', ['la2']]], ['m3', 'm4'])}
machines:
${MACHINES.map((m, i) => `  - { name: ${m}, kind: physical, driver_settings: { ovsdb: { nic1.port: p${i + 1} }, iscsi-tgt: { initiator: "${iqn(m)}" } } }`).join('\n')}
`;
}

interface Active { machine: string; group: string; ip: string; volumes: string[] }

function active(db: string): Active[] {
  const rows = q<{ machine: string; grp: string; ip: string; hs: number }>(db, `SELECT m.name AS machine, g.name AS grp, a.address AS ip, m.host_setting_id AS hs
    FROM machines m JOIN groups g ON g.id = m.group_id JOIN host_setting_addresses a ON a.host_setting_id = m.host_setting_id AND a.nic_no = 1 ORDER BY m.name`);
  return rows.map((r) => ({
    machine: r.machine, group: r.grp, ip: r.ip,
    volumes: q<{ name: string }>(db, 'SELECT v.name FROM host_setting_volumes hv JOIN disk_volumes v ON v.id = hv.volume_id WHERE hv.host_setting_id = ?', r.hs).map((v) => v.name),
  }));
}

describe.skipIf(!have)('lb, vlan and storage drivers end to end', () => {
  let h: Haproxy;
  let o: Ovsdb;
  let t: Tgtd;
  const makeTargets = (): void => t.addTargets(PREFIX, VOLUMES);
  beforeAll(async () => {
    [h, o, t] = await Promise.all([startHaproxy(['web', 'app']), startOvsdb(['p1', 'p2', 'p3', 'p4']), startTgtd()]);
    makeTargets();
  });
  afterAll(async () => { await Promise.all([h?.stop(), o?.stop(), t?.stop()]); });

  /** Every peer, read with its own client, shows exactly what the store says is active. */
  async function expectPeersMatch(db: string): Promise<void> {
    const act = active(db);
    for (const [backend, group] of [['web', 'Web'], ['app', 'App']] as const) {
      expect(await h.servers(backend), `HAProxy backend ${backend}`).toEqual(Object.fromEntries(act.filter((a) => a.group === group).map((a) => [a.machine, `${a.ip}:8080 0`])));
    }
    MACHINES.forEach((m, i) => {
      const a = act.find((x) => x.machine === m);
      expect(o.vlans(`p${i + 1}`), `ovsdb port p${i + 1} of ${m}`).toEqual({ tag: a ? (a.group === 'Web' ? '100' : '200') : '', trunks: '[]' });
    });
    const acls = t.acls();
    for (const v of VOLUMES) {
      expect(acls[`${PREFIX}:${v}`], `tgtd ACL of ${v}`).toEqual(act.filter((a) => a.volumes.includes(v)).map((a) => iqn(a.machine)).sort());
    }
  }

  it('add, replace, move and delete: after each, exactly the active machines are members, tagged and connected', async () => {
    const db = fixtureStore(dc(h, o, t));
    await expectPeersMatch(db);
    expect((await pvmutl(db, ['add', 'Web', '/c', '2'])).code).toBe(0);
    expect(active(db).map((a) => `${a.machine}@${a.group}`)).toEqual(['m1@Web', 'm2@Web']);
    await expectPeersMatch(db);
    expect((await pvmutl(db, ['replace', 'Web', 'w1'])).code).toBe(0);
    expect(active(db).map((a) => `${a.machine}@${a.group}`)).toEqual(['m2@Web', 'm3@Web']);
    await expectPeersMatch(db);
    expect((await pvmutl(db, ['move', 'App', 'Web'])).code).toBe(0);
    expect(active(db).map((a) => `${a.machine}@${a.group}`)).toEqual(['m2@Web', 'm3@App']);
    await expectPeersMatch(db);
    expect((await pvmutl(db, ['delete', 'Web', 'w2'])).code).toBe(0);
    expect((await pvmutl(db, ['delete', 'App', 'a1'])).code).toBe(0);
    expect(active(db)).toEqual([]);
    await expectPeersMatch(db);
    expect(q(db, 'SELECT event_id FROM events WHERE event_id BETWEEN 2600 AND 2699 ORDER BY id').map((e) => (e as { event_id: number }).event_id))
      .toEqual([2670, 2670, 2671, 2670, 2671, 2670, 2671, 2671]);
  });

  /** Stops the peer, starts the job, waits until the job is in the peer's step and has asked, then kills the peer. */
  async function killMidStep(db: string, step: string, pid: number, kill: () => void): Promise<{ code: number; err: string }> {
    process.kill(pid, 'SIGSTOP');
    const job = pvmutl(db, ['add', 'Web', 'm1']);
    try {
      await waitFor(() => q<{ phase: string }>(db, "SELECT phase FROM jobs WHERE status = 'running'").some((j) => j.phase === step), 15_000, () => `the job never reached '${step}'`);
      await sleep(300);
    } finally {
      kill();
      process.kill(pid, 'SIGCONT');
    }
    return job;
  }

  it.each([
    ['haproxy', 'Register to load-balancing group'],
    ['ovsdb-server', 'VLAN setting'],
    ['tgtd', 'Connect storage (disk volume)'],
  ] as const)('%s killed while the job waits on it: exit 7, the peer not half-changed, the change run again converges', async (peer, step) => {
    const db = fixtureStore(dc(h, o, t));
    const pid = peer === 'haproxy' ? h.pid() : peer === 'ovsdb-server' ? o.pid() : t.pid();
    const r = await killMidStep(db, step, pid, () => (peer === 'haproxy' ? h.kill() : peer === 'ovsdb-server' ? o.kill() : t.kill()));
    expect(r.code).toBe(7);
    expect(r.err).toContain(`failed at '${step}'`);
    const steps = q<{ name: string; status: string }>(db, 'SELECT name, status FROM job_steps ORDER BY seq');
    expect(steps.find((s) => s.name === step)?.status).toBe('failed');
    // The peer back, from its configuration (HAProxy, tgtd's targets) or its database (ovsdb).
    if (peer === 'haproxy') await h.restart();
    if (peer === 'ovsdb-server') await o.restart();
    if (peer === 'tgtd') {
      await t.restart();
      makeTargets();
    }
    // Nothing of m1 is half there: the peer the job was killed on has nothing of it, the
    // steps before it are complete (the storage is connected before LB and VLAN), the
    // steps after it never ran.
    const order = ['Connect storage (disk volume)', 'Register to load-balancing group', 'VLAN setting'];
    const done = (s: string): boolean => order.indexOf(s) < order.indexOf(step);
    expect(await h.servers('web')).toEqual(done('Register to load-balancing group') ? { m1: '127.0.1.1:8080 0' } : {});
    expect(o.vlans('p1').tag).toBe(done('VLAN setting') ? '100' : '');
    const acl = t.acls();
    expect([acl[`${PREFIX}:lw1`], acl[`${PREFIX}:web-shared`]]).toEqual(done('Connect storage (disk volume)') && peer !== 'tgtd' ? [[iqn('m1')], [iqn('m1')]] : [[], []]);
    // Running it again converges: the half-added machine is deleted (every step copes
    // with what is and is not there), then added again.
    const del = await pvmutl(db, ['delete', 'Web', 'w1']);
    expect(del, JSON.stringify(q(db, 'SELECT name, output FROM job_steps WHERE job_id = (SELECT max(id) FROM jobs)'))).toMatchObject({ code: 0 });
    await expectPeersMatch(db);
    expect((await pvmutl(db, ['add', 'Web', 'm1'])).code).toBe(0);
    await expectPeersMatch(db);
    expect((await pvmutl(db, ['delete', 'Web', 'w1'])).code).toBe(0);
    await expectPeersMatch(db);
  });
});
