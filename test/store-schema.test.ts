// The schema is pinned: a new store's schema equals test/fixtures/schema.sql, so every
// change is deliberate; and a store made by the current release (0.1.0) upgrades to it
// keeping its data — machines, jobs, events, the sim driver's state and sealed passwords.
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { schemaVersion } from '../src/store/db.js';
import { SCHEMA_COMPONENTS as COMPONENTS, openStore } from '../src/open-store.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { schemaSnapshot } from '../src/store/schema-snapshot.js';
import { openSecret } from '../src/store/secrets.js';
import { run } from './support/cli.js';
import { ROOT, queryAll as q, tempDir } from './support/store.js';

const PINNED = join(ROOT, 'test', 'fixtures', 'schema.sql');
const RELEASE = join(ROOT, 'test', 'fixtures', 'release-0.1.0');

function freshSchema(): string {
  const db = openStore(join(tempDir(), 'kanri.db'), { create: true });
  try {
    return schemaSnapshot(db);
  } finally {
    db.close();
  }
}

/** A store file as kanri 0.1.0 left it, with its key file next to it. */
function releaseStore(): string {
  const dir = tempDir();
  const path = join(dir, 'kanri.db');
  const old = new Database(path);
  old.exec(readFileSync(join(RELEASE, 'kanri.sql'), 'utf8'));
  old.close();
  chmodSync(path, 0o600);
  copyFileSync(join(RELEASE, 'kanri.key'), join(dir, 'kanri.key'));
  chmodSync(join(dir, 'kanri.key'), 0o600);
  return path;
}

describe('the store schema', () => {
  it('a new store has exactly the pinned schema (regenerate with scripts/schema-snapshot.mjs when the change is meant)', () => {
    expect(freshSchema()).toBe(readFileSync(PINNED, 'utf8'));
  });

  it('every component is at its newest version in a new store', () => {
    const db = openStore(join(tempDir(), 'kanri.db'), { create: true });
    try {
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      for (const c of COMPONENTS) {
        expect(db.prepare('SELECT version FROM schema_components WHERE name = ?').get(c.name)).toEqual({ version: c.migrations.length });
      }
    } finally {
      db.close();
    }
  });
});

describe('upgrading a store made by kanri 0.1.0', () => {
  it('ends at the same schema as a new store and keeps every row', () => {
    const path = releaseStore();
    const tables = ['machines', 'jobs', 'job_steps', 'events', 'audit', 'sim_power', 'sim_faults', 'sim_installed', 'machine_drivers', 'users', 'host_settings'];
    const before = Object.fromEntries(tables.map((t) => [t, q(path, `SELECT * FROM ${t} ORDER BY rowid`)]));
    expect(q(path, 'PRAGMA user_version')).toEqual([{ user_version: 4 }]);
    const db = openStore(path);
    try {
      expect(schemaSnapshot(db)).toBe(freshSchema());
      for (const t of tables) expect(db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all(), t).toEqual(before[t]);
      const row = db.prepare("SELECT id, bmc_secret FROM machines WHERE name = 'px-r120-01'").get() as { id: number; bmc_secret: string };
      expect(openSecret(db, row.bmc_secret, `bmc-password:${row.id}`)).toBe('Release-Pw-7');
    } finally {
      db.close();
    }
  });

  it('a listing, which opens the store read-only, first upgrades it as any command does', () => {
    const db = releaseStore();
    const r = run('pvmutl', ['list', 'server', 'Shop/Web'], { db });
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('Server List (Group = Shop/Web)');
    expect(q(db, 'PRAGMA user_version')).toEqual([{ user_version: MIGRATIONS.length }]);
    const components = q(db, 'SELECT name, version FROM schema_components') as Array<{ name: string; version: number }>;
    for (const c of COMPONENTS) expect(components, c.name).toContainEqual({ name: c.name, version: c.migrations.length });
  });

  it('the upgraded store works: dscli reads the sim controller, pvmutl lists and changes the group', () => {
    const db = releaseStore();
    expect(run('dscli', ['getPowerStatus', 'bmc-sim1'], { db })).toMatchObject({ code: 0, out: 'bmc-sim1 on\n' });
    const before = run('pvmutl', ['list', 'server', 'Shop/Web'], { db });
    expect(before.code).toBe(0);
    const r = run('pvmutl', ['add', 'Shop/Web', 'px-spare-01'], { db });
    expect(r.code).toBe(7);
    expect(r.err).toContain("failed at 'Start machine': sim: power-on on px-spare-01: BMC did not answer");
    // the fault the old release injected was kept, and used up
    expect(q(db, "SELECT count(*) AS n FROM sim_faults WHERE machine = 'px-spare-01'")).toEqual([{ n: 0 }]);
    expect(q(db, 'SELECT id, status FROM jobs ORDER BY id')).toEqual([{ id: 1, status: 'completed' }, { id: 2, status: 'failed' }]);
  });
});
