#!/usr/bin/env node
// Engine benchmarks on the sim driver (issue: engine overhead and parallelism).
//  1. Overhead per step with zero-delay drivers: `pvmutl add G /c 100` run one
//     job at a time (engine.parallel=1), minus the cost of a pvmutl start-up
//     measured in the same run, divided by the steps journalled. Target < 2 ms.
//  2. Parallelism: `pvmutl add G /c 100` with a 10 ms sim delay per operation,
//     against 100 x the time of `pvmutl add G /c 1` measured in the same run.
//   npm run build && node bench/engine.mjs
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simGroup, storeFrom } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStore } = await import(join(root, 'dist/open-store.js'));

const N = 100;
const dir = mkdtempSync(join(tmpdir(), 'kanri-bench-'));
const pvmutl = join(dir, 'pvmutl');
symlinkSync(join(root, 'bin/kanri.js'), pvmutl);
const store = (name, settings) => storeFrom(join(dir, name), simGroup(N, settings));

function time(db, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(pvmutl, args, { env: { ...process.env, KANRI_DB: db }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`pvmutl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fresh = (template, name) => { const p = join(dir, name); copyFileSync(template, p); return p; };

try {
  // 1. Overhead per step.
  const zero = await store('zero.db', { 'sim.delay_ms': '0', 'engine.parallel': '1' });
  const startup = median(Array.from({ length: 7 }, () => time(zero, ['list', 'group'])));
  const runs = Array.from({ length: 3 }, (_, i) => {
    const db = fresh(zero, `zero-${i}.db`);
    const ms = time(db, ['add', 'G', '/c', String(N)]);
    const d = openStore(db, { readonly: true });
    const steps = d.prepare('SELECT count(*) AS n FROM job_steps').get().n;
    d.close();
    return { ms, steps };
  });
  const best = runs.sort((a, b) => a.ms - b.ms)[0];
  const perStep = (best.ms - startup) / best.steps;
  console.log(`overhead: add /c ${N}, one job at a time, zero-delay sim: ${best.ms.toFixed(0)} ms for ${best.steps} steps; pvmutl start-up ${startup.toFixed(0)} ms`);
  console.log(`overhead per step: ${perStep.toFixed(3)} ms (target < 2 ms)`);

  // 2. Parallel machines.
  const slow = await store('slow.db', { 'sim.delay_ms': '10' });
  const one = median(Array.from({ length: 5 }, (_, i) => time(fresh(slow, `one-${i}.db`), ['add', 'G', '/c', '1'])));
  const all = median(Array.from({ length: 3 }, (_, i) => time(fresh(slow, `all-${i}.db`), ['add', 'G', '/c', String(N)])));
  console.log(`parallel: add /c 1 = ${one.toFixed(0)} ms; add /c ${N} = ${all.toFixed(0)} ms; ${N} x one = ${(N * one).toFixed(0)} ms`);
  console.log(`ratio: add /c ${N} takes ${(all / (N * one)).toFixed(3)} of ${N} sequential single adds (${((N * one) / all).toFixed(1)}x faster)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
