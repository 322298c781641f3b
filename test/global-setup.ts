// Builds dist/ once so that end-to-end tests run the real binary.
// KANRI_SKIP_BUILD=1 skips it for suites that import src/ directly.
// On PostgreSQL stores (KANRI_TEST_STORE=postgresql) it also makes the run's cluster
// template, which each file's private cluster copies instead of running initdb.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { makeClusterTemplate, postgresBin } from './support/postgres.js';

export default function setup(): (() => void) | undefined {
  let teardown: (() => void) | undefined;
  if (process.env.KANRI_TEST_STORE === 'postgresql' && postgresBin() && !process.env.KANRI_TEST_PG_TEMPLATE) {
    const template = makeClusterTemplate();
    process.env.KANRI_TEST_PG_TEMPLATE = template.data;
    teardown = () => { template.remove(); delete process.env.KANRI_TEST_PG_TEMPLATE; };
  }
  if (process.env.KANRI_SKIP_BUILD === '1') return teardown;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  // The build as `npm run build` does it: tsc, then the bundle bin/kanri.js runs.
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
  return teardown;
}
