#!/usr/bin/env node
// Start-up benchmark: `pvmutl list server <group>` on a store of 10,000 machines
// in 1,000 groups, start to exit, against `node -e 0` measured in the same run
// (interleaved, median of RUNS each). Target: ratio <= 2.0.
//   npm run build && node bench/list-server.mjs [runs]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { largeDataCentre } from './make-large-dc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openStore } = await import(join(root, 'dist/open-store.js'));
const { readDataCentre } = await import(join(root, 'dist/config/validate.js'));
const { applyDataCentre } = await import(join(root, 'dist/config/apply.js'));

const RUNS = Number(process.argv[2] ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'kanri-bench-'));
try {
  const dbPath = join(dir, 'kanri.db');
  const { dc, errors } = readDataCentre(largeDataCentre(1000, 10000));
  if (!dc) throw new Error(errors.slice(0, 5).join('\n'));
  const db = openStore(dbPath, { create: true });
  applyDataCentre(db, dc);
  db.close();
  const pvmutl = join(dir, 'pvmutl');
  symlinkSync(join(root, 'bin/kanri.js'), pvmutl);

  const time = (cmd, args, env) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { ms, out: r.stdout.toString() };
  };
  const env = { ...process.env, KANRI_DB: dbPath };
  const group = 'cat050\\grp0505';
  const first = time(pvmutl, ['list', 'server', group], env);
  if (!first.out.includes('m05050')) throw new Error('unexpected output:\n' + first.out);

  const ours = [];
  const base = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(time(process.execPath, ['-e', '0'], env).ms);
    ours.push(time(pvmutl, ['list', 'server', group], env).ms);
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const a = median(ours);
  const b = median(base);
  console.log(`store: 10000 machines in 1000 groups; ${RUNS} runs each, interleaved`);
  console.log(`pvmutl list server ${group}: median ${a.toFixed(1)} ms`);
  console.log(`node -e 0:                        median ${b.toFixed(1)} ms`);
  console.log(`ratio: ${(a / b).toFixed(2)}x (target <= 2.00x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
