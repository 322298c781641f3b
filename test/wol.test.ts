// The wol power driver: magic packets checked byte for byte by a UDP listener on loopback
// (a magic packet has no other peer: the NIC that would wake is the only receiver), the
// power state from ping (iputils) or a real OpenSSH sshd's banner (on) or its absence (off), and
// `pvmutl poweron` taking the driver through the engine.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { bindInterface } from '../src/adapters/registry.js';
import { machineRef } from '../src/engine/refs.js';
import { magicPacket } from '../src/adapters/wol/index.js';
import { driverProblems } from '../src/adapters/registry.js';
import { requirePeer } from './support/peers.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { fixtureStore, pvmutl, queryAll } from './support/store.js';
import { freeTcpPort } from './support/daemon.js';
import { until } from './support/until.js';

const MACS = ['52:54:00:0A:0B:01', '52:54:00:0a:0b:02'];

const yaml = (port: number, extra = ''): string => `
kanri: 1
settings:
  sim.delay_ms: "0"
groups:
  - name: Lab
    type: physical
    drivers: { power: wol, deploy: sim, monitor: sim }
    driver_settings: { wol: { address: 127.0.0.1, port: "${port}" } }
    models: [{ name: M }]
    host_settings:
      - { host: lab01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }
    pool: [pc-1, pc-2]
machines:
  - { name: pc-1, kind: physical, macs: ${JSON.stringify(MACS)}, power: off, active: { group: Lab, model: M, host: lab01, from: group_pool } }
  - { name: pc-2, kind: physical, power: off${extra} }
`;

interface Listener { port: number; got: Buffer[]; close(): void }
async function listen(): Promise<Listener> {
  const s: Socket = createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, got, close: () => s.close() };
}

const ctx = (db: ReturnType<typeof openStore>, log: string[] = []) => ({ db, signal: new AbortController().signal, log: (l: string) => { log.push(l); } });
describe('wol power driver', () => {
  let l: Listener;
  beforeAll(async () => { l = await listen(); });
  afterAll(() => l?.close());

  it('a magic packet is six FF bytes and the MAC sixteen times', () => {
    const p = magicPacket('52:54:00:0a:0b:01');
    expect(p.length).toBe(102);
    expect(p.subarray(0, 6).toString('hex')).toBe('ffffffffffff');
    for (let i = 0; i < 16; i++) expect(p.subarray(6 + 6 * i, 12 + 6 * i).toString('hex')).toBe('5254000a0b01');
    expect(() => magicPacket('52:54:00:0a:0b')).toThrow(/not a MAC/);
  });

  it('power on sends the packet of each MAC to wol.address:port; without a state source the state is unknown', async () => {
    const path = fixtureStore(yaml(l.port));
    const db = openStore(path);
    try {
      const m = machineRef(db, (db.prepare("SELECT id FROM machines WHERE name = 'pc-1'").get() as { id: number }).id);
      const power = await bindInterface(db, 'wol', 'power');
      expect((await power.state(ctx(db), m)).state).toBe('unknown');
      l.got.length = 0;
      const r = await power.act(ctx(db), m, 'on');
      // wol.packets (3) rounds of one packet per MAC.
      await until('six packets', () => l.got.length >= 6, 5000, 20);
      expect(l.got.map((b) => b.toString('hex'))).toEqual(Array.from({ length: 3 }, () => MACS.map((x) => magicPacket(x).toString('hex'))).flat());
      expect(r).toMatchObject({ action: 'on', before: 'unknown', after: 'unknown', changed: true, sent: `magic packet to 127.0.0.1:${l.port}` });
      expect(r.note).toMatch(/not known/);
      await expect(power.act(ctx(db), m, 'off')).rejects.toMatchObject({ layer: 'not-supported' });
      // A machine without MACs is refused before any job starts.
      const pc2 = machineRef(db, (db.prepare("SELECT id FROM machines WHERE name = 'pc-2'").get() as { id: number }).id);
      expect(driverProblems(db, 'wol', 'power', pc2).map((p) => p.message)).toEqual([expect.stringMatching(/pc-2 has no MAC address/)]);
    } finally {
      db.close();
    }
  });

  it('pvmutl poweron runs the wol driver through the engine', async () => {
    const path = fixtureStore(yaml(l.port));
    l.got.length = 0;
    const r = await pvmutl(path, ['poweron', 'Lab', 'lab01']);
    expect(r.code, r.err).toBe(0);
    await until('six packets', () => l.got.length >= 6, 5000, 20);
    expect(new Set(l.got.map((b) => b.subarray(6, 12).toString('hex')))).toEqual(new Set(['5254000a0b01', '5254000a0b02']));
    // The last state read stays the machine's power state; the unknown one is what was learnt.
    expect(queryAll(path, "SELECT power_state, last_power FROM machines WHERE name = 'pc-1'")).toEqual([{ power_state: 'off', last_power: 'unknown' }]);
  });
});

describe.runIf(requirePeer('ping', 'wol state from ping'))('wol state from ping', () => {
  it('on when the OS address answers ping; a name that does not resolve is a network failure', async () => {
    const path = fixtureStore(yaml(9));
    const db = openStore(path);
    try {
      db.prepare("INSERT INTO driver_settings (machine_id, group_id, driver, key, value, sealed) SELECT NULL, id, 'wol', 'state_from', 'ping', 0 FROM groups WHERE name = 'Lab'").run();
      const m = machineRef(db, (db.prepare("SELECT id FROM machines WHERE name = 'pc-1'").get() as { id: number }).id);
      const power = await bindInterface(db, 'wol', 'power');
      db.prepare("UPDATE machines SET os_address = '127.0.0.1' WHERE name = 'pc-1'").run();
      expect(await power.state(ctx(db), m)).toMatchObject({ state: 'on', attempts: 1 });
      // Loopback answers every address of 127/8: "off" (no answer) is the SSH test's.
      db.prepare("UPDATE machines SET os_address = 'no-such-host.invalid' WHERE name = 'pc-1'").run();
      await expect(power.state(ctx(db), m)).rejects.toMatchObject({ layer: 'network', message: expect.stringMatching(/ping of no-such-host\.invalid failed/) });
    } finally {
      db.close();
    }
  });
});

describe.runIf(requirePeer('sshd', 'wol state from ssh'))('wol state from the machine\'s SSH service', () => {
  let sshd: Sshd;
  let l: Listener;
  beforeAll(async () => { [sshd, l] = await Promise.all([startSshd(), listen()]); }, 60_000);
  afterAll(async () => { l?.close(); await sshd?.stop(); });

  it('on when sshd sends its banner, off when nothing answers; a machine that is on gets no packet', async () => {
    const path = fixtureStore(yaml(l.port));
    const db = openStore(path);
    try {
      db.prepare("INSERT INTO driver_settings (machine_id, group_id, driver, key, value, sealed) SELECT NULL, id, 'wol', 'state_from', 'ssh', 0 FROM groups WHERE name = 'Lab'").run();
      db.prepare("INSERT INTO settings (key, value) VALUES ('wol.on_wait_s', '3')").run();
      db.prepare("UPDATE machines SET os_address = '127.0.0.1', ssh_port = ? WHERE name = 'pc-1'").run(sshd.port);
      const m = machineRef(db, (db.prepare("SELECT id FROM machines WHERE name = 'pc-1'").get() as { id: number }).id);
      const power = await bindInterface(db, 'wol', 'power');
      expect((await power.state(ctx(db), m)).state).toBe('on');
      l.got.length = 0;
      const r = await power.act(ctx(db), m, 'on');
      expect(r).toMatchObject({ before: 'on', after: 'on', changed: false });
      expect(l.got).toEqual([]);
      // Nothing listens on this port: the OS does not answer.
      db.prepare("UPDATE machines SET ssh_port = ? WHERE name = 'pc-1'").run(await freeTcpPort());
      expect((await power.state(ctx(db), m)).state).toBe('off');
      const off = await power.act(ctx(db), m, 'on');
      expect(off).toMatchObject({ before: 'off', after: 'off', changed: true, verified: false });
      expect(l.got.length).toBe(6);
    } finally {
      db.close();
    }
  }, 30_000);
});
