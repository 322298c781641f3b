#!/usr/bin/env node
// Every ratio of issue 16, each measured side by side in this one run: a warm-up of both
// sides, then alternating runs (which goes first changes every round), medians.
//
//   dscli getPowerStatus, 200 BMCs, whole process / FreeIPMI ipmi-power     goal <= 1.0
//   same, 50 BMCs                                                           goal <= 1.0
//   kanri's fan-out in one process / ipmi-power, 200 BMCs                   goal <= 0.8
//   pvmutl list group / node -e 0                                           goal <= 1.2
//   pvmutl list server on 10,000 machines / node -e 0                       goal <= 1.25
//   dscli help / node -e 0                                                  goal <= 1.15
//
// The BMCs are ipmi_sim simulators on 127.0.0.1 (loopback only); both tools read the same
// rack, whose power states are checked against every answer: a side that gets an answer
// wrong or not at all makes its row invalid, whatever its time. The commands run as an
// administrator runs them: the binary under its name (pvmutl, dscli) as `npm run build`
// makes it, ipmi-power with its defaults, in this environment less what a sandbox adds to
// every Node process (support.mjs benchEnv; BENCH_KEEP_ENV=1 keeps it). The BMC rows also
// print the CPU time of each side and of the simulators during its runs: on a machine of
// two cores the simulators' own CPU time bounds both tools. The machine's load average is
// printed at the start, with every row and at the end.
//
//   node bench/speed.mjs
//   BENCH_RUNS=7 BENCH_START_RUNS=15 BENCH_MAX_S=900 node bench/speed.mjs
//   BENCH_ONLY=start node bench/speed.mjs       (start-up rows only: no simulators)
//   BENCH_ONLY=ipmi node bench/speed.mjs        (the three BMC rows only)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as b from './support.mjs';
import { largeDataCentre } from './make-large-dc.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 15);
const ONLY = process.env.BENCH_ONLY ?? 'all';
const N = 200, SMALL = 50;

const watchdog = b.watchdog(Number(process.env.BENCH_MAX_S ?? 900));
const rows = [];

/** One side of a row: its label, wall times (ms), and what went wrong in any run. */
function side(label) {
  return { label, ms: [], cpuMs: [], simMs: [], problems: new Set() };
}

function row(name, goal, ours, peer, unit) {
  const ratio = b.median(ours.ms) / b.median(peer.ms);
  const invalid = [...ours.problems, ...peer.problems];
  const verdict = invalid.length ? 'INVALID' : ratio <= goal ? 'met' : 'NOT met';
  const r = { name, goal, ratio, verdict, load: b.load() };
  rows.push(r);
  const f = unit === 's' ? (ms) => (ms / 1000).toFixed(3) : (ms) => ms.toFixed(1);
  console.log(`${name}: ${ratio.toFixed(2)}x (goal <= ${goal}x, ${verdict}); load ${r.load}`);
  for (const s of [ours, peer]) {
    let line = `  ${s.label}: median ${f(b.median(s.ms))} ${unit}  runs ${s.ms.map(f).join(' ')}`;
    if (s.cpuMs.length) line += `; CPU ${f(b.median(s.cpuMs))} ${unit}`;
    if (s.simMs.length) line += `, simulators' CPU ${f(b.median(s.simMs))} ${unit}`;
    console.log(line);
    for (const p of s.problems) console.log(`    ${p}`);
  }
}

/** a and b side by side (support.mjs sideBySide): each call records into its side. */
async function measure(a, bb, runs) {
  await b.sideBySide(a, bb, runs);
}

/** One start-up measurement: a whole process, stdout a pipe, wall time in ms. */
function startTime(s, cmd, args, env, check) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: b.benchEnv(env), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 || (check && !check(r.stdout))) s.problems.add(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 300)}`);
  return ms;
}

/** A recorder for sideBySide: the warm-up run's times are not kept (what went wrong in it is). */
function recorder(s, fn) {
  let warm = false;
  return async () => {
    const ms = await fn();
    if (warm) s.ms.push(ms);
    else s.cpuMs.length = s.simMs.length = 0;
    warm = true;
    return ms;
  };
}

async function startupRows() {
  const pvmutl = b.named('pvmutl');
  const dscli = b.named('dscli');
  const { openStore } = await b.dist('open-store.js');
  const { readDataCentre } = await b.dist('config/validate.js');
  const { applyDataCentre } = await b.dist('config/apply.js');
  const { parse } = await import('yaml');
  const store = (doc) => {
    const { dc, errors } = readDataCentre(doc);
    if (!dc) throw new Error(errors.slice(0, 5).join('\n'));
    const path = join(b.tempDir('kanri-bench-dc-'), 'kanri.db');
    const db = openStore(path, { create: true });
    applyDataCentre(db, dc);
    db.close();
    return path;
  };
  const startRow = async (name, goal, label, cmd, args, env, check) => {
    const ours = side(label), peer = side('node -e 0');
    await measure(recorder(ours, async () => startTime(ours, cmd, args, env, check)),
      recorder(peer, async () => startTime(peer, process.execPath, ['-e', '0'], {})), START_RUNS);
    row(name, goal, ours, peer, 'ms');
  };

  const fixture = store(parse(readFileSync(join(b.root, 'fixtures/datacentre.yaml'), 'utf8')));
  await startRow('pvmutl list group / node -e 0', 1.2, 'pvmutl list group (fixtures/datacentre.yaml)', pvmutl, ['list', 'group'], { KANRI_DB: fixture },
    (o) => o.includes('ServerGroup List'));
  const large = store(largeDataCentre(1000, 10000));
  await startRow('pvmutl list server on 10,000 machines / node -e 0', 1.25, 'pvmutl list server cat050\\grp0505', pvmutl, ['list', 'server', 'cat050\\grp0505'],
    { KANRI_DB: large }, (o) => o.includes('m05050'));
  await startRow('dscli help / node -e 0', 1.15, 'dscli help', dscli, ['help'], {}, (o) => o.startsWith('Usage: dscli'));
}

async function ipmiRows() {
  b.requireCommands('ipmi_sim', 'ipmi-power');
  const t0 = Date.now();
  const rack = await b.startRack(N);
  console.log(`started ${N} ipmi_sim BMCs on 127.0.0.1 in ${((Date.now() - t0) / 1000).toFixed(1)} s; load ${b.load()}`);
  const { dbPath, range } = await b.registryFor(rack);
  const conf = b.freeipmiConfig();
  const dscli = b.named('dscli');
  const truth = rack.bmcs.map((x) => x.readPower());

  // Fresh simulators answer their first sessions slowly: one pass at a low fan-out first,
  // not measured. Each measured run then starts with idle simulators (no backlog of a
  // previous run still being worked off).
  const warmHosts = rack.bmcs.map((x) => `${x.host}:${x.port}`).join(',');
  await b.run('ipmi-power', ['--config-file', conf, '-h', warmHosts, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat', '-F', '16'], {}, 120_000);
  const idle = async () => {
    for (let i = 0, last = b.simulatorCpuMs(); i < 150; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = b.simulatorCpuMs();
      if (now - last <= 20) return;
      last = now;
    }
  };

  /** Runs fn once the simulators are idle, noting their CPU time during it into s. */
  const withSims = async (s, fn) => {
    await idle();
    const before = b.simulatorCpuMs();
    const r = await fn();
    s.simMs.push(b.simulatorCpuMs() - before);
    return r;
  };
  const wholeDscli = (s, n) => async () => withSims(s, async () => {
    const r = await b.run(dscli, ['getPowerStatus', range(n)], { KANRI_DB: dbPath }, 120_000, { cpu: true });
    const got = r.stdout.trim().split('\n').map((l) => l.split(' ')[1]);
    const wrong = got.filter((x, i) => x !== truth[i]).length + Math.max(0, n - got.length);
    if (r.code !== 0 || wrong) s.problems.add(`exit ${r.code}, ${wrong} of ${n} wrong or failed ${r.stderr.split('\n')[0] ?? ''}`);
    if (r.cpuMs !== undefined) s.cpuMs.push(r.cpuMs);
    return r.ms;
  });
  const freeipmi = (s, n, extra = []) => async () => withSims(s, async () => {
    const hosts = rack.bmcs.slice(0, n).map((x) => `${x.host}:${x.port}`).join(',');
    const r = await b.run('ipmi-power', ['--config-file', conf, '-h', hosts, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat', ...extra], {}, 120_000, { cpu: true });
    const lines = r.stdout.split('\n').filter((l) => /: (on|off)$/.test(l));
    // FreeIPMI labels every answer 127.0.0.1 (the port is not shown) in completion order: the count is what can be checked.
    const on = lines.filter((l) => l.endsWith(': on')).length;
    const wantOn = truth.slice(0, n).filter((x) => x === 'on').length;
    if (lines.length !== n || on !== wantOn) s.problems.add(`${lines.length} of ${n} answered, ${on} on (expected ${wantOn}) (${r.stdout.split('\n').find((l) => l && !/: (on|off)$/.test(l)) ?? r.stderr.split('\n')[0] ?? ''})`);
    if (r.cpuMs !== undefined) s.cpuMs.push(r.cpuMs);
    return r.ms;
  });

  // ipmi-power retransmits after 250 ms by default. When the simulators are slower than
  // that (a loaded machine), every retransmission is more work for them and FreeIPMI's runs
  // fail; the row is then measured once more with dscli's own per-attempt timeout (1 s).
  const RETRANSMIT_1S = ['--retransmission-timeout', '1000'];
  for (const n of [N, SMALL]) {
    const ours = side(`dscli getPowerStatus ${range(n)}`), peer = side(`ipmi-power --stat -h (${n} hosts)`);
    await measure(recorder(ours, wholeDscli(ours, n)), recorder(peer, freeipmi(peer, n)), RUNS);
    row(`dscli getPowerStatus, ${n} BMCs, whole process / ipmi-power`, 1.0, ours, peer, 's');
    if (peer.problems.size) {
      const ours2 = side(`dscli getPowerStatus ${range(n)}`), peer2 = side(`ipmi-power --stat --retransmission-timeout=1000 -h (${n} hosts)`);
      await measure(recorder(ours2, wholeDscli(ours2, n)), recorder(peer2, freeipmi(peer2, n, RETRANSMIT_1S)), RUNS);
      row(`same, ${n} BMCs, / ipmi-power --retransmission-timeout=1000`, 1.0, ours2, peer2, 's');
    }
  }

  // The library in this process, with dscli's defaults: fan-out 64, 5 s per BMC, 2 retries.
  const ipmi = await b.dist('ipmi/index.js');
  const targets = rack.bmcs.map((x) => ({ host: x.host, port: x.port, user: 'admin', password: 'adminpass', cipherSuite: 3 }));
  const inProcess = (s) => async () => withSims(s, async () => {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    const res = await ipmi.powerAll(targets, 'status', { concurrency: 64, timeoutMs: 1000, retries: 2, deadlineMs: 5000 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const used = process.cpuUsage(c);
    s.cpuMs.push((used.user + used.system) / 1000);
    const wrong = res.filter((x, i) => !x.ok || x.value.before !== truth[i]).length;
    if (wrong) s.problems.add(`${wrong} of ${N} wrong or failed: ${res.find((x) => !x.ok)?.error?.message ?? ''}`);
    return ms;
  });
  const ours = side(`src/ipmi power status, ${N} BMCs in one process`), peer = side(`ipmi-power --stat -h (${N} hosts)`);
  await measure(recorder(ours, inProcess(ours)), recorder(peer, freeipmi(peer, N)), RUNS);
  row(`kanri's fan-out in one process / ipmi-power, ${N} BMCs`, 0.8, ours, peer, 's');
  if (peer.problems.size) {
    const ours2 = side(ours.label), peer2 = side(`ipmi-power --stat --retransmission-timeout=1000 -h (${N} hosts)`);
    await measure(recorder(ours2, inProcess(ours2)), recorder(peer2, freeipmi(peer2, N, RETRANSMIT_1S)), RUNS);
    row('same, in one process, / ipmi-power --retransmission-timeout=1000', 0.8, ours2, peer2, 's');
  }
}

try {
  console.log(`load average at start: ${b.load()} (${cpus().length} cores)`);
  if (process.env.NODE_EXTRA_CA_CERTS) {
    console.log(process.env.BENCH_KEEP_ENV ? 'NODE_EXTRA_CA_CERTS is set and kept (BENCH_KEEP_ENV): every Node process parses that CA bundle at start-up'
      : 'NODE_EXTRA_CA_CERTS is set here; the measured commands run without it (BENCH_KEEP_ENV=1 keeps it)');
  }
  b.build();
  if (ONLY !== 'ipmi') await startupRows();
  if (ONLY !== 'start') await ipmiRows();
  console.log(`\nload average at end: ${b.load()}`);
  console.log('\n| ratio | measured | goal | |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.name} | ${r.ratio.toFixed(2)}x | <= ${r.goal}x | ${r.verdict} (load ${r.load}) |`);
} finally {
  await b.cleanup();
  clearTimeout(watchdog);
}
