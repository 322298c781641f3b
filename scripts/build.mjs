#!/usr/bin/env node
// The build (`npm run build`):
//  1. tsc emits dist/<module>.js, one file per source file: the type check (an error fails
//     the build), and the modules that scripts and benchmarks import one by one.
//  2. rolldown bundles what bin/kanri.js runs into dist/bundle/, so that a start-up reads
//     a few files instead of dozens: main.js (the dialect dispatch of src/cli/main.ts),
//     then one build per dialect, pvmutl/, dscli/ and kanri/, whose start-up code is one
//     chunk (`initial`) and whose modules loaded on demand (commands, drivers) stay
//     chunks of their own. One dialect runs per process, so a module bundled into two
//     dialects never has two copies alive. Packages under node_modules stay external
//     (better-sqlite3 and ssh2 carry native code). Source maps point back into src/;
//     bin/kanri.js turns them on under KANRI_DEBUG.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { build } = await import('rolldown');
const out = join(root, 'dist/bundle');
rmSync(out, { recursive: true, force: true });

const DIALECTS = ['pvmutl', 'dscli', 'kanri'];
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:/.test(id);
const common = { cwd: root, platform: 'node', external, logLevel: 'warn', onLog };
const output = { format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' };

let failed = false;
function onLog(level, log, defaultHandler) {
  // A dynamic import of a module that is also imported statically is fine: it is loaded already.
  if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
  if (level === 'warn') failed = true;
  defaultHandler(level, log);
}

try {
  // The dispatch: each dialect's import becomes the import of that dialect's bundle.
  await build({
    ...common,
    input: { main: join(root, 'src/cli/main.ts') },
    plugins: [{
      name: 'kanri-dialects',
      resolveId(source, importer) {
        const m = /^\.\.\/(pvmutl|dscli|kanri)\/main\.js$/.exec(source);
        if (m && importer?.endsWith(join('src', 'cli', 'main.ts'))) return { id: `./${m[1]}/main.js`, external: true };
        return null;
      },
    }],
    output: { ...output, dir: out },
  });
  for (const d of DIALECTS) {
    await build({
      ...common,
      input: { main: join(root, 'src', d, 'main.ts') },
      output: { ...output, dir: join(out, d), codeSplitting: { groups: [{ name: 'initial', tags: ['$initial'] }] } },
    });
  }
} catch (e) {
  console.error(`bundling failed: ${e.message}`);
  process.exit(1);
}
if (failed) {
  console.error('bundling reported warnings (above); fix them');
  process.exit(1);
}
