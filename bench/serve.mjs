#!/usr/bin/env node
// kanri serve, in one run (issue 23):
//  1. power status of N ipmi_sim BMCs (default 200) through the API (POST /api/v1/oob
//     getPowerStatus, warm IPMI sessions, a keep-alive HTTP connection) vs FreeIPMI
//     `ipmi-power --stat` on the same BMCs, alternating, medians (goal <= 0.5x);
//  2. GET /api/v1/machines on a store of 10,000 machines: requests per second with C
//     concurrent keep-alive clients for D seconds, and the latency percentiles.
// The machine is shared: the load average is printed with each figure.
//
//   node bench/serve.mjs
//   BENCH_N=200 BENCH_REPEAT=5 BENCH_CLIENTS=4 BENCH_SECONDS=10 node bench/serve.mjs
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, build, cleanup, dist, freeipmiConfig, load, median, registryFor, requireCommands, run, sideBySide, startRack, tempDir, watchdog } from './support.mjs';
import { largeDataCentre } from './make-large-dc.mjs';

const N = Number(process.env.BENCH_N ?? 200);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const MACHINES = Number(process.env.BENCH_MACHINES ?? 10_000);
const GOAL = 0.5;

const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;
const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });

/** kanri serve on the store, with limits that do not throttle a benchmark; resolves with its URL and a stop(). */
async function serve(dbPath) {
  const { openStore } = await dist('open-store.js');
  const { putSetting } = await dist('store/settings.js');
  const { createToken } = await dist('serve/tokens.js');
  const db = openStore(dbPath);
  for (const [k, v] of [['serve.rate_per_s', '1000000'], ['serve.rate_burst', '1000000'], ['serve.max_concurrent', '1000']]) putSetting(db, k, v);
  const token = createToken(db, `bench${Date.now()}`, 'operator');
  db.close();
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`], { env: { ...process.env, KANRI_DB: dbPath }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (/listening on/.test(String(d))) resolve(); });
    child.once('exit', (c) => reject(new Error(`kanri serve exited ${c}`)));
  });
  const stop = () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); });
  return { base: `http://127.0.0.1:${port}`, token, stop };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function call(base, token, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, base), { method, agent, headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

watchdog(Number(process.env.BENCH_MAX_S ?? 900));
try {
  build();
  requireCommands('ipmi_sim', 'ipmi-power');

  // ---- 1. power status through the API vs ipmi-power -------------------------------
  const rack = await startRack(N);
  const { dbPath, range } = await registryFor(rack);
  const want = rack.bmcs.map((b) => b.readPower());
  const api = await serve(dbPath);
  const conf = freeipmiConfig();
  const hosts = rack.bmcs.map((b) => `${b.host}:${b.port}`).join(',');
  const viaApi = async () => {
    const t = process.hrtime.bigint();
    const r = await call(api.base, api.token, 'POST', '/api/v1/oob', { operation: 'getPowerStatus', targets: [range(N)] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const results = r.status === 200 ? JSON.parse(r.text).results : [];
    const wrong = want.filter((w, i) => results[i]?.after !== w).length;
    if (wrong) console.log(`  API: status ${r.status}, ${wrong} of ${N} wrong or missing`);
    return ms;
  };
  const freeipmi = async () => {
    const r = await run('ipmi-power', ['--config-file', conf, '-h', hosts, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat']);
    const ok = r.stdout.split('\n').filter((l) => /: (on|off)$/.test(l)).length;
    if (ok !== N) console.log(`  FreeIPMI: ${ok} of ${N} answered`);
    return r.ms;
  };
  // The first API call logs in everywhere (the sessions it leaves are the warm ones).
  const cold = await viaApi();
  const s = await sideBySide(viaApi, freeipmi, REPEAT);
  console.log(`load average before part 1: ${load()}`);
  console.log(`API getPowerStatus ${N} BMCs, first (cold) call: ${fmt(cold)}`);
  console.log(`API getPowerStatus ${N} BMCs (warm sessions): median ${fmt(median(s.a))}  runs ${s.a.map(fmt).join(', ')}`);
  console.log(`FreeIPMI ipmi-power --stat ${N} hosts:        median ${fmt(median(s.b))}  runs ${s.b.map(fmt).join(', ')}`);
  console.log(`API/FreeIPMI = ${s.ratio.toFixed(2)}x (goal <= ${GOAL}x): ${s.ratio <= GOAL ? 'met' : 'NOT met'}   load average: ${load()}`);
  await api.stop();
  await cleanup();

  // ---- 2. GET /api/v1/machines on a 10,000-machine store ---------------------------
  const { openStore } = await dist('open-store.js');
  const { readDataCentre } = await dist('config/validate.js');
  const { applyDataCentre } = await dist('config/apply.js');
  const bigPath = join(tempDir('kanri-bench-serve-'), 'kanri.db');
  const { dc, errors } = readDataCentre(largeDataCentre(MACHINES / 10, MACHINES));
  if (!dc) throw new Error(errors.slice(0, 3).join('\n'));
  const db = openStore(bigPath, { create: true });
  applyDataCentre(db, dc);
  db.close();
  const big = await serve(bigPath);
  const first = await call(big.base, big.token, 'GET', '/api/v1/machines');
  const count = JSON.parse(first.text).length;
  if (count !== MACHINES) throw new Error(`GET /api/v1/machines answered ${count} machines, not ${MACHINES}`);
  const lat = [];
  let failed = 0;
  const end = Date.now() + SECONDS * 1000;
  const t0 = process.hrtime.bigint();
  console.log(`load average before part 2: ${load()}`);
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      const r = await call(big.base, big.token, 'GET', '/api/v1/machines');
      if (r.status !== 200) failed++;
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))].toFixed(1);
  console.log(`GET /api/v1/machines (${MACHINES} machines, ${(first.text.length / 1e6).toFixed(1)} MB JSON), ${CLIENTS} clients, ${wall.toFixed(1)} s: ` +
    `${(lat.length / wall).toFixed(1)} req/s, p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${lat.at(-1).toFixed(1)} ms, ${failed} failed   load average: ${load()}`);
  await big.stop();
} finally {
  agent.destroy();
  await cleanup();
}
