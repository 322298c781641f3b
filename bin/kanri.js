#!/usr/bin/env -S node --no-opt
// One binary, three names: the invoked name (pvmutl, dscli, kanri) selects the dialect.
// It runs the bundle of `npm run build` (dist/bundle/, CommonJS: see scripts/build.mjs;
// bin/package.json makes this file CommonJS too, so that no ES module loader starts). The
// bundle's source maps lead a stack trace back into src/; they are read only when asked for.
//
// The #! line starts Node with V8's optimising compiler (TurboFan) off: a command that ends
// within a second spends more CPU compiling optimised code on V8's background threads than
// that code saves it (a 200-BMC power fan-out: about a quarter of its CPU time). A process
// still running after two seconds (a daemon, a long fan-out or job) turns it back on.
'use strict';
setTimeout(() => require('node:v8').setFlagsFromString('--opt'), 2000).unref();
if (process.env.KANRI_DEBUG) process.setSourceMapsEnabled(true);
const { main } = require('../dist/bundle/main.cjs');

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // A bug, not a user error: one line, the stack only when asked for.
    const detail = process.env.KANRI_DEBUG ? (err && err.stack) || String(err) : `${(err && err.message) || err} (KANRI_DEBUG=1 shows where)`;
    process.stderr.write(`kanri: internal error: ${detail}\n`);
    process.exitCode = 70;
  },
);
