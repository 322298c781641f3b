// The PostgreSQL back end on a private cluster (test/support/postgres.ts): the migrations of
// the core and of every component run on it and give the pinned schema; statements written
// for SQLite run through the dialect with SQLite's results; names compare under Unicode case
// folding as on SQLite; writers queue behind the store's writer lock and give up after the
// busy timeout with SQLite's busy code.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { run } from './support/cli.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaVersion, type Db } from '../src/store/db.js';
import { openStore, SCHEMA_COMPONENTS as COMPONENTS } from '../src/open-store.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { toPostgres, translate } from '../src/store/dialect.js';
import { schemaSnapshot } from '../src/store/schema-snapshot.js';
import { isBusy } from '../src/store/busy.js';
import { storeNow } from '../src/store/dialect.js';
import { allByName, byName, foldName } from '../src/domain/names.js';
import { readDataCentre } from '../src/config/validate.js';
import { ROOT, tempDir } from './support/store.js';
import { requirePostgres, startCluster, type PgCluster } from './support/postgres.js';

const PINNED = join(ROOT, 'test', 'fixtures', 'schema-postgresql.sql');
const have = requirePostgres('store on PostgreSQL');
let cluster: PgCluster;

beforeAll(() => { if (have) cluster = startCluster(); }, 180_000);
afterAll(() => { cluster?.stop(); });

function store(name: string): { uri: string; db: Db } {
  const uri = cluster.createDatabase(name);
  return { uri, db: openStore(uri, { create: true }) };
}

describe.skipIf(!have)('a store on PostgreSQL', () => {
  it('the migrations of the core and of every component run, and give exactly the pinned schema', () => {
    const { db } = store('schema');
    try {
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
      for (const c of COMPONENTS) {
        expect(db.prepare('SELECT version FROM schema_components WHERE name = ?').get(c.name)).toEqual({ version: c.migrations.length });
      }
      const got = schemaSnapshot(db);
      const want = readFileSync(PINNED, 'utf8');
      if (got !== want) writeFileSync(join(tempDir(), 'schema-postgresql.sql'), got);
      expect(got).toBe(want);
    } finally {
      db.close();
    }
  });

  it('a database without a store is not taken for one; opening a store again migrates nothing', () => {
    const uri = cluster.createDatabase('empty');
    expect(() => openStore(uri)).toThrow(/store not found: .* holds no kanri store/);
    openStore(uri, { create: true }).close();
    const db = openStore(uri);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
    const ro = openStore(uri, { readonly: true });
    expect(() => ro.prepare("INSERT INTO settings (key, value) VALUES ('a', 'b')").run()).toThrow(expect.objectContaining({ code: 'SQLITE_READONLY' }));
    ro.close();
  });

  it('statements written for SQLite give SQLite\'s results', () => {
    const { db } = store('dialect');
    try {
      const big = Date.now() * 1000;
      const ins = db.prepare('INSERT INTO events (time, source, event_id, type, message, job_id) VALUES (?, ?, ?, ?, ?, ?)');
      const a = ins.run('t1', 'kanri', 1, 'information', 'first', big);
      const b = ins.run('t2', 'kanri', 2, 'warning', 'second', null);
      expect(a).toEqual({ changes: 1, lastInsertRowid: 1 });
      expect(b.lastInsertRowid).toBe(2);
      expect(db.prepare('SELECT job_id, ifnull(job_id, -1) AS j, event_id IS NULL AS none FROM events WHERE id = ?').get(1)).toEqual({ job_id: big, j: big, none: 0 });
      expect(db.prepare('SELECT count(*) AS n FROM events WHERE (? IS NULL OR source = ?)').get(null, null)).toEqual({ n: 2 });
      expect(db.prepare('SELECT id FROM events WHERE id = 99').get()).toBeUndefined();
      expect(db.prepare('SELECT count(*) AS n FROM events WHERE 1 AND job_id IS ?').get(null)).toEqual({ n: 1 });
      expect(db.prepare("SELECT count(*) AS n FROM policies WHERE name LIKE 'äp%' OR name NOT LIKE ?").get('%')).toEqual({ n: 0 });
      db.prepare("INSERT INTO policies (name) VALUES ('Web-A')").run();
      expect(db.prepare("SELECT name FROM policies WHERE name LIKE 'WEB%'").all()).toEqual([{ name: 'Web-A' }]);
      db.prepare("INSERT INTO settings (key, value) VALUES ('j', ?)").run(JSON.stringify({ machine: 'm01' }));
      expect(db.prepare("SELECT json_extract(value, '$.machine') AS m FROM settings WHERE key = 'j'").get()).toEqual({ m: 'm01' });
      db.prepare("DELETE FROM settings WHERE key = 'j'").run();
      expect(db.prepare('SELECT id AS eventId, job_id AS jobId FROM events ORDER BY eventId DESC').get()).toEqual({ eventId: 2, jobId: null });
      expect(db.prepare('SELECT count(*) AS n FROM events WHERE job_id IS NOT ?').get(big)).toEqual({ n: 1 });
      // LIMIT -1 is no limit, as on SQLite.
      expect(db.prepare('SELECT id FROM events ORDER BY id LIMIT ?').all(-1)).toEqual([{ id: 1 }, { id: 2 }]);
      expect(db.prepare('SELECT id FROM events ORDER BY id LIMIT ?').all(1)).toEqual([{ id: 1 }]);
      expect(db.prepare('UPDATE events SET message = @m WHERE type = @t OR @t IS NULL').run({ m: 'x', t: 'warning' }).changes).toBe(1);
      const put = db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)');
      expect(put.run('k', 'one').changes).toBe(1);
      expect(put.run('k', 'two').changes).toBe(0);
      db.prepare('INSERT INTO schema_components (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version').run('extra', 1);
      db.prepare('INSERT INTO schema_components (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version').run('extra', 2);
      expect(db.prepare("SELECT version FROM schema_components WHERE name = 'extra'").get()).toEqual({ version: 2 });
      // A transaction that throws leaves nothing; a nested one rolls back alone.
      expect(() => db.transaction(() => { db.prepare("DELETE FROM settings WHERE key = 'k'").run(); throw new Error('no'); })()).toThrow('no');
      db.transaction(() => {
        db.prepare("INSERT INTO settings (key, value) VALUES ('outer', '1')").run();
        expect(() => db.transaction(() => { db.prepare("INSERT INTO settings (key, value) VALUES ('inner', '1')").run(); throw new Error('inner'); })()).toThrow('inner');
      })();
      expect(db.prepare('SELECT key FROM settings ORDER BY key').all()).toEqual([{ key: 'k' }, { key: 'outer' }]);
      // A failed statement inside a transaction is undone alone; the transaction goes on, as on SQLite.
      db.transaction(() => {
        expect(() => db.prepare("INSERT INTO settings (key, value) VALUES ('k', 'dup')").run()).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }));
        db.prepare("INSERT INTO settings (key, value) VALUES ('after', '1')").run();
      })();
      expect(db.prepare("SELECT count(*) AS n FROM settings WHERE key = 'after'").get()).toEqual({ n: 1 });
      db.prepare("DELETE FROM settings WHERE key = 'after'").run();
      expect(() => db.prepare("INSERT INTO settings (key, value) VALUES ('k', 'dup')").run()).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }));
    } finally {
      db.close();
    }
  });

  it('the store\'s clock (storeNow) is ISO-8601 UTC text with milliseconds on both back ends, as toISOString() writes the time columns', () => {
    const { db: pg } = store('clock');
    const lite = openStore(join(tempDir(), 'kanri.db'), { create: true });
    try {
      for (const db of [pg, lite]) {
        const before = new Date().toISOString();
        const r = db.prepare(`SELECT ${storeNow(db)} AS now, ${storeNow(db, 5)} AS later, ${storeNow(db, -0.25)} AS earlier`).get() as { now: string; later: string; earlier: string };
        const after = new Date().toISOString();
        for (const t of Object.values(r)) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        // The same host's clock here: the store's time lies between two readings of this process's (text order is time order).
        expect(r.now >= before && r.now <= after, `${before} <= ${r.now} <= ${after}`).toBe(true);
        // One instant for the whole statement: a heartbeat and its lease end are exactly the lease apart.
        expect(Date.parse(r.later) - Date.parse(r.now)).toBe(5_000);
        expect(Date.parse(r.now) - Date.parse(r.earlier)).toBe(250);
        // Compared as text, in SQL, with what a process wrote (and with a later text).
        expect(db.prepare(`SELECT CASE WHEN ? <= ${storeNow(db)} AND ? > ${storeNow(db)} THEN 1 ELSE 0 END AS past`).get(before, '9999')).toEqual({ past: 1 });
      }
    } finally {
      pg.close();
      lite.close();
    }
  });

  it('writes, failed writes and nested transactions that fail or succeed keep what SQLite keeps: pipelined, with a libpq without pipeline mode, and when the connection refuses it', () => {
    const { db: pg } = store('nested');
    // The store's other two ways to send what goes before a write: one statement at a time
    // (a binding built against libpq 13 or older), and pipeline mode refused by the connection.
    const { db: single } = store('nested_single');
    Object.defineProperty((single as unknown as { pq: object }).pq, 'pipelines', { value: false });
    const { db: refused } = store('nested_refused');
    (refused as unknown as { pq: { enterPipelineMode(): boolean } }).pq.enterPipelineMode = () => false;
    const lite = openStore(join(tempDir(), 'kanri.db'), { create: true });
    const keys = (db: Db): string[] => (db.prepare("SELECT key FROM settings WHERE key LIKE 'n.%' ORDER BY key").all() as Array<{ key: string }>).map((r) => r.key);
    try {
      for (const db of [pg, single, refused, lite]) {
        const put = (k: string): unknown => db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(`n.${k}`, '1');
        db.transaction(() => {
          put('a');
          // a nested transaction after a write: its failure undoes its own writes only
          expect(() => db.transaction(() => { put('b'); put('c'); throw new Error('inner'); })()).toThrow('inner');
          put('d');
          // a failed write, then a nested transaction that succeeds, then one whose write fails inside it
          expect(() => put('a')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/) }));
          db.transaction(() => { put('e'); put('f'); })();
          expect(() => db.transaction(() => { put('g'); put('e'); })()).toThrow(expect.objectContaining({ code: expect.stringMatching(/^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/) }));
          put('h');
        })();
        // a transaction that fails after writes keeps nothing
        expect(() => db.transaction(() => { put('x'); db.transaction(() => put('y'))(); throw new Error('outer'); })()).toThrow('outer');
      }
      expect(keys(pg)).toEqual(['n.a', 'n.d', 'n.e', 'n.f', 'n.h']);
      expect(keys(pg)).toEqual(keys(lite));
      expect(keys(single)).toEqual(keys(lite));
      expect(keys(refused)).toEqual(keys(lite));
    } finally {
      for (const db of [pg, single, refused, lite]) db.close();
    }
  });

  it('names compare the same on both back ends: one corpus, the same lookups, refusals and folds', () => {
    const { db: pg } = store('names');
    const lite = openStore(join(tempDir(), 'kanri.db'), { create: true });
    try {
      const names = ['Äpfel', 'Straße', 'Web', 'ǅemal', 'ﬁle', 'かな', 'サーバ', 'Ｄｂ', 'ｱﾌﾟﾘ', 'ぁい', 'web3', 'ıx'];
      // Case (ASCII and full case folding: ẞ, dotless and dotted i, final sigma), compatibility
      // forms (full-width, half-width, ligatures, Ǆ and DŽ), kana (hiragana and katakana,
      // small and normal), default-ignorable code points — and names that must stay apart
      // (accents, voiced kana, the iteration marks).
      const probes = [
        'äPFEL', 'ÄPFEL', 'A\u0308pfel', 'apfel', 'STRASSE', 'straße', 'STRAẞE', 'Strase',
        'WEB', 'web', 'ＷＥＢ', 'Ｗｅｂ', 'We\u00adb', 'We\u200bb', 'W\u200deb\ufe0f', 'Wéb',
        'DŽEMAL', 'ǆemal', '\u01c4EMAL', 'FILE', 'ﬁLE', 'file',
        'カナ', 'ｶﾅ', 'かな', 'がな', 'さーば', 'ｻｰﾊﾞ', 'サーハ', 'DB', 'ｄｂ', 'db', 'アプリ', 'あぷり', 'アフリ',
        'アイ', 'あい', 'ァイ', 'ゝ', 'ヽ', 'WEB3', 'ＷＥＢ３', 'IX', 'ix', 'İX',
      ];
      for (const db of [pg, lite]) for (const n of names) db.prepare('INSERT INTO policies (name) VALUES (?)').run(n);
      const one = (db: Db, p: string): string | undefined => byName<{ name: string }>(db, 'SELECT name FROM policies WHERE {name}', 'name', p)?.name;
      const all = (db: Db, p: string): string[] => allByName<{ name: string }>(db, 'SELECT name FROM policies WHERE {name}', 'name', p).map((r) => r.name);
      // Known differences, each with its reason (ICU's root collation at level 2 equates more
      // than foldName() can say without ICU's tables): decimal digits of every script are one
      // digit there (web٣ is web3), and so are letters written as combining marks and marks it
      // ignores (Hebrew cantillation); a name column on PostgreSQL therefore finds, and refuses
      // beside, what the other back end and the validator keep apart.
      const differs = [['web\u0663', 'web3'], ['We\u0591b', 'Web']] as const;
      for (const p of [...probes, ...names]) {
        const want = names.find((n) => foldName(n) === foldName(p));
        // Every lookup finds on both the row foldName() names: the exact spelling first, then
        // the folded one (so that where a store holds two names folding alike, the one spelt so).
        expect([one(pg, p), one(lite, p)], p).toEqual([names.includes(p) ? p : want, names.includes(p) ? p : want]);
        expect(all(pg, p), p).toEqual(all(lite, p));
      }
      for (const [p, stored] of differs) {
        expect(foldName(p)).not.toBe(foldName(stored));
        expect([one(pg, p), one(lite, p)], p).toEqual([stored, undefined]);
      }
      // The validator refuses a pair on both back ends exactly when PostgreSQL's unique index
      // would (and SQLite's NOCASE index, ASCII only, never refuses what it lets through).
      const refused = (db: Db, n: string): boolean => {
        try {
          db.transaction(() => {
            db.prepare('INSERT INTO policies (name) VALUES (?)').run(n);
            throw new Error('undo');
          })();
        } catch (e) {
          if ((e as Error).message === 'undo') return false;
          expect(e).toEqual(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }));
          return true;
        }
        return false;
      };
      const duplicate = (n: string): boolean => {
        const r = readDataCentre({ kanri: 1, policies: [...names, n].map((name) => ({ name })) });
        return r.errors.some((e) => e.includes('is defined twice'));
      };
      for (const p of probes) {
        expect(duplicate(p), p).toBe(names.some((n) => foldName(n) === foldName(p)));
        if (refused(lite, p)) expect(duplicate(p), p).toBe(true);
      }
      expect(probes.filter((p) => refused(pg, p) && !duplicate(p))).toEqual([]);
      // The other way round (foldName() equates, ICU keeps apart): ß folds as ss and the
      // dotless ı as i (case folding, unchanged), so these are one name to the validator on
      // both back ends and lookups fold on both; PostgreSQL's index alone would take the pair.
      expect(probes.filter((p) => duplicate(p) && !refused(pg, p))).toEqual(['STRASSE', 'IX', 'ix']);
      // The known differences of the other kind are the only pairs PostgreSQL refuses and
      // SQLite and the validator take.
      for (const [p] of differs) expect([refused(pg, p), refused(lite, p), duplicate(p)], p).toEqual([true, false, false]);
      // Full case folding is the same function on both (kfold, SQL on PostgreSQL, foldName on
      // SQLite): a capital ẞ folds as ß, a decomposing mapping compares with the composed
      // spelling, the Turkish dotted and dotless i and the Greek final sigma fold alike.
      const folded = ['Straße', 'STRAẞE', 'ẞ', 'ΐ', 'Ϊ́', 'İstanbul', 'ıstanbul', 'ISTANBUL', 'ΟΔΟΣ', 'οδοσ', 'ὈΔΌΣ', 'ﬁle', 'ǅemal', 'A\u0308pfel', ...probes, ...names];
      for (const db of [pg, lite]) expect(folded.map((w) => (db.prepare('SELECT kfold(?) AS f').get(w) as { f: string }).f)).toEqual(folded.map(foldName));
      expect(['Straße', 'ΟΔΟΣ', 'ISTANBUL', 'ıstanbul', 'ＷＥＢ', 'We\u00adb', 'ｶﾅ', 'ぁい', 'ǅemal', 'ﬁle'].map(foldName)).toEqual(['strasse', 'οδος', 'istanbul', 'istanbul', 'web', 'web', 'カナ', 'アイ', 'dž' + 'emal', 'file']);
      // An explicit COLLATE NOCASE in a statement is SQLite's NOCASE exactly (ASCII letters
      // lowered, then byte order), in comparisons and in order.
      for (const n of ['w_1', 'W1', 'w-2', 'é1', 'Zed']) for (const db of [pg, lite]) db.prepare('INSERT INTO policies (name) VALUES (?)').run(n);
      for (const [sql, args] of [['SELECT name FROM policies ORDER BY name COLLATE NOCASE, name', []], ['SELECT name FROM policies WHERE name = ? COLLATE NOCASE OR ? COLLATE NOCASE < name ORDER BY name COLLATE NOCASE DESC', ['W_1', 'x']]] as const) {
        const [onPg, onLite] = [pg, lite].map((db) => (db.prepare(sql).all(...args) as Array<{ name: string }>).map((r) => r.name));
        expect(onPg, sql).toEqual(onLite);
      }
    } finally {
      pg.close();
      lite.close();
    }
  });

  it('a store made before names folded as now gets the new kfold with its next migration', () => {
    const { uri, db } = store('oldfold');
    // kfold as kanri wrote it at schema 8: case folding only
    db.exec("CREATE OR REPLACE FUNCTION kfold(name text) RETURNS text LANGUAGE sql IMMUTABLE STRICT RETURN normalize(lower(upper(lower(normalize(name, NFC) COLLATE kanri_fold) COLLATE kanri_fold) COLLATE kanri_fold), NFC)");
    db.exec('UPDATE store_version SET version = 8');
    expect((db.prepare('SELECT kfold(?) AS f').get('Ｗｅｂ') as { f: string }).f).toBe('ｗｅｂ');
    db.close();
    const again = openStore(uri);
    try {
      expect(schemaVersion(again)).toBe(MIGRATIONS.length);
      expect((again.prepare('SELECT kfold(?) AS f').get('Ｗｅｂ') as { f: string }).f).toBe('web');
    } finally {
      again.close();
    }
  });

  it('options the URI names are added to the session\'s own bounds, never instead of them', () => {
    const uri = cluster.createDatabase('uri_options');
    openStore(uri, { create: true }).close();
    const sep = uri.includes('?') ? '&' : '?';
    const named = '-c statement_timeout=12345 -c idle_in_transaction_session_timeout=5000 -c lock_timeout=777';
    const db = openStore(`${uri}${sep}options=${encodeURIComponent(named)}`, { readonly: true, busyTimeoutMs: 4321 });
    try {
      const show = (name: string): string => (db.prepare(`SELECT current_setting('${name}') AS v`).get() as { v: string }).v;
      expect(show('statement_timeout')).toBe('12345ms');
      // A bound the URI tunes is the URI's; those it does not name stay; the lock timeout and
      // read-only mode are the process's (its busy timeout, the command's mode).
      expect(show('idle_in_transaction_session_timeout')).toBe('5s');
      expect(show('lock_timeout')).toBe('4321ms');
      expect(show('default_transaction_read_only')).toBe('on');
      expect(show('client_min_messages')).toBe('warning');
    } finally {
      db.close();
    }
  });

  it('writers queue behind the writer lock, and give up after the busy timeout as busy', () => {
    const { uri, db: first } = store('lock');
    const second = openStore(uri);
    try {
      second.pragma('busy_timeout = 300');
      first.transaction(() => {
        first.prepare("INSERT INTO settings (key, value) VALUES ('held', '1')").run();
        const t0 = Date.now();
        let err: unknown;
        try {
          second.prepare("INSERT INTO settings (key, value) VALUES ('other', '1')").run();
        } catch (e) {
          err = e;
        }
        expect(isBusy(err), String(err)).toBe(true);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
        // A write transaction that cannot have the lock is busy too, and leaves nothing open.
        expect(() => second.transaction(() => second.prepare("INSERT INTO settings (key, value) VALUES ('tx', '1')").run())()).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
        expect(second.inTransaction).toBe(false);
        // Its BEGIN goes with its first statement: a function that catches that error still fails,
        // and nothing after it runs outside the transaction it did not have.
        expect(() => second.transaction(() => {
          try { second.prepare("INSERT INTO settings (key, value) VALUES ('tx', '1')").run(); } catch { /* carries on */ }
          second.prepare("INSERT INTO settings (key, value) VALUES ('tx2', '1')").run();
        })()).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
        expect(second.inTransaction).toBe(false);
        // Readers are not blocked by a writer.
        expect(second.prepare('SELECT count(*) AS n FROM settings').get()).toEqual({ n: 0 });
      })();
      second.prepare("INSERT INTO settings (key, value) VALUES ('other', '1')").run();
      expect(first.prepare('SELECT count(*) AS n FROM settings').get()).toEqual({ n: 2 });
    } finally {
      first.close();
      second.close();
    }
  });

  it('a statement costs one round trip, a write too, in a transaction or not; a transaction costs its COMMIT more, and one that runs nothing none', () => {
    const { uri, db } = store('trips');
    const pg = db as unknown as { roundTrips: number };
    try {
      const put = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
      const get = db.prepare('SELECT value FROM settings WHERE key = ?');
      const trips = (fn: () => void): number => { const n = pg.roundTrips; fn(); return pg.roundTrips - n; };
      // A statement's first run goes as text; its second prepares it, one round trip more.
      expect([trips(() => get.get('warm')), trips(() => get.get('warm')), trips(() => get.get('warm'))]).toEqual([1, 2, 1]);
      put.run('warm', '1');
      put.run('warm', '1');
      // Outside a transaction: the writer lock, the write and its commit in one pipeline.
      expect(trips(() => put.run('a', '1'))).toBe(1);
      expect(trips(() => get.get('a'))).toBe(1);
      // BEGIN and the writer lock go with the first statement; each write carries its savepoint.
      expect(trips(() => db.transaction(() => { put.run('b', '1'); put.run('c', '1'); get.get('b'); })())).toBe(4);
      expect(trips(() => db.transaction(() => {})())).toBe(0);
      // A deferred transaction takes the writer lock with its first write, in the same round trip.
      expect(trips(() => db.transaction(() => { get.get('b'); put.run('d', '1'); }).deferred())).toBe(3);
      expect(db.inTransaction).toBe(false);
      expect(db.prepare("SELECT count(*) AS n FROM settings WHERE key IN ('a', 'b', 'c', 'd')").get()).toEqual({ n: 4 });
      // A failed write outside a transaction leaves the connection ready and nothing written.
      expect(() => db.prepare("INSERT INTO settings (key, value) VALUES ('a', 'dup')").run()).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }));
      expect(db.inTransaction).toBe(false);
      expect(get.get('a')).toEqual({ value: '1' });
    } finally {
      db.close();
    }
    // Opening a store at this kanri's schema to read (a listing's start-up): its version and
    // its components' versions, each read once.
    const reader = openStore(uri, { readonly: true, current: true });
    try {
      expect((reader as unknown as { roundTrips: number }).roundTrips).toBe(2);
    } finally {
      reader.close();
    }
    // To write (a command that may run jobs): the same two reads, and nothing else when the
    // schema is current — no prelude, no writer lock.
    const writer = openStore(uri);
    try {
      expect((writer as unknown as { roundTrips: number }).roundTrips).toBe(2);
    } finally {
      writer.close();
    }
  });

  it('a password comes from password_file or PGPASSFILE, is checked for its mode, and never shows', () => {
    const password = 'Pw-s3cret-22';
    cluster.psql('postgres', `CREATE ROLE pwuser LOGIN PASSWORD '${password}'`);
    cluster.psql('postgres', 'CREATE DATABASE pwdb OWNER pwuser');
    const hba = join(cluster.dataDir, 'pg_hba.conf');
    writeFileSync(hba, `local all pwuser scram-sha-256\n${readFileSync(hba, 'utf8')}`);
    cluster.psql('postgres', 'SELECT pg_reload_conf()');
    const dir = tempDir();
    const file = join(dir, 'pw');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const uri = `postgresql://pwuser@/pwdb?host=${encodeURIComponent(cluster.socketDir)}`;
    const env = { KANRI_KEY_FILE: join(dir, 'kanri.key'), PGPASSFILE: join(dir, 'none') };
    const shown: string[] = [];
    const kanri = (args: string[], extra: Record<string, string> = {}): ReturnType<typeof run> => {
      const r = run('kanri', args, { env: { ...env, ...extra } });
      shown.push(r.out, r.err);
      return r;
    };
    const without = kanri(['--db', uri, 'store', 'init']);
    expect(without.code).toBe(70);
    expect(without.err).toMatch(/cannot be reached: .*password/);
    const withFile = `${uri}&password_file=${encodeURIComponent(file)}`;
    expect(kanri(['--db', withFile, 'store', 'init']).code).toBe(0);
    expect(kanri(['--db', withFile, 'store', 'status']).out).toMatch(/^back end: PostgreSQL/m);
    // A wrong password: libpq's reason, and neither password shown.
    const wrong = 'Wr0ng-pw-22';
    writeFileSync(join(dir, 'wrong'), `${wrong}\n`, { mode: 0o600 });
    const refused = kanri(['--db', `${uri}&password_file=${encodeURIComponent(join(dir, 'wrong'))}`, 'store', 'status']);
    expect(refused.code).toBe(70);
    expect(refused.err).toMatch(/cannot be reached: .*password authentication failed for user "pwuser"/);
    expect(refused.err).not.toContain(wrong);
    const passfile = join(dir, 'pgpass');
    writeFileSync(passfile, `*:*:*:pwuser:${password}\n`, { mode: 0o600 });
    expect(kanri(['--db', uri, 'store', 'status'], { PGPASSFILE: passfile }).code).toBe(0);
    writeFileSync(join(dir, 'open'), password, { mode: 0o644 });
    const open = kanri(['--db', `${uri}&password_file=${encodeURIComponent(join(dir, 'open'))}`, 'store', 'status']);
    expect(open.code).toBe(70);
    expect(open.err).toMatch(/password_file .* is readable by others \(mode 644\)/);
    for (const text of shown) expect(text).not.toContain(password);
  }, 60_000);

  it('a connection closed where libuv runs close callbacks, then long synchronous work and a GC, leaves libuv no freed watcher to close', () => {
    // The binding's finish() hands the socket watcher inside its native object to uv_close, which
    // the loop completes in its next close phase; the object is freed with its JS object. Closed
    // from a close callback (what awaited a socket or a child process runs there) and followed
    // by long synchronous work, a connection kept only for a timer's delay was collected, and
    // its memory taken by a new connection, before that close phase: the process aborted in
    // uv__finish_close (a vitest worker "exited unexpectedly" after its tests had passed).
    // The GC runs in a timer that expires during the work, after any shorter delay.
    const module = (path: string): string => JSON.stringify(pathToFileURL(join(ROOT, 'dist', path)).href);
    const script = `
      import { connect, createServer } from 'node:net';
      import { once } from 'node:events';
      import { connectPostgres } from ${module('store/postgres.js')};
      import { parsePostgresUri } from ${module('store/location.js')};
      const at = parsePostgresUri(process.env.KANRI_TEST_URI);
      const open = () => connectPostgres(at, { readonly: true, timeoutMs: 5000 });
      const busy = (ms) => { const t = Date.now(); while (Date.now() - t < ms); };
      const server = createServer((c) => c.on('error', () => {}).end()).listen(0, '127.0.0.1');
      await once(server, 'listening');
      for (let round = 0; round < 20; round++) {
        await new Promise((done) => {
          const sock = connect(server.address().port, '127.0.0.1', () => sock.destroy());
          sock.on('close', () => {
            for (let i = 0; i < 4; i++) open().close();
            setTimeout(() => {
              globalThis.gc();
              const fresh = [0, 1, 2, 3].map(open);
              setTimeout(() => { for (const d of fresh) d.close(); done(); }, 5);
            }, 60);
            busy(100);
          });
        });
      }
      server.close();
      console.log('20 rounds');
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, KANRI_TEST_URI: cluster.createDatabase('closing') },
    });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.stdout).toBe('20 rounds\n');
  }, 60_000);
});

/** Every SQL statement written in src/ as a string: what the store translates. */
function statementsInSource(): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/(['"`])((?:SELECT|INSERT|UPDATE|DELETE|WITH)\b(?:(?!\1)[^\\]|\\.)*)\1/g)) found.add(m[2]!);
    }
  };
  walk(join(ROOT, 'src'));
  return [...found];
}

describe('the PostgreSQL dialect', () => {
  it('a statement toPostgres passes as it is would be translated to itself: over the statements of src/ and the forms each rewrite applies to', () => {
    const forms = [
      'SELECT id, name, priority, parent_id AS parent FROM categories',
      'SELECT id AS machineId FROM machines', 'SELECT m.id as hostName FROM machines m', 'SELECT user FROM t', 'SELECT "window" FROM t',
      'SELECT a FROM t WHERE 1', 'SELECT a FROM t WHERE a = 1 AND 0', "SELECT json_extract(data, '$.key') FROM t", 'SELECT ifnull(a, 0) FROM t',
      'SELECT name FROM groups ORDER BY name COLLATE NOCASE', "SELECT a FROM t WHERE b LIKE 'x%'", 'SELECT (a IS NULL) + (b IS NULL) FROM t',
      'INSERT OR IGNORE INTO t (a) VALUES (1)', 'INSERT OR REPLACE INTO t (id, a) VALUES (1, 2)', 'SELECT a FROM t -- is this one?\n', 'SELECT a FROM t LIMIT ?',
      'SELECT a FROM t WHERE b = @name', 'SELECT a FROM t WHERE b = :name', 'SELECT a FROM t WHERE b = $name', 'SELECT a FROM t WHERE b = ?2',
    ];
    const key = (): string[] => ['id'];
    let asIs = 0;
    for (const sql of [...statementsInSource(), ...forms]) {
      // Error texts that quote a statement's start (INSERT OR REPLACE needs a column list: …) are no statements.
      if (/^INSERT OR REPLACE (needs|into \$)/.test(sql)) continue;
      const got = toPostgres(sql, key);
      expect(got, sql).toEqual(translate(sql, key));
      if (got.text === sql && got.count === 0) asIs++;
    }
    // The corpus is sound: hundreds of statements, some of which pass as they are.
    expect(statementsInSource().length).toBeGreaterThan(300);
    expect(asIs).toBeGreaterThan(10);
  });
});

describe.skipIf(!have)('a PostgreSQL store without the libpq binding', () => {
  it('is refused in one line that says what to install; with the binding, the same URI is tried', () => {
    const dir = tempDir();
    // What the module loader of a machine without the binding answers: nothing by that name.
    const hide = join(dir, 'no-libpq.cjs');
    writeFileSync(hide, `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/(^|[\\/])libpq([\\/]|$)/.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
  return load.call(this, request, ...rest);
};
`);
    const uri = `postgresql://kanri@/kanri?host=${encodeURIComponent(join(dir, 'no-server'))}`;
    const env = { KANRI_KEY_FILE: join(dir, 'kanri.key') };
    const without = run('kanri', ['--db', uri, 'store', 'status'], { env: { ...env, NODE_OPTIONS: `--require ${hide}` } });
    expect(without.code).toBe(70);
    expect(without.err).toBe(`kanri: store ${uri}: PostgreSQL stores need the libpq binding, which is not installed (Debian: apt-get install libpq-dev, then npm install libpq)\n`);
    const withBinding = run('kanri', ['--db', uri, 'store', 'status'], { env });
    expect(withBinding.code).toBe(70);
    expect(withBinding.err).toMatch(/cannot be reached: .*no-server/);
  });
});
