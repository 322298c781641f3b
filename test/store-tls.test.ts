// A PostgreSQL store over TCP: TLS with the server's certificate checked (sslmode=verify-full,
// the CA in sslrootcert), the password from a password_file or PGPASSFILE. A private cluster
// listens on 127.0.0.1 with ssl=on and a certificate signed by a CA this test makes; kanri
// works through it, and refuses a server its CA did not vouch for, or one whose certificate
// is for another name, in one line. The password never shows in any output.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../src/open-store.js';
import { run, type Ran } from './support/cli.js';
import { tempDir } from './support/store.js';
import { requirePostgres, startCluster, type PgCluster, type PgTls } from './support/postgres.js';

const have = requirePostgres('store over TLS (verify-full)');
let cluster: PgCluster;
let tls: PgTls;
const password = `Tls-${randomBytes(9).toString('base64url')}`;

beforeAll(() => {
  if (!have) return;
  cluster = startCluster({ tls: true });
  tls = cluster.tls!;
  cluster.psql('postgres', `CREATE ROLE tlsuser LOGIN PASSWORD '${password}'`);
  cluster.psql('postgres', 'CREATE DATABASE tlsdb OWNER tlsuser');
}, 180_000);
afterAll(() => { cluster?.stop(); });

describe.skipIf(!have)('a store over TCP with TLS', () => {
  /** The store's URI: TCP to 127.0.0.1, the certificate checked for `host` against `ca`. */
  const uri = (o: { host?: string; ca?: string; passwordFile?: string } = {}): string =>
    `postgresql://tlsuser@${o.host ?? tls.hostName}:${tls.port}/tlsdb?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=${encodeURIComponent(o.ca ?? tls.ca)}`
    + (o.passwordFile ? `&password_file=${encodeURIComponent(o.passwordFile)}` : '');

  it('verify-full with the CA and a password file: kanri works, over TLS; a wrong CA or host name is refused in one line', () => {
    const dir = tempDir();
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    const passfile = join(dir, 'pgpass');
    writeFileSync(passfile, `*:*:*:tlsuser:${password}\n`, { mode: 0o600 });
    // No ~/.pgpass of the user running the test takes part.
    const env = { KANRI_KEY_FILE: join(dir, 'kanri.key'), PGPASSFILE: join(dir, 'none') };
    const shown: Ran[] = [];
    const kanri = (args: string[], extra: Record<string, string> = {}): Ran => {
      const r = run('kanri', args, { env: { ...env, ...extra } });
      shown.push(r);
      return r;
    };

    const good = uri({ passwordFile: pwFile });
    let r = kanri(['--db', good, 'store', 'init']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    r = kanri(['--db', good, 'store', 'status']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^back end: PostgreSQL \d+/m);
    // PGPASSFILE instead of password_file
    expect(kanri(['--db', uri(), 'store', 'status'], { PGPASSFILE: passfile }).code).toBe(0);
    // The connection is TLS, as the server sees it.
    process.env.PGPASSFILE = passfile;
    try {
      const ssl = withStore(uri(), (db) => db.prepare('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()').get(), { readonly: true }) as { ssl: number; version: string };
      expect(ssl.ssl).toBe(1);
      expect(ssl.version).toMatch(/^TLSv1\.[23]$/);
    } finally {
      delete process.env.PGPASSFILE;
    }

    // A CA that did not sign the server's certificate.
    r = kanri(['--db', uri({ ca: tls.otherCa, passwordFile: pwFile }), 'store', 'status']);
    expect(r.code).toBe(70);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^kanri: store postgresql:\/\/tlsuser@.* cannot be reached: .*certificate verify failed/);
    // The right CA, but the certificate is not for the name asked for.
    r = kanri(['--db', uri({ host: 'localhost', passwordFile: pwFile }), 'store', 'status']);
    expect(r.code).toBe(70);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/cannot be reached: .*does not match host name "localhost"/);
    // Without verify-full kanri does not even try.
    r = kanri(['--db', uri({ passwordFile: pwFile }).replace('sslmode=verify-full', 'sslmode=require'), 'store', 'status']);
    expect(r.code).toBe(70);
    expect(r.err).toMatch(/reaches the server over TCP: add sslmode=verify-full&sslrootcert=CA-FILE/);
    // No password, no entry: refused by the server (scram), in one line.
    r = kanri(['--db', uri(), 'store', 'status']);
    expect(r.code).toBe(70);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);

    for (const x of shown) {
      expect(x.out).not.toContain(password);
      expect(x.err).not.toContain(password);
    }
  }, 120_000);
});
