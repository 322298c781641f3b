#!/usr/bin/env node
// Round trips to a PostgreSQL store per command and per engine step: `pvmutl list group` and
// `pvmutl add G /c N` one job at a time on zero-delay sim drivers, counted in the libpq binding
// (bench/pg-count.cjs); with DETAIL=K, the K statements run most often. Round trips are what
// the load cannot change: on a loaded machine each one is a wait for the server's process.
// A second checkout (built) as argument is counted too, for an A/B against it.
//   npm run build && node bench/store-roundtrips.mjs [N] [OTHER_CHECKOUT]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, cleanup, dist, root, run, simGroup, storeFrom, tempDir, testSupport } from './support.mjs';
import { symlinkSync } from 'node:fs';

const N = Number(process.argv[2] ?? 10);
const roots = [root, ...(process.argv[3] ? [resolve(process.argv[3])] : [])];
build();
const { openStore } = await dist('open-store.js');
const cluster = (await testSupport('postgres')).startCluster();
const dir = tempDir();
try {
  cluster.psql('postgres', 'CREATE DATABASE tmpl');
  await storeFrom(cluster.uri('tmpl'), simGroup(N + 1, { 'sim.delay_ms': '0', 'engine.parallel': '1' }));
  for (const [i, checkout] of roots.entries()) {
    const db = `s${i}`;
    cluster.psql('postgres', `CREATE DATABASE ${db} TEMPLATE tmpl`);
    const uri = cluster.uri(db);
    const pvmutl = join(tempDir('kanri-bench-bin-'), 'pvmutl');
    symlinkSync(join(checkout, 'bin/kanri.js'), pvmutl);
    const file = join(dir, `${i}.jsonl`);
    const env = { KANRI_DB: uri, NODE_OPTIONS: `-r ${join(root, 'bench/pg-count.cjs')}`, KANRI_RT_ROOT: checkout, KANRI_RT_FILE: file };
    for (const args of [['list', 'group'], ['add', 'G', '/c', String(N)]]) {
      const r = await run(pvmutl, args, env);
      if (r.code !== 0) throw new Error(`pvmutl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    }
    const h = openStore(uri, { readonly: true });
    const steps = Number(h.prepare('SELECT count(*) AS n FROM job_steps').get().n);
    h.close();
    console.log(checkout);
    for (const l of readFileSync(file, 'utf8').trim().split('\n').map((x) => JSON.parse(x))) {
      const add = l.argv[0] === 'add';
      console.log(`  pvmutl ${l.argv.join(' ')}: ${l.total} round trips${add ? `, ${steps} steps, ${(l.total / steps).toFixed(2)} per step` : ''}`);
      for (const [what, n] of l.counts.slice(0, Number(process.env.DETAIL ?? 0))) console.log(`    ${String(n).padStart(5)} ${what.slice(0, 160)}`);
    }
  }
} finally {
  cluster.stop();
  await cleanup();
}
