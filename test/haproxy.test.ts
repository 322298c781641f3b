// The haproxy lb driver against a real HAProxy (runtime API on a unix socket and on TCP):
// register, drain and unregister, a retry that converges, a reload put right by
// kanri lb sync (and before each step), refusals before the first step.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { freeTcpPort } from './support/daemon.js';
import { type Haproxy, startHaproxy } from './support/haproxy.js';
import { requirePeer } from './support/peers.js';
import { fixtureStore, pvmutl, queryAll as q, storeDigest } from './support/store.js';
import { until } from './support/until.js';

const have = requirePeer('haproxy', 'haproxy driver');

function dc(h: Haproxy, port: number, extra = ''): string {
  const drivers = '{ power: sim, deploy: sim, monitor: sim, lb: haproxy }';
  return `
kanri: 1
settings: { sim.delay_ms: "0", lb.drain_timeout_s: "1" }
groups:
  - name: G
    type: physical
    load_balancer: web
    drivers: ${drivers}
    driver_settings: { haproxy: { socket: "${h.socket}", port: ${port} } }
    models: [{ name: std }]
    host_settings:
${[1, 2, 3].map((i) => `      - { host: h${i}, nics: [{ addresses: [{ ip: 127.0.1.${i}, netmask: 255.0.0.0 }] }] }`).join('\n')}
    pool: [m1, m2, m3]
  - name: T
    type: physical
    load_balancer: web
    drivers: ${drivers}
    driver_settings: { haproxy: { socket: "tcp:127.0.0.1:${h.tcpPort}", port: ${port} } }
    models: [{ name: std }]
    host_settings: [{ host: t1, nics: [{ addresses: [{ ip: 127.0.1.11, netmask: 255.0.0.0 }] }] }]
    pool: [m11]
  - name: NoBackend
    type: physical
    load_balancer: nosuch
    drivers: ${drivers}
    driver_settings: { haproxy: { socket: "${h.socket}" } }
    models: [{ name: std }]
    host_settings: [{ host: n1, nics: [{ addresses: [{ ip: 127.0.1.21, netmask: 255.0.0.0 }] }] }]
    pool: [m21]
  - name: NoSocket
    type: physical
    load_balancer: web
    drivers: ${drivers}
    models: [{ name: std }]
    host_settings: [{ host: s1, nics: [{ addresses: [{ ip: 127.0.1.31, netmask: 255.0.0.0 }] }] }]
    pool: [m31]
${extra}
machines:
${['m1', 'm2', 'm3', 'm11', 'm21', 'm31'].map((m) => `  - { name: ${m}, kind: physical }`).join('\n')}
`;
}

/** A TCP server on the address of h1 that holds every connection open (a long request). */
function holdingServer(port: number): Promise<{ server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => { sockets.push(s); s.on('error', () => undefined); });
  return new Promise((resolve) => server.listen(port, '127.0.1.1', () => resolve({ server, sockets })));
}

describe.skipIf(!have)('haproxy driver', () => {
  let h: Haproxy;
  let port: number;
  beforeAll(async () => {
    h = await startHaproxy(['web']);
    port = await freeTcpPort();
  });
  afterAll(async () => { await h?.stop(); });
  // Every test starts from an empty backend, whatever an earlier one left.
  beforeEach(async () => {
    for (const name of Object.keys(await h.servers('web'))) {
      await h.cli(`set server web/${name} state maint`);
      await h.cli(`del server web/${name}`);
    }
  });

  it('add makes the machine a ready server of the backend; delete removes it; the store follows', async () => {
    const db = fixtureStore(dc(h, port));
    expect((await pvmutl(db, ['add', 'G', 'm1'])).code).toBe(0);
    expect(await h.servers('web')).toEqual({ m1: `127.0.1.1:${port} 0` });
    expect(q(db, 'SELECT backend, server, address, port, state FROM haproxy_servers')).toEqual([{ backend: 'web', server: 'm1', address: '127.0.1.1', port, state: 'member' }]);
    const del = await pvmutl(db, ['delete', 'G', 'h1']);
    expect(del.code).toBe(0);
    expect(await h.servers('web')).toEqual({});
    expect(q(db, 'SELECT * FROM haproxy_servers')).toEqual([]);
  });

  it('unregistering drains open sessions until lb.drain_timeout_s, then ends them and deletes the server', async () => {
    const db = fixtureStore(dc(h, port));
    const backend = await holdingServer(port);
    try {
      expect((await pvmutl(db, ['add', 'G', 'm1'])).code).toBe(0);
      // A client session through HAProxy to m1, held open by the server.
      const client = connect({ path: h.frontend });
      client.on('error', () => undefined);
      const closed = new Promise<void>((r) => client.once('close', () => r()));
      await until('the held connection to reach m1', () => backend.sockets.length > 0, 10_000, 20);
      expect(backend.sockets.length).toBe(1);
      const t0 = Date.now();
      const del = await pvmutl(db, ['delete', 'G', 'h1']);
      const took = Date.now() - t0;
      expect(del.code).toBe(0);
      expect(took).toBeGreaterThanOrEqual(1000);
      expect(await h.servers('web')).toEqual({});
      await closed;
      const journal = q<{ output: string }>(db, "SELECT output FROM job_steps WHERE name = 'Unregister from load-balancing group'")[0]!.output;
      expect(journal).toContain('web/m1: 1 session(s) still open after 1 s of draining');
    } finally {
      for (const s of backend.sockets) s.destroy();
      backend.server.close();
    }
  });

  it('a server left in maintenance at an old address is made ready at the right one by the retry', async () => {
    const db = fixtureStore(dc(h, port));
    expect(await h.cli(`add server web/m2 127.0.1.9:${port}`)).toContain('New server registered');
    expect(await h.servers('web')).toEqual({ m2: `127.0.1.9:${port} 1` });
    const add = await pvmutl(db, ['add', 'G', 'm2']);
    expect(add.code).toBe(0);
    expect(await h.servers('web')).toEqual({ m2: `127.0.1.1:${port} 0` });
    expect(q<{ output: string }>(db, "SELECT output FROM job_steps WHERE name = 'Register to load-balancing group'")[0]!.output)
      .toContain(`web/m2 127.0.1.1:${port}: address 127.0.1.9:${port} changed, made ready`);
    expect((await pvmutl(db, ['delete', 'G', 'h1'])).code).toBe(0);
  });

  it('after a reload, kanri lb sync puts back the servers kanri registered and says so; so does the next step', async () => {
    const db = fixtureStore(dc(h, port));
    expect((await pvmutl(db, ['add', 'G', '/c', '2'])).code).toBe(0);
    expect(Object.keys(await h.servers('web')).sort()).toEqual(['m1', 'm2']);
    await h.restart();
    expect(await h.servers('web')).toEqual({});
    const sync = run('kanri', ['lb', 'sync', 'G'], { db });
    expect(sync).toMatchObject({ code: 0, err: '' });
    expect(sync.out).toBe(`web/m1: added back at 127.0.1.1:${port} (HAProxy did not have it: reloaded?)\nweb/m2: added back at 127.0.1.2:${port} (HAProxy did not have it: reloaded?)\n`);
    expect(await h.servers('web')).toEqual({ m1: `127.0.1.1:${port} 0`, m2: `127.0.1.2:${port} 0` });
    expect(run('kanri', ['lb', 'sync', 'G'], { db }).out).toBe('G: web is in line with the store; nothing changed\n');
    // A reload again: the next step of any job puts the backend right before it starts.
    await h.restart();
    expect((await pvmutl(db, ['add', 'G', 'm3'])).code).toBe(0);
    expect(Object.keys(await h.servers('web')).sort()).toEqual(['m1', 'm2', 'm3']);
    const out = q<{ output: string }>(db, "SELECT s.output FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE s.name = 'Register to load-balancing group' ORDER BY j.id DESC LIMIT 1")[0]!.output;
    expect(out).toContain('sync: web/m1: added back at');
    expect(out).toContain('sync: web/m2: added back at');
    expect((await pvmutl(db, ['delete', 'G', '/c', '3'])).code).toBe(0);
    expect(await h.servers('web')).toEqual({});
  });

  it('kanri lb sync removes a server whose machine left the group behind kanri and reports servers it did not register', async () => {
    const db = fixtureStore(dc(h, port));
    expect((await pvmutl(db, ['add', 'G', 'm1'])).code).toBe(0);
    await h.cli(`add server web/other 127.0.1.99:${port}`);
    const { openStore } = await import('../src/open-store.js');
    const d = openStore(db);
    d.prepare("UPDATE machines SET group_id = NULL, host_setting_id = NULL WHERE name = 'm1'").run();
    d.close();
    const sync = run('kanri', ['lb', 'sync', 'G'], { db });
    expect(sync.code).toBe(0);
    expect(sync.out).toContain('web/m1: removed (its machine is no longer active in the group it was registered from)\n');
    expect(sync.out).toContain('not registered by kanri (left as they are): other\n');
    expect(await h.servers('web')).toEqual({ other: `127.0.1.99:${port} 1` });
    await h.cli('del server web/other');
  });

  it('the runtime API on TCP works the same', async () => {
    const db = fixtureStore(dc(h, port));
    expect((await pvmutl(db, ['add', 'T', 'm11'])).code).toBe(0);
    expect(await h.servers('web')).toEqual({ m11: `127.0.1.11:${port} 0` });
    expect((await pvmutl(db, ['delete', 'T', 't1'])).code).toBe(0);
    expect(await h.servers('web')).toEqual({});
  });

  it('a backend HAProxy does not have: the step fails (exit 7) naming it, and HAProxy is unchanged', async () => {
    const db = fixtureStore(dc(h, port));
    const r = await pvmutl(db, ['add', 'NoBackend', 'm21']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`HAProxy at unix:${h.socket} has no backend nosuch`);
    expect(await h.servers('web')).toEqual({});
  });

  it('a group without a runtime API is refused before its first step (exit 6), the store unchanged', async () => {
    const db = fixtureStore(dc(h, port));
    const before = storeDigest(db);
    const r = await pvmutl(db, ['add', 'NoSocket', 'm31']);
    expect(r.code).toBe(6);
    expect(r.err).toContain('no HAProxy runtime API for the group: set its haproxy setting socket');
    expect(storeDigest(db)).toBe(before);
  });

  it('kanri lb sync of an unknown group is exit 2; of a sim group, nothing to do', () => {
    const db = fixtureStore();
    expect(run('kanri', ['lb', 'sync', 'Nope'], { db })).toMatchObject({ code: 2, err: 'kanri: group not found: Nope\n' });
    expect(run('kanri', ['lb', 'sync', 'Shop/Web'], { db })).toMatchObject({ code: 0, out: 'Shop\\Web: the sim driver has no load balancer outside the store: nothing to put in line\n' });
  });
});
