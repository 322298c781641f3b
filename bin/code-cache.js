// V8's code cache for the bundle (dist/bundle/). Compiling the chunks a command loads is a
// good part of a start-up: a dscli power call compiles its dialect, the store, the IPMI
// library (about 20 ms of CPU time of a 130 ms process). `npm run build` runs a few
// commands (scripts/build.mjs trainCodeCache) that leave next to each chunk the code V8
// compiled for it (<chunk>.v8cache); a start-up then deserialises that code instead of
// compiling the source. V8 checks the cache against its version, its flags and the source,
// and compiles from source when the cache does not fit: a stale or foreign cache costs
// time, never correctness. Node 20 has no compile cache of its own (module.enableCompileCache
// came with Node 22).
'use strict';
// The loader's Module class, as node:module exports it; taken from this module so that a
// start-up does not load node:module, which loads the ES module loader and the source map
// support with it.
const Module = module.constructor;
const { Script } = require('node:vm');
const { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } = require('node:fs');
const { dirname, join, sep } = require('node:path');

/**
 * Compiles the chunks under bundleDir with their caches. With `write` (the build's
 * training runs: KANRI_CODE_CACHE=write), writes each chunk's cache at exit: what the cache
 * held plus what this run compiled.
 */
function useCodeCache(bundleDir, write) {
  let prefix;
  try {
    prefix = realpathSync(bundleDir) + sep; // the loader names modules by their real path
  } catch {
    return; // no bundle: bin/kanri.js reports that itself
  }
  // A chunk requires its siblings by relative name (./ops-<hash>.cjs, ../output.cjs): the
  // file is the one the name joins to. Node's own resolution would also stat it, find its
  // real path and read the package.json files above it (whether the package requires
  // itself by name), about 0.1 ms per chunk, and a dscli power call loads a dozen.
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    const from = parent && parent.filename;
    if (from && from.startsWith(prefix) && request.endsWith('.cjs') && (request.startsWith('./') || request.startsWith('../'))) {
      const file = join(dirname(from), request);
      if (file.startsWith(prefix) && existsSync(file)) return file;
    }
    return resolve.call(this, request, parent, ...rest);
  };
  const compile = Module.prototype._compile;
  const compiled = [];
  Module.prototype._compile = function (content, filename, format) {
    if (!filename.startsWith(prefix) || !filename.endsWith('.cjs')) return compile.call(this, content, filename, format);
    const cacheFile = `${filename}.v8cache`;
    let cachedData;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // none: compiled from source
    }
    const script = new Script(Module.wrap(content), cachedData ? { filename, cachedData } : { filename });
    if (write) compiled.push([cacheFile, script]);
    const wrapper = script.runInThisContext();
    return wrapper.call(this.exports, this.exports, Module.createRequire(filename), this, filename, dirname(filename));
  };
  if (write) {
    // The training interrupts a call that waits on the network: exit, so that the caches are written.
    process.once('SIGINT', () => process.exit(130));
    process.on('exit', () => {
      for (const [file, script] of compiled) {
        writeFileSync(`${file}.tmp`, script.createCachedData());
        renameSync(`${file}.tmp`, file);
      }
    });
  }
}

module.exports = { useCodeCache };
