// apply(export(x)) is a no-op for every kind of store the suite builds: the fixture, the
// engine data centre, an empty store, and stores that dscli, kanri user and the sim
// commands wrote (controllers of every type, with and without an address).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onTerminal, run } from './support/cli.js';
import { dscli, newStore, secretFile } from './support/dscli.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { fixtureStore, newStoreLocation, queryAll, storeDigest, tempDir } from './support/store.js';

function roundTrip(db: string): void {
  const exported = run('kanri', ['config', 'export'], { db });
  expect(exported.code, exported.err).toBe(0);
  const f = join(tempDir(), 'x.yaml');
  writeFileSync(f, exported.out);
  const before = storeDigest(db);
  const again = run('kanri', ['config', 'apply', f], { db });
  expect(again.err).toBe('');
  expect(again.code).toBe(0);
  expect(again.out).toMatch(/^no changes/);
  expect(storeDigest(db)).toBe(before);
  // and, with the accounts' hashes, into a fresh store, which exports the same text
  const full = join(tempDir(), 'full.yaml');
  expect(run('kanri', ['config', 'export', '--with-secrets', '-o', full], { db }).code).toBe(0);
  const fresh = newStoreLocation();
  const r = run('kanri', ['config', 'apply', full], { db: fresh });
  expect(r.err).toBe('');
  expect(run('kanri', ['config', 'export'], { db: fresh }).out).toBe(exported.out);
}

describe('export then apply', () => {
  it('an empty store', () => roundTrip(newStore()));
  it('the fixture', () => roundTrip(fixtureStore()));
  it('the engine data centre', () => roundTrip(fixtureStore(ENGINE_DC)));

  it('dscli registrations of every controller type, a sim one without an address', () => {
    const db = newStore();
    expect(dscli(db, ['createServer', 's1', 'mgmt=sim']).code).toBe(0);
    expect(dscli(db, ['createServer', 'sim2', 'mgmt=sim', 'address=127.0.0.11']).code).toBe(0);
    expect(dscli(db, ['createServer', 'b1', 'mgmt=ipmi', 'address=127.0.0.1', 'port=9999', 'user=admin', `password_file=${secretFile('Bmc-pass-1')}`]).code).toBe(0);
    expect(dscli(db, ['createServer', 'r1', 'mgmt=redfish', 'address=127.0.0.1', 'port=9443', 'user=admin', `password_file=${secretFile('Rf-pass-1')}`, 'verify=off']).code).toBe(0);
    roundTrip(db);
  });

  it('a store with kanri users and sim faults', () => {
    const db = fixtureStore();
    expect(run('kanri', ['user', 'add', 'ops9'], { db, input: 'Ops-pass-9\n' }).code).toBe(0);
    expect(run('kanri', ['sim', 'fail', 'px-r120-01', 'power-on', '--times', '1'], { db }).code).toBe(0);
    expect(run('kanri', ['sim', 'delay', '5'], { db }).code).toBe(0);
    roundTrip(db);
  });
});

describe('an export a person can edit', () => {
  it('writes what differs from the defaults, numbers as numbers, no hashes without --with-secrets', () => {
    const db = fixtureStore(ENGINE_DC);
    const text = run('kanri', ['config', 'export'], { db }).out;
    expect(text).toMatch(/\bsim\.delay_ms: 0[,\s}]/);
    expect(text).not.toMatch(/: \[\]\n|: ""\n|: false\n|management_status: normal/);
    const fixture = run('kanri', ['config', 'export'], { db: fixtureStore() }).out;
    expect(fixture).not.toContain('password_hash');
    expect(fixture.split('\n').length).toBeLessThan(800); // 1,896 lines when every default was written in blocks
    const withHashes = run('kanri', ['config', 'export', '--with-secrets'], { db: fixtureStore() });
    expect(withHashes.out).toMatch(/password_hash: "?scrypt\$/);
  });

  it('--with-secrets is refused on a terminal', () => {
    const db = fixtureStore();
    expect(onTerminal(`KANRI_DB=${db} kanri config export --with-secrets; echo "rc=$?"`)).toBe('kanri: --with-secrets writes password hashes and secret settings: give -o FILE (written 0600) or redirect standard output\nrc=1\n');
  });

  it('apply keeps the accounts a file does not name, and their hashes; --prune removes them', () => {
    const db = fixtureStore();
    expect(run('kanri', ['user', 'add', 'ops9'], { db, input: 'Ops-pass-9\n' }).code).toBe(0);
    const hashes = queryAll(db, 'SELECT name, password_hash FROM users ORDER BY name');
    const f = join(tempDir(), 'no-users.yaml');
    writeFileSync(f, run('kanri', ['config', 'export'], { db }).out.replace(/\nusers:\n[\s\S]*$/, '\n'));
    expect(run('kanri', ['config', 'apply', f], { db }).out).toMatch(/^no changes/);
    expect(queryAll(db, 'SELECT name, password_hash FROM users ORDER BY name')).toEqual(hashes);
    const pruned = run('kanri', ['config', 'apply', '--prune', f], { db });
    expect(pruned.out).toBe(`removed user admin\nremoved user ops9\nremoved user retired01\nremoved user user01\napplied ${f}: -4 users\n`);
    expect(queryAll(db, 'SELECT name FROM users')).toEqual([]);
  });

  it('a new account without a hash is refused, nothing written', () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const f = join(tempDir(), 'new-user.yaml');
    writeFileSync(f, run('kanri', ['config', 'export'], { db }).out + '  - name: newbie\n');
    expect(run('kanri', ['config', 'apply', f], { db })).toMatchObject({ code: 1, err: 'kanri: config apply refused: user newbie is new and has no password_hash; create it with kanri user add newbie, or export with --with-secrets\n' });
    expect(storeDigest(db)).toBe(before);
  });
});
