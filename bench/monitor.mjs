#!/usr/bin/env node
// kanri monitor benchmarks (issue 11), each figure printed next to its anchor measured in
// the same run, with the load average:
//  1. Intake: PET traps at RATE/s for SECONDS s from 200 sources (200 loopback addresses,
//     one BMC GUID each) into `kanri monitor`: traps sent vs events recorded (0 lost), and the
//     monitor's CPU time; the same stream into net-snmp's snmptrapd logging to a file.
//  2. Storm: 10,000 traps from 200 BMCs in 2 s → chains per machine (exactly 1 expected);
//     the same storm into snmptrapd.
//  3. Latency: event received → first policy job started (rule without suppression: a
//     reboot through the engine), p50/p99 over 200 events; anchor: `pvmutl reboot` from exec
//     to its job started.
//   npm run build && node bench/monitor.mjs [RATE] [SECONDS]
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, openSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStore } = await import(join(root, 'dist/open-store.js'));
const { readDataCentre } = await import(join(root, 'dist/config/validate.js'));
const { applyDataCentre } = await import(join(root, 'dist/config/apply.js'));
const { encodePetVarbind } = await import(join(root, 'dist/ipmi/pet.js'));

const RATE = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 10);
const N = 200;
const dir = mkdtempSync(join(tmpdir(), 'kanri-bench-mon-'));
const bin = join(dir, 'kanri');
symlinkSync(join(root, 'bin/kanri.js'), bin);
symlinkSync(join(root, 'bin/kanri.js'), join(dir, 'pvmutl'));
const guid = (i) => `4c4c4544-0000-4000-8000-${String(i).padStart(12, '0')}`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
/** Machine i's BMC address: the loopback address its traps are sent from (v1/v2c traps are taken only from it). */
const bmcAddress = (i) => `127.0.${1 + Math.floor((i + 2) / 250)}.${(i + 2) % 250 + 1}`;

function store(name, settings, actions) {
  const path = join(dir, name);
  const drivers = { power: 'sim', deploy: 'sim', monitor: 'sim' };
  const dc = {
    kanri: 1,
    settings: { 'sim.delay_ms': '0', 'monitor.listen': '127.0.0.1:0', 'monitor.poll_s': '0', ...settings },
    policies: [{ name: 'P', rules: [{ event: 'CPU障害', triggers: [{ source: 'SystemMonitorEvent', category: 'CPU障害' }], actions }] }],
    groups: [{
      name: 'G', type: 'physical', policy: 'P', drivers, models: [{ name: 'M' }],
      host_settings: Array.from({ length: N }, (_, i) => ({ host: `h${i}` })),
      pool: Array.from({ length: N }, (_, i) => `m${i}`),
    }],
    machines: Array.from({ length: N }, (_, i) => ({ name: `m${i}`, kind: 'physical', uuid: guid(i), power: 'on', bmc: { type: 'ipmi', address: bmcAddress(i) }, active: { group: 'G', model: 'M', host: `h${i}`, from: 'group_pool' } })),
  };
  const { dc: valid, errors } = readDataCentre(dc);
  if (!valid) throw new Error(errors.join('\n'));
  const db = openStore(path);
  applyDataCentre(db, valid);
  db.close();
  return path;
}

/** One v1 PET datagram per machine (processor IERR), encoded once by net-snmp. */
async function petDatagrams() {
  const snmp = (await import('net-snmp')).default;
  const cap = createSocket('udp4');
  await new Promise((r) => cap.bind(0, '127.0.0.1', r));
  const out = [];
  const got = new Map();
  cap.on('message', (m) => got.set(got.size, m));
  const s = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version1, trapPort: cap.address().port });
  for (let i = 0; i < N; i++) {
    const vb = encodePetVarbind({ guid: Buffer.from(guid(i).replace(/-/g, ''), 'hex'), sequence: 1, timestamp: 1, eventSourceType: 0x20, severity: 0x10, sensorDevice: 0x20, sensorNumber: 1, entity: 3, entityInstance: 1, eventData: [0], manufacturerId: 119, systemId: 0 });
    await new Promise((r, j) => s.trap(`1.3.6.1.4.1.3183.1.1.${(0x07 << 16) | (0x6f << 8)}`, [{ oid: '1.3.6.1.4.1.3183.1.1.1', type: snmp.ObjectType.OctetString, value: vb }], { agentAddr: '127.0.0.1' }, (e) => (e ? j(e) : r())));
    while (got.size <= i) await new Promise((r) => setTimeout(r, 1));
    out.push(got.get(i));
  }
  s.close();
  cap.close();
  return out;
}

/** Sends `total` datagrams at `rate`/s round-robin from 200 loopback addresses; resolves with the count sent. */
async function blast(datagrams, port, rate, total) {
  const socks = await Promise.all(datagrams.map((_, i) => new Promise((r) => {
    const s = createSocket('udp4');
    s.bind(0, bmcAddress(i), () => r(s));
  })));
  for (const s of socks) { try { s.setSendBufferSize(1 << 20); } catch { /* bounded by wmem_max */ } }
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    while (sent < due) {
      const i = sent % datagrams.length;
      socks[i].send(datagrams[i], port, '127.0.0.1');
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  for (const s of socks) s.close();
  return { sent, secs };
}

function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function startMonitor(db) {
  const logFile = join(dir, `${Date.now()}.log`);
  const fd = openSync(logFile, 'w');
  const p = spawn(bin, ['monitor'], { env: { ...process.env, KANRI_DB: db }, stdio: ['ignore', 'ignore', fd] });
  for (let i = 0; i < 200; i++) {
    const m = /traps on [^ ;]*:(\d+)/.exec(readFileSync(logFile, 'utf8'));
    if (m) return { p, port: Number(m[1]) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the monitor did not start');
}

async function stopMonitor(m) {
  await new Promise((r) => { m.p.once('exit', r); m.p.kill('SIGTERM'); });
}

async function startTrapd() {
  const port = 30000 + Math.floor(Math.random() * 20000);
  const conf = join(dir, 'snmptrapd.conf');
  writeFileSync(conf, 'authCommunity log public\n');
  const log = join(dir, `trapd-${port}.log`);
  writeFileSync(log, '');
  const p = spawn('snmptrapd', ['-f', '-n', '-M', '/dev/null', '-C', '-c', conf, '-Lf', log, '-F', 'T %a %q\n', `udp:127.0.0.1:${port}`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 800));
  return { p, port, count: () => readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('T ')).length };
}

/** Waits until read() reaches want, or has not moved for 5 s, or maxMs passed. */
async function settle(read, want, maxMs) {
  const end = Date.now() + maxMs;
  let n = read();
  let movedAt = Date.now();
  while (n < want && Date.now() < end && Date.now() - movedAt < 5000) {
    await new Promise((r) => setTimeout(r, 250));
    const m = read();
    if (m !== n) movedAt = Date.now();
    n = m;
  }
  return n;
}

const count = (db, sql) => { const d = openStore(db, { readonly: true }); try { return d.prepare(sql).get().n; } finally { d.close(); } };

const pets = await petDatagrams();
const have = spawnSync('sh', ['-c', 'command -v snmptrapd || test -x /usr/sbin/snmptrapd'], { stdio: 'ignore' }).status === 0;
console.log(`load average before: ${load()}`);

// 1. intake
{
  const total = RATE * SECONDS;
  const db = store('intake.db', { 'monitor.coalesce_s': '3600' }, ['status-faulted']);
  const m = await startMonitor(db);
  const cpu0 = cpuSeconds(m.p.pid);
  const { sent, secs } = await blast(pets, m.port, RATE, total);
  const recorded = await settle(() => count(db, 'SELECT count(*) AS n FROM monitor_events'), sent, 30_000);
  const cpu = cpuSeconds(m.p.pid) - cpu0;
  await stopMonitor(m);
  console.log(`intake  kanri monitor: sent ${sent} in ${secs.toFixed(1)} s (${Math.round(sent / secs)}/s), recorded ${recorded}, lost ${sent - recorded}, CPU ${cpu.toFixed(1)} s (${(cpu * 1e6 / Math.max(1, recorded)).toFixed(0)} µs per recorded trap)`);
  if (have) {
    const t = await startTrapd();
    const c0 = cpuSeconds(t.p.pid);
    const r = await blast(pets, t.port, RATE, total);
    const logged = await settle(t.count, r.sent, 30_000);
    const c = cpuSeconds(t.p.pid) - c0;
    t.p.kill('SIGTERM');
    console.log(`intake  snmptrapd -Lf:   sent ${r.sent} in ${r.secs.toFixed(1)} s (${Math.round(r.sent / r.secs)}/s), logged ${logged}, lost ${r.sent - logged}, CPU ${c.toFixed(1)} s (${(c * 1e6 / Math.max(1, logged)).toFixed(0)} µs per logged trap); lost: kanri ${sent - recorded} vs snmptrapd ${r.sent - logged}`);
  }
  console.log(`load average: ${load()}`);
}

// 2. storm
{
  const db = store('storm.db', { 'monitor.coalesce_s': '300', 'sim.delay_ms': '20' }, ['status-faulted', 'machine-reboot']);
  const m = await startMonitor(db);
  const { sent, secs } = await blast(pets, m.port, 5000, 10_000);
  const decided = await settle(() => count(db, "SELECT count(*) AS n FROM monitor_events WHERE state = 'decided'"), sent, 60_000);
  await settle(() => count(db, "SELECT count(*) AS n FROM monitor_chains WHERE status = 'completed'"), N, 60_000);
  const d = openStore(db, { readonly: true });
  const per = d.prepare('SELECT machine_id, count(*) AS n FROM monitor_chains GROUP BY machine_id').all();
  const statuses = d.prepare('SELECT status, count(*) AS n FROM monitor_chains GROUP BY status').all();
  d.close();
  await stopMonitor(m);
  const one = per.filter((r) => r.n === 1).length;
  console.log(`storm   kanri monitor: ${sent} traps from ${N} BMCs in ${secs.toFixed(1)} s, ${decided} decided; ${per.length} machines with chains, ${one} with exactly one (${statuses.map((s) => `${s.n} ${s.status}`).join(', ')})`);
  if (have) {
    const t = await startTrapd();
    const r = await blast(pets, t.port, 5000, 10_000);
    const logged = await settle(t.count, r.sent, 20_000);
    t.p.kill('SIGTERM');
    console.log(`storm   snmptrapd -Lf:   ${r.sent} traps in ${r.secs.toFixed(1)} s, logged ${logged}`);
  }
  console.log(`load average: ${load()}`);
}

// 3. latency
{
  const db = store('latency.db', { 'monitor.coalesce_s': '0' }, ['machine-reboot']);
  const m = await startMonitor(db);
  const s = createSocket('udp4');
  for (let i = 0; i < N; i++) {
    s.send(pets[i], m.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 25));
  }
  await settle(() => count(db, "SELECT count(*) AS n FROM monitor_chains WHERE status IN ('completed', 'failed')"), N, 60_000);
  s.close();
  await stopMonitor(m);
  const d = openStore(db, { readonly: true });
  const rows = d.prepare(`SELECT e.received_at AS r, (SELECT min(j.started_at) FROM jobs j WHERE j.command LIKE 'policy chain ' || c.id || ' %') AS s
    FROM monitor_chains c JOIN monitor_events e ON e.id = c.event_id`).all();
  d.close();
  const ms = rows.filter((x) => x.s).map((x) => Date.parse(x.s) - Date.parse(x.r)).sort((a, b) => a - b);
  const pct = (p) => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))];
  // Anchor: a typed command, from exec to its job started.
  const anchor = [];
  for (let i = 0; i < 10; i++) {
    const t0 = new Date().toISOString();
    spawnSync(join(dir, 'pvmutl'), ['reboot', 'G', `h${i}`], { env: { ...process.env, KANRI_DB: db }, stdio: 'ignore' });
    const d2 = openStore(db, { readonly: true });
    const j = d2.prepare("SELECT started_at FROM jobs WHERE origin = 'pvmutl' ORDER BY id DESC LIMIT 1").get();
    d2.close();
    anchor.push(Date.parse(j.started_at) - Date.parse(t0));
  }
  anchor.sort((a, b) => a - b);
  console.log(`latency kanri monitor: event received → first policy job started over ${ms.length} events: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${ms.at(-1)} ms (target p99 < 200 ms)`);
  console.log(`latency anchor pvmutl reboot: exec → job started, median ${anchor[5]} ms over 10`);
  console.log(`load average: ${load()}`);
}

rmSync(dir, { recursive: true, force: true });
