// `kanri monitor` against hostile senders on loopback, one class of attack each: datagrams
// that made net-snmp's receiver throw, replies reflected to spoofed sources, webhook labels
// of the wrong type, a store held by another process (nothing acknowledged is lost, HTTP is
// still answered), idle connections that fill a listener. Each sender is written here.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { fixtureStore, queryAll, storeHolder, tempDir } from './support/store.js';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirePeer } from './support/peers.js';
import { type RunningMonitor, chainsSwept, eventDecided, lastEventId, petTrapArgs, sendFrom, startMonitor, monitorGroup } from './support/monitor.js';
import { until } from './support/until.js';
import { discovery, inform, oct, tlv } from './support/snmp-ber.js';

const havePeers = requirePeer('snmptrap', 'monitor hostile senders');

const G1 = '4c4c4544-0031-3010-8030-b4c04f3031a1';
const YAML = `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.http_listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0",
  monitor.communities: "public" }
${monitorGroup(['m1', 'm2'])}machines:
  - { name: m1, kind: physical, uuid: ${G1}, power: on, bmc: { type: ipmi, address: 127.0.0.2 }, active: { group: G, model: M, host: h01, from: group_pool } }
  - { name: m2, kind: physical, power: on, active: { group: G, model: M, host: h02, from: group_pool } }
`;

async function udpFrom(address: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  return s;
}

/** Sends a datagram from `s` and collects what comes back within ms. */
async function exchange(s: UdpSocket, port: number, b: Buffer, ms = 400): Promise<Buffer[]> {
  const got: Buffer[] = [];
  const on = (m: Buffer): void => { got.push(m); };
  s.on('message', on);
  s.send(b, port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, ms));
  s.off('message', on);
  return got;
}

const counters = (db: string): Record<string, number> => Object.fromEntries(queryAll<{ name: string; n: number }>(db, 'SELECT name, n FROM monitor_counters').map((r) => [r.name, r.n]));

describe.runIf(havePeers)('kanri monitor: hostile senders', () => {
  let db: string;
  let mon: RunningMonitor;
  let base: string;
  const health = async (): Promise<number> => (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
  const post = (body: unknown, signal = AbortSignal.timeout(20_000)): Promise<Response> =>
    fetch(`${base}/alertmanager`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal });
  const alert = (labels: Record<string, unknown>): unknown => ({ version: '4', status: 'firing', alerts: [{ status: 'firing', labels, annotations: {} }] });

  beforeAll(async () => {
    db = fixtureStore(YAML);
    mon = await startMonitor(db);
    base = `http://127.0.0.1:${mon.httpPort}`;
  }, 60_000);

  afterAll(async () => { await mon?.stop(); });

  it('datagrams that made the receiver throw (v3 discovery msgID ≥ 2³¹; v2c informs with request-id ≥ 2³¹, an empty OID, a BIT STRING) stop nothing', async () => {
    // From the machine's own BMC address: a peer the receiver would answer, so the encoder runs.
    const bmc = await udpFrom('127.0.0.2');
    for (const d of [discovery(2 ** 31), discovery(2 ** 32 - 1), inform(2 ** 31, oct('x')), inform(1, tlv(0x06)), inform(2, tlv(0x03, Buffer.from([0, 0xff])))]) {
      await exchange(bmc, mon.port, d, 100);
      expect(mon.proc.exitCode).toBe(null);
    }
    expect(await health()).toBe(200);
    // A well-formed inform from the BMC is answered (a Response, PDU 0xA2) and taken.
    const answered = await exchange(bmc, mon.port, inform(77, oct('ok')));
    expect(answered.length).toBe(1);
    expect(answered[0]!.includes(Buffer.from([0xa2]))).toBe(true);
    bmc.close();
    // The receiver still decides a good trap from the BMC.
    const from = lastEventId(db);
    await sendFrom('127.0.0.2', mon.port, petTrapArgs({ port: 0, guid: G1, sensorType: 0x07, offset: 0x00 }));
    await eventDecided(db, { origin: 'trap', source: 'SystemMonitorEvent', event: 'BMC[0x00076F00]', sender: '127.0.0.2' }, from, 10_000);
    await until('unanswered counted', () => (counters(db).unanswered ?? 0) >= 3);
  });

  it('nothing is reflected to a source that is no known peer; its v1/v2c traps are refused (spoofing)', async () => {
    const stranger = await udpFrom('127.0.0.88');
    expect(await exchange(stranger, mon.port, inform(5, oct('spoof')))).toEqual([]);
    expect(await exchange(stranger, mon.port, discovery(7))).toEqual([]);
    stranger.close();
    // A PET naming m1's GUID, from an address that is not m1's BMC: not taken.
    const before = queryAll<{ n: number }>(db, 'SELECT count(*) AS n FROM monitor_events')[0]!.n;
    await sendFrom('127.0.0.88', mon.port, petTrapArgs({ port: 0, guid: G1, sensorType: 0x07, offset: 0x01 }));
    await until('unknown_sender counted', () => (counters(db).unknown_sender ?? 0) >= 2);
    expect(queryAll<{ n: number }>(db, 'SELECT count(*) AS n FROM monitor_events')[0]!.n).toBe(before);
  });

  it('webhook labels of the wrong type are a 400, never a throw; kanri_machine is a name, never a row id', async () => {
    for (const v of [true, {}, [], 1, null]) {
      const r = await post(alert({ kanri_event: '10000001', kanri_machine: v }));
      expect(r.status, JSON.stringify(v)).toBe(400);
      expect((await r.json() as { error: string }).error).toMatch(/kanri_machine is not a string/);
    }
    for (const bad of [alert({ kanri_event: 5 }), alert({ kanri_event: '11000001', kanri_group: ['G'] }), { alerts: [null] }, { alerts: [{ labels: 'x' }] }, { alerts: {} }, '[]', 'null', '"x"']) {
      expect((await post(bad)).status, JSON.stringify(bad)).toBe(400);
    }
    // '1' is looked up as a name: there is no machine called 1 (machine 1 exists by row id).
    const r = await post(alert({ kanri_event: '10000001', kanri_machine: '1' }));
    expect(r.status).toBe(422);
    expect(await r.json()).toMatchObject({ accepted: 0, refused: [{ alert: 0, reason: 'machine not found: 1' }] });
    // Hardware events are not taken over HTTP unless configured.
    const hw = await post(alert({ kanri_event: 'BMC[0x00076F00]', kanri_source: 'SystemMonitorEvent', kanri_machine: 'm1' }));
    expect(hw.status).toBe(422);
    expect(JSON.stringify(await hw.json())).toMatch(/hardware events/);
    expect(mon.proc.exitCode).toBe(null);
    expect(await health()).toBe(200);
  });

  it('the webhook answers 200 only once the event is committed; a store held by another process: HTTP still answered, nothing taken is lost, 503 when it stays held', async () => {
    // Answered after the commit.
    const ok = await post(alert({ kanri_event: '10000001', kanri_machine: 'm2', alertname: 'acknowledged' }));
    expect(ok.status).toBe(200);
    const holder = storeHolder(db);
    holder.hold();
    let released = false;
    try {
      // While another process holds the store: traps keep being received, health is answered at once.
      const bmc = await udpFrom('127.0.0.2');
      const traps = 40;
      for (let i = 0; i < traps; i++) bmc.send(inform(1000 + i, oct(`held-${i}`)), mon.port, '127.0.0.1');
      const t0 = Date.now();
      expect(await health()).toBe(200);
      expect(Date.now() - t0).toBeLessThan(1500);
      // A delivery waits for the commit: answered after the release, 200, recorded.
      const waiting = post(alert({ kanri_event: '10000001', kanri_machine: 'm2', alertname: 'held-short' }));
      await new Promise((r) => setTimeout(r, 1500));
      expect(await health()).toBe(200);
      holder.release();
      released = true;
      expect((await waiting).status).toBe(200);
      await until('every trap of the held time recorded as an alert', () =>
        queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM dscli_alerts WHERE message LIKE '%held-%'")[0]!.n === traps);
      bmc.close();
      // Held longer than the delivery may wait: 503 with Retry-After, and the event was withdrawn (not recorded).
      holder.hold();
      released = false;
      const r = await post(alert({ kanri_event: '10000001', kanri_machine: 'm2', alertname: 'held-long' }));
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      holder.release();
      released = true;
    } finally {
      if (!released) holder.release();
      holder.close();
    }
    // A sweep after the release writes what the intake still held: the 503'd delivery is not among it.
    await chainsSwept(db);
    expect(await health()).toBe(200);
    const rows = queryAll<{ detail: string }>(db, "SELECT detail FROM monitor_events WHERE origin = 'webhook' ORDER BY id").map((x) => x.detail);
    expect(rows).toEqual(['acknowledged', 'held-short']);
    expect(mon.proc.exitCode).toBe(null);
  }, 60_000);

  it('a peer holding hundreds of idle connections takes only its own share: others are still answered', async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const s = connect({ host: '127.0.0.1', port: mon.httpPort!, localAddress: '127.0.0.99' });
      s.on('error', () => undefined);
      idle.push(s);
    }
    await new Promise((r) => setTimeout(r, 500));
    // Most of them were closed by the listener (per-source limit); the rest are the peer's share.
    const open = idle.filter((s) => !s.destroyed && s.readyState === 'open').length;
    expect(open).toBeLessThanOrEqual(16);
    expect(await health()).toBe(200);
    for (const s of idle) s.destroy();
    const status = run('kanri', ['monitor', 'status'], { db });
    expect(status.code).toBe(0);
  });

  it('the webhook token: required off loopback, its file private, the Bearer scheme in any case', async () => {
    const dir = tempDir();
    const token = join(dir, 'token');
    writeFileSync(token, 'sekret-26\n', { mode: 0o644 });
    chmodSync(token, 0o644);
    const other = fixtureStore(YAML.replace('monitor.http_listen: "127.0.0.1:0"', `monitor.http_listen: "127.0.0.1:0", monitor.http_token_file: "${token}"`));
    const open = run('kanri', ['monitor'], { db: other, timeout: 15_000 });
    expect(open.code).toBe(1);
    expect(open.err).toMatch(/monitor\.http_token_file [^\n]* is readable by others \(mode 644\)/);
    const wide = fixtureStore(YAML.replace('monitor.http_listen: "127.0.0.1:0"', 'monitor.http_listen: "0.0.0.0:0"'));
    const noToken = run('kanri', ['monitor'], { db: wide, timeout: 15_000 });
    expect(noToken.code).toBe(1);
    expect(noToken.err).toMatch(/is not loopback: set monitor\.http_token_file/);
    chmodSync(token, 0o600);
    const m = await startMonitor(other);
    try {
      const url = `http://127.0.0.1:${m.httpPort}/alertmanager`;
      const body = JSON.stringify(alert({ kanri_event: '10000001', kanri_machine: 'm2' }));
      expect((await fetch(url, { method: 'POST', body })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body, headers: { authorization: 'Bearer wrong-one' } })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body, headers: { authorization: 'bearer sekret-26' } })).status).toBe(200);
    } finally {
      await m.stop();
    }
  }, 60_000);
});
