#!/usr/bin/env node
// `dscli getPowerStatus` over N ipmi_sim BMCs (default 200) as a whole process (Node
// start-up, store, key file, decryption, fan-out, output) vs FreeIPMI
// `ipmi-power -h host:port,… -D LAN_2_0 -W opensesspriv --stat`, measured in the same run,
// alternating order. Loopback only; a watchdog stops everything after BENCH_MAX_S.
//
//   node bench/dscli-power-status.mjs
//   BENCH_N=200 BENCH_REPEAT=5 BENCH_MAX_S=600 node bench/dscli-power-status.mjs
// BENCH_EXTRA='fanout=200' appends arguments to the dscli command; BENCH_PROF=1 writes
// V8 CPU profiles of the dscli runs to /tmp/prof.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_N ?? 200);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const MAX_S = Number(process.env.BENCH_MAX_S ?? 600);
const TARGET = 1.2;

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// The binary under test is dist/: build it as the tests do.
// The build as `npm run build` does it (tsc, then the bundle bin/kanri.js runs).
if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
// The simulator helper, compiled privately.
const simOut = mkdtempSync(join(tmpdir(), 'kanri-bench-dscli-'));
if (spawnSync(process.execPath, [tsc, '--ignoreConfig', '--outDir', simOut, '--rootDir', root, '--target', 'ES2022', '--module', 'NodeNext',
  '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck', '--types', 'node', join(root, 'test/support/ipmi-sim.ts')], { stdio: 'inherit' }).status !== 0) {
  throw new Error('compiling the simulator helper failed');
}
writeFileSync(join(simOut, 'package.json'), '{"type":"module"}');
const sim = await import(pathToFileURL(join(simOut, 'test/support/ipmi-sim.js')).href);
const { openStore } = await import(pathToFileURL(join(root, 'dist/open-store.js')).href);
const { createServer } = await import(pathToFileURL(join(root, 'dist/dscli/servers.js')).href);

let rack;
const work = mkdtempSync(join(tmpdir(), 'kanri-bench-dscli-store-'));
const cleanup = async () => {
  await rack?.stop().catch(() => undefined);
  rmSync(simOut, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
};
const watchdog = setTimeout(async () => {
  console.error(`benchmark exceeded ${MAX_S} s; stopping`);
  await cleanup();
  process.exit(2);
}, MAX_S * 1000);
watchdog.unref();

const run = (cmd, args, env) => new Promise((resolve) => {
  const t = Date.now();
  execFile(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
    resolve({ ms: Date.now() - t, code: err ? err.code ?? 1 : 0, stdout, stderr }));
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

try {
  for (const v of ['ipmi_sim', 'ipmi-power']) {
    if (spawnSync('sh', ['-c', `command -v ${v} || test -x /usr/sbin/${v}`]).status !== 0) throw new Error(`peer ${v} missing (scripts/peers.sh)`);
  }
  const t0 = Date.now();
  rack = await sim.startSims(N, { rich: false, power: 'off' }, 25);
  rack.bmcs.forEach((b, i) => b.writePower(i % 3 === 0 ? 'on' : 'off'));
  console.log(`started ${N} ipmi_sim BMCs on 127.0.0.1 in ${fmt(Date.now() - t0)}`);

  // The registry: N servers b001…, password from a 0600 file, sealed in the store.
  const dbPath = join(work, 'kanri.db');
  const pwFile = join(work, 'pw');
  writeFileSync(pwFile, 'adminpass\n', { mode: 0o600 });
  const width = String(N).length;
  const name = (i) => `b${String(i + 1).padStart(width, '0')}`;
  const db = openStore(dbPath, { create: true });
  const src = { stdin: () => { throw new Error('no stdin'); }, warn: () => undefined };
  db.transaction(() => rack.bmcs.forEach((b, i) => createServer(db, name(i), ['address=127.0.0.1', `port=${b.port}`, 'user=admin', `password_file=${pwFile}`], src)))();
  db.close();
  const range = `b[${'1'.padStart(width, '0')}-${N}]`;

  const conf = join(work, 'freeipmi.conf');
  writeFileSync(conf, 'username admin\npassword adminpass\n', { mode: 0o600 });
  const hosts = rack.bmcs.map((b) => `${b.host}:${b.port}`).join(',');
  const want = rack.bmcs.map((b) => b.readPower());

  const kanri = async () => {
    const r = await run(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), join(root, 'bin/kanri.js'), 'dscli', 'getPowerStatus', range, ...(process.env.BENCH_EXTRA ? process.env.BENCH_EXTRA.split(' ') : [])], { KANRI_DB: dbPath });
    const got = r.stdout.trim().split('\n').map((l) => l.split(' ')[1]);
    const wrong = got.filter((s, i) => s !== want[i]).length + Math.max(0, N - got.length);
    if (r.code !== 0 || wrong) console.log(`  dscli: exit ${r.code}, ${wrong} of ${N} wrong/failed ${r.stderr.split('\n')[0] ?? ''}`);
    return r.ms;
  };
  const freeipmi = async () => {
    const r = await run('ipmi-power', ['--config-file', conf, '-h', hosts, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat']);
    const ok = r.stdout.split('\n').filter((l) => /: (on|off)$/.test(l)).length;
    if (ok !== N) console.log(`  FreeIPMI: ${ok} of ${N} answered`);
    return r.ms;
  };

  // Warm-up: first sessions and the simulators' first chassis-program forks are slow.
  await freeipmi();
  await kanri();
  const k = [], f = [];
  for (let i = 0; i < REPEAT; i++) {
    if (i % 2) { f.push(await freeipmi()); k.push(await kanri()); } else { k.push(await kanri()); f.push(await freeipmi()); }
  }
  const start = await run(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), join(root, 'bin/kanri.js'), 'dscli', 'help'], {});
  const km = median(k), fm = median(f), ratio = km / fm;
  console.log(`dscli getPowerStatus ${range} (whole process): median ${fmt(km)}  runs ${k.map(fmt).join(', ')}`);
  console.log(`FreeIPMI ipmi-power --stat (${N} hosts):       median ${fmt(fm)}  runs ${f.map(fmt).join(', ')}`);
  console.log(`node start-up + dscli help alone: ${fmt(start.ms)}`);
  console.log(`dscli/FreeIPMI wall time = ${ratio.toFixed(2)}x (target <= ${TARGET}x): ${ratio <= TARGET ? 'met' : 'NOT met'}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
