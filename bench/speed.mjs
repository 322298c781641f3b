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
// rack, whose power states are checked against every answer. The commands run as an
// administrator runs them: the binary under its name (pvmutl, dscli), as built by
// `npm run build`. The machine's load average is printed at the start, with every row
// and at the end: on a shared machine a figure means little without it.
//
//   node bench/speed.mjs
//   BENCH_RUNS=7 BENCH_START_RUNS=15 BENCH_MAX_S=900 node bench/speed.mjs
//   BENCH_ONLY=start node bench/speed.mjs       (start-up rows only: no simulators)
//   BENCH_ONLY=ipmi node bench/speed.mjs        (the three BMC rows only)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as b from './support.mjs';
import { largeDataCentre } from './make-large-dc.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 15);
const ONLY = process.env.BENCH_ONLY ?? 'all';
const N = 200, SMALL = 50;

const watchdog = b.watchdog(Number(process.env.BENCH_MAX_S ?? 900));
const rows = [];
const row = (name, goal, ours, peer, oursLabel, peerLabel, unit) => {
  const r = { name, goal, ratio: b.median(ours) / b.median(peer), ours, peer, oursLabel, peerLabel, unit, load: b.load() };
  rows.push(r);
  const f = unit === 's' ? (ms) => (ms / 1000).toFixed(3) : (ms) => ms.toFixed(1);
  console.log(`${name}: ${r.ratio.toFixed(2)}x (goal <= ${goal}x, ${r.ratio <= goal ? 'met' : 'NOT met'}); load ${r.load}`);
  console.log(`  ${oursLabel}: median ${f(b.median(ours))} ${unit}  runs ${ours.map(f).join(' ')}`);
  console.log(`  ${peerLabel}: median ${f(b.median(peer))} ${unit}  runs ${peer.map(f).join(' ')}`);
};

/** One start-up measurement: a whole process, stdout a pipe, wall time in ms. */
function startTime(cmd, args, env, check) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 || (check && !check(r.stdout))) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 300)}`);
  return ms;
}
const nodeE0 = () => startTime(process.execPath, ['-e', '0'], {});

async function startupRows() {
  const pvmutl = b.named('pvmutl');
  const dscli = b.named('dscli');
  const { openStore } = await b.dist('store/db.js');
  const { readDataCentre } = await b.dist('config/validate.js');
  const { applyDataCentre } = await b.dist('config/apply.js');
  const { parse } = await import('yaml');
  const { readFileSync } = await import('node:fs');
  const store = (doc) => {
    const { dc, errors } = readDataCentre(doc);
    if (!dc) throw new Error(errors.slice(0, 5).join('\n'));
    const path = join(b.tempDir('kanri-bench-dc-'), 'kanri.db');
    const db = openStore(path, { create: true });
    applyDataCentre(db, dc);
    db.close();
    return path;
  };
  const side = async (fn) => fn;
  void side;

  const fixture = store(parse(readFileSync(join(b.root, 'fixtures/datacentre.yaml'), 'utf8')));
  let r = await b.sideBySide(async () => startTime(pvmutl, ['list', 'group'], { KANRI_DB: fixture }, (o) => o.includes('ServerGroup List')), async () => nodeE0(), START_RUNS);
  row('pvmutl list group / node -e 0', 1.2, r.a, r.b, 'pvmutl list group (fixtures/datacentre.yaml)', 'node -e 0', 'ms');

  const large = store(largeDataCentre(1000, 10000));
  r = await b.sideBySide(async () => startTime(pvmutl, ['list', 'server', 'cat050\\grp0505'], { KANRI_DB: large }, (o) => o.includes('m05050')), async () => nodeE0(), START_RUNS);
  row('pvmutl list server on 10,000 machines / node -e 0', 1.25, r.a, r.b, 'pvmutl list server cat050\\grp0505', 'node -e 0', 'ms');

  r = await b.sideBySide(async () => startTime(dscli, ['help'], {}, (o) => o.startsWith('Usage: dscli')), async () => nodeE0(), START_RUNS);
  row('dscli help / node -e 0', 1.15, r.a, r.b, 'dscli help', 'node -e 0', 'ms');
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

  const wholeDscli = (n) => async () => {
    const r = await b.run(dscli, ['getPowerStatus', range(n)], { KANRI_DB: dbPath });
    const got = r.stdout.trim().split('\n').map((l) => l.split(' ')[1]);
    const wrong = got.filter((s, i) => s !== truth[i]).length + Math.max(0, n - got.length);
    if (r.code !== 0 || wrong) console.log(`  dscli: exit ${r.code}, ${wrong} of ${n} wrong or failed ${r.stderr.split('\n')[0] ?? ''}`);
    return r.ms;
  };
  const freeipmi = (n) => async () => {
    const hosts = rack.bmcs.slice(0, n).map((x) => `${x.host}:${x.port}`).join(',');
    const r = await b.run('ipmi-power', ['--config-file', conf, '-h', hosts, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat']);
    const ok = r.stdout.split('\n').filter((l) => /: (on|off)$/.test(l)).length;
    if (ok !== n) console.log(`  FreeIPMI: ${ok} of ${n} answered (${r.stdout.split('\n').find((l) => l && !/: (on|off)$/.test(l)) ?? r.stderr.split('\n')[0] ?? ''})`);
    return r.ms;
  };

  let r = await b.sideBySide(wholeDscli(N), freeipmi(N), RUNS);
  row(`dscli getPowerStatus, ${N} BMCs, whole process / ipmi-power`, 1.0, r.a, r.b, `dscli getPowerStatus ${range(N)}`, `ipmi-power --stat -h (${N} hosts)`, 's');
  r = await b.sideBySide(wholeDscli(SMALL), freeipmi(SMALL), RUNS);
  row(`dscli getPowerStatus, ${SMALL} BMCs, whole process / ipmi-power`, 1.0, r.a, r.b, `dscli getPowerStatus ${range(SMALL)}`, `ipmi-power --stat -h (${SMALL} hosts)`, 's');

  // The library in this process, with dscli's defaults: fan-out 64, 5 s per BMC, 2 retries.
  const ipmi = await b.dist('ipmi/index.js');
  const targets = rack.bmcs.map((x) => ({ host: x.host, port: x.port, user: 'admin', password: 'adminpass', cipherSuite: 3 }));
  const inProcess = async () => {
    const t = process.hrtime.bigint();
    const res = await ipmi.powerAll(targets, 'status', { concurrency: 64, timeoutMs: 1000, retries: 2, deadlineMs: 5000 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const wrong = res.filter((x, i) => !x.ok || x.value.before !== truth[i]).length;
    if (wrong) console.log(`  kanri in-process: ${wrong} of ${N} wrong or failed: ${res.find((x) => !x.ok)?.error?.message ?? ''}`);
    return ms;
  };
  r = await b.sideBySide(inProcess, freeipmi(N), RUNS);
  row(`kanri's fan-out in one process / ipmi-power, ${N} BMCs`, 0.8, r.a, r.b, `src/ipmi power status, ${N} BMCs in one process`, `ipmi-power --stat -h (${N} hosts)`, 's');
}

try {
  console.log(`load average at start: ${b.load()} (${(await import('node:os')).cpus().length} cores)`);
  b.build();
  if (ONLY !== 'ipmi') await startupRows();
  if (ONLY !== 'start') await ipmiRows();
  console.log(`\nload average at end: ${b.load()}`);
  console.log('\n| ratio | measured | goal | |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.name} | ${r.ratio.toFixed(2)}x | <= ${r.goal}x | ${r.ratio <= r.goal ? 'met' : 'NOT met'} (load ${r.load}) |`);
} finally {
  await b.cleanup();
  clearTimeout(watchdog);
}
