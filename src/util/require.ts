// require() for ES modules: a package or built-in module loaded only when a command needs
// it (SQLite on the first open, child_process for a prompt), synchronously. The bundle
// bin/kanri.js runs is CommonJS and has a require of its own: scripts/build.mjs puts that
// in place of this module, so that a start-up does not load node:module (and the ES
// module loader behind it) for nothing.
import { createRequire } from 'node:module';

export const requireModule: NodeJS.Require = createRequire(import.meta.url);
