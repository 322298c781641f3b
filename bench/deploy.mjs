#!/usr/bin/env node
// deploygrp to 50 sim machines: all at once against /seq (one at a time), in the
// same run, with a 20 ms sim delay per operation and three items of software.
//   npm run build && node bench/deploy.mjs
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStore } = await import(join(root, 'dist/open-store.js'));
const { readDataCentre } = await import(join(root, 'dist/config/validate.js'));
const { applyDataCentre } = await import(join(root, 'dist/config/apply.js'));

const N = 50;
const dir = mkdtempSync(join(tmpdir(), 'kanri-bench-'));
try {
  const pvmutl = join(dir, 'pvmutl');
  symlinkSync(join(root, 'bin/kanri.js'), pvmutl);
  const drivers = Object.fromEntries(['power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor'].map((i) => [i, 'sim']));
  const { dc, errors } = readDataCentre({
    kanri: 1,
    settings: { 'sim.delay_ms': '20' },
    software: ['S1', 'S2', 'S3'].map((name) => ({ name, kind: 'scenario' })),
    groups: [{
      name: 'G', type: 'physical', drivers, software: { activation: ['S1', 'S2', 'S3'] }, models: [{ name: 'std' }],
      host_settings: Array.from({ length: N }, (_, i) => ({ host: `h${i}` })),
    }],
    machines: Array.from({ length: N }, (_, i) => ({ name: `m${i}`, kind: 'physical', active: { group: 'G', model: 'std', host: `h${i}`, from: 'common_pool' } })),
  });
  if (!dc) throw new Error(errors.join('\n'));
  const template = join(dir, 'template.db');
  const db = openStore(template, { create: true });
  applyDataCentre(db, dc);
  db.close();

  const time = (args, i) => {
    const store = join(dir, `run-${args.length}-${i}.db`);
    copyFileSync(template, store);
    const t = process.hrtime.bigint();
    const r = spawnSync(pvmutl, args, { env: { ...process.env, KANRI_DB: store }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pvmutl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const par = [];
  const seq = [];
  for (let i = 0; i < 3; i++) {
    par.push(time(['deploygrp', 'G', '/f'], i));
    seq.push(time(['deploygrp', 'G', '/f', '/seq'], i));
  }
  const p = median(par);
  const s = median(seq);
  console.log(`deploygrp G /f      (${N} machines at once):   median ${p.toFixed(0)} ms`);
  console.log(`deploygrp G /f /seq (one machine at a time):  median ${s.toFixed(0)} ms`);
  console.log(`ratio: /seq takes ${(s / p).toFixed(1)}x as long as the parallel distribution`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
