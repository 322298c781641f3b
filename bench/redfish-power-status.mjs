#!/usr/bin/env node
// `dscli getPowerStatus` over N Redfish servers (default 50), each a sushy-tools emulator
// on 127.0.0.1 over HTTPS with basic auth and a pinned certificate, as a whole process
// (Node start-up, store, key file, decryption, TLS, fan-out, output), against two peers in
// the same run: a serial loop of redfishtool (Debian), one call per server (target: dscli
// at least 10x faster), and curl --parallel --parallel-max 64 fetching the same N system
// resources (target: dscli at most 1.5x curl's time). dscli runs with the discovery its
// first call stored (as every call after the first); the first, cold call is printed too.
// Loopback only; a watchdog stops everything after BENCH_MAX_S.
//
//   node bench/redfish-power-status.mjs
//   BENCH_N=50 BENCH_REPEAT=5 BENCH_MAX_S=900 node bench/redfish-power-status.mjs
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_N ?? 50);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const MAX_S = Number(process.env.BENCH_MAX_S ?? 900);
const PW = 'Bench-Pass-61';
const TARGET_TOOL = 10;
const TARGET_CURL = 1.5;

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// The build as `npm run build` does it (tsc, then the bundle bin/kanri.js runs).
if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
// The peers helper of the tests, compiled privately.
const helperOut = mkdtempSync(join(tmpdir(), 'kanri-bench-rf-'));
if (spawnSync(process.execPath, [tsc, '--ignoreConfig', '--outDir', helperOut, '--rootDir', root, '--target', 'ES2022', '--module', 'NodeNext',
  '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck', '--types', 'node', join(root, 'test/support/redfish.ts')], { stdio: 'inherit' }).status !== 0) {
  throw new Error('compiling the peers helper failed');
}
writeFileSync(join(helperOut, 'package.json'), '{"type":"module"}');
const rf = await import(pathToFileURL(join(helperOut, 'test/support/redfish.js')).href);
const { openStore } = await import(pathToFileURL(join(root, 'dist/open-store.js')).href);
const { createServer } = await import(pathToFileURL(join(root, 'dist/dscli/servers.js')).href);

const peers = [];
const work = mkdtempSync(join(tmpdir(), 'kanri-bench-rf-store-'));
let certs;
const cleanup = async () => {
  await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
  rmSync(helperOut, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
};
const watchdog = setTimeout(async () => {
  console.error(`benchmark exceeded ${MAX_S} s; stopping`);
  await cleanup();
  process.exit(2);
}, MAX_S * 1000);
watchdog.unref();

const run = (cmd, args, env) => new Promise((resolve) => {
  const t = Date.now();
  execFile(cmd, args, { timeout: 300_000, maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
    resolve({ ms: Date.now() - t, code: err ? err.code ?? 1 : 0, stdout, stderr }));
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

try {
  const missing = rf.redfishPeersMissing();
  if (missing) throw new Error(missing);
  for (const v of ['redfishtool', 'curl', 'openssl']) {
    if (spawnSync('sh', ['-c', `command -v ${v}`]).status !== 0) throw new Error(`peer ${v} missing (scripts/peers.sh)`);
  }
  certs = rf.makeCerts();
  const t0 = Date.now();
  // Started a few at a time: each emulator is a Python process.
  for (let i = 0; i < N; i += 8) {
    peers.push(...await Promise.all(Array.from({ length: Math.min(8, N - i) }, () => rf.startSushy({ cert: certs.selfSigned.cert, key: certs.selfSigned.key, users: { admin: PW } }))));
  }
  console.log(`started ${N} sushy-tools emulators on 127.0.0.1 (HTTPS, basic auth) in ${fmt(Date.now() - t0)}`);

  // The registry: N servers r01…, password from a 0600 file, sealed; the certificate pinned.
  const dbPath = join(work, 'kanri.db');
  const pwFile = join(work, 'pw');
  writeFileSync(pwFile, `${PW}\n`, { mode: 0o600 });
  const width = String(N).length;
  const name = (i) => `r${String(i + 1).padStart(width, '0')}`;
  const db = openStore(dbPath, { create: true });
  const src = { stdin: () => { throw new Error('no stdin'); }, warn: () => undefined };
  db.transaction(() => peers.forEach((p, i) => createServer(db, name(i), ['mgmt=redfish', 'address=127.0.0.1', `port=${p.port}`, 'user=admin', `password_file=${pwFile}`, `fingerprint=${certs.selfSigned.fingerprint}`], src)))();
  db.close();
  const range = `r[${'1'.padStart(width, '0')}-${N}]`;

  // Some machines off, so that the answers differ; read back by each client.
  const auth = rf.curlAuthFile(work, 'admin', PW);
  const sys = JSON.parse((await rf.redfishtool(peers[0].port, 'admin', PW, ['Systems', '-F', 'get'])).stdout)['@odata.id'];
  const want = [];
  for (const [i, p] of peers.entries()) {
    want.push(i % 3 === 0 ? 'off' : 'on');
    const reset = { ResetType: i % 3 === 0 ? 'ForceOff' : 'On' };
    await run('curl', ['-sf', '--cacert', certs.selfSigned.cert, '-K', auth, '-H', 'Content-Type: application/json', '-d', JSON.stringify(reset), `https://127.0.0.1:${p.port}${sys}/Actions/ComputerSystem.Reset`]);
  }
  const urls = peers.map((p) => `https://127.0.0.1:${p.port}${sys}`);

  const kanri = async () => {
    const r = await run(process.execPath, [join(root, 'bin/kanri.js'), 'dscli', 'getPowerStatus', range], { KANRI_DB: dbPath });
    const got = r.stdout.trim().split('\n').map((l) => l.split(' ')[1]);
    const wrong = got.filter((s, i) => s !== want[i]).length + Math.max(0, N - got.length);
    if (r.code !== 0 || wrong) console.log(`  dscli: exit ${r.code}, ${wrong} of ${N} wrong/failed ${r.stdout.split('\n').find((l) => / unknown /.test(l)) ?? r.stderr.split('\n')[0] ?? ''}`);
    return r.ms;
  };
  const curl = async () => {
    const r = await run('curl', ['-s', '--parallel', '--parallel-max', '64', '--cacert', certs.selfSigned.cert, '-K', auth, ...urls.flatMap((u) => [u, '-o', '-'])]);
    const states = [...r.stdout.matchAll(/"PowerState":\s*"(\w+)"/g)].length;
    if (states !== N) console.log(`  curl: ${states} of ${N} system resources`);
    return r.ms;
  };
  const tool = async () => {
    const t = Date.now();
    let ok = 0;
    for (const [i, p] of peers.entries()) {
      const r = await rf.redfishtool(p.port, 'admin', PW, ['Systems', '-F', 'get', '-P', 'PowerState']);
      if (r.code === 0 && JSON.parse(r.stdout).PowerState.toLowerCase() === want[i]) ok++;
    }
    if (ok !== N) console.log(`  redfishtool: ${ok} of ${N} right`);
    return Date.now() - t;
  };

  const cold = await kanri();
  await curl();
  const k = [], c = [];
  for (let i = 0; i < REPEAT; i++) {
    if (i % 2) { c.push(await curl()); k.push(await kanri()); } else { k.push(await kanri()); c.push(await curl()); }
  }
  const t = await tool();
  const k2 = await kanri();
  const km = median([...k, k2]), cm = median(c);
  const load = (await run('cat', ['/proc/loadavg'])).stdout.trim().split(' ').slice(0, 3).join(' ');
  console.log(`dscli getPowerStatus ${range} (whole process): median ${fmt(km)}  runs ${[...k, k2].map(fmt).join(', ')}  (first, cold call ${fmt(cold)})`);
  console.log(`curl --parallel --parallel-max 64 (${N} system resources): median ${fmt(cm)}  runs ${c.map(fmt).join(', ')}`);
  console.log(`redfishtool Systems get, serial over ${N} servers: ${fmt(t)}`);
  console.log(`redfishtool loop / dscli = ${(t / km).toFixed(1)}x (target >= ${TARGET_TOOL}x): ${t / km >= TARGET_TOOL ? 'met' : 'NOT met'}`);
  console.log(`dscli / curl = ${(km / cm).toFixed(2)}x (target <= ${TARGET_CURL}x): ${km / cm <= TARGET_CURL ? 'met' : 'NOT met'}`);
  console.log(`load average: ${load}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
