// What the set commands change: policy set (with its confirmation), maintenance,
// changepassword — and that a declined or failed command changes nothing.
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { verifyPassword } from '../src/auth/password.js';
import { fixtureStore, pvmutl, storeDigest } from './support/store.js';

function query<T>(db: string, sql: string, ...params: unknown[]): T {
  const d = openStore(db, { readonly: true });
  try {
    return d.prepare(sql).get(...params) as T;
  } finally {
    d.close();
  }
}

const groupPolicy = (db: string, group: string): string | null =>
  query<{ name: string | null }>(db, 'SELECT p.name FROM groups g LEFT JOIN policies p ON p.id = g.policy_id WHERE g.name = ?', group).name;

describe('policy set', () => {
  it('asks before changing and changes on yes', async () => {
    const db = fixtureStore();
    const r = await pvmutl(db, ['policy', 'set', 'Shop/AP', 'Web-N+1'], 'y');
    expect(r.code).toBe(0);
    expect(r.err).toBe('Change the policy of AP to Web-N+1? (y/n) ');
    expect(groupPolicy(db, 'AP')).toBe('Web-N+1');
  });

  it('changes nothing and exits 1 on no or end of input, naming /y', async () => {
    for (const answer of ['n', undefined, '', 'maybe']) {
      const db = fixtureStore();
      const before = storeDigest(db);
      const r = await pvmutl(db, ['policy', 'set', 'Shop/AP', 'Web-N+1'], answer);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/pvmutl: policy not changed \(not confirmed; \/y skips the question\)\n$/);
      expect(storeDigest(db)).toBe(before);
    }
  });

  it('removes the policy without a policy name, asking the removal question', async () => {
    const db = fixtureStore();
    const r = await pvmutl(db, ['policy', 'set', 'Shop/Web'], 'yes');
    expect(r.err).toBe('Remove the policy from Web? (y/n) ');
    expect(groupPolicy(db, 'Web')).toBeNull();
  });

  it('sets the policy of a model for a model path, and /y skips the question', async () => {
    const db = fixtureStore();
    const r = await pvmutl(db, ['policy', 'set', 'Shop/Web/R110j', '標準ポリシー', '/y']);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect((await pvmutl(db, ['policy', 'show', 'Shop/Web'])).out).toBe('Web : Web-N+1\nR120h : 標準ポリシー\nR110j : 標準ポリシー\n');
  });

  it('matches group and policy names case-insensitively and reports them as stored', async () => {
    const db = fixtureStore();
    const r = await pvmutl(db, ['policy', 'set', 'shop\\ap', 'web-n+1'], 'y');
    expect(r.err).toBe('Change the policy of AP to Web-N+1? (y/n) ');
  });
});

describe('maintenance', () => {
  const flags = (db: string): string => {
    const d = openStore(db, { readonly: true });
    const rows = d.prepare("SELECT name, maintenance FROM machines WHERE group_id = (SELECT id FROM groups WHERE name = 'Web') ORDER BY name").all() as Array<{ name: string; maintenance: number }>;
    d.close();
    return rows.map((r) => `${r.name}=${r.maintenance}`).join(' ');
  };

  it('switches one host (by host name or machine name) or every active machine of the group', async () => {
    const db = fixtureStore();
    await pvmutl(db, ['maintenance', 'on', 'Shop/Web', 'web02']);
    expect(flags(db)).toBe('px-r110-01=0 px-r120-01=0 px-r120-02=1');
    await pvmutl(db, ['maintenance', 'On', 'Shop/Web']);
    expect(flags(db)).toBe('px-r110-01=1 px-r120-01=1 px-r120-02=1');
    await pvmutl(db, ['maintenance', 'OFF', 'Shop/Web', 'px-r120-01']);
    expect(flags(db)).toBe('px-r110-01=1 px-r120-01=0 px-r120-02=1');
  });

  it('refuses a pool machine with exit 2 and a reason', async () => {
    const db = fixtureStore();
    const r = await pvmutl(db, ['maintenance', 'on', 'Shop/Web', 'px-spare-01']);
    expect(r).toEqual({ code: 2, out: '', err: 'pvmutl: px-spare-01 is not active in Shop/Web (pool machines cannot be given)\n' });
  });
});

describe('changepassword', () => {
  it('replaces the hash; the old password stops working and the new one works', async () => {
    const db = fixtureStore();
    expect((await pvmutl(db, ['changepassword', 'user01', 'pvmuser1', 'pvmuser2'])).code).toBe(0);
    const hash = query<{ password_hash: string }>(db, 'SELECT password_hash FROM users WHERE name = ?', 'user01').password_hash;
    expect(hash).toMatch(/^scrypt\$/);
    expect(verifyPassword('pvmuser2', hash)).toBe(true);
    expect((await pvmutl(db, ['changepassword', 'user01', 'pvmuser1', 'x'])).code).toBe(15);
    expect((await pvmutl(db, ['changepassword', 'USER01', 'pvmuser2', 'pvmuser3'])).code).toBe(0);
  });

  it('never stores or prints the passwords', async () => {
    const db = fixtureStore();
    const r = await pvmutl(db, ['changepassword', 'user01', 'pvmuser1', 'S3cret-New']);
    expect(r.out + r.err).not.toContain('S3cret-New');
    const d = openStore(db, { readonly: true });
    const audit = d.prepare('SELECT command FROM audit').all() as Array<{ command: string }>;
    d.close();
    expect(audit.map((a) => a.command)).toEqual(['pvmutl changepassword user01 *** ***']);
  });
});

describe('messages', () => {
  it('are Japanese when the locale is Japanese', async () => {
    const db = fixtureStore();
    const { runPvmutl } = await import('../src/pvmutl/main.js');
    let err = '';
    const code = await runPvmutl(['--db', db, 'list', 'server', 'Nope'], { out: () => {}, err: (t) => { err += t; }, ask: async () => undefined }, { LANG: 'ja_JP.UTF-8' });
    expect(code).toBe(3);
    expect(err).toBe('pvmutl: グループが見つかりません: Nope\n');
  });
});
