#!/usr/bin/env node
// One binary, three names: the invoked name (pvmutl, dscli, kanri) selects the dialect.
// It runs the bundle of `npm run build` (dist/bundle/, CommonJS: see scripts/build.mjs;
// bin/package.json makes this file CommonJS too, so that no ES module loader starts). The
// bundle's source maps lead a stack trace back into src/; they are read only when asked for.
//
// No V8 flags on the #! line: any flag changes V8's flag hash, and Node's own code cache of
// its built-in modules (crypto, dgram, streams…) is then rejected and compiled again at
// every start-up, which costs more than turning the optimising compiler off saves.
'use strict';
// Source maps apply to what Node's own loader compiles: under KANRI_DEBUG the code cache
// (./code-cache.js) stands aside.
if (process.env.KANRI_DEBUG) process.setSourceMapsEnabled(true);
else require('./code-cache.js').useCodeCache(require('node:path').join(__dirname, '../dist/bundle'), process.env.KANRI_CODE_CACHE === 'write');
let main;
try {
  ({ main } = require('../dist/bundle/main.cjs'));
} catch (err) {
  // A clone that was never built (or whose build was removed): say what to do, not a stack.
  if (!(err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/main.cjs'))) throw err;
  const root = require('node:path').join(__dirname, '..');
  process.stderr.write(`kanri: not built: run 'npm run build' in ${root} (npm install does it too)\n`);
  process.exit(70);
}

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // A bug, not a user error: one line, the stack only when asked for.
    const detail = process.env.KANRI_DEBUG ? (err && err.stack) || String(err) : `${(err && err.message) || err} (KANRI_DEBUG=1 shows where)`;
    process.stderr.write(`kanri: internal error: ${detail}\n`);
    process.exitCode = 70;
  },
);
