// The real binary under its three names: dialect selection, exit status,
// stdout/stderr separation, the administrator check, the confirmation on a
// pipe, and the demo.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { fixtureStore, tempDir } from './support/store.js';
import { binaries, run } from './support/cli.js';

describe('one binary, three names', () => {
  it('pvmutl and `kanri pvmutl` are the same dialect', () => {
    const db = fixtureStore();
    const a = run('pvmutl', ['list', 'server', 'Shop\\Web'], { db });
    const b = run('kanri', ['pvmutl', 'list', 'server', 'Shop\\Web'], { db });
    expect(a.code).toBe(0);
    expect(a.out).toContain('Server List (Group = Shop\\Web)');
    expect(b).toEqual(a);
  });

  it('--db selects the store and the exit status carries the spec code', () => {
    const db = fixtureStore();
    const r = run('pvmutl', ['--db', db, 'list', 'server', 'NoSuchGroup'], { env: { KANRI_DB: '/nonexistent/x.db' } });
    expect(r).toEqual({ code: 3, out: '', err: 'pvmutl: group not found: NoSuchGroup\n' });
  });

  it('dscli and kanri answer as their own dialects', () => {
    const db = fixtureStore();
    expect(run('dscli', ['getPowerStatus', 'x'], { db })).toEqual({ code: 2, out: '', err: 'dscli: not a registered server or dscli group: x\n' });
    expect(run('kanri', ['dscli', 'getPowerStatus', 'x'], { db }).code).toBe(2);
    expect(run('kanri', ['--help']).out).toContain('config');
    expect(run('kanri', ['nonsense']).code).toBe(1);
  });
});

describe('administrator rights', () => {
  it('a caller that is not root and not in the admin group gets exit 9', () => {
    const db = fixtureStore();
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = run('pvmutl', ['list', 'group'], { db, ...asNobody, env: { KANRI_ADMIN_GROUP: 'kanri-admins-that-do-not-exist' } });
    expect(r.code).toBe(9);
    expect(r.err).toBe('pvmutl: pvmutl needs administrator rights: root, or a member of the group kanri-admins-that-do-not-exist (KANRI_ADMIN_GROUP), which does not exist yet; as root: groupadd kanri-admins-that-do-not-exist && usermod -aG kanri-admins-that-do-not-exist USER, then log in again\n');
    // a group that exists: how to join it (root is group 0 everywhere)
    const exists = run('dscli', ['getServerList'], { db, ...asNobody, env: { KANRI_ADMIN_GROUP: 'root' } });
    if (process.getuid?.() === 0) expect(exists).toMatchObject({ code: 9, err: 'dscli: dscli needs administrator rights: root, or a member of the group root (KANRI_ADMIN_GROUP); as root: usermod -aG root USER, then log in again\n' });
  });

  it('a format error is still reported as 1 before the rights check', () => {
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    expect(run('pvmutl', ['list', 'nonsense'], { ...asNobody, env: { KANRI_ADMIN_GROUP: 'kanri-admins-that-do-not-exist' } }).code).toBe(1);
  });
});

describe('policy set confirmation on a pipe', () => {
  const policyOfAp = (db: string): string | null => {
    const d = openStore(db, { readonly: true });
    const r = d.prepare("SELECT p.name FROM groups g LEFT JOIN policies p ON p.id = g.policy_id WHERE g.name = 'AP'").get() as { name: string | null };
    d.close();
    return r.name;
  };

  it('accepts an answer piped in', () => {
    const db = fixtureStore();
    const r = run('pvmutl', ['policy', 'set', 'Shop\\AP', 'Web-N+1'], { db, input: 'y\n' });
    expect(r.code).toBe(0);
    expect(policyOfAp(db)).toBe('Web-N+1');
  });

  it('treats end of input as no', () => {
    const db = fixtureStore();
    const r = run('pvmutl', ['policy', 'set', 'Shop\\AP', 'Web-N+1'], { db, input: '' });
    expect(r.code).toBe(1);
    expect(policyOfAp(db)).toBe('標準ポリシー');
  });

  it('does not hang on a pipe that stays open and silent', async () => {
    const db = fixtureStore();
    const started = Date.now();
    const child = spawn(join(binaries(), 'pvmutl'), ['policy', 'set', 'Shop\\AP', 'Web-N+1'], {
      env: { ...process.env, KANRI_DB: db, LANG: 'C' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.destroy();
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(policyOfAp(db)).toBe('標準ポリシー');
  });
});

describe('kanri demo', () => {
  it('runs the narrated tour in under 30 seconds and leaves nothing behind', () => {
    // A temporary directory of its own: another run on the same machine may make kanri-demo-* in the shared one.
    const tmp = tempDir();
    const started = Date.now();
    const r = run('kanri', ['demo'], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.out).toContain('$ pvmutl list server Shop\\Web\n===============================\nServer List (Group = Shop\\Web)');
    expect(r.out).toContain('$ pvmutl replace Shop\\Web web01\n[exit 0]\n');
    expect(r.out).toContain('$ pvmutl vmmigrate Infra\\Desktops vdi-new01 vms02\n[exit 0]\n');
    expect(r.out).toMatch(/\n\d{5} \d+ +\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d MoveFromPoolToGroup Start machine\n/);
    expect(r.out).toContain("failed at 'Start machine': sim: power-on on px-spare-01: BMC did not answer\n[exit 7]\n");
    expect(r.out).toContain('$ pvmutl list server Shop\\Wbe\npvmutl: group not found: Shop\\Wbe (did you mean Shop\\Web?)\n[exit 3]');
    expect(r.out).toMatch(/\nEvery step ended as expected\.\n$/);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('kanri machine and events', () => {
  it('shows where machines are and their statuses; reset clears the abnormal mark a failed job left; events in the caller’s language', async () => {
    const db = fixtureStore();
    const d = openStore(db);
    d.prepare("INSERT INTO sim_faults (machine, operation, remaining) VALUES ('px-r120-03', 'power-on', 1)").run();
    d.close();
    expect(run('pvmutl', ['add', 'Shop\\Web', 'px-r120-03'], { db }).code).toBe(7);
    const list = run('kanri', ['machine', 'list'], { db }).out.split('\n');
    expect(list).toContain('px-r120-03\tphysical\tShop\\Web as web04\toff\tnormal\tabnormal\t-');
    expect(list).toContain('cp-new-01\tphysical\tcommon pool\toff\tnormal\tnormal\t-');
    expect(list).toContain('px-spare-01\tphysical\tpool (2 groups)\toff\tnormal\tnormal\t-');
    expect(list).toContain('px-ap-02\tphysical\tShop\\AP as ap02\ton\tnormal\tnormal\tyes');
    expect(run('kanri', ['machine', 'reset', 'PX-R120-03'], { db })).toMatchObject({ code: 0, out: 'px-r120-03: management status abnormal -> normal\n' });
    expect(run('kanri', ['machine', 'list', 'Shop/Web'], { db }).out).toContain('px-r120-03\tphysical\tShop\\Web as web04\toff\tnormal\tnormal\t-\n');
    expect(run('kanri', ['machine', 'reset', 'ghost'], { db }).code).toBe(2);
    const events = run('kanri', ['events', '-n', '1'], { db }).out;
    expect(events).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\tPVM\t2035\twarning\tThe process of adding a machine to a group failed\. Management ID: 00001 Machine to activate \(px-r120-03\) Group in which the machine runs \(Shop\\Web\)\n$/);
    const ja = run('kanri', ['events', '-n', '1'], { db, env: { LANG: 'ja_JP.UTF-8' } }).out;
    expect(ja).toContain('マシンをグループに追加する処理が失敗しました。 管理ID:”00001” 稼動するマシン(“px-r120-03”)');
  });
});
