// Builds dist/ once so that end-to-end tests run the real binary.
// KANRI_SKIP_BUILD=1 skips it for suites that import src/ directly.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export default function setup(): void {
  if (process.env.KANRI_SKIP_BUILD === '1') return;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  // The build as `npm run build` does it: tsc, then the bundle bin/kanri.js runs.
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}
