// The manual pages and the README stay in step with the code: every pvmutl
// subcommand and every exit code is documented.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUBCOMMANDS } from '../src/pvmutl/parse.js';
import { Exit } from '../src/pvmutl/exit-codes.js';
import { HELP } from '../src/pvmutl/help.js';
import { ROOT } from './support/store.js';

const man = readFileSync(join(ROOT, 'man', 'pvmutl.1'), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('documentation', () => {
  it.each(SUBCOMMANDS)('pvmutl %s is in pvmutl(1), the README and the help', (cmd) => {
    expect(man).toMatch(new RegExp(`\\b${cmd}\\b`));
    expect(readme).toMatch(new RegExp(`\`${cmd}[ \`]`));
    expect(HELP).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
  });

  it.each(Object.values(Exit))('exit code %i is in pvmutl(1) and the README', (code) => {
    expect(man).toMatch(new RegExp(`^\\.TP\\n${code}\\n`, 'm'));
    expect(readme).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('kanri(1) documents every kanri command', () => {
    const kman = readFileSync(join(ROOT, 'man', 'kanri.1'), 'utf8');
    for (const c of ['config apply', 'config check', 'config export', 'user add', 'user list', 'demo', 'lb sync']) expect(kman).toContain(c);
  });
});
