// The key that seals secrets is the same on every manager of a shared store: kanri store key
// export|import carry it (0600 files or a pipe, never a terminal, never argv), the store keeps
// a check value of it (an HMAC of a fixed label, never the key), and a manager whose key file
// is another key — or missing — refuses to seal, to open, and to start its monitor or its API,
// in one line that names the key file and kanri store key import. On SQLite and PostgreSQL.
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaries, onTerminal, run } from './support/cli.js';
import { queryAll, storeDigest, tempDir } from './support/store.js';
import { withStore } from '../src/open-store.js';
import { controllerSecretPurpose } from '../src/adapters/controller.js';
import { openSecret } from '../src/store/secrets.js';
import { requirePostgres, startCluster, type PgCluster } from './support/postgres.js';

const havePg = requirePostgres('store key export|import and the key check on PostgreSQL');
let cluster: PgCluster | undefined;
beforeAll(() => { if (havePg) cluster = startCluster(); }, 180_000);
afterAll(() => { cluster?.stop(); });

/** The check value as the key check is specified: HMAC-SHA256 of the label under the key, hex. */
const checkOf = (key: Buffer): string => `v1:${createHmac('sha256', key).update('kanri key check v1').digest('hex')}`;

const BACK_ENDS = [
  ['SQLite', () => join(tempDir(), 'kanri.db')],
  ['PostgreSQL', () => cluster!.createDatabase('key')],
] as const;

/** A store made without a key (as config apply makes one): the first secret sealed records it. */
function keylessStore(location: string): string {
  withStore(location, () => undefined, { create: true });
  return location;
}

/** One line on stderr naming the key file and the way to mend it. */
function refusal(err: string, keyFile: string): void {
  expect(err.trimEnd().split('\n'), err).toHaveLength(1);
  expect(err).toContain(keyFile);
  expect(err).toContain('kanri store key import');
}

/** The controller password of machine `name`, opened with the key file `keyFile` (read-only, unless `writable`). */
function opened(db: string, name: string, keyFile: string, writable = false): string {
  const saved = process.env.KANRI_KEY_FILE;
  process.env.KANRI_KEY_FILE = keyFile;
  try {
    return withStore(db, (d) => {
      const m = d.prepare('SELECT id, bmc_secret FROM machines WHERE name = ?').get(name) as { id: number; bmc_secret: string };
      return openSecret(d, m.bmc_secret, controllerSecretPurpose(m.id));
    }, { readonly: !writable });
  } finally {
    if (saved === undefined) delete process.env.KANRI_KEY_FILE;
    else process.env.KANRI_KEY_FILE = saved;
  }
}

/** kanri with raw bytes on stdout (the key), stdin from `input`. */
function rawKanri(args: string[], env: NodeJS.ProcessEnv, input?: Buffer): { code: number | null; out: Buffer; err: string } {
  const r = spawnSync(join(binaries(), 'kanri'), args, { env: { ...process.env, LANG: 'C', ...env }, input, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: String(r.stderr) };
}

for (const [backEnd, newStore] of BACK_ENDS) {
  describe.skipIf(backEnd === 'PostgreSQL' && !havePg)(`the store's key on ${backEnd}`, () => {
    it('store init makes the key and records its check value; export and import carry it to a second manager', () => {
      const db = newStore();
      const dir = tempDir();
      const first = { KANRI_DB: db, KANRI_KEY_FILE: join(dir, 'first.key') };
      const second = { KANRI_DB: db, KANRI_KEY_FILE: join(dir, 'second.key') };
      expect(run('kanri', ['store', 'init'], { env: first }).code).toBe(0);
      const key = readFileSync(first.KANRI_KEY_FILE);
      expect(key.length).toBe(32);
      expect(statSync(first.KANRI_KEY_FILE).mode & 0o777).toBe(0o600);
      const rows = queryAll<{ value: string }>(db, 'SELECT value FROM key_check');
      expect(rows).toEqual([{ value: checkOf(key) }]);
      expect(rows[0]!.value).not.toContain(key.toString('hex'));

      // export: a new 0600 file, never over an existing one without --force
      const out = join(dir, 'export.key');
      let r = run('kanri', ['store', 'key', 'export', out], { env: first });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(out).equals(key)).toBe(true);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      writeFileSync(out, 'something else');
      r = run('kanri', ['store', 'key', 'export', out], { env: first });
      expect(r.code).toBe(1);
      expect(r.err).toBe(`kanri: ${out} exists: store key export replaces it only with --force\n`);
      expect(readFileSync(out, 'utf8')).toBe('something else');
      expect(run('kanri', ['store', 'key', 'export', out, '--force'], { env: first }).code).toBe(0);
      expect(readFileSync(out).equals(key)).toBe(true);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      // to standard output only when asked, and never to a terminal
      expect(run('kanri', ['store', 'key', 'export'], { env: first }).code).toBe(1);
      const piped = rawKanri(['store', 'key', 'export', '--stdout'], first);
      expect(piped.code).toBe(0);
      expect(piped.out.equals(key)).toBe(true);
      const tty = onTerminal('kanri store key export --stdout; echo "rc=$?"', first);
      expect(tty).toContain('the key is never written to a terminal');
      expect(tty).toMatch(/rc=1\n$/);

      // the second manager: no key yet, so it may not start; import installs the first one's
      r = run('kanri', ['monitor', 'run'], { env: second });
      expect(r.code).toBe(70);
      refusal(r.err, second.KANRI_KEY_FILE);
      expect(existsSync(second.KANRI_KEY_FILE)).toBe(false);
      const installed = rawKanri(['store', 'key', 'import', '--stdin'], second, readFileSync(out));
      expect(installed.err).toBe('');
      expect(installed.code).toBe(0);
      expect(readFileSync(second.KANRI_KEY_FILE).equals(key)).toBe(true);
      expect(statSync(second.KANRI_KEY_FILE).mode & 0o777).toBe(0o600);
      expect(run('kanri', ['store', 'status'], { env: second }).out).toContain(`key file: ${second.KANRI_KEY_FILE} (the store's key)\n`);
      // a secret sealed by one manager opens on the other
      expect(run('dscli', ['createServer', 'k1', 'address=192.0.2.30', 'user=admin', 'password=-'], { env: first, input: 'Key-Secret-1\n' }).code).toBe(0);
      expect(opened(db, 'k1', second.KANRI_KEY_FILE)).toBe('Key-Secret-1');
      // The key never shows in any output.
      for (const text of [r.out, r.err, installed.err, tty]) {
        expect(text).not.toContain(key.toString('hex'));
        expect(text).not.toContain(key.toString('base64'));
      }
    }, 120_000);

    it('a manager with another key refuses to seal, to open, and to start its monitor or its API; nothing changes', () => {
      const db = keylessStore(newStore());
      const dir = tempDir();
      const right = { KANRI_DB: db, KANRI_KEY_FILE: join(dir, 'right.key') };
      const wrong = { KANRI_DB: db, KANRI_KEY_FILE: join(dir, 'wrong.key') };
      expect(run('dscli', ['createServer', 'k1', 'address=192.0.2.31', 'user=admin', 'password=-'], { env: right, input: 'Key-Secret-2\n' }).code).toBe(0);
      // The first secret sealed recorded the key.
      expect(queryAll(db, 'SELECT value FROM key_check')).toEqual([{ value: checkOf(readFileSync(right.KANRI_KEY_FILE)) }]);
      writeFileSync(wrong.KANRI_KEY_FILE, randomBytes(32), { mode: 0o600 });
      const before = storeDigest(db);
      const beforeButAudit = storeDigest(db, ['audit']);
      for (const args of [['monitor', 'run'], ['serve', '--listen', '127.0.0.1:0'], ['store', 'init']]) {
        const r = run('kanri', args, { env: wrong });
        expect(r.code, args.join(' ')).toBe(70);
        refusal(r.err, wrong.KANRI_KEY_FILE);
        expect(r.err).toContain('is not the key this store\'s secrets are sealed with');
      }
      const r = run('kanri', ['monitor', 'user', 'add', 'trapper'], { env: wrong, input: 'auth-key-123\npriv-key-456\n' });
      expect(r.code).toBe(70);
      refusal(r.err, wrong.KANRI_KEY_FILE);
      expect(storeDigest(db)).toBe(before);
      const seal = run('dscli', ['createServer', 'k2', 'address=192.0.2.32', 'user=admin', 'password=-'], { env: wrong, input: 'Key-Secret-3\n' });
      expect(seal.code).toBe(8);
      refusal(seal.err, wrong.KANRI_KEY_FILE);
      // dscli records every attempted change in the audit trail, refused ones too; nothing else moved.
      expect(storeDigest(db, ['audit'])).toBe(beforeButAudit);
      expect(queryAll(db, 'SELECT exit_code FROM audit ORDER BY id')).toEqual([{ exit_code: 0 }, { exit_code: 8 }]);
      expect(run('kanri', ['store', 'status'], { env: wrong }).out).toContain(`key file: ${wrong.KANRI_KEY_FILE} (NOT the store's key`);

      // import refuses a key that is not the store's, and keeps the file it has
      const wrongKey = readFileSync(wrong.KANRI_KEY_FILE);
      const other = join(dir, 'other.key');
      writeFileSync(other, randomBytes(32), { mode: 0o600 });
      const refused = run('kanri', ['store', 'key', 'import', other, '--replace'], { env: wrong });
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/this key is not the one the secrets of .* are sealed with: nothing installed/);
      expect(readFileSync(wrong.KANRI_KEY_FILE).equals(wrongKey)).toBe(true);
      // the right key replaces the wrong one only with --replace, which warns and keeps the old file
      const exported = join(dir, 'export.key');
      expect(run('kanri', ['store', 'key', 'export', exported], { env: right }).code).toBe(0);
      const noFlag = run('kanri', ['store', 'key', 'import', exported], { env: wrong });
      expect(noFlag.code).toBe(1);
      expect(noFlag.err).toBe(`kanri: key file ${wrong.KANRI_KEY_FILE} holds another key: --replace installs this one, and secrets sealed with the old key become unreadable\n`);
      expect(readFileSync(wrong.KANRI_KEY_FILE).equals(wrongKey)).toBe(true);
      const replaced = run('kanri', ['store', 'key', 'import', exported, '--replace'], { env: wrong });
      expect(replaced.code).toBe(0);
      expect(replaced.err).toMatch(/^kanri: warning: replacing key file .*: secrets sealed with the old key become unreadable \(the old key is kept in .*\)\n$/);
      expect(readFileSync(wrong.KANRI_KEY_FILE).equals(readFileSync(right.KANRI_KEY_FILE))).toBe(true);
      const kept = readdirSync(dir).filter((f) => f.startsWith('wrong.key.replaced-'));
      expect(kept).toHaveLength(1);
      expect(readFileSync(join(dir, kept[0]!)).equals(wrongKey)).toBe(true);
      expect(run('kanri', ['store', 'key', 'import', exported], { env: wrong }).out).toBe(`key file ${wrong.KANRI_KEY_FILE} already holds this key; nothing to do\n`);
      // now it seals and opens
      expect(run('dscli', ['createServer', 'k2', 'address=192.0.2.32', 'user=admin', 'password=-'], { env: wrong, input: 'Key-Secret-3\n' }).code).toBe(0);
      expect(opened(db, 'k2', right.KANRI_KEY_FILE)).toBe('Key-Secret-3');
      // and the wrong key cannot open in-process either: the same one line
      expect(() => opened(db, 'k1', join(dir, kept[0]!))).toThrow(/is not the key this store's secrets are sealed with: .*kanri store key import/);
    }, 120_000);

    it('a store whose secrets predate the check value records a key only once it opened one of them: another key sealing first locks nobody out', () => {
      const db = keylessStore(newStore());
      const dir = tempDir();
      const right = { KANRI_DB: db, KANRI_KEY_FILE: join(dir, 'right.key') };
      const wrong = { KANRI_DB: db, KANRI_KEY_FILE: join(dir, 'wrong.key') };
      expect(run('dscli', ['createServer', 'k1', 'address=192.0.2.41', 'user=admin', 'password=-'], { env: right, input: 'Old-Secret-1\n' }).code).toBe(0);
      // As a store upgraded from before the check value: sealed secrets, no check.
      withStore(db, (d) => d.prepare('DELETE FROM key_check').run());
      writeFileSync(wrong.KANRI_KEY_FILE, randomBytes(32), { mode: 0o600 });
      // Sealing proves nothing of the secrets already there: nothing is recorded.
      expect(run('dscli', ['createServer', 'k2', 'address=192.0.2.42', 'user=admin', 'password=-'], { env: wrong, input: 'Other-Secret-2\n' }).code).toBe(0);
      expect(queryAll(db, 'SELECT value FROM key_check')).toEqual([]);
      // A read-only open writes nothing; a key that opened a secret where it may write is recorded.
      expect(opened(db, 'k1', right.KANRI_KEY_FILE)).toBe('Old-Secret-1');
      expect(queryAll(db, 'SELECT value FROM key_check')).toEqual([]);
      expect(opened(db, 'k1', right.KANRI_KEY_FILE, true)).toBe('Old-Secret-1');
      expect(queryAll(db, 'SELECT value FROM key_check')).toEqual([{ value: checkOf(readFileSync(right.KANRI_KEY_FILE)) }]);
      // From now on the other key is refused, as on a store that always had its check value.
      const seal = run('dscli', ['createServer', 'k3', 'address=192.0.2.43', 'user=admin', 'password=-'], { env: wrong, input: 'Other-Secret-3\n' });
      expect(seal.code).toBe(8);
      refusal(seal.err, wrong.KANRI_KEY_FILE);
    }, 120_000);

    it('one open store follows KANRI_KEY_FILE from one secret to the next: the key file found first is not kept past a change', () => {
      const db = keylessStore(newStore());
      const dir = tempDir();
      const right = join(dir, 'right.key'), wrong = join(dir, 'wrong.key');
      expect(run('dscli', ['createServer', 'k1', 'address=192.0.2.34', 'user=admin', 'password=-'], { env: { KANRI_DB: db, KANRI_KEY_FILE: right }, input: 'Key-Secret-5\n' }).code).toBe(0);
      writeFileSync(wrong, randomBytes(32), { mode: 0o600 });
      const saved = process.env.KANRI_KEY_FILE;
      try {
        withStore(db, (d) => {
          const m = d.prepare('SELECT id, bmc_secret FROM machines WHERE name = ?').get('k1') as { id: number; bmc_secret: string };
          const open = (): string => openSecret(d, m.bmc_secret, controllerSecretPurpose(m.id));
          process.env.KANRI_KEY_FILE = right;
          expect(open()).toBe('Key-Secret-5');
          expect(open()).toBe('Key-Secret-5'); // with the key this store already found
          process.env.KANRI_KEY_FILE = wrong;
          expect(open).toThrow(`key file ${wrong} is not the key this store's secrets are sealed with`);
          process.env.KANRI_KEY_FILE = right;
          expect(open()).toBe('Key-Secret-5');
        }, { readonly: true });
      } finally {
        if (saved === undefined) delete process.env.KANRI_KEY_FILE;
        else process.env.KANRI_KEY_FILE = saved;
      }
    }, 60_000);

    it('store copy carries the check value with the sealed secrets, and refuses a target that records another key', () => {
      const from = keylessStore(newStore());
      const dir = tempDir();
      const env = { KANRI_KEY_FILE: join(dir, 'kanri.key') };
      expect(run('dscli', ['createServer', 'k1', 'address=192.0.2.33', 'user=admin', 'password=-'], { db: from, env, input: 'Key-Secret-4\n' }).code).toBe(0);
      const check = queryAll(from, 'SELECT value FROM key_check');
      expect(check).toHaveLength(1);
      // Into the other back end: a store made by store init with the same key is a fine target.
      const to = backEnd === 'SQLite' && havePg ? cluster!.createDatabase('keyto') : join(tempDir(), 'to.db');
      expect(run('kanri', ['store', 'init'], { db: to, env }).code).toBe(0);
      const copied = run('kanri', ['store', 'copy', from, to], { env });
      expect(copied.err).toBe('');
      expect(copied.code).toBe(0);
      expect(queryAll(to, 'SELECT value FROM key_check')).toEqual(check);
      expect(opened(to, 'k1', env.KANRI_KEY_FILE)).toBe('Key-Secret-4');
      // A target whose store init recorded another key: refused, unchanged.
      const other = { KANRI_KEY_FILE: join(dir, 'other.key') };
      const target = join(tempDir(), 'other.db');
      expect(run('kanri', ['store', 'init'], { db: target, env: other }).code).toBe(0);
      const before = storeDigest(target);
      const refused = run('kanri', ['store', 'copy', from, target], { env });
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/records another key than .*: the secrets copied could not be opened there/);
      expect(storeDigest(target)).toBe(before);
    }, 120_000);
  });
}
