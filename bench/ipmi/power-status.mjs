#!/usr/bin/env node
// Power status of N ipmi_sim BMCs (N = 50, 200): kanri's fan-out vs FreeIPMI ipmi-power
// vs a serial ipmitool loop, measured in the same run; then the cost of 10 % dead BMCs.
// Loopback only. Bounded: a watchdog ends the run and all simulators after BENCH_MAX_S.
//
//   node bench/ipmi/power-status.mjs            (after `npm run build`, or it compiles
//                                                 src/ipmi on its own into a temp dir)
//   BENCH_SIZES=50,200 BENCH_REPEAT=3 BENCH_MAX_S=600 node bench/ipmi/power-status.mjs
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIZES = (process.env.BENCH_SIZES ?? '50,200').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const MAX_S = Number(process.env.BENCH_MAX_S ?? 600);
const FANOUT = Number(process.env.BENCH_FANOUT ?? 64);
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 3000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 1000);

function newestMtime(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The driver and the simulator helper as JavaScript: dist/ when current, else a private compile. */
function compile() {
  const out = mkdtempSync(join(tmpdir(), 'kanri-bench-ipmi-'));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '--ignoreConfig', '--outDir', out, '--rootDir', root, '--target', 'ES2022', '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck', '--types', 'node',
    join(root, 'src/ipmi/index.ts'), join(root, 'test/support/ipmi-sim.ts')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('compiling src/ipmi failed');
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return out;
}

const out = compile();
const ipmi = await import(pathToFileURL(join(out, 'src/ipmi/index.js')).href);
const sim = await import(pathToFileURL(join(out, 'test/support/ipmi-sim.js')).href);

let rack;
const holes = [];
const cleanup = async () => {
  await rack?.stop().catch(() => undefined);
  for (const h of holes) await h.close().catch(() => undefined);
  rmSync(out, { recursive: true, force: true });
};
const watchdog = setTimeout(async () => {
  console.error(`benchmark exceeded ${MAX_S} s; stopping`);
  await cleanup();
  process.exit(2);
}, MAX_S * 1000);
watchdog.unref();

function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr }));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

try {
  const maxN = Math.max(...SIZES);
  for (const v of ['ipmi_sim', 'ipmi-power', 'ipmitool']) {
    if (spawnSync('sh', ['-c', `command -v ${v} || test -x /usr/sbin/${v}`]).status !== 0) throw new Error(`peer ${v} missing (scripts/peers.sh)`);
  }
  const t0 = Date.now();
  rack = await sim.startSims(maxN, { rich: false, power: 'off' }, 25);
  rack.bmcs.forEach((b, i) => b.writePower(i % 3 === 0 ? 'on' : 'off'));
  console.log(`started ${maxN} ipmi_sim BMCs on 127.0.0.1 in ${fmt(Date.now() - t0)}`);

  const confDir = mkdtempSync(join(tmpdir(), 'kanri-bench-fi-'));
  const conf = join(confDir, 'freeipmi.conf');
  // Credentials in a 0600 file, never on argv.
  writeFileSync(conf, 'username admin\npassword adminpass\n', { mode: 0o600 });
  const pwFile = rack.bmcs[0].passwordFile('admin');

  const truth = (bmcs) => bmcs.map((b) => b.readPower());

  async function kanri(bmcs, extra = []) {
    const targets = [...bmcs.map((b) => ({ host: b.host, port: b.port, user: 'admin', password: 'adminpass', cipherSuite: 3 })), ...extra];
    const t = Date.now();
    const res = await ipmi.powerAll(targets, 'status', { concurrency: FANOUT, timeoutMs: TIMEOUT_MS, retries: 3, deadlineMs: DEADLINE_MS });
    const ms = Date.now() - t;
    return { ms, res };
  }
  async function freeipmi(bmcs) {
    const hosts = bmcs.map((b) => `${b.host}:${b.port}`).join(',');
    const t = Date.now();
    const r = await run('ipmi-power', ['--config-file', conf, '-h', hosts, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat', '-F', String(FANOUT)], 120_000);
    const ms = Date.now() - t;
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    return { ms, lines, ok: r.ok, stderr: r.stderr };
  }
  async function serialIpmitool(bmcs) {
    const t = Date.now();
    const states = [];
    for (const b of bmcs) {
      const r = await run('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', b.host, '-p', String(b.port), '-U', 'admin', '-f', pwFile, 'chassis', 'power', 'status'], 20_000);
      states.push(/is on/.test(r.stdout) ? 'on' : /is off/.test(r.stdout) ? 'off' : 'error');
    }
    return { ms: Date.now() - t, states };
  }

  // Warm-up: every simulator's first session and first chassis-control fork are several
  // times slower than later ones, and kanri's JIT needs a pass; both tools get one full pass.
  await freeipmi(rack.bmcs);
  await kanri(rack.bmcs);

  const summary = [];
  for (const n of SIZES) {
    const bmcs = rack.bmcs.slice(0, n);
    const want = truth(bmcs);
    const k = [], f = [];
    for (let i = 0; i < REPEAT; i++) {
      // alternate the order so neither side always runs on a warmer machine
      const runs = i % 2 ? [['f', freeipmi], ['k', kanri]] : [['k', kanri], ['f', freeipmi]];
      for (const [who, fn] of runs) {
        const r = await fn(bmcs);
        if (who === 'k') {
          const got = r.res.map((x) => (x.ok ? x.value.before : 'error'));
          const wrong = got.filter((s, j) => s !== want[j]).length;
          if (wrong) console.log(`  kanri: ${wrong} of ${n} wrong/failed: ${r.res.find((x) => !x.ok)?.error?.message ?? ''}`);
          k.push(r.ms);
        } else {
          const okLines = r.lines.filter((l) => /: (on|off)$/.test(l)).length;
          if (okLines !== n) console.log(`  FreeIPMI: ${okLines} of ${n} answered (${r.lines.find((l) => !/: (on|off)$/.test(l)) ?? r.stderr.trim().split('\n')[0] ?? ''})`);
          f.push(r.ms);
        }
      }
    }
    const s = await serialIpmitool(bmcs);
    const sWrong = s.states.filter((x, j) => x !== want[j]).length;
    if (sWrong) console.log(`  serial ipmitool: ${sWrong} of ${n} wrong/failed`);
    const km = median(k), fm = median(f);
    summary.push({ n, kanri: km, freeipmi: fm, serial: s.ms });
    console.log(`N=${n}: kanri ${fmt(km)} (runs ${k.map(fmt).join(', ')}), FreeIPMI ipmi-power ${fmt(fm)} (runs ${f.map(fmt).join(', ')}), serial ipmitool ${fmt(s.ms)}`);
    console.log(`N=${n}: kanri/FreeIPMI wall time = ${(km / fm).toFixed(2)}x (target <= 1.0x); serial-ipmitool/kanri = ${(s.ms / km).toFixed(1)}x (target >= 5x)`);
  }

  // 10 % black-holed: the same N, every tenth BMC replaced by a silent UDP port.
  const n = Math.max(...SIZES);
  const all = rack.bmcs.slice(0, n);
  for (let i = 0; i < Math.round(n / 10); i++) holes.push(await sim.blackHole());
  const toTarget = (b) => ({ host: b.host, port: b.port, user: 'admin', password: 'adminpass', cipherSuite: 3 });
  const mixed = all.map((b, i) => (i % 10 === 9 ? { host: '127.0.0.1', port: holes[(i - 9) / 10].port, user: 'admin', password: 'adminpass', cipherSuite: 3 } : toTarget(b)));
  const base = [], withDead = [];
  for (let i = 0; i < REPEAT; i++) {
    base.push((await kanri(all)).ms);
    const r = await kanri([], mixed);
    const failed = r.res.filter((x) => !x.ok);
    if (failed.length !== holes.length || failed.some((x) => x.error.layer !== 'network')) console.log(`  unexpected failures with dead BMCs: ${failed.length}`);
    withDead.push(r.ms);
  }
  const dead = holes;
  const growth = median(withDead) - median(base);
  console.log(`N=${n} with ${dead.length} black-holed: kanri ${fmt(median(withDead))} vs ${fmt(median(base))} all alive; growth ${fmt(growth)} (per-BMC deadline ${fmt(DEADLINE_MS)}; target growth <= one deadline: ${growth <= DEADLINE_MS ? 'met' : 'NOT met'})`);
  rmSync(confDir, { recursive: true, force: true });
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
