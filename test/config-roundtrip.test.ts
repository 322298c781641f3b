// apply(export(x)) is a no-op for every kind of store the suite builds: the fixture, the
// engine data centre, an empty store, and stores that dscli, kanri user and the sim
// commands wrote (controllers of every type, with and without an address).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { dscli, newStore, secretFile } from './support/dscli.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { fixtureStore, storeDigest, tempDir } from './support/store.js';

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
  // and into a fresh store, which exports the same text
  const fresh = join(tempDir(), 'fresh.db');
  const r = run('kanri', ['config', 'apply', f], { db: fresh });
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
