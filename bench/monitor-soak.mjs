#!/usr/bin/env node
// Soak of `kanri monitor` (issue 26): SECONDS s of mixed valid and hostile traffic at RATE
// datagrams/s (valid v1 PETs from each machine's BMC address; random bytes, mutated PETs, a v3
// discovery with msgID 2^31 and informs that once ended the process, spoofed PETs from an
// address no machine has) plus webhook posts (valid and hostile) while the monitor is SIGKILLed
// and started again every KILL_S s. Prints: datagrams sent, events recorded, webhook events
// acknowledged and recorded (lost must be 0), engine actions run twice (must be 0), chains by
// status, and the monitor processes' RSS high-water mark (VmHWM), with the load average.
//   node bench/monitor-soak.mjs [RATE=2500] [SECONDS=60] [KILL_S=10]
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { openSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, build, cleanup, dist, load, storeFrom, tempDir } from './support.mjs';

build();
const { openStore } = await dist('open-store.js');
const { encodePetVarbind } = await dist('ipmi/pet.js');

const RATE = Number(process.argv[2] ?? 2500);
const SECONDS = Number(process.argv[3] ?? 60);
const KILL_S = Number(process.argv[4] ?? 10);
const N = 50;
const dir = tempDir('kanri-bench-soak-');
const bin = join(dir, 'kanri');
symlinkSync(BIN, bin);
const guid = (i) => `4c4c4544-0000-4000-8000-${String(i).padStart(12, '0')}`;
const bmcAddress = (i) => `127.0.${20 + Math.floor(i / 250)}.${(i % 250) + 1}`;
let seed = 26;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };

// Datagrams that ended the process before the guard (built by hand: see test/support/snmp-ber.ts).
const KILLERS = [
  '303c020103301202050080000000020300ffe30401040201030410300e0400020100020100040004000400301104000400a00b0201010201000201003000',
  '305502010104067075626c6963a648020500800000000201000201003039300d06082b060102010103004301013019060a2b060106030101040100060b2b06010401bf0802030001300d06082b06010201010500040178',
  '305002010104067075626c6963a6430201010201000201003038300d06082b060102010103004301013019060a2b060106030101040100060b2b06010401bf0802030001300c06082b060102010105000600',
  '305202010104067075626c6963a645020102020100020100303a300d06082b060102010103004301013019060a2b060106030101040100060b2b06010401bf0802030001300e06082b06010201010500030200ff',
].map((h) => Buffer.from(h, 'hex'));

function makeStore() {
  return storeFrom(join(dir, 'soak.db'), {
    kanri: 1,
    settings: { 'sim.delay_ms': '0', 'sim.delay_ms.reboot': '300', 'monitor.listen': '127.0.0.1:0', 'monitor.http_listen': '127.0.0.1:0', 'monitor.poll_s': '0', 'monitor.coalesce_s': '20', 'monitor.drain_s': '2', 'monitor.lease_s': '3' },
    policies: [
      { name: 'P', rules: [
        { event: 'CPU障害', triggers: [{ source: 'SystemMonitorEvent', category: 'CPU障害' }], actions: ['notify', 'machine-reboot', 'status-faulted'] },
        { event: 'マシン用カスタム通報1', triggers: [{ source: 'SystemMonitorPerf', event: '10000001' }], actions: ['notify'] },
      ] },
    ],
    groups: [{
      name: 'G', type: 'physical', policy: 'P', drivers: { power: 'sim', deploy: 'sim', monitor: 'sim' }, models: [{ name: 'M' }],
      host_settings: Array.from({ length: N }, (_, i) => ({ host: `h${i}` })),
      pool: Array.from({ length: N }, (_, i) => `m${i}`),
    }],
    machines: Array.from({ length: N }, (_, i) => ({ name: `m${i}`, kind: 'physical', uuid: guid(i), power: 'on', bmc: { type: 'ipmi', address: bmcAddress(i) }, active: { group: 'G', model: 'M', host: `h${i}`, from: 'group_pool' } })),
  });
}

/** One v1 PET per machine (processor IERR), encoded by net-snmp. */
async function pets() {
  const snmp = (await import('net-snmp')).default;
  const cap = createSocket('udp4');
  await new Promise((r) => cap.bind(0, '127.0.0.1', r));
  const got = [];
  cap.on('message', (m) => got.push(m));
  const s = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version1, trapPort: cap.address().port });
  for (let i = 0; i < N; i++) {
    const vb = encodePetVarbind({ guid: Buffer.from(guid(i).replace(/-/g, ''), 'hex'), sequence: 1, timestamp: 1, eventSourceType: 0x20, severity: 0x10, sensorDevice: 0x20, sensorNumber: 1, entity: 3, entityInstance: 1, eventData: [0], manufacturerId: 119, systemId: 0 });
    await new Promise((r, j) => s.trap(`1.3.6.1.4.1.3183.1.1.${(0x07 << 16) | (0x6f << 8)}`, [{ oid: '1.3.6.1.4.1.3183.1.1.1', type: snmp.ObjectType.OctetString, value: vb }], { agentAddr: bmcAddress(i) }, (e) => (e ? j(e) : r())));
    while (got.length <= i) await new Promise((r) => setTimeout(r, 1));
  }
  s.close();
  cap.close();
  return got;
}

function startMonitor(db) {
  const logFile = join(dir, `monitor-${Date.now()}.log`);
  const p = spawn(bin, ['monitor'], { env: { ...process.env, KANRI_DB: db }, stdio: ['ignore', 'ignore', openSync(logFile, 'w')] });
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const look = () => {
      const text = readFileSync(logFile, 'utf8');
      const m = /traps on [^ ;]*:(\d+); HTTP on [^ ;]*:(\d+)/.exec(text);
      if (m) return resolve({ p, port: Number(m[1]), http: Number(m[2]), logFile });
      if (p.exitCode !== null || Date.now() - t0 > 20_000) return reject(new Error(`the monitor did not start:\n${text}`));
      setTimeout(look, 20);
    };
    look();
  });
}

const hwm = (pid) => {
  try { return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); } catch { return 0; }
};

const db = await makeStore();
const valid = await pets();
const socks = await Promise.all([...valid.map((_, i) => bmcAddress(i)), '127.0.9.9'].map((a) => new Promise((r) => { const s = createSocket('udp4'); s.bind(0, a, () => r(s)); })));
let mon = await startMonitor(db);
let restarts = 0;
let peakKb = 0;
let sent = 0, sentValid = 0, sentHostile = 0, deadWindowMs = 0;
let acked = 0, webhook503 = 0, webhookOther = 0, webhookFailed = 0, healthFailed = 0;
const ackedNames = new Set();
const t0 = performance.now();
let nextKill = KILL_S * 1000;
let restarting = false;
let webhookSeq = 0;

async function kill() {
  restarting = true;
  const d0 = performance.now();
  peakKb = Math.max(peakKb, hwm(mon.p.pid));
  const exited = new Promise((r) => mon.p.once('exit', r));
  mon.p.kill('SIGKILL');
  await exited;
  mon = await startMonitor(db);
  restarts++;
  deadWindowMs += performance.now() - d0;
  restarting = false;
}

async function postWebhook() {
  if (restarting) return;
  const n = ++webhookSeq;
  const hostile = n % 3 === 0;
  const name = `soak-${n}`;
  const body = hostile
    ? JSON.stringify({ alerts: [{ status: 'firing', labels: { kanri_event: '10000001', kanri_machine: [true, {}, 7][n % 3] } }] })
    : JSON.stringify({ alerts: [{ status: 'firing', labels: { alertname: name, kanri_event: '10000001', kanri_machine: `m${n % N}` } }] });
  try {
    const r = await fetch(`http://127.0.0.1:${mon.http}/alertmanager`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(8000) });
    const j = await r.json().catch(() => ({}));
    if (r.status === 200) { acked += j.accepted ?? 0; ackedNames.add(name); } else if (r.status === 503) webhook503++; else webhookOther++;
  } catch {
    webhookFailed++; // the process was killed before it answered: not acknowledged
  }
}

async function health() {
  if (restarting) return;
  try {
    const r = await fetch(`http://127.0.0.1:${mon.http}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (r.status !== 200) healthFailed++;
  } catch {
    if (!restarting) healthFailed++;
  }
}

const pending = [];
while (performance.now() - t0 < SECONDS * 1000) {
  const now = performance.now() - t0;
  if (now >= nextKill && !restarting) { nextKill += KILL_S * 1000; pending.push(kill()); }
  const due = Math.floor((now / 1000) * RATE);
  while (sent < due) {
    sent++;
    if (restarting) continue; // nobody listens: counted as sent, never acknowledged
    const r = rnd(10);
    if (r < 5) { const i = rnd(N); socks[i].send(valid[i], mon.port, '127.0.0.1'); sentValid++; }
    else {
      sentHostile++;
      let b;
      if (r === 5) b = KILLERS[rnd(KILLERS.length)];
      else if (r === 6) { b = Buffer.alloc(rnd(300)); for (let k = 0; k < b.length; k++) b[k] = rnd(256); }
      else { b = Buffer.from(valid[rnd(N)]); for (let k = 0; k <= rnd(4); k++) b[rnd(b.length)] = rnd(256); }
      // Hostile traffic from the BMCs' own addresses and from a stranger (spoofed PETs too).
      const from = r === 9 ? socks[N] : socks[rnd(N)];
      from.send(r === 9 ? valid[rnd(N)] : b, mon.port, '127.0.0.1');
    }
  }
  if (sent % 50 === 0) pending.push(postWebhook());
  if (sent % 500 === 0) pending.push(health());
  await new Promise((r) => setImmediate(r));
}
const secs = (performance.now() - t0) / 1000;
await Promise.allSettled(pending);
// Let the last monitor decide and run what it has, then stop it cleanly.
await new Promise((r) => setTimeout(r, 5000));
peakKb = Math.max(peakKb, hwm(mon.p.pid));
await new Promise((r) => { mon.p.once('exit', r); mon.p.kill('SIGTERM'); });
for (const s of socks) s.close();

const store = openStore(db, { readonly: true });
const one = (sql, ...a) => store.prepare(sql).get(...a);
const recordedTraps = one("SELECT count(*) AS n FROM monitor_events WHERE origin = 'trap'").n;
const webhookRows = store.prepare("SELECT detail FROM monitor_events WHERE origin = 'webhook'").all().map((r) => r.detail);
const recordedNames = new Set(webhookRows);
const lost = [...ackedNames].filter((n) => !recordedNames.has(n)).length;
const twice = one("SELECT count(*) AS n FROM (SELECT command FROM jobs WHERE origin = 'policy' GROUP BY command HAVING count(*) > 1)").n;
const chains = store.prepare('SELECT status, count(*) AS n FROM monitor_chains GROUP BY status ORDER BY status').all().map((r) => `${r.n} ${r.status}`).join(', ');
const notified = one('SELECT count(*) AS n FROM events WHERE event_id = 502').n;
const counters = Object.fromEntries(store.prepare('SELECT name, n FROM monitor_counters').all().map((r) => [r.name, r.n]));
store.close();

console.log(`soak: ${SECONDS} s at ${RATE} datagrams/s, SIGKILL + restart every ${KILL_S} s (${restarts} restarts, ${(deadWindowMs / 1000).toFixed(1)} s without a listener); load average ${load()}`);
console.log(`  datagrams sent ${sent} (${(sent / secs).toFixed(0)}/s): valid PETs ${sentValid}, hostile ${sentHostile}; received by the monitors ${counters.datagrams ?? 0}`);
console.log(`  trap events recorded ${recordedTraps}; malformed ${counters.malformed ?? 0}, unanswered ${counters.unanswered ?? 0}, unknown_sender ${counters.unknown_sender ?? 0}`);
console.log(`  webhook: acknowledged ${acked} (200), recorded ${webhookRows.length}, acknowledged and lost ${lost}; 503 ${webhook503}, refused ${webhookOther}, no answer (killed) ${webhookFailed}`);
console.log(`  health checks failed while a monitor ran: ${healthFailed}`);
console.log(`  engine actions run twice: ${twice}; chains: ${chains}; notification events (502) ${notified}`);
console.log(`  RSS high-water mark of the monitor processes: ${(peakKb / 1024).toFixed(1)} MiB`);
await cleanup();
process.exit(lost === 0 && twice === 0 ? 0 : 1);
