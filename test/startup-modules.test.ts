// What a pvmutl start-up loads: a read command on a SQLite store needs none of the Node
// built-ins that cost milliseconds to load and that only some commands use (node:crypto
// for console claim tokens and secrets, node:tls/dgram/http for the drivers). Opening a
// store loads every schema component, so a component whose module also imports one of
// them slows every command (the console claims' component did, by about 5 ms). And each
// file of the bundle a start-up loads is one more to resolve, read and deserialise: a
// listing loads the dispatch and pvmutl's start-up file, no chunk of its own.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { applyDataCentre } from '../src/config/apply.js';
import { readDataCentre } from '../src/config/validate.js';
import { openStore } from '../src/open-store.js';
import { binaries } from './support/cli.js';
import { FIXTURE, tempDir } from './support/store.js';

/** What `pvmutl list group` on a SQLite store loaded: Node's built-in modules and the files of the bundle. */
function listGroupLoads(): { builtins: string[]; bundle: string[] } {
  const dir = tempDir();
  // SQLite whatever KANRI_TEST_STORE says: the PostgreSQL client needs the network by nature.
  const db = join(dir, 'kanri.db');
  const { dc, errors } = readDataCentre(parse(readFileSync(FIXTURE, 'utf8')));
  if (!dc) throw new Error(errors.join('\n'));
  const store = openStore(db, { create: true });
  applyDataCentre(store, dc);
  store.close();
  const report = join(dir, 'loaded.cjs');
  writeFileSync(report, `process.on('exit', () => { process.stderr.write('\\nLOADED ' + JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })); });\n`);
  const r = spawnSync(join(binaries(), 'pvmutl'), ['list', 'group'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, LANG: 'C', LC_ALL: '', KANRI_DB: db, NODE_OPTIONS: `--require ${report}` },
  });
  expect(r.status).toBe(0);
  const loaded = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('\nLOADED ') + 8)) as { builtins: string[]; files: string[] };
  const inBundle = '/dist/bundle/';
  return {
    builtins: loaded.builtins.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)),
    bundle: loaded.files.filter((f) => f.includes(inBundle)).map((f) => f.slice(f.indexOf(inBundle) + inBundle.length)),
  };
}

describe('pvmutl start-up', () => {
  it('list group on a SQLite store loads no node:crypto, tls, dgram or http', () => {
    const { builtins } = listGroupLoads();
    expect(builtins).toContain('fs'); // the report itself is sound
    // (node:net is loaded by Node itself here: the test reads stdout and stderr through pipes)
    expect(builtins.filter((m) => /^(crypto|tls|dgram|http|https)$/.test(m))).toEqual([]);
  });

  it('list group loads the dispatch and pvmutl\'s start-up file, no chunk of a command', () => {
    const { bundle } = listGroupLoads();
    expect(bundle.map((f) => f.replace(/-[\w-]{8}\.cjs$/, '-HASH.cjs')).sort()).toEqual([
      'main.cjs', 'output.cjs', 'pvmutl/main.cjs', 'pvmutl/rolldown-runtime-HASH.cjs', 'rolldown-runtime-HASH.cjs',
    ]);
  });
});
