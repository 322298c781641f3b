#!/usr/bin/env node
// The build (`npm run build`):
//  1. tsc emits dist/<module>.js, one file per source file: the type check (an error fails
//     the build), and the modules that scripts and benchmarks import one by one.
//  2. rolldown bundles what bin/kanri.js runs into dist/bundle/, as CommonJS: Node loads
//     CommonJS synchronously, while every ES module of a start-up costs the ESM loader
//     (asynchronous reads through the thread pool, module jobs), which a command that
//     prints a few lines notices. The layout keeps what is loaded small:
//       main.cjs        the dialect dispatch of src/cli/main.ts;
//       output.cjs      src/cli/output.ts, the one module whose state the dispatch shares
//                       with the dialect it runs: every build links to it, none copies it;
//       <dialect>/      one build per dialect (pvmutl, dscli, kanri): main.cjs, which holds
//                       all of its start-up code (every file a start-up loads is one more
//                       to resolve, read and deserialise), and a chunk per module it loads
//                       on demand (commands, drivers), still loaded on demand.
//     One dialect runs per process, so a module bundled into two dialects never has two
//     copies alive. Packages under node_modules stay external (better-sqlite3 and ssh2
//     carry native code) except those published only as ES modules, which a CommonJS
//     bundle cannot require on Node 20: they are bundled. Source maps point back into
//     src/; bin/kanri.js turns them on under KANRI_DEBUG.
//  3. A few commands run on a temporary store to leave V8's code cache next to the chunks
//     they load (bin/code-cache.js): the start-up of those commands then deserialises
//     compiled code instead of compiling the chunks.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTrainingBmc } from './code-cache-bmc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { build } = await import('rolldown');
const out = join(root, 'dist/bundle');
rmSync(out, { recursive: true, force: true });

const DIALECTS = ['pvmutl', 'dscli', 'kanri'];
const SHARED = join(root, 'src/cli/output.ts');
/**
 * Packages bundled: those published only as ES modules, and better-sqlite3's JavaScript
 * (a dozen small files, required on the first open of a store: src/store/sqlite.ts; its
 * addon stays where the package built it, named by path).
 */
const BUNDLED = new Set(['chalk', 'execa', 'better-sqlite3']);
/** What a bundled package requires but the bundle never runs (better-sqlite3's addon finder). */
const NOT_BUNDLED = new Set(['bindings']);

const packageOf = (id) => id.split('/').slice(0, id.startsWith('@') ? 2 : 1).join('/');
function external(id, importer) {
  if (id.startsWith('node:') || builtinModules.includes(packageOf(id))) return true;
  if (id.startsWith('.') || isAbsolute(id)) return false;
  if (NOT_BUNDLED.has(packageOf(id))) return true;
  // What a bundled package imports is bundled with it.
  if (importer?.includes('node_modules/')) return false;
  return !BUNDLED.has(packageOf(id));
}

let failed = false;
function onLog(level, log, defaultHandler) {
  // A dynamic import of a module that is also imported statically is fine: it is loaded already.
  if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
  if (level === 'warn') failed = true;
  defaultHandler(level, log);
}

const common = { cwd: root, platform: 'node', external, logLevel: 'warn', onLog };
const output = {
  format: 'cjs',
  // import() of a chunk or package becomes require(): no ESM loader at all.
  dynamicImportInCjs: false,
  sourcemap: true,
  // Pure ASCII (escapes, no comments: src/ and the source maps have them): V8 reads and
  // scans such a file as one-byte text; one non-ASCII character makes the whole file
  // two-byte and its start-up slower.
  charset: 'ascii',
  comments: false,
  entryFileNames: '[name].cjs',
  chunkFileNames: '[name]-[hash].cjs',
};

/** A plugin that turns the import of one source module into the import of an already built file. */
function linkTo(module, file, from = () => true) {
  return {
    name: `kanri-link-${file}`,
    resolveId(source, importer) {
      if (importer && source.startsWith('.') && from(importer) && resolve(dirname(importer), source).replace(/\.js$/, '.ts') === module) return { id: file, external: true };
      return null;
    },
  };
}

/** src/util/require.ts in the bundle: the CommonJS module's own require, no node:module. */
const REQUIRE = join(root, 'src/util/require.ts');
const ownRequire = {
  name: 'kanri-own-require',
  resolveId(source, importer) {
    if (importer && source.startsWith('.') && resolve(dirname(importer), source).replace(/\.js$/, '.ts') === REQUIRE) return '\0kanri-own-require';
    return null;
  },
  load(id) {
    return id === '\0kanri-own-require' ? 'export const requireModule = require;\n' : null;
  },
};

try {
  // The dispatch: each dialect's import becomes the import of that dialect's bundle.
  const dispatch = join(root, 'src/cli/main.ts');
  await build({
    ...common,
    input: { main: dispatch, output: SHARED },
    plugins: [...DIALECTS.map((d) => linkTo(join(root, 'src', d, 'main.ts'), `./${d}/main.cjs`, (i) => i === dispatch)), ownRequire],
    output: { ...output, dir: out },
  });
  for (const d of DIALECTS) {
    await build({
      ...common,
      input: { main: join(root, 'src', d, 'main.ts') },
      // The start-up group below becomes main.cjs itself (it may export what the chunks
      // loaded on demand import from it) instead of a chunk main.cjs would only re-export.
      preserveEntrySignatures: 'allow-extension',
      plugins: [linkTo(SHARED, '../output.cjs'), ownRequire],
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

/**
 * Runs the commands whose start-up matters most with KANRI_CODE_CACHE=write, each adding
 * what it compiled to the caches of the chunks it loaded: pvmutl listings, a configuration
 * apply, dscli's registry and a power call. The power call is answered by a BMC that
 * lives on loopback for the training only (scripts/code-cache-bmc.mjs), so that the code
 * that reads answers is in the cache too, not only the code that sends.
 * Node runs with the flags of bin/kanri.js's #! line: V8 accepts a cache only under the
 * flags it was made with. A command that fails here only leaves less in the cache.
 */
async function trainCodeCache() {
  const bin = join(root, 'bin/kanri.js');
  const shebang = readFileSync(bin, 'utf8').split('\n')[0].slice(2).trim().split(/\s+/);
  const flags = shebang.slice(shebang.findIndex((w) => /(^|\/)node$/.test(w)) + 1);
  const work = mkdtempSync(join(tmpdir(), 'kanri-code-cache-'));
  try {
    const pw = join(work, 'pw');
    writeFileSync(pw, 'unused\n', { mode: 0o600 });
    const env = { ...process.env, KANRI_DB: join(work, 'kanri.db'), KANRI_CODE_CACHE: 'write' };
    delete env.KANRI_DEBUG;
    const run = (args, timeout = 20_000) => spawnSync(process.execPath, [...flags, bin, ...args], { env, cwd: work, stdio: 'ignore', timeout, killSignal: 'SIGINT' });
    // The power call runs while this process answers as its BMCs: not blocked in spawnSync.
    const runAsync = (args, timeout) => new Promise((done) => {
      const child = spawn(process.execPath, [...flags, bin, ...args], { env, cwd: work, stdio: 'ignore', timeout, killSignal: 'SIGINT' });
      child.on('close', done);
      child.on('error', done);
    });
    run(['config', 'apply', join(root, 'fixtures/datacentre.yaml')]);
    run(['pvmutl', 'list', 'group']);
    run(['pvmutl', 'list', 'server']);
    run(['dscli', 'help']);
    // Two BMCs named by a range, as a ServerList usually names them: the range's expansion
    // and the fan-out's ordered output are compiled too.
    // A machine without a loopback UDP port for them only trains less.
    const bmcs = [];
    try {
      for (let i = 0; i < 2; i++) bmcs.push(await startTrainingBmc(root, 'admin', 'unused'));
      bmcs.forEach((bmc, i) => run(['dscli', 'createServer', `cache-bmc${i + 1}`, 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.port}`, 'user=admin', `password_file=${pw}`]));
      await runAsync(['dscli', 'getPowerStatus', 'cache-bmc[1-2]'], 10_000);
    } catch (e) {
      console.error(`code cache: the power call was not trained (${e.message})`);
    } finally {
      await Promise.all(bmcs.map((bmc) => bmc.close()));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
await trainCodeCache();
