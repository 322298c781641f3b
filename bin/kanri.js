#!/usr/bin/env node
// One binary, three names: the invoked name (pvmutl, dscli, kanri) selects the dialect.
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // A bug, not a user error: one line, the stack only when asked for.
    const detail = process.env.KANRI_DEBUG ? (err && err.stack) || String(err) : `${(err && err.message) || err} (KANRI_DEBUG=1 shows where)`;
    process.stderr.write(`kanri: internal error: ${detail}\n`);
    process.exitCode = 70;
  },
);
