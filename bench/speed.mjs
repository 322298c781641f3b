#!/usr/bin/env node
// Every row of issue 25's table, each measured side by side in this one run: a warm-up of
// both sides, then alternating runs (which goes first changes every round), medians.
//
//   dscli getPowerStatus, 50 BMCs, whole process / FreeIPMI ipmi-power      goal <= 1.0
//   same, 200 BMCs                                                          goal <= 0.8
//   CPU time of the client, 200 BMCs, dscli / ipmi-power                    goal <= 1.5
//   kanri's fan-out in one process / ipmi-power, 200 BMCs                   goal <= 0.7
//   pvmutl list group / node -e 0                                           goal <= 1.15
//   pvmutl list server on 10,000 machines / node -e 0                       goal <= 1.2
//   dscli help / node -e 0 (issue 16's row, kept so that it cannot regress)  goal <= 1.15
//
// Every row prints the wall time and the CPU time (user + system) of both sides. The BMCs
// are ipmi_sim simulators on 127.0.0.1 (loopback only); both tools read the same rack,
// whose power states are checked against every answer. A row is not reported when a side
// got an answer wrong or none at all (INVALID), nor when the machine was busy: when the
// load of other processes during the row (support.mjs othersLoad: runnable threads outside
// this benchmark, sampled once a second; the 1-minute load average counts the benchmark's
// own simulators) was above 2, the row says "machine busy" instead of a figure.
// BENCH_BUSY_OK=1 reports such a row anyway, marked "load N (busy)", to see trends on a
// shared machine; such a figure is not a result. The commands run as an administrator runs
// them: the binary under its name (pvmutl, dscli) as `npm run build` makes it, ipmi-power
// with its defaults, in this environment less what a sandbox adds to every Node process
// (support.mjs benchEnv: NODE_EXTRA_CA_CERTS; BENCH_KEEP_ENV=1 keeps it). The BMC rows also
// print the simulators' CPU time: on a machine of two cores it bounds both tools' wall time.
//
//   node bench/speed.mjs
//   BENCH_RUNS=7 BENCH_START_RUNS=15 BENCH_MAX_S=900 node bench/speed.mjs
//   BENCH_ONLY=start node bench/speed.mjs       (start-up rows only: no simulators)
//   BENCH_ONLY=ipmi node bench/speed.mjs        (the BMC rows only)
//   BENCH_BUSY_OK=1 node bench/speed.mjs        (report rows measured on a busy machine, marked)
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as b from './support.mjs';
import { largeDataCentre } from './make-large-dc.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 15);
const ONLY = process.env.BENCH_ONLY ?? 'all';
const BUSY_OK = !!process.env.BENCH_BUSY_OK;
/** Above this load of other processes a figure says more about them than about the tools. */
const BUSY = 2;
const N = 200, SMALL = 50;

const watchdog = b.watchdog(Number(process.env.BENCH_MAX_S ?? 900));
const rows = [];

/** One side of a row: its label, wall and CPU times (ms), and what went wrong in any run. */
function side(label) {
  return { label, ms: [], cpuMs: [], simMs: [], problems: new Set() };
}

/**
 * One row of the table from two measured sides: `metric` 'ms' compares wall times,
 * 'cpuMs' CPU times; `others` is the load of other processes while the sides ran.
 */
function row(name, goal, ours, peer, unit, others, metric = 'ms') {
  const ratio = b.median(ours[metric]) / b.median(peer[metric]);
  const invalid = [...ours.problems, ...peer.problems];
  const busy = others > BUSY;
  const load = `load ${b.load()}, others ${others.toFixed(2)}${busy ? ' (busy)' : ''}`;
  let verdict;
  if (invalid.length) verdict = 'INVALID';
  else if (busy && !BUSY_OK) verdict = 'machine busy';
  else verdict = (ratio <= goal ? 'met' : 'NOT met') + (busy ? ', busy' : '');
  const reported = !invalid.length && (!busy || BUSY_OK);
  rows.push({ name, goal, ratio, verdict, load, reported });
  const f = unit === 's' ? (ms) => (ms / 1000).toFixed(3) : (ms) => ms.toFixed(1);
  const what = metric === 'ms' ? 'wall' : 'CPU';
  console.log(`${name}: ${reported ? `${ratio.toFixed(2)}x ${what}` : verdict} (goal <= ${goal}x${reported ? `, ${verdict}` : ''}); ${load}`);
  for (const s of [ours, peer]) {
    let line = `  ${s.label}: wall ${f(b.median(s.ms))} ${unit} (runs ${s.ms.map(f).join(' ')})`;
    if (s.cpuMs.length) line += `, CPU ${f(b.median(s.cpuMs))} ${unit} (runs ${s.cpuMs.map(f).join(' ')})`;
    if (s.simMs.length) line += `; simulators' CPU ${f(b.median(s.simMs))} ${unit}`;
    console.log(line);
    for (const p of s.problems) console.log(`    ${p}`);
  }
}

/** a and b side by side (support.mjs sideBySide); returns the load of other processes meanwhile. */
async function measure(a, bb, runs) {
  const others = b.othersLoad();
  await b.sideBySide(a, bb, runs);
  return others.stop();
}

/** One start-up measurement: a whole process, stdout a pipe; its wall and CPU time into s. */
async function startTime(s, cmd, args, env, check) {
  const r = await b.run(cmd, args, env, 60_000, { cpu: true });
  if (r.code !== 0 || (check && !check(r.stdout))) s.problems.add(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  if (r.cpuMs !== undefined) s.cpuMs.push(r.cpuMs);
  return r.ms;
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
    const others = await measure(recorder(ours, async () => startTime(ours, cmd, args, env, check)),
      recorder(peer, async () => startTime(peer, process.execPath, ['-e', '0'], {})), START_RUNS);
    row(name, goal, ours, peer, 'ms', others);
  };

  const fixture = store(parse(readFileSync(join(b.root, 'fixtures/datacentre.yaml'), 'utf8')));
  await startRow('pvmutl list group / node -e 0', 1.15, 'pvmutl list group (fixtures/datacentre.yaml)', pvmutl, ['list', 'group'], { KANRI_DB: fixture },
    (o) => o.includes('ServerGroup List'));
  const large = store(largeDataCentre(1000, 10000));
  await startRow('pvmutl list server on 10,000 machines / node -e 0', 1.2, 'pvmutl list server cat050\\grp0505', pvmutl, ['list', 'server', 'cat050\\grp0505'],
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
  const idle = b.simulatorsIdle;

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
  const wholeRows = async (n, goal, cpuGoal) => {
    const ours = side(`dscli getPowerStatus ${range(n)}`), peer = side(`ipmi-power --stat -h (${n} hosts)`);
    const others = await measure(recorder(ours, wholeDscli(ours, n)), recorder(peer, freeipmi(peer, n)), RUNS);
    row(`dscli getPowerStatus, ${n} BMCs, whole process / ipmi-power`, goal, ours, peer, 's', others);
    if (cpuGoal) row(`CPU time of the client, ${n} BMCs, dscli / ipmi-power`, cpuGoal, ours, peer, 's', others, 'cpuMs');
    if (peer.problems.size) {
      const ours2 = side(`dscli getPowerStatus ${range(n)}`), peer2 = side(`ipmi-power --stat --retransmission-timeout=1000 -h (${n} hosts)`);
      const others2 = await measure(recorder(ours2, wholeDscli(ours2, n)), recorder(peer2, freeipmi(peer2, n, RETRANSMIT_1S)), RUNS);
      row(`same, ${n} BMCs, / ipmi-power --retransmission-timeout=1000`, goal, ours2, peer2, 's', others2);
      if (cpuGoal) row(`same, CPU time, ${n} BMCs, / ipmi-power --retransmission-timeout=1000`, cpuGoal, ours2, peer2, 's', others2, 'cpuMs');
    }
  };
  await wholeRows(SMALL, 1.0);
  await wholeRows(N, 0.8, 1.5);

  // The library in this process, with dscli's defaults: fan-out 64, 1 s per attempt, 2 retries.
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
  const others = await measure(recorder(ours, inProcess(ours)), recorder(peer, freeipmi(peer, N)), RUNS);
  row(`kanri's fan-out in one process / ipmi-power, ${N} BMCs`, 0.7, ours, peer, 's', others);
  if (peer.problems.size) {
    const ours2 = side(ours.label), peer2 = side(`ipmi-power --stat --retransmission-timeout=1000 -h (${N} hosts)`);
    const others2 = await measure(recorder(ours2, inProcess(ours2)), recorder(peer2, freeipmi(peer2, N, RETRANSMIT_1S)), RUNS);
    row('same, in one process, / ipmi-power --retransmission-timeout=1000', 0.7, ours2, peer2, 's', others2);
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
  for (const r of rows) console.log(`| ${r.name} | ${r.reported ? `${r.ratio.toFixed(2)}x` : r.verdict} | <= ${r.goal}x | ${r.reported ? r.verdict : ''} (${r.load}) |`);
} finally {
  await b.cleanup();
  clearTimeout(watchdog);
}
