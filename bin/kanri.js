#!/usr/bin/env node
// One binary, three names: the invoked name (pvmutl, dscli, kanri) selects the dialect.
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`kanri: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 70;
  },
);
