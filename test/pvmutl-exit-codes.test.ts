// Argument vectors → exit codes: the parser's error cases, configuration
// changes and software distribution on the fixture, and the read/set commands'
// failure causes (spec/pvmutl.md §2). A rejected command changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyStore, fixtureStore, pvmutl, storeDigest } from './support/store.js';

const CASES: Array<[string[], number]> = [
  // format errors
  [[], 1],
  [['frobnicate'], 1],
  [['move'], 1],
  [['move', 'Shop/AP'], 1],
  [['move', 'a', 'b', 'h', '/c', '2'], 1],
  [['move', 'a', 'b', '/c', '0'], 1],
  [['move', 'a', 'b', '/c', 'x'], 1],
  [['move', 'a', 'b', '/c'], 1],
  [['move', 'a', 'b', 'c', 'd'], 1],
  [['replace', 'g'], 1],
  [['replace', 'g', 'h', 'x'], 1],
  [['add'], 1],
  [['add', 'g', 'm', '/c', '1'], 1],
  [['add', 'g', '/c', '-1'], 1],
  [['add', 'g', '/x'], 1],
  [['add', 'g', '/c', '1', '/C', '2'], 1],
  [['addspecname', 'g'], 1],
  [['delete'], 1],
  [['delete', 'g', '/c', '1.5'], 1],
  [['delete', 'g', 'h', '/c', '1'], 1],
  [['deploygrp', 'g', '/f', '/p', 'a'], 1],
  [['deploygrp'], 1],
  [['deploygrp', 'g', '/p'], 1],
  [['deploygrp', 'g', '/p', 'a,,b'], 1],
  [['deploysrv', 'g', 'h', '/a', 'x', '/f'], 1],
  [['deploysrv', 'g', 'h', '/p', 'x', '/a', 'y'], 1],
  [['deploypsv', 'm'], 1],
  [['maintenance', 'g'], 1],
  [['maintenance', 'maybe', 'g'], 1],
  [['list'], 1],
  [['list', 'group', 'x'], 1],
  [['list', 'server'], 1],
  [['list', 'foo'], 1],
  [['shutdown'], 1],
  [['vmadd', 'g'], 1],
  [['vmadd', 'g', 'vm', '/DATASTORE', 'ds'], 1],
  [['vmadd', 'g', 'vm', '/VMS'], 1],
  [['vmdelete'], 1],
  [['vmmigrate', 'g', 'h'], 1],
  [['asjob', 'x'], 1],
  [['asjob', '-a', '-s'], 1],
  [['asjob', '-x'], 1],
  [['asjob', '/a'], 1],
  [['ascancel', 'abc'], 1],
  [['ascancel', '1', '2'], 1],
  [['changepassword', 'u', 'p'], 1],
  [['policy'], 1],
  [['policy', 'list'], 1],
  [['policy', 'set'], 1],
  [['policy', 'show', 'a', 'b'], 1],
  [['policy', 'show', '/y'], 1],
  [['--db'], 1],
  [['list', 'server', ''], 1],
  // help
  [['help'], 0],
  [['-h'], 0],
  [['--HELP'], 0],
  [['/?'], 0],
  // software distribution on the fixture data centre
  [['deploygrp', 'Shop/Web', '/p', '"a","b"'], 8],
  [['deploygrp', 'g', '/F', '/SEQ'], 3],
  [['deploysrv', 'g', 'h', '/a', '“soft1”,', '“soft2”'], 3],
  [['deploysrv', 'Shop/Web', 'web01', '/a', 'Agent-Install'], 8],
  [['deploysrv', 'Shop/Web', 'web09'], 2],
  [['deploysrv', 'g'], 3],
  [['deploypsv', 'M', 'soft1,soft2'], 2],
  [['deploypsv', 'px-r120-01', 'tmpl-rhel9'], 8],
  [['deploygrp', 'Shop/Web', '/p', '“Agent-Install”,', '“Web-Apache”'], 0],
  // configuration changes on the fixture data centre
  [['move', 'Shop/AP', 'Shop/Web'], 5],
  [['MOVE', 'a', 'b', '/C', '3'], 3],
  [['replace', 'Shop/Web', 'web01'], 0],
  [['add', 'Shop'], 0],
  [['add', 'Shop/Web', '/c', '2'], 0],
  [['addspecname', 'Shop/Web', '192.168.10.14'], 0],
  [['delete', 'Shop/Web', 'web01'], 0],
  [['shutdown', 'g', 'h1', 'h2'], 3],
  [['reboot', 'g'], 3],
  [['poweron', 'g'], 3],
  [['vmadd', 'g', 'vm', '/VMS', 'v', '/VMFS', '[ds]', '/NETINFO', '1.2.3.4', '/a'], 3],
  [['vmdelete', 'Category', '/d'], 3],
  [['vmmigrate', 'g', 'h', 'v'], 3],
  [['vmmigrateandmove', 'g', 'h', 'v'], 3],
  [['asjob'], 0],
  [['asjob', '-D'], 0],
  [['ascancel'], 0],
  [['ascancel', '00011'], 2],
  // read/set commands
  [['list', 'server', 'Nope'], 3],
  [['list', 'soft', 'Nope'], 3],
  [['list', 'server', 'Shop'], 3],
  [['list', 'server', 'Shop/Web/Nope'], 3],
  [['list', 'server', 'Shop/Web/R120h/x'], 3],
  [['policy', 'show', 'Nope'], 3],
  [['policy', 'set', 'Nope', 'x', '/y'], 3],
  [['policy', 'set', 'Shop/Web', 'Nope', '/y'], 16],
  [['policy', 'set', 'Shop/Web', '標準ポリシー', '/y'], 0],
  [['policy', 'set', 'Shop/Web', '/Y'], 0],
  [['maintenance', 'on', 'Shop/Web', 'nohost'], 2],
  [['maintenance', 'on', 'Shop/Web', 'px-r120-03'], 2],
  [['maintenance', 'on', 'Nope'], 3],
  [['maintenance', 'on', 'Shop'], 3],
  [['maintenance', 'ON', 'Shop/Web', 'web01'], 0],
  [['maintenance', 'Off', 'Shop/Web'], 0],
  [['changepassword', 'nouser', 'a', 'b'], 14],
  [['changepassword', 'retired01', 'pvmuser1', 'x'], 14],
  [['changepassword', 'user01', 'wrong', 'x'], 15],
  [['changepassword', 'user01', 'pvmuser1', 'has space'], 15],
  [['changepassword', 'user01', 'pvmuser1', 'x'.repeat(33)], 15],
  [['changepassword', 'bad name!', 'a', 'b'], 15],
  [['changepassword', 'user01', 'pvmuser1', 'pvmuser2'], 0],
];

let template: string;
beforeAll(() => { template = fixtureStore(); });

function copyOfTemplate(): string {
  return copyStore(template);
}

describe('exit codes', () => {
  it('has at least 60 argument vectors', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(CASES.map(([args, code]) => [args.join(' ') || '(no arguments)', args, code] as const))('%s → %i', async (_label, args, code) => {
    const db = copyOfTemplate();
    const before = storeDigest(db);
    const r = await pvmutl(db, args);
    expect(r.code).toBe(code);
    if (code === 0) {
      expect(r.err).toBe('');
      return;
    }
    if (args.length === 0) {
      // The help goes to stdout, exit 1 (spec/decisions.md).
      expect(r.out).toContain('Usage: pvmutl');
      expect(r.err).toBe('');
    } else {
      // One line on stderr naming the reason; nothing on stdout.
      expect(r.err).toMatch(/^pvmutl: [^\n]+\n$/);
      expect(r.out).toBe('');
    }
    expect(storeDigest(db)).toBe(before);
  });
});

describe('help', () => {
  it('goes to stdout: exit 0 when asked for, exit 1 on no arguments (spec/decisions.md)', async () => {
    const db = copyOfTemplate();
    const asked = await pvmutl(db, ['help']);
    expect(asked.out).toMatch(/^Usage: pvmutl <subcommand>/);
    const bare = await pvmutl(db, []);
    expect(bare).toEqual({ code: 1, out: asked.out, err: '' });
  });
});
