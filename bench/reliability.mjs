#!/usr/bin/env node
// Reliability under kills and concurrency (run by hand; not part of the test command):
//  1. N SIGKILLs at random moments of `kanri config apply` over a large description;
//  2. N SIGKILLs at random moments of running jobs (add / delete / replace / move);
//  3. 40 concurrent mixed change commands on one store.
// After each part it prints the invariant checks — integrity check, foreign keys, host
// settings used twice, machines in two places, reservations left after the sweep — and
// every figure must be 0.
//   npm run build && node bench/reliability.mjs [kills]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { largeDataCentre } from './make-large-dc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStore } = await import(join(root, 'dist/open-store.js'));
const KILLS = Number(process.argv[2] ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'kanri-rel-'));
const bin = (name) => join(dir, name);
for (const n of ['kanri', 'pvmutl']) symlinkSync(join(root, 'bin/kanri.js'), bin(n));
const env = (db) => ({ ...process.env, KANRI_DB: db, LANG: 'C' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (a, b) => a + Math.floor(Math.random() * (b - a));

function invariants(db) {
  // Any command sweeps jobs whose process died; asjob is the cheapest.
  spawnSync(bin('pvmutl'), ['asjob'], { env: env(db) });
  const d = openStore(db);
  try {
    const one = (sql) => Object.values(d.prepare(sql).get())[0];
    return {
      integrity: d.pragma('integrity_check', { simple: true }) === 'ok' ? 0 : 1,
      foreign_keys: d.pragma('foreign_key_check').length,
      host_settings_used_twice: one('SELECT count(*) FROM (SELECT host_setting_id FROM machines WHERE host_setting_id IS NOT NULL GROUP BY host_setting_id HAVING count(*) > 1)'),
      machines_in_two_places: one(`SELECT count(*) FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE m.group_id IS NOT h.group_id`)
        + one('SELECT count(*) FROM machines WHERE (group_id IS NULL) <> (host_setting_id IS NULL)'),
      reservations_left: one("SELECT count(*) FROM reservations r WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.job_id AND j.status IN ('running', 'held'))"),
      jobs_still_running: one("SELECT count(*) FROM jobs WHERE status IN ('running', 'held')"),
    };
  } finally {
    d.close();
  }
}

function report(what, inv, extra = '') {
  const bad = Object.values(inv).reduce((a, b) => a + b, 0);
  console.log(`${what}${extra}: ${Object.entries(inv).map(([k, v]) => `${k}=${v}`).join(' ')} → ${bad === 0 ? 'all 0' : `${bad} VIOLATIONS`}`);
  return bad;
}

function runChild(name, args, db, killAfterMs) {
  return new Promise((resolve) => {
    const c = spawn(bin(name), args, { env: env(db), stdio: 'ignore' });
    let killed = false;
    const t = killAfterMs === undefined ? undefined : setTimeout(() => { killed = true; c.kill('SIGKILL'); }, killAfterMs);
    c.on('exit', (code) => { if (t) clearTimeout(t); resolve({ code, killed }); });
  });
}

const RACK = (delay) => ({
  kanri: 1,
  settings: { 'sim.delay_ms': String(delay) },
  groups: ['A', 'B', 'C'].map((g, gi) => ({
    name: g, priority: gi + 1, type: 'physical',
    drivers: Object.fromEntries(['power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor'].map((i) => [i, 'sim'])),
    models: [{ name: 'm' }],
    host_settings: Array.from({ length: 10 }, (_, i) => ({ host: `${g.toLowerCase()}${i + 1}` })),
    pool: Array.from({ length: 20 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`),
  })),
  machines: Array.from({ length: 20 }, (_, i) => ({ name: `p${String(i + 1).padStart(2, '0')}`, kind: 'physical' })),
});

let violations = 0;
try {
  // 1. kills of config apply over a large description
  {
    const db = join(dir, 'apply.db');
    const big = join(dir, 'big.yaml');
    writeFileSync(big, stringify(largeDataCentre(200, 20000), { lineWidth: 0 }));
    const small = join(dir, 'small.yaml');
    writeFileSync(small, stringify(largeDataCentre(20, 2000), { lineWidth: 0 }));
    await runChild('kanri', ['config', 'apply', small], db);
    let killed = 0;
    for (let i = 0; i < KILLS; i++) {
      const r = await runChild('kanri', ['config', 'apply', '--prune', i % 2 ? big : small], db, rand(150, 2500));
      if (r.killed) killed++;
      const inv = invariants(db);
      violations += Object.values(inv).reduce((a, b) => a + b, 0);
    }
    violations += report(`config apply, ${KILLS} runs`, invariants(db), ` (${killed} killed mid-apply)`);
  }
  // 2. kills of running jobs
  {
    const db = join(dir, 'jobs.db');
    const yaml = join(dir, 'rack.yaml');
    writeFileSync(yaml, stringify(RACK(40), { lineWidth: 0 }));
    await runChild('kanri', ['config', 'apply', yaml], db);
    let killed = 0;
    const commands = [['add', 'A', '/c', '3'], ['delete', 'A', '/c', '2'], ['add', 'B', '/c', '2'], ['replace', 'B', 'b1'], ['move', 'C', 'A'], ['delete', 'B', '/c', '1'], ['poweron', 'A']];
    for (let i = 0; i < KILLS; i++) {
      const r = await runChild('pvmutl', commands[i % commands.length], db, rand(30, 700));
      if (r.killed) killed++;
      violations += Object.values(invariants(db)).reduce((a, b) => a + b, 0);
      // machines a killed job left abnormal are reset so that later commands have machines to use
      spawnSync('sqlite3', [db, "UPDATE machines SET management_status = 'normal'"]);
    }
    violations += report(`running jobs, ${KILLS} runs`, invariants(db), ` (${killed} killed mid-job)`);
  }
  // 3. concurrent mixed change commands
  {
    const db = join(dir, 'mixed.db');
    const yaml = join(dir, 'rack2.yaml');
    writeFileSync(yaml, stringify(RACK(5), { lineWidth: 0 }));
    await runChild('kanri', ['config', 'apply', yaml], db);
    const mixed = [['add', 'A'], ['add', 'B', '/c', '2'], ['delete', 'A'], ['replace', 'B', 'b1'], ['move', 'C', 'B'], ['add', 'C'], ['poweron', 'A'], ['shutdown', 'B']];
    const t0 = Date.now();
    const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => runChild('pvmutl', mixed[i % mixed.length], db).then((r) => r.code)));
    const tally = {};
    for (const c of codes) tally[c] = (tally[c] ?? 0) + 1;
    violations += report('40 concurrent mixed commands', invariants(db), ` (${Date.now() - t0} ms; exit codes ${JSON.stringify(tally)})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(violations === 0 ? 'reliability: every invariant held' : `reliability: ${violations} violations`);
process.exit(violations === 0 ? 0 : 1);
