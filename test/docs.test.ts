// The manual pages and the README stay in step with the code: every pvmutl
// subcommand and every exit code is documented, and the pages render cleanly.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUBCOMMANDS } from '../src/pvmutl/parse.js';
import { Exit } from '../src/pvmutl/exit-codes.js';
import { HELP } from '../src/pvmutl/help.js';
import { requirePeer } from './support/peers.js';
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
    for (const c of ['config apply', 'config check', 'config export', 'user add', 'user list', 'job show', 'job watch', 'completion', '\\-\\-json', 'demo', 'lb sync', 'serve', 'token create', 'token revoke', 'status', 'kanri-serve.service']) expect(kman).toContain(c);
  });

  it("the README's command reference lists --version, help, --json and completion", () => {
    const commands = readme.slice(readme.indexOf('## Commands'));
    for (const c of ['`--version`', '`help [COMMAND]`', '`--json`', 'kanri completion bash']) expect(commands).toContain(c);
  });
});

describe.runIf(requirePeer('groff', 'manual pages rendered by groff'))('manual pages', () => {
  const PAGES = ['pvmutl', 'dscli', 'kanri'];

  it('all three are installed, render without a troff warning and link each other', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
    expect([...pkg.man].sort()).toEqual(PAGES.map((p) => `man/${p}.1`).sort());
    for (const page of PAGES) {
      const file = join(ROOT, 'man', `${page}.1`);
      for (const device of ['ascii', 'utf8']) {
        const r = spawnSync('groff', ['-k', '-man', `-T${device}`, '-ww', '-z', file], { encoding: 'utf8' });
        expect(r.stderr, `${page}.1 on ${device}`).toBe('');
      }
      const text = spawnSync('groff', ['-k', '-man', '-Tascii', '-P-cbou', '-rLL=100n', file], { encoding: 'utf8' }).stdout;
      // A synopsis split across a tag and its paragraph leaves an unclosed bracket at a line's end.
      expect(text.split('\n').filter((l) => /\[[^\]]*$/.test(l)), page).toEqual([]);
      const seeAlso = text.slice(text.indexOf('SEE ALSO'));
      for (const other of PAGES.filter((p) => p !== page)) expect(seeAlso, `${page}.1 SEE ALSO`).toContain(`${other}(1)`);
    }
  });
});
