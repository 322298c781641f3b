// The conventions an administrator expects around the commands: --version, help per
// command, did-you-mean, --json, tables on a terminal and tab-separated rows on a pipe,
// colour only on a terminal without NO_COLOR, progress, host ranges like noderange,
// completion, the two legacy slips, and Japanese messages under a ja locale.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../src/pvmutl/help.js';
import { SUBCOMMANDS } from '../src/pvmutl/parse.js';
import { japaneseOf } from '../src/cli/messages.js';
import { japaneseMessages } from '../src/cli/messages-ja.js';
import { storeProblem } from '../src/store/errors.js';
import { sourceMessages } from './support/messages.js';
import { binaries, onTerminal, run } from './support/cli.js';
import { dscli, newStore } from './support/dscli.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { ROOT, fixtureStore, tempDir } from './support/store.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('version and help', () => {
  it('--version on all three names prints one line with the package version', () => {
    expect(run('pvmutl', ['--version'])).toMatchObject({ code: 0, out: `pvmutl (kanri) ${version}\n` });
    expect(run('dscli', ['--version'])).toMatchObject({ code: 0, out: `dscli (kanri) ${version}\n` });
    expect(run('kanri', ['--version'])).toMatchObject({ code: 0, out: `kanri ${version}\n` });
  });

  it('pvmutl help per subcommand: syntax, options, an example and the exit codes; --help after any subcommand', () => {
    for (const cmd of SUBCOMMANDS) {
      expect(COMMAND_HELP[cmd], cmd).toBeDefined();
      const r = run('pvmutl', ['help', cmd]);
      expect(r.code, cmd).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: pvmutl ${cmd}\\b`));
      expect(r.out).toMatch(/\nExample:\n {2}pvmutl \S/);
      expect(r.out).toMatch(/\nExit codes: 0 success; 1 format error; /);
    }
    const add = run('pvmutl', ['add', '--help']);
    expect(add.code).toBe(0);
    expect(add.out).toBe(run('pvmutl', ['help', 'add']).out);
    expect(add.out).toContain('  /c count  how many machines to add');
    expect(run('pvmutl', ['add', 'G', '/?']).out).toBe(add.out);
    expect(run('pvmutl', ['help', 'ad'])).toMatchObject({ code: 1, err: "pvmutl: no help for 'ad' (did you mean add?); run 'pvmutl help'\n" });
  }, 120_000); // one process per subcommand

  it('dscli help per command and --help after it; dscli --help is the overview', () => {
    const db = newStore();
    const r = dscli(db, ['help', 'getSel']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: dscli \[--db PATH\] \[--json\] \[--yes\] getSel ServerList/);
    expect(r.out).toContain('\nExample:\n  dscli getSel web[01-04] 20\n');
    expect(r.out).toMatch(/\nReturn codes:\n {2}0 {2}success/);
    expect(dscli(db, ['getSel', '--help']).out).toBe(r.out);
    expect(dscli(db, ['--help'])).toMatchObject({ code: 0 });
    expect(dscli(db, ['--help']).out).toContain('Commands:');
  });

  it('kanri help per command gives an example and the exit codes', () => {
    const r = run('kanri', ['job', 'watch', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\nExample:\n  kanri job watch last\n');
    expect(r.out).toContain('Exit codes: 0 success; 2 not found; 6 the job could not start; 7 the job failed or was canceled');
    expect(run('kanri', ['help', 'job']).out).toContain('watch <id>');
  });
});

describe('did you mean', () => {
  it('an unknown subcommand, command or option names the closest one; codes unchanged', () => {
    expect(run('pvmutl', ['lsit', 'group'])).toMatchObject({ code: 1, err: "pvmutl: unknown subcommand 'lsit' (did you mean list?); run 'pvmutl help'\n" });
    expect(run('pvmutl', ['add', 'G', '/x'])).toMatchObject({ code: 1, err: 'pvmutl: add: unknown option /x (did you mean /c?)\n' });
    const db = newStore();
    expect(dscli(db, ['getPowrStatus', 'x'])).toMatchObject({ code: 1, err: 'dscli: unknown command getPowrStatus (did you mean getPowerStatus?); see dscli help\n' });
    expect(dscli(db, ['getServerList', '--jsno']).err).toContain('(did you mean --json?)');
  });

  it('an unknown group, machine or server names a close one, and only a close one', () => {
    const db = fixtureStore();
    expect(run('pvmutl', ['list', 'server', 'Shop/Wbe'], { db })).toMatchObject({ code: 3, err: 'pvmutl: group not found: Shop/Wbe (did you mean Shop\\Web?)\n' });
    expect(run('pvmutl', ['list', 'server', 'Nothing'], { db }).err).toBe('pvmutl: group not found: Nothing\n');
    expect(run('pvmutl', ['deploypsv', 'px-r120-1', 'Disk-Wipe'], { db }).err).toBe('pvmutl: machine not found: px-r120-1 (did you mean px-r120-01?)\n');
    const s = newStore();
    expect(dscli(s, ['createServer', 'web01', 'mgmt=sim']).code).toBe(0);
    expect(dscli(s, ['getPowerStatus', 'web1'])).toMatchObject({ code: 2, err: 'dscli: not a registered server or dscli group: web1 (did you mean web01?)\n' });
  });
});

describe('listings', () => {
  it('--json on every kanri listing: one object per line, stable fields, times with their offset', () => {
    const db = fixtureStore(ENGINE_DC);
    expect(run('pvmutl', ['add', 'Bare', 'pb1'], { db }).code).toBe(0);
    const jobs = run('kanri', ['job', 'list', '--json'], { db }).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(jobs[0]).toMatchObject({ id: 1, status: 'completed', progress: 100, sequence: 'MoveFromPoolToGroup', group: 'Bare', machine: 'pb1', origin: 'pvmutl' });
    expect(jobs[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    const show = JSON.parse(run('kanri', ['job', 'show', 'last', '--json'], { db }).out);
    expect(show).toMatchObject({ id: 1, params: { MachineName: 'pb1' } });
    expect(show.steps.map((s: { name: string }) => s.name)).toEqual(['Assign host setting', 'Distribute activation-time software', 'Start machine', 'Get and update machine information', 'Update configuration information']);
    const machine = run('kanri', ['machine', 'list', '--json'], { db }).out.trim().split('\n').map((l) => JSON.parse(l)).find((m) => m.name === 'pb1');
    expect(machine).toEqual({ name: 'pb1', kind: 'physical', group: 'Bare', host: 'b1', pools: 2, power: 'on', hardware: 'normal', management: 'normal', maintenance: false });
    const event = JSON.parse(run('kanri', ['events', '-n', '1', '--json'], { db }).out);
    expect(event).toMatchObject({ source: 'PVM', event_id: 2034, type: 'information', machine: 'pb1', job: 1 });
    for (const args of [['user', 'list', '--json'], ['ssh', 'known', '--json'], ['driver', 'list', '--json'], ['sim', 'show', '--json']]) {
      const r = run('kanri', args, { db });
      expect(r.code, args.join(' ')).toBe(0);
      for (const line of r.out.trim().split('\n').filter(Boolean)) expect(() => JSON.parse(line), args.join(' ')).not.toThrow();
    }
  });

  it('on a pipe: tab-separated rows without a header; -n must be a whole number of 1 or more', () => {
    const db = fixtureStore(ENGINE_DC);
    expect(run('pvmutl', ['add', 'Bare', 'pb1'], { db }).code).toBe(0);
    const line = run('kanri', ['job', 'list'], { db }).out;
    expect(line).toMatch(/^00001\tcompleted\t100%\t\d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d\tMoveFromPoolToGroup\tBare\tpb1\t-\n$/);
    for (const n of ['0', 'abc', '-5', '1.5']) {
      const r = run('kanri', ['job', 'list', '-n', n], { db });
      expect(r.code, n).toBe(1);
      expect(r.err).toContain('-n needs a whole number from 1 to 1000000');
    }
  });

  it('on a terminal: a header, aligned columns and coloured status words; none with NO_COLOR', () => {
    const db = fixtureStore(ENGINE_DC);
    expect(run('pvmutl', ['add', 'Bare', 'pb1'], { db }).code).toBe(0);
    const coloured = onTerminal(`KANRI_DB=${db} kanri job list`);
    expect(coloured).toMatch(/JOB +STATUS +PROGRESS +CREATED +SEQUENCE +GROUP +MACHINE +ERROR/);
    expect(coloured).toContain('\u001b[32mcompleted\u001b[39m');
    const plain = onTerminal(`KANRI_DB=${db} kanri job list`, { NO_COLOR: '1' });
    expect(plain).not.toMatch(/\u001b\[/);
    const [head, row] = plain.trim().split('\n') as [string, string];
    // every value starts where its column's header starts
    const cells: Record<string, RegExp> = { JOB: /^00001 /, STATUS: /^completed /, PROGRESS: /^100% /, CREATED: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, SEQUENCE: /^MoveFromPoolToGroup /, GROUP: /^Bare /, MACHINE: /^pb1 /, ERROR: /^-$/ };
    for (const [h, re] of Object.entries(cells)) {
      const at = head.indexOf(h);
      expect(at, h).toBeGreaterThanOrEqual(0);
      expect(row.slice(at), h).toMatch(re);
    }
  }, 60_000);

  it('a long change shows its progress on a terminal and nothing extra on a pipe', () => {
    const db = fixtureStore(ENGINE_DC);
    const tty = onTerminal(`KANRI_DB=${db} pvmutl add Bare pb1`, { NO_COLOR: '1' });
    expect(tty).toMatch(/job 00001 \[1\/5 \+\d+\.\ds\] Assign host setting \(pb1\)/);
    expect(tty).toMatch(/job 00001 \[5\/5 \+\d+\.\ds\] Update configuration information \(pb1\)/);
    const pipe = run('pvmutl', ['add', 'Bare', 'pb2'], { db });
    expect(pipe).toEqual({ code: 0, out: '', err: '' });
  }, 60_000);

  it('job watch follows a job to its end and exits with its outcome; job show last', () => {
    const db = fixtureStore(ENGINE_DC);
    expect(run('kanri', ['sim', 'fail', 'pb1', 'power-on', '--times', '1'], { db }).code).toBe(0);
    expect(run('pvmutl', ['add', 'Bare', 'pb1'], { db }).code).toBe(7);
    const w = run('kanri', ['job', 'watch', 'last'], { db });
    expect(w.code).toBe(7);
    expect(w.out).toMatch(/^job 00001 MoveFromPoolToGroup \(pb1\): failed\n/);
    expect(w.out).toMatch(/ {2}3\. Start machine \(pb1\): failed /);
    expect(run('kanri', ['job', 'show', 'last'], { db }).out).toMatch(/^job 00001 MoveFromPoolToGroup failed/);
    expect(run('kanri', ['job', 'watch', '99'], { db }).code).toBe(2);
  });
});

describe('host ranges like noderange', () => {
  it('exclusion, intersection with a group, and ^FILE; unknown names stay an error', () => {
    const db = newStore();
    for (let i = 1; i <= 6; i++) expect(dscli(db, ['createServer', `web0${i}`, 'mgmt=sim']).code).toBe(0);
    expect(dscli(db, ['createGroup', 'rack1']).code).toBe(0);
    expect(dscli(db, ['addGroupServer', 'rack1', 'web0[1-3]']).code).toBe(0);
    const names = (args: string[]): string[] => dscli(db, ['getPowerStatus', ...args]).out.trim().split('\n').map((l) => l.split(' ')[0]!);
    expect(names(['web0[1-6],-web04'])).toEqual(['web01', 'web02', 'web03', 'web05', 'web06']);
    expect(names(['web0[1-6]', '-rack1'])).toEqual(['web04', 'web05', 'web06']);
    expect(names(['rack1@web0[2-6]'])).toEqual(['web02', 'web03']);
    const f = join(tempDir(), 'list');
    writeFileSync(f, '# the front\nweb05 web06\nweb01,-web06\n');
    expect(names([`^${f}`])).toEqual(['web05', 'web01']);
    expect(dscli(db, ['getPowerStatus', 'web0[1-6],-web09']).code).toBe(2);
    expect(dscli(db, ['getPowerStatus', '^/nonexistent/list'])).toMatchObject({ code: 2, err: 'dscli: server list file /nonexistent/list: not found\n' });
  });
});

describe('completion', () => {
  it('prints a bash and a zsh script for all three names; candidates come from the store', () => {
    const bash = run('kanri', ['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.out).toContain('complete -o default -F _kanri_complete pvmutl dscli kanri');
    expect(run('kanri', ['completion', 'zsh']).out).toContain('bashcompinit');
    expect(run('kanri', ['completion', 'fish']).code).toBe(1);
    const db = fixtureStore();
    const c = (args: string[]): string[] => run('kanri', ['__complete', ...args], { db }).out.trim().split('\n');
    expect(c(['pvmutl'])).toContain('replace');
    expect(c(['pvmutl', 'replace'])).toContain('Shop/Web');
    expect(c(['pvmutl', 'replace', 'Shop/Web'])).toContain('web01');
    expect(c(['pvmutl', 'add', 'Shop/Web'])).toContain('/c');
    expect(c(['dscli'])).toContain('getPowerStatus');
    expect(c(['kanri', 'job'])).toEqual(['list', 'show', 'watch']);
    expect(c(['kanri', 'machine', 'reset'])).toContain('px-r120-01');
    expect(c(['kanri', 'suspend'])).toContain('Shop/Web');
    expect(c(['kanri', 'register-master'])).toContain('Shop/Web');
    expect(c(['kanri', 'driver', 'show'])).toEqual(JSON.parse(`[${run('kanri', ['driver', 'list', '--json']).out.trim().split('\n').join(',')}]`).map((d: { name: string }) => d.name));
    // every kanri command and subcommand that `kanri help` lists is offered, and nothing else
    const commandsOf = (help: string): string[] => {
      const section = help.split('\nCommands:\n')[1] ?? '';
      return section.split('\n').map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter((w): w is string => !!w && w !== 'help');
    };
    const top = commandsOf(run('kanri', ['--help']).out);
    expect(top.length).toBeGreaterThan(15);
    expect(c(['kanri']).filter((w) => !['pvmutl', 'dscli', 'help'].includes(w)).sort()).toEqual([...top].sort());
    for (const cmd of top) {
      const subs = commandsOf(run('kanri', [cmd, '--help']).out).map((w) => w.replace(/\|.*/, ''));
      if (subs.length) expect(c(['kanri', cmd]).sort(), cmd).toEqual([...subs].sort());
    }
    // in a shell: bash completes a group path from the store
    const r = spawnSync('bash', ['-c', `eval "$(kanri completion bash)"; COMP_WORDS=(pvmutl list server Sh); COMP_CWORD=3; _kanri_complete; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { ...process.env, KANRI_DB: db, PATH: `${binaries()}:${process.env.PATH}` } });
    expect(r.stdout.split('\n')).toContain('Shop/Web');
    // About sixty processes in turn: a loaded machine needs more than the default 30 s.
  }, 120_000);
});

describe('legacy slips', () => {
  it('pvmutl with no arguments prints the help on stdout and exits 1', () => {
    const r = run('pvmutl', []);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    expect(r.out).toBe(run('pvmutl', ['help']).out);
  });

  it('vmdelete of a physical machine is exit 2: the specified machine is not a virtual machine', () => {
    const db = fixtureStore();
    expect(run('pvmutl', ['vmdelete', 'Shop/Web', 'web01'], { db })).toMatchObject({ code: 2, err: 'pvmutl: the specified machine is not a virtual machine\n' });
  });
});

describe('Japanese messages for dscli and kanri', () => {
  const ja = { LANG: 'ja_JP.UTF-8' };

  /** Each ${…} of a sample is tried as a word and as nothing (a hint that was not given). */
  function variants(text: string): string[] {
    const parts = text.split('\u0000');
    const holes = parts.length - 1;
    if (holes > 6) return [parts.join('w')];
    return Array.from({ length: 2 ** holes }, (_, bits) => parts.reduce((acc, p, i) => acc + (i ? ((bits >> (i - 1)) & 1 ? '' : 'w') : '') + p, ''));
  }

  it('every message the dscli and kanri sources raise or print has a Japanese form', () => {
    const dirs = ['src/dscli', 'src/kanri'];
    const files = dirs.flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, d, f)))
      .concat(['src/store/db.ts', 'src/store/paths.ts', 'src/cli/output.ts'].map((f) => join(ROOT, f)));
    // A message with no words of its own ('${name}: ${detail}') only passes others' text on.
    const found = sourceMessages(files, '\u0000').filter((m) => /[A-Za-z]/.test(m.text.replace(/\u0000/g, '')));
    expect(found.length).toBeGreaterThan(100);
    const missing = found.filter((m) => !variants(m.text).some((v) => japaneseOf(v) !== undefined));
    expect(missing.map((m) => `${m.at.replace(ROOT + '/', '')}: ${m.text.replace(/\u0000/g, '…')}`)).toEqual([]);
    for (const code of ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_READONLY', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_PERM',
      'SQLITE_IOERR_WRITE', 'ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG', 'EDQUOT']) {
      const p = storeProblem(Object.assign(new Error('x'), { code }), '/var/lib/kanri/kanri.db')!;
      expect(japaneseOf(p.replace(/ \([A-Z_]+\)$/, '')), code).toBeDefined();
    }
  });

  it('the table: each English form once, each Japanese form using only the English form\'s parts', () => {
    const seen = new Set<string>();
    for (const [en, jp] of japaneseMessages()) {
      expect(seen.has(en), en).toBe(false);
      seen.add(en);
      const holes = new Set(en.match(/\{\d\}/g) ?? []);
      for (const h of jp.match(/\{\d\}/g) ?? []) expect(holes.has(h), `${en} → ${jp}`).toBe(true);
      expect(jp).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
    }
  });

  it('under a ja locale stderr is Japanese, stdout and exit codes are not touched; LC_ALL=C wins over LANG', () => {
    const db = newStore();
    let r = dscli(db, ['getPowrStatus', 'x'], { env: ja });
    expect(r).toMatchObject({ code: 1, out: '', err: 'dscli: 不明なコマンドです: getPowrStatus。dscli help を参照してください（もしかして getPowerStatus?）\n' });
    expect(dscli(db, ['getPowerStatus', 'nosuch'], { env: ja })).toMatchObject({ code: 2, err: 'dscli: 登録済みのサーバーでも dscli グループでもありません: nosuch\n' });
    expect(dscli(db, ['deleteServer', 'nosuch'], { env: ja })).toMatchObject({ code: 2, err: 'dscli: サーバーが見つかりません: nosuch\n' });
    expect(dscli(db, ['deleteServer', 'nosuch'], { env: { LANG: 'ja_JP.UTF-8', LC_ALL: 'C' } })).toMatchObject({ code: 2, err: 'dscli: server not found: nosuch\n' });
    expect(dscli(join(tempDir(), 'none.db'), ['getServerList'], { env: ja }).err).toMatch(/^dscli: ストアが見つかりません: \S+none\.db。'kanri store init' で作成するか、/);
    r = dscli(db, ['createGroup', 'rack1'], { env: ja });
    expect(r.code).toBe(0);
    expect(dscli(db, ['getServerList'], { env: ja }).out).toBe(dscli(db, ['getServerList']).out);

    const kdb = fixtureStore();
    expect(run('kanri', ['job', 'show', '99999'], { db: kdb, env: ja })).toMatchObject({ code: 2, err: 'kanri: ジョブが見つかりません: 99999\n' });
    expect(run('kanri', ['machine', 'reset', 'px-r110-10'], { db: kdb, env: ja }).err).toMatch(/^kanri: マシンが見つかりません: px-r110-10（もしかして px-r110-01\?）\n$/);
    r = run('kanri', ['jbo'], { db: kdb, env: ja });
    expect(r.code).toBe(1);
    expect(r.err).toBe("kanri: 不明なコマンドです: 'jbo'（もしかして job?）; 'kanri help' を参照してください\n");
    expect(run('kanri', ['job', 'list', '-n', '0'], { db: kdb, env: ja })).toMatchObject({ code: 1, err: "kanri: -n には 1～1000000 の整数を指定してください ('0' は指定できません)\n" });
    expect(run('kanri', ['machine', 'list'], { db: kdb, env: ja }).out).toBe(run('kanri', ['machine', 'list'], { db: kdb }).out);
  });
});
