// A running `kanri monitor` under mutated input: 12,000 SNMP v1/v2c/v3 datagrams (built by
// hand, then bytes flipped, cut, lengths and integers bent) and 1,200 webhook and 1,200
// Redfish-event bodies (types swapped, text cut and flipped). Throughout, its health check is
// answered; afterwards it is alive, and every event it acknowledged (webhook 200 `accepted`,
// Redfish 204 records) is in the store — nothing more, nothing less. Seeded: a failure
// repeats.
import { createSocket } from 'node:dgram';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { tokenHash } from '../src/adapters/redfish/subscriptions.js';
import { fixtureStore, queryAll } from './support/store.js';
import { requirePeer } from './support/peers.js';
import { freeTcpPort } from './support/ipmi-sim.js';
import { type Certs, makeCerts } from './support/redfish.js';
import { type RunningMonitor, startMonitor, monitorGroup } from './support/monitor.js';
import { discovery, inform, int, oct, tlv, trapV1, trapV2, trapV3 } from './support/snmp-ber.js';

const havePeers = requirePeer('openssl', 'monitor fuzz');
const TOKEN = 'fuzz-context-token-0123456789';

let seed = 0x2626;
const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;

/** One mutation of a datagram: flipped bytes, a cut, a bent length, a boundary integer spliced in. */
function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (rnd(5)) {
    case 0: for (let k = 0; k <= rnd(4); k++) out[rnd(out.length)] = rnd(256); return out;
    case 1: return out.subarray(0, rnd(out.length));
    case 2: { const i = rnd(out.length); out[i] = pick([0x00, 0x7f, 0x80, 0x81, 0x84, 0xff]); return out; }
    case 3: {
      const i = rnd(out.length);
      return Buffer.concat([out.subarray(0, i), pick([int(2 ** 31), int(2 ** 32 - 1), tlv(0x02, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])), tlv(0x06), tlv(0x03, Buffer.from([7, 0xff])), tlv(0x44, Buffer.from([1, 2]))]), out.subarray(i)]);
    }
    default: return Buffer.concat([out, Buffer.alloc(rnd(64), rnd(256))]);
  }
}

const HOSTILE: readonly unknown[] = [true, false, null, 0, -1, 2 ** 53, 1e308, '', 'x'.repeat(5000), {}, [], [[[[[[]]]]]], JSON.parse('{"__proto__":{"x":1}}') as unknown, '\u001b[2J\n', '../../etc/passwd'];

/** One mutation of a JSON body: a value swapped for a hostile one, or the text cut or flipped. */
function mutateJson(o: unknown): string {
  const copy = JSON.parse(JSON.stringify(o)) as unknown;
  if (rnd(3) === 0) {
    const t = JSON.stringify(copy);
    const b = Buffer.from(t);
    if (rnd(2)) return b.subarray(0, rnd(b.length)).toString('latin1');
    for (let k = 0; k <= rnd(3); k++) b[rnd(b.length)] = rnd(256);
    return b.toString('latin1');
  }
  // Swap 1–3 values somewhere in the document.
  for (let n = 0; n <= rnd(3); n++) {
    let node = copy as Record<string, unknown>;
    for (let d = 0; d < 4; d++) {
      const keys = node && typeof node === 'object' ? Object.keys(node) : [];
      if (keys.length === 0) break;
      const k = pick(keys);
      if (rnd(3) === 0 || typeof node[k] !== 'object' || node[k] === null) { node[k] = structuredClone(pick(HOSTILE)); break; }
      node = node[k] as Record<string, unknown>;
    }
  }
  return JSON.stringify(copy);
}

const YAML = (listenPort: number, certs: Certs): string => `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.http_listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "300",
  monitor.communities: "public",
  redfish.listener_address: "127.0.0.1", redfish.listener_port: "${listenPort}",
  redfish.listener_cert: "${certs.caSigned.cert}", redfish.listener_key: "${certs.caSigned.key}",
  redfish.event_destination: "https://127.0.0.1:${listenPort}/redfish/events" }
${monitorGroup(['m1'])}machines:
  - { name: m1, kind: physical, power: on, bmc: { type: redfish, address: 127.0.0.1, port: 1, user: admin }, active: { group: G, model: M, host: h01, from: group_pool } }
`;

describe.runIf(havePeers)('kanri monitor: fuzz', () => {
  let db: string;
  let mon: RunningMonitor;
  let listenPort: number;
  let ca: Buffer;
  let healthChecks = 0;
  const health = async (): Promise<void> => {
    const r = await fetch(`http://127.0.0.1:${mon.httpPort}/healthz`, { signal: AbortSignal.timeout(3000) });
    expect(r.status).toBe(200);
    healthChecks++;
  };

  beforeAll(async () => {
    const certs = makeCerts();
    ca = readFileSync(certs.caCert);
    listenPort = await freeTcpPort();
    db = fixtureStore(YAML(listenPort, certs));
    const w = openStore(db);
    w.prepare("INSERT INTO redfish_event_subscriptions (machine_id, uri, destination, token_hash, created_at) VALUES ((SELECT id FROM machines WHERE name = 'm1'), '/redfish/v1/EventService/Subscriptions/1', ?, ?, ?)")
      .run(`https://127.0.0.1:${listenPort}/redfish/events`, tokenHash(TOKEN), new Date().toISOString());
    w.close();
    mon = await startMonitor(db);
  }, 60_000);

  afterAll(async () => { await mon?.stop(); });

  it('12,000 mutated SNMP v1/v2c/v3 datagrams: alive, health answered throughout', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const seeds = [
      trapV1('1.3.6.1.4.1.3183.1.1', '127.0.0.1', 0x076f00, 'pet'), trapV1('1.3.6.1.4.1.8072.9', '127.0.0.1', 17, 'v1'),
      trapV2(7, '1.3.6.1.4.1.8072.2.3.0.1', 'v2c'), inform(9, oct('inform')), discovery(11), trapV3(13, 'nobody'),
    ];
    for (let i = 0; i < 12_000; i++) {
      s.send(mutate(pick(seeds)), mon.port, '127.0.0.1');
      if (i % 500 === 499) {
        await health();
        expect(mon.proc.exitCode).toBe(null);
      }
    }
    s.close();
    await health();
    // Counted as received (the counters reach the store within a second or so).
    const received = (): number => queryAll<{ n: number }>(db, "SELECT n FROM monitor_counters WHERE name = 'datagrams'")[0]?.n ?? 0;
    const deadline = Date.now() + 15_000;
    while (received() < 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(received()).toBeGreaterThan(10_000);
    expect(mon.proc.exitCode).toBe(null);
  }, 60_000);

  it('1,200 mutated webhook bodies and 1,200 mutated Redfish event bodies: every acknowledged event is in the store', async () => {
    const webhookSeed = { version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'fuzz', kanri_event: '10000001', kanri_machine: 'm1', kanri_source: 'SystemMonitorPerf' }, annotations: { summary: 's' } }] };
    const redfishSeed = {
      Context: TOKEN,
      Events: [{ EventType: 'Alert', EventId: 'e1', MessageId: 'ResourceEvent.1.0.ResourceErrorsDetected', MessageSeverity: 'Critical', Message: 'CPU', OriginOfCondition: { '@odata.id': '/redfish/v1/Systems/1/Processors/CPU1' }, EventTimestamp: '2026-01-01T00:00:00Z' }],
    };
    let acknowledgedWebhook = 0;
    let acknowledgedRedfish = 0;
    const codes = new Map<string, number>();
    const count = (k: string): void => { codes.set(k, (codes.get(k) ?? 0) + 1); };
    const agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca });
    const postRedfish = (body: string): Promise<number> => new Promise((resolve) => {
      const req = https.request({ host: '127.0.0.1', port: listenPort, path: '/redfish/events', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 15_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
      req.on('timeout', () => req.destroy());
      req.end(body);
    });
    const jobs: Array<() => Promise<void>> = [];
    for (let i = 0; i < 1200; i++) {
      jobs.push(async () => {
        const body = i % 10 === 0 ? JSON.stringify(webhookSeed) : mutateJson(webhookSeed);
        const r = await fetch(`http://127.0.0.1:${mon.httpPort}/alertmanager`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(15_000) });
        const text = await r.text();
        count(`webhook ${r.status}`);
        expect([200, 400, 413, 422, 503]).toContain(r.status);
        if (r.status === 200) acknowledgedWebhook += (JSON.parse(text) as { accepted: number }).accepted;
      });
      jobs.push(async () => {
        const body = i % 10 === 0 ? JSON.stringify({ ...redfishSeed, Events: [{ ...redfishSeed.Events[0], EventId: `ok-${i}` }] }) : mutateJson(redfishSeed);
        const status = await postRedfish(body);
        count(`redfish ${status}`);
        expect([204, 400, 403, 413, 415, 503, -1]).toContain(status);
        if (status === 204) acknowledgedRedfish += (JSON.parse(body) as { Events: unknown[] }).Events.length;
      });
    }
    // Eight at a time, a health check between rounds of 200.
    for (let k = 0; k < jobs.length; k += 8) {
      await Promise.all(jobs.slice(k, k + 8).map((j) => j()));
      if (k % 200 === 0) await health();
    }
    agent.destroy();
    await health();
    expect(mon.proc.exitCode).toBe(null);
    expect(acknowledgedWebhook).toBeGreaterThan(100);
    expect(acknowledgedRedfish).toBeGreaterThan(100);
    // Every acknowledged event is recorded (committed before the answer): exactly those.
    expect(queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM monitor_events WHERE origin = 'webhook'")[0]!.n).toBe(acknowledgedWebhook);
    expect(queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM dscli_alerts WHERE message LIKE 'Redfish %'")[0]!.n).toBe(acknowledgedRedfish);
    expect(healthChecks).toBeGreaterThan(30);
    expect([...codes.keys()].some((k) => k.endsWith(' 400'))).toBe(true);
  }, 120_000);
});
