#!/usr/bin/env node
// The whole test suite: install missing peers, build, run vitest on SQLite stores, then again
// on PostgreSQL stores (KANRI_TEST_STORE=postgresql: every store a test makes is a database of
// a private cluster) but for the files test/postgresql-left-out.json names with a reason each.
// Prints a line per pass, then one closing line "tests: N passed, N failed, N skipped" that
// counts both, plus every skip reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
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
const skipLog = join(work, 'skips.log');

/** One vitest run; its counts, and whether vitest itself succeeded. */
function pass(name, env, extra = []) {
  const results = join(work, `${name}.json`);
  const started = Date.now();
  const vitest = run(process.execPath, [
    'node_modules/vitest/vitest.mjs', 'run',
    '--reporter=default', '--reporter=json', `--outputFile.json=${results}`,
    ...extra, ...process.argv.slice(2),
  ], { env: { ...env, KANRI_SKIP_LOG: skipLog } });
  const counts = { passed: 0, failed: 0, skipped: 0, seconds: Math.round((Date.now() - started) / 1000), ok: vitest.status === 0 };
  if (existsSync(results)) {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    counts.passed = r.numPassedTests ?? 0;
    counts.failed = r.numFailedTests ?? 0;
    counts.skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    // A suite that failed to load has no test results but must count as a failure.
    counts.failed += (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  }
  return counts;
}

/** Why the PostgreSQL pass cannot run here, or undefined. */
function postgresMissing() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base) || !readdirSync(base).some((v) => existsSync(join(base, v, 'bin', 'initdb')))) return "peer 'postgresql' not installed (run scripts/peers.sh as root)";
  try {
    createRequire(join(root, 'package.json'))('libpq');
  } catch {
    return 'the libpq binding is not built (apt-get install libpq-dev, then npm ci)';
  }
  return undefined;
}

const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
const { KANRI_TEST_STORE: _chosen, ...env } = process.env;
const sqlite = pass('sqlite', env);
const leftOut = Object.keys(JSON.parse(readFileSync(join(root, 'test', 'postgresql-left-out.json'), 'utf8'))).length;
const missing = postgresMissing();
// Built once above; files named on the command line that are all left out make an empty pass.
const postgres = missing ? undefined : pass('postgresql', { ...env, KANRI_TEST_STORE: 'postgresql', KANRI_SKIP_BUILD: '1' }, ['--passWithNoTests']);

const reasons = existsSync(skipLog) ? readFileSync(skipLog, 'utf8').split('\n').filter(Boolean) : [];
if (missing) reasons.push(`the suite on PostgreSQL stores: ${missing}`);
const unique = [...new Set(reasons)];
if (unique.length) {
  console.log(`\nSKIPPED (${unique.length} reason${unique.length > 1 ? 's' : ''}):`);
  for (const r of unique) console.log(`  SKIP ${r}`);
}
rmSync(work, { recursive: true, force: true });
console.log(`\ntests on SQLite: ${line(sqlite)} (${sqlite.seconds} s)`);
console.log(postgres
  ? `tests on PostgreSQL: ${line(postgres)} (${postgres.seconds} s); ${leftOut} files left out (test/postgresql-left-out.json)`
  : 'tests on PostgreSQL: not run (see SKIPPED)');
const all = [sqlite, postgres].filter(Boolean);
const total = { passed: 0, failed: 0, skipped: 0 };
for (const c of all) for (const k of Object.keys(total)) total[k] += c[k];
console.log(`tests: ${line(total)}`);
process.exit(all.every((c) => c.ok && c.failed === 0) ? 0 : 1);
