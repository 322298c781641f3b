// What a new user meets first: an unbuilt clone, a missing store, the next step named.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './support/store.js';

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
