// What a new user meets first: an unbuilt clone, a missing store, the next step named.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { sql } from './support/dscli.js';
import { ROOT, fixtureStore, tempDir } from './support/store.js';

describe('an unbuilt clone', () => {
  it('says to build, in one line, instead of a stack trace; npm install builds (prepare)', () => {
    const clone = tempDir();
    mkdirSync(join(clone, 'bin'));
    for (const f of ['kanri.js', 'package.json']) copyFileSync(join(ROOT, 'bin', f), join(clone, 'bin', f));
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
    sql(db, "UPDATE machines SET management_status = 'abnormal' WHERE name = 'cp-r120-01'");
    expect(run('kanri', ['machine', 'reset', 'cp-r120-01'], { db })).toMatchObject({ code: 0, out: 'cp-r120-01: management status abnormal -> normal\n' });
    // pvmutl's stdout is the spec's: nothing on success
    expect(run('pvmutl', ['add', 'Shop\\Web'], { db })).toMatchObject({ code: 0, out: '' });
  }, 60_000);
});
