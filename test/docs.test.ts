// The manual pages and the README stay in step with the code: every pvmutl
// subcommand and every exit code is documented, and the pages render cleanly.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUBCOMMANDS } from '../src/pvmutl/parse.js';
import { Exit } from '../src/pvmutl/exit-codes.js';
import { HELP } from '../src/pvmutl/help.js';
import { requirePeer } from './support/peers.js';
import { ROOT, fixtureStore } from './support/store.js';
import { onTerminal, run } from './support/cli.js';
import { COMMAND_HELP as DSCLI_HELP } from '../src/dscli/help.js';

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

describe('what the README and the man pages name exists', () => {
  const dsman = readFileSync(join(ROOT, 'man', 'dscli.1'), 'utf8');
  const kman = readFileSync(join(ROOT, 'man', 'kanri.1'), 'utf8');
  /** man's escapes and fonts removed: \-\- → --, \fB…\fR → … */
  const plain = (t: string): string => t.replace(/\\f[BIRP]/g, '').replace(/\\-/g, '-').replace(/\\\(.. ?/g, ' ');
  const texts = { 'README.md': readme, 'pvmutl.1': man, 'dscli.1': dsman, 'kanri.1': kman };
  /** What a document shows as a command line of NAME: code spans in the README, bold text in a man page. */
  const commandLines = (doc: string, text: string, name: string): string[] => {
    if (doc === 'README.md') return [...text.matchAll(new RegExp(`\`${name} ([^\`]+)\``, 'g'))].map((m) => m[1]!);
    const bold = [...text.matchAll(/\\fB(.*?)\\f[RP]/g), ...text.matchAll(/^\.B[RI]? (.*)$/gm)].map((m) => plain(m[1]!).replace(/"/g, ''));
    return bold.flatMap((b) => [...b.matchAll(new RegExp(`(?:^|\\s)${name} ([^\\n]+)`, 'g'))].map((m) => m[1]!));
  };

  it('every kanri command and option they name is one kanri has', () => {
    const helps = new Map<string, { code: number | null; out: string }>();
    const help = (path: string[]) => {
      const k = path.join(' ');
      if (!helps.has(k)) helps.set(k, run('kanri', [...path, '--help']));
      return helps.get(k)!;
    };
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const [doc, text] of Object.entries(texts)) {
      for (const span of commandLines(doc, text, 'kanri')) {
        const words = span.split(/\s+/);
        const path: string[] = [];
        while (path.length < 3 && /^[a-z][a-z-]*$/.test(words[path.length] ?? '')) {
          const h = help(path);
          const subs = h.out.includes('\nCommands:\n') ? [...h.out.slice(h.out.indexOf('\nCommands:\n')).matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!) : [];
          if (!subs.length) break; // a leaf: the rest are its arguments
          if (!subs.includes(words[path.length]!)) {
            if (path.length > 0 || !['pvmutl', 'dscli'].includes(words[0]!)) problems.push(`${doc}: kanri ${span}: no command '${[...path, words[path.length]].join(' ')}'`);
            break;
          }
          path.push(words[path.length]!);
        }
        if (!path.length || seen.has(`${doc} ${span}`)) continue;
        seen.add(`${doc} ${span}`);
        const leafHelp = help(path).out;
        for (const opt of span.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)) {
          if (!leafHelp.includes(opt[1]!) && !help([]).out.includes(opt[1]!)) problems.push(`${doc}: kanri ${span}: '${path.join(' ')}' has no option ${opt[1]}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(seen.size).toBeGreaterThan(40);
  }, 300_000);

  it('every dscli command they name is one dscli has', () => {
    const known = new Set(DSCLI_HELP.map(([usage]) => usage.split(' ')[0]!));
    const problems: string[] = [];
    for (const [doc, text] of Object.entries(texts)) {
      for (const line of commandLines(doc, text, 'dscli')) {
        const word = /^(?:--?\S+ (?:\S+ )?)*([a-z][A-Za-z]+)\b/.exec(line)?.[1];
        if (word && !known.has(word) && word !== 'help') problems.push(`${doc}: dscli ${line}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every file they name is in the repository, and no spec/ file is cited (the specs are not shipped)', () => {
    const problems: string[] = [];
    for (const [doc, raw] of Object.entries(texts)) {
      const text = plain(raw);
      for (const m of text.matchAll(/(?<![\w./-])((?:src|test|fixtures|systemd|bench|scripts|man|docs|bin)\/[\w./<>-]*[\w>])/g)) {
        const path = m[1]!;
        if (path.includes('<')) continue; // a pattern such as src/adapters/<name>/
        if (!existsSync(join(ROOT, path))) problems.push(`${doc}: ${path}`);
      }
      for (const m of text.matchAll(/(?<![\w./-])spec\/[\w.-]+/g)) problems.push(`${doc}: cites ${m[0]}`);
    }
    expect(problems).toEqual([]);
  });
});

describe('kanri(1) and the listings', () => {
  it('job list: the page names exactly the columns the listing has', () => {
    const kman = readFileSync(join(ROOT, 'man', 'kanri.1'), 'utf8');
    const said = /^Recent jobs, oldest first: ([a-z, ]+)$/m.exec(kman)?.[1]?.split(', ');
    const db = fixtureStore();
    expect(run('pvmutl', ['add', 'Shop\\Web'], { db }).code).toBe(0);
    const header = onTerminal(`KANRI_DB=${db} NO_COLOR=1 kanri job list`).replace(/\x1b\[[0-9;]*m/g, "").split('\n')[0]!.trim().split(/\s+/).map((h) => h.toLowerCase());
    expect(said).toEqual(header);
  }, 60_000);
});
