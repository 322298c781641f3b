// What the benchmarks share: building the binary as the tests do, the ipmi_sim rack and
// a dscli registry for it, FreeIPMI's credentials file, timing a whole process, and the
// side-by-side measurement (warm-up of both, then alternating runs, medians).
// Loopback only; everything made here lives in temporary directories that cleanup removes.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(root, 'bin/kanri.js');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** dist/ as `npm run build` makes it: the binary under test. */
export function build() {
  if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
}

/** A module of dist/ (after build()). */
export const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);

const temps = [];
/** A temporary directory removed by cleanup(). */
export function tempDir(prefix = 'kanri-bench-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A helper of test/support/ compiled privately: the same peers the tests start. */
export async function testSupport(name) {
  const out = tempDir('kanri-bench-support-');
  if (spawnSync(process.execPath, [tsc, '--ignoreConfig', '--outDir', out, '--rootDir', root, '--target', 'ES2022', '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck', '--types', 'node', join(root, `test/support/${name}.ts`)], { cwd: root, stdio: 'inherit' }).status !== 0) {
    throw new Error(`compiling test/support/${name}.ts failed`);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  return import(pathToFileURL(join(out, `test/support/${name}.js`)).href);
}

/** test/support/ipmi-sim.ts compiled privately: the same simulators the tests start. */
export const simulatorHelper = () => testSupport('ipmi-sim');

export function requireCommands(...names) {
  for (const v of names) {
    if (spawnSync('sh', ['-c', `command -v ${v} || test -x /usr/sbin/${v}`]).status !== 0) throw new Error(`peer ${v} missing (scripts/peers.sh)`);
  }
}

const racks = [];
/** N ipmi_sim BMCs on 127.0.0.1, every third one powered on. */
export async function startRack(n) {
  const sim = await simulatorHelper();
  const rack = await sim.startSims(n, { rich: false, power: 'off' }, 25);
  racks.push(rack);
  rack.bmcs.forEach((b, i) => b.writePower(i % 3 === 0 ? 'on' : 'off'));
  rack.sim = sim;
  return rack;
}

/**
 * A store whose dscli registry names the rack's BMCs b001…, password from a 0600 file,
 * sealed in the store. Returns the store path and the ServerList of the first n.
 */
export async function registryFor(rack) {
  const { openStore } = await dist('open-store.js');
  const { createServer } = await dist('dscli/servers.js');
  const work = tempDir('kanri-bench-store-');
  const dbPath = join(work, 'kanri.db');
  const pwFile = join(work, 'pw');
  writeFileSync(pwFile, 'adminpass\n', { mode: 0o600 });
  const width = String(rack.bmcs.length).length;
  const name = (i) => `b${String(i + 1).padStart(width, '0')}`;
  const db = openStore(dbPath, { create: true });
  const src = { stdin: () => { throw new Error('no stdin'); }, warn: () => undefined };
  db.transaction(() => rack.bmcs.forEach((b, i) => createServer(db, name(i), ['address=127.0.0.1', `port=${b.port}`, 'user=admin', `password_file=${pwFile}`], src)))();
  db.close();
  return { dbPath, range: (n) => `b[${'1'.padStart(width, '0')}-${String(n).padStart(width, '0')}]` };
}

/** FreeIPMI's credentials in a 0600 file, never on argv. */
export function freeipmiConfig() {
  const conf = join(tempDir('kanri-bench-fi-'), 'freeipmi.conf');
  writeFileSync(conf, 'username admin\npassword adminpass\n', { mode: 0o600 });
  return conf;
}

/** The binary under one of its names, as a symbolic link (the name selects the dialect). */
export function named(name) {
  const link = join(tempDir('kanri-bench-bin-'), name);
  symlinkSync(BIN, link);
  return link;
}

/**
 * The environment the measured commands run in: this one, without what a sandbox may add
 * to every Node process that an administrator's shell does not have. NODE_EXTRA_CA_CERTS
 * makes each Node process parse a CA bundle at start-up (about 45 ms here), which would
 * hide start-up costs in both terms of a ratio. BENCH_KEEP_ENV=1 keeps it.
 */
export function benchEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  if (!process.env.BENCH_KEEP_ENV) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * Runs a whole process; resolves with its wall time, exit code, output and, with
 * `cpu: true`, its CPU time (user + system of the process and its children, to the
 * millisecond). With `cpu` the command runs under a small bash that reads the clock
 * right before and after it and asks the kernel for its children's CPU time (`times`):
 * the wall time is then the command's own, without the shell's start-up.
 */
export function run(cmd, args, env = {}, timeoutMs = 120_000, { cpu = false } = {}) {
  const timeFile = cpu ? join(tempDir('kanri-bench-time-'), 't') : undefined;
  const [c, a] = timeFile
    ? ['bash', ['-c', 's=$EPOCHREALTIME; "$@"; rc=$?; e=$EPOCHREALTIME; { echo "$s $e"; times; } > "$BENCH_TIME_FILE"; exit $rc', 'bench', cmd, ...args]]
    : [cmd, args];
  return new Promise((resolve) => {
    const t = process.hrtime.bigint();
    execFile(c, a, { timeout: timeoutMs, maxBuffer: 64 << 20, env: benchEnv(timeFile ? { ...env, BENCH_TIME_FILE: timeFile } : env) }, (err, stdout, stderr) => {
      let ms = Number(process.hrtime.bigint() - t) / 1e6;
      let cpuMs;
      if (timeFile) {
        try {
          const [clock, , children] = readFileSync(timeFile, 'utf8').trim().split('\n');
          const [s, e] = clock.split(' ').map(Number);
          ms = (e - s) * 1000;
          // "0m0.031s 0m0.008s": user and system time of the shell's children
          cpuMs = children.split(' ').map((x) => { const m = /^(\d+)m([\d.]+)s$/.exec(x); return m ? (Number(m[1]) * 60 + Number(m[2])) * 1000 : NaN; }).reduce((x, y) => x + y, 0);
        } catch {
          // not written: the process was killed
        }
      }
      resolve({ ms, cpuMs, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Every process's parent and its count of runnable threads, from /proc. */
function processTable() {
  const table = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // f[0] is the state, f[1] the parent, f[17] the number of threads
      let running = 0;
      if (f[17] === '1') running = f[0] === 'R' || f[0] === 'D' ? 1 : 0;
      else {
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const ts = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          const st = ts[ts.lastIndexOf(')') + 2];
          if (st === 'R' || st === 'D') running++;
        }
      }
      table.set(Number(pid), { ppid: Number(f[1]), running });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/**
 * The load of everything but this benchmark, while it measures. The 1-minute load average
 * counts the benchmark's own simulators too (a run wakes up to 64 of them at once), so it
 * cannot tell a quiet machine from a busy one while a rack runs. Once a second this counts
 * the runnable (and uninterruptible) threads outside this process and its descendants,
 * as the kernel counts them for its load average; `stop()` returns their mean.
 */
export function othersLoad() {
  const samples = [];
  const sample = () => {
    const t = processTable();
    const ours = (pid) => {
      for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
        if (p === process.pid) return true;
        p = t.get(p)?.ppid ?? 0;
      }
      return false;
    };
    let n = 0;
    for (const [pid, e] of t) if (e.running && !ours(pid)) n += e.running;
    samples.push(n);
  };
  sample();
  const timer = setInterval(sample, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return samples.reduce((a, x) => a + x, 0) / samples.length;
    },
  };
}

/** CPU time (ms, children included) of this process's ipmi_sim children so far: what the peers cost. */
export function simulatorCpuMs() {
  const tick = 10; // USER_HZ is 100 on Linux
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[1] is the parent; utime, stime, cutime, cstime are fields 14-17 of stat (f[11..14]).
    if (comm !== 'ipmi_sim' || Number(f[1]) !== process.pid) continue;
    total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * tick;
  }
  return total;
}

/** Resolves once this process's simulators have stopped working (at most 30 s): a measured run starts with no backlog of the one before. */
export async function simulatorsIdle() {
  for (let i = 0, last = simulatorCpuMs(); i < 150; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = simulatorCpuMs();
    if (now - last <= 20) return;
    last = now;
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * a and b side by side: one warm-up run of each, then `runs` rounds that alternate which
 * goes first. Each function resolves with its wall time in ms.
 */
export async function sideBySide(a, b, runs) {
  await a();
  await b();
  const ta = [], tb = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) { tb.push(await b()); ta.push(await a()); } else { ta.push(await a()); tb.push(await b()); }
  }
  return { a: ta, b: tb, ratio: median(ta) / median(tb) };
}

export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Stops every simulator and removes every temporary directory. */
export async function cleanup() {
  for (const r of racks.splice(0)) await r.stop().catch(() => undefined);
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * Ends the run (simulators stopped) if it takes longer than maxS, or when interrupted
 * (Ctrl-C, kill): without this the simulators would outlive the benchmark.
 */
export function watchdog(maxS) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, async () => {
      console.error(`benchmark interrupted (${sig}); stopping`);
      await cleanup();
      process.exit(130);
    });
  }
  const t = setTimeout(async () => {
    console.error(`benchmark exceeded ${maxS} s; stopping`);
    await cleanup();
    process.exit(2);
  }, maxS * 1000);
  t.unref();
  return t;
}

/** A new store at `path` holding the data-centre description `dc` (checked as `config apply` checks it). */
export async function storeFrom(path, dc) {
  const { openStore } = await dist('open-store.js');
  const { readDataCentre } = await dist('config/validate.js');
  const { applyDataCentre } = await dist('config/apply.js');
  const { dc: valid, errors } = readDataCentre(dc);
  if (!valid) throw new Error(errors.join('\n'));
  const db = openStore(path, { create: true });
  applyDataCentre(db, valid);
  db.close();
  return path;
}

/** One physical group G on sim drivers with n pool machines m0… and n host settings h0…. */
export function simGroup(n, settings) {
  const drivers = Object.fromEntries(['power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor'].map((i) => [i, 'sim']));
  return {
    kanri: 1,
    settings,
    groups: [{
      name: 'G', type: 'physical', drivers, models: [{ name: 'std' }],
      host_settings: Array.from({ length: n }, (_, i) => ({ host: `h${i}` })),
      pool: Array.from({ length: n }, (_, i) => `m${i}`),
    }],
    machines: Array.from({ length: n }, (_, i) => ({ name: `m${i}`, kind: 'physical' })),
  };
}
