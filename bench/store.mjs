#!/usr/bin/env node
// The store's two back ends side by side (issue 22: several managers on one PostgreSQL store),
// in one run, alternating, medians, with the load average:
//  1. start-up of `pvmutl list group` (goal: PostgreSQL ≤ 1.5× SQLite);
//  2. engine overhead per step: `pvmutl add G /c 100` one job at a time on zero-delay sim
//     drivers, minus the start-up measured here, divided by the steps journalled (goal ≤ 3 ms);
//  3. `pvmutl add G /c 100` as it runs by default (machines in parallel);
//  4. 40 `pvmutl add G` at once from two managers (KANRI_MANAGER=a and b, 20 processes each):
//     no command may fail, and afterwards 40 machines are in G, each with its own host
//     setting, 40 jobs completed, no reservation left;
//  5. the PostgreSQL client: the synchronous libpq binding (what the store uses) against the
//     asynchronous `pg` (a devDependency) for the same statements on the same store — round
//     trip per statement, and how long the event loop is held while a transaction of 10
//     statements runs (a 1 ms timer's lateness, and the loop's utilisation).
// `pvmutl add` takes machines from G's pool; its /c count must be below the pool and the
// unused host settings (pvmutl add, spec's "以上" reading), so G has 101 of each.
// PostgreSQL is a private cluster on a unix socket (test/support/postgres.ts); a fresh store
// for each run is a copy of a template (SQLite: the file; PostgreSQL: CREATE DATABASE … TEMPLATE).
//   npm run build && node bench/store.mjs [RUNS]
import { copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { build, cleanup, dist, load, median, named, run, sideBySide, simGroup, storeFrom, tempDir, testSupport, watchdog } from './support.mjs';

const RUNS = Number(process.argv[2] ?? 5);
const N = 100;
const POOL = N + 1;
const CONCURRENT = 40;

watchdog(1800);
build();
const require = createRequire(import.meta.url);
const { openStore } = await dist('open-store.js');
const pgSupport = await testSupport('postgres');
const cluster = pgSupport.startCluster();
const dir = tempDir();
const pvmutl = named('pvmutl');
const loads = [];
const out = [];
const say = (line) => { out.push(line); console.log(line); };
const noteLoad = () => loads.push(load());

/** Templates on both back ends; fresh(kind) makes a new store from one. */
let copies = 0;
async function templates(name, settings) {
  const sqlite = await storeFrom(join(dir, `${name}.db`), simGroup(POOL, settings));
  const db = `tmpl_${name}`;
  cluster.psql('postgres', `CREATE DATABASE ${db}`);
  await storeFrom(cluster.uri(db), simGroup(POOL, settings));
  return {
    sqlite: () => { const p = join(dir, `${name}-${++copies}.db`); copyFileSync(sqlite, p); return p; },
    postgresql: () => { const d = `${name}_${++copies}`; cluster.psql('postgres', `CREATE DATABASE ${d} TEMPLATE ${db}`); return cluster.uri(d); },
    template: { sqlite, postgresql: cluster.uri(db) },
  };
}

/** CPU time of the command itself (user + system, ms) by label: what the load cannot inflate much. */
const cpu = new Map();
async function pv(store, args, label) {
  const r = await run(pvmutl, args, { KANRI_DB: store }, 120_000, { cpu: true });
  if (r.code !== 0) throw new Error(`pvmutl ${args.join(' ')} on ${store} exited ${r.code}: ${r.stderr}`);
  if (label) cpu.set(label, [...(cpu.get(label) ?? []), r.cpuMs]);
  return r.ms;
}

const one = (store, sql) => { const db = openStore(store, { readonly: true }); try { return db.prepare(sql).get(); } finally { db.close(); } };
const fmt = (x) => x.toFixed(1);

try {
  // 1. start-up
  const zero = await templates('zero', { 'sim.delay_ms': '0', 'engine.parallel': '1' });
  noteLoad();
  const start = await sideBySide(() => pv(zero.template.sqlite, ['list', 'group'], 'start sqlite'), () => pv(zero.template.postgresql, ['list', 'group'], 'start postgresql'), RUNS * 2);
  const startup = { sqlite: median(start.a), postgresql: median(start.b) };
  const startCpu = { sqlite: median(cpu.get('start sqlite')), postgresql: median(cpu.get('start postgresql')) };
  say(`start-up, pvmutl list group: SQLite ${fmt(startup.sqlite)} ms, PostgreSQL ${fmt(startup.postgresql)} ms, ratio ${(startup.postgresql / startup.sqlite).toFixed(2)} (goal ≤ 1.5); CPU of the command ${fmt(startCpu.sqlite)} and ${fmt(startCpu.postgresql)} ms, ratio ${(startCpu.postgresql / startCpu.sqlite).toFixed(2)}; ${RUNS * 2} runs each, load ${load()}`);

  // 2. overhead per step
  noteLoad();
  const perStep = { sqlite: [], postgresql: [] };
  const cpuStep = { sqlite: [], postgresql: [] };
  const stepRun = async (kind) => {
    const store = zero[kind]();
    const ms = await pv(store, ['add', 'G', '/c', String(N)], `step ${kind}`);
    const steps = one(store, 'SELECT count(*) AS n FROM job_steps').n;
    perStep[kind].push((ms - startup[kind]) / steps);
    cpuStep[kind].push((cpu.get(`step ${kind}`).at(-1) - startCpu[kind]) / steps);
    return ms;
  };
  await sideBySide(() => stepRun('sqlite'), () => stepRun('postgresql'), RUNS);
  const ps = { sqlite: median(perStep.sqlite), postgresql: median(perStep.postgresql) };
  say(`engine overhead per step (add /c ${N}, one job at a time, zero-delay sim): SQLite ${ps.sqlite.toFixed(3)} ms, PostgreSQL ${ps.postgresql.toFixed(3)} ms (goal ≤ 3 ms); of it the command's own CPU ${median(cpuStep.sqlite).toFixed(3)} and ${median(cpuStep.postgresql).toFixed(3)} ms (the rest is waiting: for the server, and under load for a CPU), load ${load()}`);

  // 3. pvmutl add G /c 100, machines in parallel
  const par = await templates('par', { 'sim.delay_ms': '0' });
  noteLoad();
  const add = await sideBySide(() => pv(par.sqlite(), ['add', 'G', '/c', String(N)], 'add sqlite'), () => pv(par.postgresql(), ['add', 'G', '/c', String(N)], 'add postgresql'), RUNS);
  say(`pvmutl add G /c ${N}: SQLite ${fmt(median(add.a))} ms, PostgreSQL ${fmt(median(add.b))} ms, ratio ${(median(add.b) / median(add.a)).toFixed(2)}; CPU of the command ${fmt(median(cpu.get('add sqlite')))} and ${fmt(median(cpu.get('add postgresql')))} ms, load ${load()}`);

  // 4. 40 concurrent adds from two managers
  noteLoad();
  const failures = { sqlite: 0, postgresql: 0 };
  const broken = [];
  const concurrent = async (kind) => {
    const store = par[kind]();
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => run(pvmutl, ['add', 'G'], { KANRI_DB: store, KANRI_MANAGER: i % 2 ? 'b' : 'a' }, 600_000)));
    const ms = performance.now() - t0;
    for (const r of results) if (r.code !== 0) { failures[kind]++; broken.push(`${kind}: exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`); }
    const inG = one(store, "SELECT count(*) AS n, count(DISTINCT host_setting_id) AS hs FROM machines m JOIN groups g ON g.id = m.group_id WHERE g.name = 'G' AND m.host_setting_id IS NOT NULL");
    const jobs = one(store, "SELECT count(*) AS n FROM jobs WHERE status = 'completed'");
    const left = one(store, 'SELECT count(*) AS n FROM reservations');
    if (inG.n !== CONCURRENT || inG.hs !== CONCURRENT || jobs.n !== CONCURRENT || left.n !== 0) {
      broken.push(`${kind}: invariants broken: ${inG.n} machines in G on ${inG.hs} host settings, ${jobs.n} jobs completed, ${left.n} reservations left`);
    }
    return ms;
  };
  const conc = await sideBySide(() => concurrent('sqlite'), () => concurrent('postgresql'), Math.max(3, Math.ceil(RUNS / 2)));
  say(`${CONCURRENT} concurrent pvmutl add G from managers a and b: SQLite ${fmt(median(conc.a))} ms, PostgreSQL ${fmt(median(conc.b))} ms, ratio ${(median(conc.b) / median(conc.a)).toFixed(2)}; failed commands: SQLite ${failures.sqlite}, PostgreSQL ${failures.postgresql} (goal 0); invariants ${broken.length ? 'BROKEN' : 'kept'}, load ${load()}`);
  for (const b of broken.slice(0, 10)) say(`  ${b}`);

  // 5. the client: libpq (sync) vs pg (async), the same statements on the same store
  noteLoad();
  const store = zero.template.postgresql;
  const dbName = store.slice(store.indexOf('@/') + 2, store.indexOf('?'));
  const STATEMENTS = [
    ["SELECT id, name, group_id, host_setting_id FROM machines WHERE name = $1", (i) => [`m${i % POOL}`]],
    ["SELECT h.id, h.host_name FROM host_settings h JOIN groups g ON g.id = h.group_id WHERE g.name = $1 ORDER BY h.position LIMIT 1", () => ['G']],
    ['SELECT count(*) AS n FROM reservations WHERE resource = $1', () => ['machine']],
  ];
  const TOTAL = 3000;
  const TX = 10;
  const Libpq = require('libpq');
  const pq = new Libpq();
  pq.connectSync(`host='${cluster.socketDir}' user='kanri' dbname='${dbName}'`);
  STATEMENTS.forEach(([sql], k) => { pq.prepare(`s${k}`, sql, 1); if (pq.resultStatus() !== 'PGRES_COMMAND_OK') throw new Error(pq.errorMessage()); });
  const { Client } = require('pg');
  const client = new Client({ host: cluster.socketDir, user: 'kanri', database: dbName });
  await client.connect();
  const sync = (i) => {
    const k = i % STATEMENTS.length;
    pq.execPrepared(`s${k}`, STATEMENTS[k][1](i));
    if (pq.resultStatus() !== 'PGRES_TUPLES_OK') throw new Error(pq.errorMessage());
  };
  const async = (i) => {
    const k = i % STATEMENTS.length;
    return client.query({ name: `s${k}`, text: STATEMENTS[k][0], values: STATEMENTS[k][1](i) });
  };
  // Round trip per statement, alternating blocks of each client.
  const rtt = { libpq: [], pg: [] };
  const block = async (which) => {
    for (let i = 0; i < 100; i++) {
      const t = process.hrtime.bigint();
      if (which === 'libpq') sync(i); else await async(i);
      rtt[which].push(Number(process.hrtime.bigint() - t) / 1e3);
    }
  };
  for (let i = 0; i < 10; i++) { await block('libpq'); await block('pg'); }
  rtt.libpq.length = 0; rtt.pg.length = 0;
  for (let b = 0; b < TOTAL / 100; b++) { if (b % 2) { await block('pg'); await block('libpq'); } else { await block('libpq'); await block('pg'); } }
  const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];
  // The event loop while transactions of TX statements run back to back (a daemon's work),
  // a 1 ms timer beside them: how late it fires, and how busy the loop is.
  const loopWhile = async (fn) => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    h.enable();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0).utilization;
    h.disable();
    clearInterval(timer);
    return { ms, maxLag: h.max / 1e6, p99Lag: h.percentile(99) / 1e6, elu, ticks };
  };
  const syncLoop = await loopWhile(async () => {
    for (let t = 0; t < TOTAL / TX; t++) {
      for (let i = 0; i < TX; i++) sync(t * TX + i);
      await new Promise((r) => setImmediate(r));
    }
  });
  const asyncLoop = await loopWhile(async () => {
    for (let t = 0; t < TOTAL / TX; t++) for (let i = 0; i < TX; i++) await async(t * TX + i);
  });
  pq.finish();
  await client.end();
  say(`client, ${TOTAL} statements (3 of kanri's reads, prepared), unix socket, load ${load()}:`);
  say(`  round trip per statement: libpq (sync) median ${median(rtt.libpq).toFixed(0)} µs, p99 ${p99(rtt.libpq).toFixed(0)} µs; pg (async) median ${median(rtt.pg).toFixed(0)} µs, p99 ${p99(rtt.pg).toFixed(0)} µs; ratio pg/libpq ${(median(rtt.pg) / median(rtt.libpq)).toFixed(2)}`);
  say(`  event loop during transactions of ${TX} statements: libpq holds it ${(syncLoop.ms / (TOTAL / TX) * 1000).toFixed(0)} µs per transaction (loop busy ${(syncLoop.elu * 100).toFixed(0)}%, 1 ms timer late by p99 ${syncLoop.p99Lag.toFixed(2)} ms, max ${syncLoop.maxLag.toFixed(2)} ms); pg leaves it free (busy ${(asyncLoop.elu * 100).toFixed(0)}%, timer late by p99 ${asyncLoop.p99Lag.toFixed(2)} ms, max ${asyncLoop.maxLag.toFixed(2)} ms) but takes ${(asyncLoop.ms / syncLoop.ms).toFixed(2)}× as long in all`);
  say(`load averages at the start of each part: ${loads.join(' | ')}`);
  if (broken.length || failures.sqlite || failures.postgresql) process.exitCode = 1;
} finally {
  cluster.stop();
  await cleanup();
}
