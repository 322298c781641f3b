#!/usr/bin/env node
// The whole test suite: install missing peers, build, run vitest, and print one
// closing line "tests: N passed, N failed, N skipped" plus every skip reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

if (run('bash', ['scripts/peers.sh']).status !== 0) process.exit(1);
if (run(process.execPath, ['scripts/build.mjs']).status !== 0) {
  console.error('build failed');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'kanri-test-'));
const results = join(work, 'results.json');
const skipLog = join(work, 'skips.log');
const vitest = run(process.execPath, [
  'node_modules/vitest/vitest.mjs', 'run',
  '--reporter=default', '--reporter=json', `--outputFile.json=${results}`,
  ...process.argv.slice(2),
], { env: { ...process.env, KANRI_SKIP_LOG: skipLog } });

let passed = 0, failed = 0, skipped = 0;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = (r.numFailedTests ?? 0);
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that failed to load has no test results but must count as a failure.
  failed += (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
}
if (existsSync(skipLog)) {
  const reasons = [...new Set(readFileSync(skipLog, 'utf8').split('\n').filter(Boolean))];
  if (reasons.length) {
    console.log(`\nSKIPPED (${reasons.length} reason${reasons.length > 1 ? 's' : ''}):`);
    for (const line of reasons) console.log(`  SKIP ${line}`);
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(vitest.status === 0 && failed === 0 ? 0 : 1);
