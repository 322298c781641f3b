// kanri store copy moves a whole store between the back ends and back without changing a
// row, refuses a target that holds data (changing nothing), and kanri store status names the
// back end and schema of either.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.js';
import { run } from './support/cli.js';
import { fixtureStore, storeDigest, tempDir } from './support/store.js';
import { requirePostgres, startCluster, type PgCluster } from './support/postgres.js';

const have = requirePostgres('store copy between SQLite and PostgreSQL');
let cluster: PgCluster;
beforeAll(() => { if (have) cluster = startCluster(); }, 180_000);
afterAll(() => { cluster?.stop(); });

describe.skipIf(!have)('kanri store copy and store status', () => {
  it('SQLite → PostgreSQL → SQLite keeps every row; a second copy into the same target is refused', () => {
    const dir = tempDir();
    const env = { KANRI_KEY_FILE: join(dir, 'kanri.key') };
    const from = fixtureStore();
    // Jobs, events and a sealed secret as well as the configuration.
    expect(run('pvmutl', ['add', 'Shop\\Web', '/c', '2'], { db: from, env }).code).toBe(0);
    expect(run('dscli', ['createServer', 'copybmc', 'mgmt=ipmi', 'address=192.0.2.10', 'user=admin', 'password=-'], { db: from, env, input: 'Bmc-Secret\n' }).code, 'createServer').toBe(0);
    const before = storeDigest(from);
    const pg = cluster.createDatabase('copy');
    const there = run('kanri', ['store', 'copy', from, pg], { env });
    expect(there.err).toBe('');
    expect(there.code).toBe(0);
    expect(there.out).toMatch(/^copied \d+ rows in \d+ tables from /);
    const back = join(dir, 'back.db');
    expect(run('kanri', ['store', 'copy', pg, back], { env }).code).toBe(0);
    expect(storeDigest(back)).toBe(before);
    expect(storeDigest(from)).toBe(before);

    const again = run('kanri', ['store', 'copy', from, pg], { env });
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/is not empty \(\d+ rows in \w+\); store copy writes only into an empty store/);
    const back2 = join(dir, 'back2.db');
    expect(run('kanri', ['store', 'copy', pg, back2], { env }).code).toBe(0);
    expect(storeDigest(back2)).toBe(before);
    // The copy on PostgreSQL answers as the original does.
    for (const args of [['list', 'group'], ['list', 'server']]) {
      expect(run('pvmutl', args, { db: pg, env }).out, args.join(' ')).toBe(run('pvmutl', args, { db: from, env }).out);
    }
  }, 120_000);

  it('store status names the back end and the schema version', () => {
    const pg = cluster.createDatabase('status');
    expect(run('kanri', ['store', 'init'], { db: pg }).code).toBe(0);
    for (const [db, engine] of [[pg, /^back end: PostgreSQL \d+/m], [fixtureStore(), /^back end: SQLite 3\./m]] as const) {
      const r = run('kanri', ['store', 'status'], { db });
      expect(r.code).toBe(0);
      expect(r.out).toContain(`store: ${db}\n`);
      expect(r.out).toMatch(engine);
      expect(r.out).toContain(`schema: ${MIGRATIONS.length} (this kanri: ${MIGRATIONS.length})\n`);
    }
  });
});
