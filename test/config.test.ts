// kanri config apply | check | export: complete validation before any write,
// errors that name the file and the path, idempotence, and apply(export(x)) = no-op.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaVersion } from '../src/store/db.js';
import { openStore } from '../src/open-store.js';
import { enlist, ownIdentity, ownManager } from '../src/engine/managers.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { FIXTURE, fixtureStore, newStoreLocation, storeDigest, tempDir } from './support/store.js';
import { run } from './support/cli.js';

const fixtureText = readFileSync(FIXTURE, 'utf8');

function write(text: string): string {
  const f = join(tempDir(), 'dc.yaml');
  writeFileSync(f, text);
  return f;
}

describe('config apply', () => {
  it('creates the store 0600 in WAL mode at the newest schema and loads the fixture', () => {
    const db = join(tempDir(), 'new', 'kanri.db');
    const r = run('kanri', ['config', 'apply', FIXTURE], { db });
    expect(r.code).toBe(0);
    expect(r.out).toBe(`applied ${FIXTURE}: +2 settings, +18 software, +3 policies, +4 volumes, +3 categories, +6 groups, +7 models, +26 host settings, +30 machines, +3 users\n`);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    const d = openStore(db);
    expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(d.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(schemaVersion(d)).toBe(MIGRATIONS.length);
    d.close();
  });

  it('is idempotent: a second apply writes nothing', () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const r = run('kanri', ['config', 'apply', FIXTURE], { db });
    expect(r.out).toBe(`no changes: the store already matches ${FIXTURE}\n`);
    expect(storeDigest(db)).toBe(before);
  });

  it('a store holding two names that fold alike (written before they did) still applies: the spelling the file uses wins', () => {
    const db = fixtureStore();
    const d = openStore(db);
    const policy = () => d.prepare("SELECT id, name FROM policies WHERE name = '標準ポリシー'").get() as { id: number; name: string };
    const before = policy();
    // half-width katakana: one name with the fixture's policy now, a second one to SQLite's NOCASE index;
    // a PostgreSQL store's index has always refused it.
    const insert = (): unknown => d.prepare("INSERT INTO policies (name) VALUES ('標準ﾎﾟﾘｼｰ')").run();
    if (d.dialect === 'postgresql') {
      expect(insert).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }));
      d.close();
      return;
    }
    insert();
    d.close();
    const r = run('kanri', ['config', 'apply', FIXTURE], { db });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`removed policy 標準ﾎﾟﾘｼｰ\napplied ${FIXTURE}: -1 policy\n`);
    const after = openStore(db);
    expect(after.prepare('SELECT id, name FROM policies ORDER BY id').all()).toContainEqual(before);
    expect(after.prepare("SELECT count(*) AS n FROM policies WHERE name = '標準ﾎﾟﾘｼｰ'").get()).toEqual({ n: 0 });
    after.close();
  });

  it('of two names in the store that fold alike, a file spelling a third way pairs with the same one in the plan it prints and in what it applies', () => {
    const db = fixtureStore();
    const d = openStore(db);
    if (d.dialect === 'postgresql') {
      d.close();
      return; // a PostgreSQL store's index has always refused the twin
    }
    const before = d.prepare("SELECT id FROM policies WHERE name = '標準ポリシー'").get() as { id: number };
    d.prepare("INSERT INTO policies (name) VALUES ('標準ﾎﾟﾘｼｰ')").run();
    d.close();
    // Hiragana: folds as both do, spelt as neither; the first of them in code-unit order (ポ, U+30DD,
    // before ﾎ, U+FF8E) is the one it means: the fixture's row, renamed; the twin goes.
    const r = run('kanri', ['config', 'apply', write(fixtureText.replaceAll('標準ポリシー', '標準ぽりしー'))], { db });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('removed policy 標準ﾎﾟﾘｼｰ\n');
    const after = openStore(db);
    expect(after.prepare('SELECT id, name FROM policies WHERE id = ?').get(before.id)).toEqual({ id: before.id, name: '標準ぽりしー' });
    expect(after.prepare("SELECT count(*) AS n FROM policies WHERE name = '標準ﾎﾟﾘｼｰ'").get()).toEqual({ n: 0 });
    after.close();
  });

  it('apply(export(x)) is a no-op, and export round-trips through a fresh store', () => {
    const db = fixtureStore();
    const exported = run('kanri', ['config', 'export'], { db }).out;
    const f = write(exported);
    const before = storeDigest(db);
    expect(run('kanri', ['config', 'apply', f], { db }).out).toMatch(/^no changes/);
    expect(storeDigest(db)).toBe(before);

    // a fresh store needs the accounts' hashes
    const full = join(tempDir(), 'full.yaml');
    expect(run('kanri', ['config', 'export', '--with-secrets', '-o', full], { db }).code).toBe(0);
    const fresh = newStoreLocation();
    expect(run('kanri', ['config', 'apply', full], { db: fresh }).code).toBe(0);
    expect(run('kanri', ['config', 'export'], { db: fresh }).out).toBe(exported);
  });

  it('keeps row ids of objects that stay, and removes objects that are gone', () => {
    const db = fixtureStore();
    const id = (name: string): number | undefined => {
      const d = openStore(db, { readonly: true });
      const r = d.prepare('SELECT id FROM machines WHERE name = ?').get(name) as { id: number } | undefined;
      d.close();
      return r?.id;
    };
    const before = id('px-r120-03');
    const edited = fixtureText
      .replace('{ name: px-r120-03, kind: physical,', '{ name: px-r120-03, kind: physical, description: relabelled,')
      .replace(/^ {2}- \{ name: cp-new-01,.*\n/m, '');
    expect(run('kanri', ['config', 'apply', write(edited)], { db }).code).toBe(0);
    expect(id('px-r120-03')).toBe(before);
    expect(id('cp-new-01')).toBeUndefined();
  });

  it('refuses while a job is running, changing nothing', () => {
    const db = fixtureStore();
    const d = openStore(db);
    // a job of a live process (this one, enlisted as its owner with an unexpired lease): not abandoned, so apply must wait for it
    enlist(d, 'cli');
    d.prepare("INSERT INTO jobs (id, sequence, status, created_at, pid, manager, owner) VALUES (11, 'MoveFromPoolToGroup', 'running', '2026-11-22T00:00:00Z', ?, ?, ?)").run(process.pid, ownManager(), ownIdentity());
    d.close();
    const before = storeDigest(db);
    const r = run('kanri', ['config', 'apply', write(fixtureText.replace('priority: 1\n    description: online shop', 'priority: 7\n    description: online shop'))], { db });
    expect(r.code).toBe(1);
    expect(r.err).toBe('kanri: config apply refused: jobs are running (00011); wait for them or cancel them first\n');
    expect(storeDigest(db)).toBe(before);
  });
});

describe('config validation', () => {
  const cases: Array<[string, string, string[]]> = [
    ['YAML syntax', 'kanri: 1\ngroups: [\n', ['dc.yaml: ']],
    ['format version', 'kanri: 2\n', ['dc.yaml: kanri: must be 1 (the format version)']],
    ['unknown key and wrong types', 'kanri: 1\ngroups:\n  - { name: G, type: physical, models: [{ name: m, priority: high }], colour: red, allow_common_pool: "yes" }\n', [
      'dc.yaml: groups[0].colour: unknown key',
      'dc.yaml: groups[0].allow_common_pool: must be true or false',
      'dc.yaml: groups[0].models[0].priority: must be an integer from 1 to 10000',
    ]],
    ['undefined references', 'kanri: 1\ngroups:\n  - { name: G, type: physical, policy: nope, models: [{ name: m }], software: { activation: [ghost] }, pool: [m9] }\n', [
      "dc.yaml: group G: policy: policy 'nope' is not defined under policies:",
      "dc.yaml: group G: software.activation: software 'ghost' is not defined under software:",
      "dc.yaml: group G: pool: machine 'm9' is not defined under machines:",
    ]],
    ['names differing only in case', 'kanri: 1\nmachines:\n  - { name: srv1, kind: physical }\n  - { name: SRV1, kind: physical }\n', [
      "dc.yaml: machines[1]: machine 'SRV1' is defined twice (names are case-insensitive; first at [0])",
    ]],
    ['names differing only in width, kana or an invisible character', 'kanri: 1\nmachines:\n  - { name: ｓｒｖ１, kind: physical }\n  - { name: SRV1, kind: physical }\n  - { name: かな, kind: physical }\n  - { name: ｶﾅ, kind: physical }\n  - { name: "d\\u00adb", kind: physical }\n  - { name: DB, kind: physical }\n', [
      "dc.yaml: machines[1]: machine 'SRV1' is defined twice (names are case-insensitive; first at [0])",
      "dc.yaml: machines[3]: machine 'ｶﾅ' is defined twice (names are case-insensitive; first at [2])",
      "dc.yaml: machines[5]: machine 'DB' is defined twice (names are case-insensitive; first at [4])",
    ]],
    ['a host setting used twice', `kanri: 1
groups:
  - { name: G, type: physical, models: [{ name: m }], host_settings: [{ host: h1 }], pool: [a, b] }
machines:
  - { name: a, kind: physical, active: { group: G, model: m, host: h1 } }
  - { name: b, kind: physical, active: { group: G, model: m, host: h1 } }
`, ["dc.yaml: machine b: active.host: host setting 'h1' is already used by a"]],
    ['a machine of the wrong kind', `kanri: 1
groups:
  - { name: G, type: virtual, models: [{ name: m }], host_settings: [{ host: h1 }] }
machines:
  - { name: p, kind: physical, active: { group: G, model: m, host: h1, from: common_pool } }
`, ['dc.yaml: machine p: active.group: a physical machine cannot be active in a virtual group']],
    ['a group without models and bad addresses', 'kanri: 1\ngroups:\n  - { name: G, type: physical, host_settings: [{ host: h, nics: [{ addresses: [{ ip: 300.1.1.1, netmask: 255.255.255.0 }] }] }] }\n', [
      'dc.yaml: groups[0].models: a group needs at least one model',
      "dc.yaml: groups[0].host_settings[0].nics[0].addresses[0].ip: '300.1.1.1' is not an IPv4 address",
    ]],
    ['plain passwords', 'kanri: 1\nusers:\n  - { name: u, password_hash: secret }\n', [
      'dc.yaml: users[0].password_hash: must be a scrypt hash',
    ]],
  ];

  it.each(cases)('%s: exit 1, every problem named, nothing written', (_label, text, expected) => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const f = write(text);
    const r = run('kanri', ['config', 'apply', f], { db });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.split('\n').filter(Boolean);
    for (const e of expected) expect(lines.some((l) => l.replace(f, 'dc.yaml').startsWith(e))).toBe(true);
    expect(storeDigest(db)).toBe(before);
  });

  it('check validates without a store', () => {
    expect(run('kanri', ['config', 'check', FIXTURE], { db: join(tempDir(), 'none.db') }).out).toBe(`${FIXTURE}: valid\n`);
    expect(run('kanri', ['config', 'check', '/nonexistent.yaml']).err).toBe('/nonexistent.yaml: cannot read: ENOENT\n');
  });
});

describe('management controllers in the description', () => {
  it('export carries a dscli registration without its password; apply(export) keeps it; a file without it removes it only with --prune', () => {
    const db = fixtureStore();
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'Bmc-Secret-42\n');
    expect(run('dscli', ['createServer', 'px-r120-01', 'mgmt=ipmi', 'address=127.0.0.1', 'port=9999', 'user=admin', `password_file=${pw}`], { db }).code).toBe(0);
    const exported = run('kanri', ['config', 'export'], { db }).out;
    expect(exported).toContain('    bmc: { type: ipmi, address: 127.0.0.1, port: 9999, user: admin, cipher: 3 }\n');
    expect(exported).not.toContain('Bmc-Secret-42');
    const f = write(exported);
    const before = storeDigest(db);
    expect(run('kanri', ['config', 'apply', f], { db }).out).toMatch(/^no changes/);
    expect(storeDigest(db)).toBe(before);

    // the password cannot come back from a file: removing the registration needs --prune
    const refused = run('kanri', ['config', 'apply', FIXTURE], { db });
    expect(refused.code).toBe(1);
    expect(refused.err).toBe('kanri: config apply refused: it would remove what the file cannot restore: remove controller of px-r120-01 (it holds a sealed password); add them to the file, or give --prune to remove them\n');
    expect(storeDigest(db)).toBe(before);
    const pruned = run('kanri', ['config', 'apply', '--prune', FIXTURE], { db });
    expect(pruned.code).toBe(0);
    expect(pruned.out).toMatch(/^removed controller of px-r120-01\napplied /);
    const d = openStore(db, { readonly: true });
    expect(d.prepare("SELECT mgmt_type, bmc_secret FROM machines WHERE name = 'px-r120-01'").get()).toEqual({ mgmt_type: null, bmc_secret: null });
    d.close();
  });

  it('a hand-written controller takes dscli defaults, and a password in the file is refused', () => {
    const db = fixtureStore();
    const withBmc = fixtureText.replace('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-02, bmc: { type: ipmi, address: 10.0.0.2 }, kind: physical,');
    expect(run('kanri', ['config', 'apply', write(withBmc)], { db }).code).toBe(0);
    expect(run('kanri', ['config', 'apply', write(withBmc)], { db }).out).toMatch(/^no changes/);
    expect(run('dscli', ['getServerList'], { db }).out).toContain('px-r120-02');
    const bad = fixtureText.replace('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-02, bmc: { type: ipmi, address: 10.0.0.2, password: x }, kind: physical,');
    const r = run('kanri', ['config', 'apply', write(bad)], { db });
    expect(r.code).toBe(1);
    expect(r.err).toContain('machines[1].bmc.password: unknown key');
  });
});
