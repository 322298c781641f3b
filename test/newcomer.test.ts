// What a new user meets first: an unbuilt clone, a missing store, the next step named.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binaries, run } from './support/cli.js';
import { dscli, newStore } from './support/dscli.js';
import { exec, ROOT, fixtureStore, queryAll, tempDir } from './support/store.js';
import { requirePeer, skipReason } from './support/peers.js';

describe('an unbuilt clone', () => {
  it('says to build, in one line, instead of a stack trace; npm install builds (prepare)', () => {
    const clone = tempDir();
    mkdirSync(join(clone, 'bin'));
    for (const f of ['kanri.js', 'code-cache.js', 'package.json']) copyFileSync(join(ROOT, 'bin', f), join(clone, 'bin', f));
    const r = spawnSync(process.execPath, [join(clone, 'bin', 'kanri.js'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(70);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kanri: not built: run 'npm run build' in ${clone} (npm install does it too)\n`);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepare).toBe(pkg.scripts.build);
  });
});

describe('changes say what they did', () => {
  it('kanri pool add, register-master and machine reset print one line each; pvmutl stays silent', () => {
    const db = fixtureStore();
    expect(run('kanri', ['sim', 'delay', '0'], { db }).code).toBe(0);
    expect(run('kanri', ['pool', 'add', 'Shop/Web/R120h', 'cp-r120-01'], { db })).toMatchObject({ code: 0, out: expect.stringMatching(/^job \d{5} completed: MoveFromManagedToPool cp-r120-01\n$/) });
    expect(run('kanri', ['register-master', 'Shop/Web', 'cp-r120-02', 'web05'], { db })).toMatchObject({ code: 0, out: expect.stringMatching(/^job \d{5} completed: MoveMasterMachineToGroup cp-r120-02\n$/) });
    expect(run('kanri', ['machine', 'reset', 'cp-r120-01'], { db })).toMatchObject({ code: 0, out: 'cp-r120-01: management status is already normal\n' });
    exec(db, "UPDATE machines SET management_status = 'abnormal' WHERE name = 'cp-r120-01'");
    expect(run('kanri', ['machine', 'reset', 'cp-r120-01'], { db })).toMatchObject({ code: 0, out: 'cp-r120-01: management status abnormal -> normal\n' });
    // pvmutl's stdout is the spec's: nothing on success
    expect(run('pvmutl', ['add', 'Shop\\Web'], { db })).toMatchObject({ code: 0, out: '' });
  }, 60_000);
});

describe('the test command on someone else\'s machine', () => {
  it('no test or script names a path outside the repository (peers are ../shared/peers of the root)', () => {
    const files = [...readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.ts')).map((f) => join('test', f)),
      ...readdirSync(join(ROOT, 'test', 'support')).map((f) => join('test', 'support', f)),
      ...readdirSync(join(ROOT, 'scripts')).map((f) => join('scripts', f))];
    const system = /^\/(usr|bin|sbin|etc|tmp|dev|proc|sys|var|run|lib|nonexistent|srv)\b/;
    const offenders: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/['"`](\/[A-Za-z][^'"`\s]*)/g)) if (!system.test(m[1]!) && !m[1]!.startsWith('/$')) offenders.push(`${f}: ${m[1]}`);
    }
    expect(offenders.filter((o) => /\/(work|home|root|opt|mnt)\//.test(o))).toEqual([]);
  });

  it('scripts/peers.sh says what it installs before it does, and installs nothing with KANRI_TEST_NO_APT=1', () => {
    // A python peer made "missing" (a module that fails to import) and an apt-get that records its calls.
    const dir = tempDir();
    writeFileSync(join(dir, 'flask.py'), 'raise ImportError("hidden for the test")\n');
    const calls = join(dir, 'apt-calls');
    writeFileSync(join(dir, 'apt-get'), `#!/bin/sh\necho "$@" >> ${calls}\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, PYTHONPATH: dir };
    const skip = spawnSync('bash', [join(ROOT, 'scripts', 'peers.sh')], { encoding: 'utf8', env: { ...env, KANRI_TEST_NO_APT: '1' } });
    expect(skip.status).toBe(0);
    expect(skip.stderr).toContain('peers: MISSING (KANRI_TEST_NO_APT=1: not installing): python3-flask');
    expect(existsSync(calls)).toBe(false);
    if (process.getuid?.() !== 0) {
      // only root installs; the refusal above is what a user sees
      skipReason('peers.sh installing the missing packages', 'only root installs them');
      return;
    }
    const inst = spawnSync('bash', [join(ROOT, 'scripts', 'peers.sh')], { encoding: 'utf8', env });
    expect(inst.status).toBe(0);
    expect(inst.stdout).toContain('peers: installing Debian packages with apt-get as root (KANRI_TEST_NO_APT=1 skips this): python3-flask');
    expect(readFileSync(calls, 'utf8')).toMatch(/install -y -qq --no-install-recommends python3-flask/);
  });
});

describe('smaller things', () => {
  it('kanri sim delay MS is the delay of every operation: it clears their own delays, and says so', () => {
    const db = fixtureStore();
    expect(run('kanri', ['sim', 'delay', '500', '--operation', 'power-on'], { db }).out).toBe('power-on: 500 ms\n');
    expect(run('kanri', ['sim', 'delay', '0'], { db }).out).toBe('every sim operation: 0 ms (their own delays removed: power-on)\n');
    expect(queryAll(db, "SELECT key, value FROM settings WHERE key LIKE 'sim.delay%'")).toEqual([{ key: 'sim.delay_ms', value: '0' }]);
  });

  it('pvmutl: a --option is a format error (1) naming pvmutl\'s options, not a machine named --foo', () => {
    const db = fixtureStore();
    expect(run('pvmutl', ['add', 'Shop\\Web', '--foo'], { db })).toMatchObject({ code: 1, out: '', err: "pvmutl: add: unknown option --foo; pvmutl's options start with / (add: /c)\n" });
  });

  it('under ja, pvmutl\'s did-you-mean is Japanese as dscli\'s and kanri\'s are', () => {
    const db = fixtureStore();
    const ja = { LANG: 'ja_JP.UTF-8', LC_ALL: '' };
    expect(run('pvmutl', ['list', 'server', 'Shop/Wbe'], { db, env: ja }).err).toBe('pvmutl: グループが見つかりません: Shop/Wbe（もしかして Shop\\Web?）\n');
    expect(run('kanri', ['machine', 'list', 'Wbe'], { db, env: ja }).err).toBe('kanri: グループが見つかりません: Wbe（もしかして Web?）\n');
  });
});

describe('kanri vmserver watch on the sim driver', () => {
  it('says why nothing is watched and exits 6, instead of exiting at once in silence', () => {
    const db = fixtureStore();
    const r = run('kanri', ['vmserver', 'watch', 'vms01'], { db });
    expect(r).toMatchObject({ code: 6, out: '', err: 'kanri: vms01: not watched: its vm driver sim reports no hypervisor events (the libvirt driver does)\n' });
  });
});

describe('dscli deleteServer', () => {
  it('takes a host range: all of it, or nothing when a name of it is not registered', () => {
    const db = newStore();
    for (const n of ['web01', 'web02', 'web03']) expect(dscli(db, ['createServer', n, 'mgmt=sim']).code).toBe(0);
    expect(dscli(db, ['deleteServer', 'web[02-04]'])).toMatchObject({ code: 2, out: '', err: 'dscli: server not found: web04\n' });
    expect(dscli(db, ['getServerList']).out.split('\n').filter(Boolean)).toHaveLength(3);
    expect(dscli(db, ['deleteServer', 'web[02-03]'])).toMatchObject({ code: 0, out: '' });
    expect(dscli(db, ['getServerList']).out).toBe('web01 sim - - -\n');
  });
});

describe('Ctrl-C at a password prompt', () => {
  it.runIf(requirePeer('script', 'kanri prompt on a terminal'))('stops kanri user add (130, nothing created) instead of reporting a bad password', async () => {
    const db = fixtureStore();
    const child = spawn('script', ['-qec', `${join(binaries(), 'kanri')} user add ops7`, '/dev/null'], { env: { ...process.env, KANRI_DB: db, LANG: 'C', LC_ALL: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let shown = '';
    // 'close', not 'exit': the last words on the terminal may still be in the pipe when the process has exited.
    const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no prompt: ${shown}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        shown += d.toString();
        if (shown.includes('Password: ')) { clearTimeout(t); res(); }
      });
    });
    child.stdin!.write('\u0003');
    expect(await exited).toBe(130);
    expect(shown).toContain('kanri: interrupted at the prompt; nothing was changed');
    expect(shown).not.toContain('password must be');
    expect(queryAll(db, "SELECT name FROM users WHERE name = 'ops7'")).toEqual([]);
  }, 60_000);
});
