#!/usr/bin/env node
// Configuration at scale (issue: slow paths). Prints
//  1. validation time of descriptions of 25k, 50k and 100k machines, and the ratio of
//     each doubling (linear: about 2);
//  2. applying the 100k description to a new store;
//  3. applying the sim fixture over that store with --prune, removing the 100k machines
//     (target <= 30 s; every foreign key used by a delete needs its index).
//   npm run build && node bench/apply-large.mjs [machines]
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { largeDataCentre } from './make-large-dc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStore } = await import(join(root, 'dist/open-store.js'));
const { readDataCentre } = await import(join(root, 'dist/config/validate.js'));
const { applyDataCentre } = await import(join(root, 'dist/config/apply.js'));

const N = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'kanri-apply-'));
const time = (fn) => {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return { v, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
};

try {
  // A settings section of many keys (all unknown here: every one is an error to report).
  let prev;
  for (const n of [N / 2, N, 2 * N]) {
    const settings = Object.fromEntries(Array.from({ length: n }, (_, i) => [`x.setting_${i}`, String(i)]));
    const { v, ms } = time(() => readDataCentre({ kanri: 1, settings }));
    console.log(`validate ${n} settings (${v.errors.length} problems): ${ms.toFixed(0)} ms${prev ? ` (x${(ms / prev).toFixed(2)} for twice as many)` : ''}`);
    prev = ms;
  }
  const sizes = [N / 4, N / 2, N];
  let last;
  for (const n of sizes) {
    const doc = largeDataCentre(n / 100, n);
    const { v, ms } = time(() => readDataCentre(doc));
    if (!v.dc) throw new Error(v.errors.slice(0, 5).join('\n'));
    console.log(`validate ${n} machines, ${n} host settings: ${ms.toFixed(0)} ms${last ? ` (x${(ms / last).toFixed(2)} for twice as many)` : ''}`);
    last = ms;
    if (n === N) {
      const path = join(dir, 'kanri.db');
      const db = openStore(path, { create: true });
      const a = time(() => applyDataCentre(db, v.dc));
      console.log(`apply ${n} machines to a new store: ${(a.ms / 1000).toFixed(1)} s`);
      const fixture = readDataCentre(parse(readFileSync(join(root, 'fixtures', 'datacentre.yaml'), 'utf8'))).dc;
      const b = time(() => applyDataCentre(db, fixture, { prune: true }));
      const removed = b.v.plan.filter((e) => e.op === 'remove').length;
      console.log(`apply the fixture over ${n} machines (${removed} objects removed): ${(b.ms / 1000).toFixed(1)} s (target <= 30 s)`);
      db.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
