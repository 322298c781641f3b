// The trap receiver of `kanri monitor` against net-snmp's snmptrap (PET traps laid out as the
// IPMI PET specification describes, v1, v2c and v3 authPriv) and forwarding to snmptrapd.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePeer } from './support/peers.js';
import { run } from './support/cli.js';
import { fixtureStore, queryAll, tempDir } from './support/store.js';
import { freeUdpPorts } from './support/ipmi-sim.js';
import { type RunningMonitor, chainEnded, counter, counterReaches, eventDecided, lastEventId, petTrapArgs, sendFrom, snmptrap, startMonitor, monitorGroup } from './support/monitor.js';
import { until } from './support/until.js';

const havePeers = requirePeer('snmptrap', 'monitor traps') && requirePeer('snmptrapd', 'monitor trap forwarding');

const G1 = '4c4c4544-0031-3010-8030-b4c04f303101';
const G2 = '4c4c4544-0031-3010-8030-b4c04f303102';
const YAML = `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.communities: "public,ops", monitor.coalesce_s: "0", monitor.trap_relays: "127.0.0.1,127.0.0.78",
  monitor.trap_sources: "1.3.6.1.4.1.119.2.2.4.4=ESMDSVNT" }
${monitorGroup(['m1', 'm2', 'm3'])}machines:
  - { name: m1, kind: physical, uuid: ${G1}, power: on, active: { group: G, model: M, host: h01, from: group_pool } }
  - { name: m2, kind: physical, uuid: ${G2}, power: on, bmc: { type: ipmi, address: 127.0.0.2 }, active: { group: G, model: M, host: h02, from: group_pool } }
  - { name: m3, kind: physical, power: on, mgmt_address: 127.0.0.1, active: { group: G, model: M, host: h03, from: group_pool } }
`;

const hw = (db: string, m: string): string => queryAll<{ h: string }>(db, 'SELECT hardware_status AS h FROM machines WHERE name = ?', m)[0]!.h;

describe.runIf(havePeers)('kanri monitor: traps', () => {
  let db: string;
  let mon: RunningMonitor;
  let trapd: ChildProcess | undefined;
  let trapdLog = '';
  let trapdPort = 0;

  beforeAll(async () => {
    db = fixtureStore(YAML);
    const dir = tempDir();
    [trapdPort] = await freeUdpPorts(1) as [number];
    const conf = join(dir, 'snmptrapd.conf');
    writeFileSync(conf, 'authCommunity log fwdcomm\ndisableAuthorization no\n');
    trapdLog = join(dir, 'trapd.log');
    writeFileSync(trapdLog, '');
    trapd = spawn('snmptrapd', ['-f', '-n', '-M', '/dev/null', '-C', '-c', conf, '-Lf', trapdLog, '-A', '-F', 'FWD version=%s community=%u agent=%a trap=%N.%q %v\n', `udp:127.0.0.1:${trapdPort}`], { stdio: 'ignore' });
    // snmptrapd says it is listening in its log (the peer's state)
    await until('snmptrapd to listen', () => /NET-SNMP version/.test(readFileSync(trapdLog, 'utf8')), 10_000);
    expect(run('dscli', ['setTrapForward', '1', `127.0.0.1:${trapdPort}`, 'community=fwdcomm'], { db }).code).toBe(0);
    mon = await startMonitor(db);
  }, 60_000);

  afterAll(async () => {
    await mon?.stop();
    trapd?.kill('SIGTERM');
  });

  it('a v1 PET is decoded, matched by system GUID and runs the standard policy (CPU障害 → notify, 故障)', async () => {
    expect(snmptrap(petTrapArgs({ port: mon.port, guid: G1, sensorType: 0x07, offset: 0x00 })).code).toBe(0);
    const decided = await eventDecided(db, { event: 'BMC[0x00076F00]', machine: 'm1' });
    expect(await chainEnded(db, decided.chain_id!)).toMatchObject({ status: 'completed' });
    expect(hw(db, 'm1')).toBe('faulted');
    const ev = queryAll<{ origin: string; event: string; category: string; decision: string }>(db, "SELECT origin, event, category, decision FROM monitor_events WHERE machine_id = (SELECT id FROM machines WHERE name = 'm1')");
    expect(ev).toEqual([expect.objectContaining({ origin: 'trap', event: 'BMC[0x00076F00]', category: 'CPU障害' })]);
    expect(ev[0]!.decision).toMatch(/rule 2 CPU障害: notify, status-faulted/);
    const e502 = queryAll<{ message: string }>(db, 'SELECT message FROM events WHERE event_id = 502 ORDER BY id');
    expect(e502.map((e) => e.message)).toEqual([
      expect.stringMatching(/^Notification received\. \(SystemMonitorEvent BMC\[0x00076F00\] CPU障害 m1: PET Processor: /),
      expect.stringMatching(/^Started the action \(Machine setting \/ Set status: failed \(m1\)\) triggered by the notification\. Management ID: P\d{5}\.2$/),
      expect.stringMatching(/^Completed the action \(Machine setting \/ Set status: failed \(m1\)\)/),
    ]);
  });

  it('v2c PET matched by the v1 agent address of its BMC; a trap of a mapped enterprise by the sender address', async () => {
    const from = lastEventId(db);
    expect(snmptrap(petTrapArgs({ port: mon.port, guid: '00000000-0000-0000-0000-000000000009', sensorType: 0x0c, offset: 0x01, agent: '127.0.0.2' })).code).toBe(0);
    const memory = await eventDecided(db, { origin: 'trap', source: 'SystemMonitorEvent', event: 'BMC[0x000C6F01]', machine: 'm2' }, from);
    expect(memory.chain_id).not.toBe(null);
    // ESMPRO agent trap: enterprise mapped to ESMDSVNT by monitor.trap_sources, sent from 127.0.0.1 = m3's management address.
    expect(snmptrap(['-v', '2c', '-c', 'ops', `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.119.2.2.4.4.0.1073741825', '1.3.6.1.2.1.1.5.0', 's', 'm3']).code).toBe(0);
    expect(await eventDecided(db, { origin: 'trap', event: 'ESMDSVNT[0x40000001]', machine: 'm3' }, from)).toMatchObject({ decision: expect.stringMatching(/rule 10 マシン起動報告/) });
    expect(await chainEnded(db, memory.chain_id!)).toMatchObject({ status: 'completed' });
    expect(queryAll(db, 'SELECT action, status FROM monitor_chain_actions WHERE chain_id = ? AND idx = 1', memory.chain_id)).toEqual([{ action: 'status-faulted', status: 'completed' }]);
    expect(hw(db, 'm2')).toBe('faulted');
  });

  it('v3 authPriv traps of a configured user are taken after SIGHUP; unknown users are counted and ignored', async () => {
    const add = run('kanri', ['monitor', 'user', 'add', 'ops3', '--auth', 'sha', '--priv', 'aes'], { db, input: 'authpass123\nprivpass123\n' });
    expect(add.code, add.err).toBe(0);
    expect(run('kanri', ['monitor', 'user', 'list'], { db }).out).toBe('ops3 authPriv sha/aes\n');
    const after = lastEventId(db);
    const rejected = counter(db, 'rejected_v3');
    const reloads = counter(db, 'reloads');
    mon.proc.kill('SIGHUP');
    await counterReaches(db, 'reloads', reloads + 1, 10_000);
    const v3 = (user: string, auth: string) => snmptrap(['-v', '3', '-u', user, '-l', 'authPriv', '-a', 'SHA', '-A', auth, '-x', 'AES', '-X', 'privpass123', '-e', '0x8000000001020304',
      `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.3183.1.1.0.' + ((0x0d << 16) | (0x6f << 8) | 0x01), '1.3.6.1.4.1.3183.1.1.1', 'x', G1.replace(/-/g, '') + '00'.repeat(30)]);
    expect(v3('ops3', 'authpass123').code).toBe(0);
    expect(v3('intruder', 'authpass123').code).toBe(0);
    await eventDecided(db, { origin: 'trap', source: 'SystemMonitorEvent', event: 'BMC[0x000D6F01]' }, after, 10_000);
    await counterReaches(db, 'rejected_v3', rejected + 1, 10_000);
  });

  it('a captured v3 authPriv trap sent again is refused (seen already; engine boots and time kept per engine)', async () => {
    const cap = createSocket('udp4');
    await new Promise<void>((r) => cap.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<Buffer>((r) => cap.once('message', (m) => r(m)));
    snmptrap(['-v', '3', '-u', 'ops3', '-l', 'authPriv', '-a', 'SHA', '-A', 'authpass123', '-x', 'AES', '-X', 'privpass123', '-e', '0x8000000001020305',
      `127.0.0.1:${cap.address().port}`, '', '1.3.6.1.4.1.3183.1.1.0.' + ((0x0d << 16) | (0x6f << 8) | 0x02), '1.3.6.1.4.1.3183.1.1.1', 'x', G1.replace(/-/g, '') + '00'.repeat(30)]);
    const raw = await got;
    const from = lastEventId(db);
    cap.send(raw, mon.port, '127.0.0.1');
    await eventDecided(db, { origin: 'trap', event: 'BMC[0x000D6F02]' }, from, 10_000);
    for (let i = 0; i < 3; i++) cap.send(raw, mon.port, '127.0.0.1');
    const deadline = Date.now() + 10_000;
    const replayed = (): number => queryAll<{ n: number }>(db, "SELECT n FROM monitor_counters WHERE name = 'replayed_v3'")[0]?.n ?? 0;
    while (replayed() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(replayed()).toBe(3);
    expect(queryAll(db, "SELECT id FROM monitor_events WHERE event = 'BMC[0x000D6F02]'")).toHaveLength(1);
    expect(queryAll(db, "SELECT engine_id FROM monitor_snmp_engines WHERE engine_id = '8000000001020305'")).toHaveLength(1);
    cap.close();
  });

  it('wrong communities and unknown senders are counted, unclassified traps kept as alerts; getAlertList newest first', async () => {
    expect(snmptrap(['-v', '2c', '-c', 'nope', `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.8072.2.3.0.1']).code).toBe(0);
    // From a loopback address no machine has and that is no relay: refused before it is read.
    await sendFrom('127.0.0.77', mon.port, petTrapArgs({ port: 0, guid: G1, sensorType: 0x07, offset: 0x01, agent: '127.0.0.77' }));
    // From a relay (that is no machine), with a GUID no machine has.
    await sendFrom('127.0.0.78', mon.port, petTrapArgs({ port: 0, guid: '11111111-2222-3333-4444-555555555555', sensorType: 0x07, offset: 0x01, agent: '127.0.0.77' }));
    expect(snmptrap(['-v', '1', '-c', 'public', `127.0.0.1:${mon.port}`, '1.3.6.1.4.1.8072.9', '127.0.0.1', '6', '17', '', '1.3.6.1.2.1.1.5.0', 's', 'who']).code).toBe(0);
    // The counters reach the store within a second of being counted.
    await counterReaches(db, 'unknown_source', 1, 10_000);
    await counterReaches(db, 'unknown_sender', 1, 10_000);
    await counterReaches(db, 'wrong_community', 1, 10_000);
    await counterReaches(db, 'unclassified', 1, 10_000);
    const status = run('kanri', ['monitor', 'status'], { db });
    expect(status.out).toMatch(/wrong_community=[1-9]/);
    expect(status.out).toMatch(/unclassified=[1-9]/);
    expect(status.out).toMatch(/unknown_source=[1-9]/);
    expect(status.out).toMatch(/unknown_sender=[1-9]/);
    const list = run('dscli', ['getAlertList', '3'], { db });
    expect(list.code).toBe(0);
    const lines = list.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ m3 unknown 1\.3\.6\.1\.4\.1\.8072\.9\.17 1\.3\.6\.1\.2\.1\.1\.5\.0=who$/);
    expect(lines[1]).toMatch(/ - critical BMC\[0x00076F01\] Processor: /);
    const m2 = run('dscli', ['getAlertList', 'm2'], { db });
    expect(m2.out).toMatch(/^\S+ m2 critical BMC\[0x000C6F01\] Memory: [^\n]*\n$/);
  });

  it('every accepted trap reaches snmptrapd within 100 ms: v1 as v1, v2c as v2c, with the destination community', async () => {
    const before = readFileSync(trapdLog, 'utf8').length;
    const t0 = Date.now();
    expect(snmptrap(['-v', '1', '-c', 'public', `127.0.0.1:${mon.port}`, '1.3.6.1.4.1.8072.9', '127.0.0.9', '6', '42', '', '1.3.6.1.2.1.1.5.0', 's', 'v1-forward']).code).toBe(0);
    expect(snmptrap(['-v', '2c', '-c', 'ops', `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.8072.2.3.0.7', '1.3.6.1.2.1.1.5.0', 's', 'v2c-forward']).code).toBe(0);
    let log = '';
    while (Date.now() - t0 < 5000) {
      log = readFileSync(trapdLog, 'utf8').slice(before);
      if (log.includes('v1-forward') && log.includes('v2c-forward')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    // snmptrapd's %s is the version (0: v1, 1: v2c), %u the community it received.
    expect(log).toMatch(/FWD version=0 community=fwdcomm agent=127\.0\.0\.9 trap=[^\n]*8072\.9\.\.42 [^\n]*v1-forward/);
    expect(log).toMatch(/FWD version=1 community=fwdcomm [^\n]*8072\.2\.3\.0\.7[^\n]*v2c-forward/);
    // What the monitor rejected is not forwarded.
    expect(log).not.toContain('nope');
  });

  it('the forwarding delay of one trap is under 100 ms', async () => {
    // Measured at the destination: a socket of our own as the forwarding destination 2.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    expect(run('dscli', ['setTrapForward', '2', `127.0.0.1:${sock.address().port}`, 'community=c2'], { db }).code).toBe(0);
    const reloads = counter(db, 'reloads');
    mon.proc.kill('SIGHUP');
    await counterReaches(db, 'reloads', reloads + 1, 10_000);
    const send = createSocket('udp4');
    const got = new Promise<{ at: number; msg: Buffer }>((r) => sock.once('message', (msg) => r({ at: performance.now(), msg })));
    // A v2c trap built by snmptrap, captured once and replayed from here so that the send time is known.
    const cap = createSocket('udp4');
    await new Promise<void>((r) => cap.bind(0, '127.0.0.1', () => r()));
    const captured = new Promise<Buffer>((r) => cap.once('message', (m) => r(m)));
    snmptrap(['-v', '2c', '-c', 'public', `127.0.0.1:${cap.address().port}`, '', '1.3.6.1.4.1.8072.2.3.0.9', '1.3.6.1.2.1.1.5.0', 's', 'timed']);
    const raw = await captured;
    const t0 = performance.now();
    send.send(raw, mon.port, '127.0.0.1');
    const { at, msg } = await got;
    expect(at - t0).toBeLessThan(100);
    expect(msg.includes(Buffer.from('c2'))).toBe(true);
    expect(msg.subarray(msg.indexOf(Buffer.from('c2')) + 2).equals(raw.subarray(raw.indexOf(Buffer.from('public')) + 6))).toBe(true);
    for (const s of [sock, send, cap]) s.close();
  });

  it('10,000 random and mutated datagrams never stop the receiver; a good trap afterwards is still decided', async () => {
    const s = createSocket('udp4');
    const good = Buffer.from('302902010104067075626c6963a71c020101020100020100301130' + '0f06082b06010201010500040377686f', 'hex');
    let seed = 12345;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 10_000; i++) {
      let b: Buffer;
      if (i % 2) {
        b = Buffer.from(good);
        for (let k = 0; k < 1 + (rnd() % 4); k++) b[rnd() % b.length] = rnd() & 0xff;
        if (i % 7 === 0) b = b.subarray(0, rnd() % b.length);
      } else {
        b = Buffer.alloc(rnd() % 200);
        for (let k = 0; k < b.length; k++) b[k] = rnd() & 0xff;
        if (i % 3 === 0 && b.length > 2) b[0] = 0x30;
      }
      s.send(b, mon.port, '127.0.0.1');
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 1000));
    s.close();
    const from = lastEventId(db);
    expect(mon.proc.exitCode).toBe(null);
    run('kanri', ['machine', 'reset', 'm3'], { db });
    expect(snmptrap(['-v', '2c', '-c', 'public', `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.119.2.2.4.4.0.3221225474']).code).toBe(0);
    await eventDecided(db, { origin: 'trap', source: 'SystemMonitorEvent', event: 'ESMDSVNT[0xC0000002]', machine: 'm3' }, from, 10_000);
    expect(run('kanri', ['monitor', 'status'], { db }).out).toMatch(/malformed=\d{3,}/);
  }, 60_000);
});
