// V8's code cache of the bundle (bin/code-cache.js, made by scripts/build.mjs): the
// build's caches fit the Node flags of the binary's #! line, so that a start-up uses them;
// and a cache that does not fit (damaged, or another chunk's) costs time, never a wrong
// result.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binaries } from './support/cli.js';
import { BIN, tempDir } from './support/store.js';

const root = join(BIN, '../..');
const bundle = join(root, 'dist/bundle');
const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!.slice(2).trim().split(/\s+/);
/** The V8 flags the binary starts Node with (none today): the caches must be made under the same. */
const shebangFlags = shebang.slice(shebang.findIndex((w) => /(^|\/)node$/.test(w)) + 1);

function caches(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.cjs.v8cache')).map((f) => join(dir, f));
}

describe('the code cache of the bundle', () => {
  it('the build leaves a cache for the start-up chunks of pvmutl and dscli, and V8 accepts each under the #! flags', () => {
    const files = caches(bundle);
    for (const d of ['pvmutl', 'dscli']) {
      expect(files).toContain(join(bundle, d, 'main.cjs.v8cache'));
    }
    expect(files.some((f) => /dscli\/ipmi-[^/]*\.cjs\.v8cache$/.test(f))).toBe(true);
    // Checked in a Node started as the binary starts: V8 rejects a cache made under other flags.
    const check = `
      const { Script } = require('node:vm'); const Module = require('node:module'); const fs = require('node:fs');
      const rejected = JSON.parse(process.argv[1]).filter((f) => {
        const filename = f.slice(0, -'.v8cache'.length);
        return new Script(Module.wrap(fs.readFileSync(filename, 'utf8')), { filename, cachedData: fs.readFileSync(f) }).cachedDataRejected;
      });
      process.stdout.write(JSON.stringify(rejected));`;
    const r = spawnSync(process.execPath, [...shebangFlags, '-e', check, JSON.stringify(files)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('a damaged cache, or another chunk\'s, is compiled around: the command answers as without cache', () => {
    const copy = tempDir();
    cpSync(join(root, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(root, 'dist/bundle'), join(copy, 'dist/bundle'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const files = caches(join(copy, 'dist/bundle'));
    const initial = files.filter((f) => /\/(dscli|pvmutl)\/main\.cjs\.v8cache$/.test(f));
    expect(initial.length).toBe(2);
    // pvmutl's start-up chunk gets dscli's cache; dscli's gets garbage; every other cache is cut short
    writeFileSync(initial.find((f) => f.includes('/pvmutl/'))!, readFileSync(initial.find((f) => f.includes('/dscli/'))!));
    writeFileSync(initial.find((f) => f.includes('/dscli/'))!, Buffer.alloc(4096, 0xa5));
    for (const f of files.filter((x) => !initial.includes(x))) writeFileSync(f, readFileSync(f).subarray(0, 64));
    const dscli = join(copy, 'dscli');
    symlinkSync(join(copy, 'bin/kanri.js'), dscli);
    const pvmutl = join(copy, 'pvmutl');
    symlinkSync(join(copy, 'bin/kanri.js'), pvmutl);
    const opts = { encoding: 'utf8' as const, env: { ...process.env, LANG: 'C', KANRI_DB: join(copy, 'none.db') } };
    const answer = (bin: string, args: string[]) => {
      const r = spawnSync(bin, args, opts);
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const help = answer(dscli, ['help']);
    expect(help.code).toBe(0);
    expect(help).toEqual(answer(join(binaries(), 'dscli'), ['help']));
    const noStore = answer(pvmutl, ['list', 'group']);
    expect(noStore.err).toMatch(/^pvmutl: /);
    expect(noStore).toEqual(answer(join(binaries(), 'pvmutl'), ['list', 'group']));
    expect(existsSync(join(copy, 'none.db'))).toBe(false);
  });

  it('the training\'s BMC answers a dscli power call, so that the cache holds the code that reads answers', async () => {
    const { startTrainingBmc } = await import(pathToFileURL(join(root, 'scripts/code-cache-bmc.mjs')).href);
    const bmc = await startTrainingBmc(root, 'admin', 'training');
    try {
      const dir = tempDir();
      writeFileSync(join(dir, 'pw'), 'training\n', { mode: 0o600 });
      const env = { ...process.env, LANG: 'C', KANRI_DB: join(dir, 'kanri.db') };
      const dscli = join(binaries(), 'dscli');
      expect(spawnSync(join(binaries(), 'kanri'), ['store', 'init'], { env }).status).toBe(0);
      const created = spawnSync(dscli, ['createServer', 'b1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.port}`, 'user=admin', `password_file=${join(dir, 'pw')}`], { env, encoding: 'utf8' });
      expect(created.stderr).toBe('');
      // Asynchronous: this process is the BMC.
      const r = await new Promise<{ code: number; out: string }>((resolve) => execFile(dscli, ['getPowerStatus', 'b1'], { env, timeout: 20_000 }, (e, out) => resolve({ code: e ? Number(e.code ?? 1) : 0, out })));
      expect(r).toEqual({ code: 0, out: 'b1 on\n' });
    } finally {
      await bmc.close();
    }
  });
});
