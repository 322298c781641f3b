// A PostgreSQL connection URI given as the store is recognised as one, never taken for a file
// path (no directory "postgresql:" appears), and what it may say is checked: no password in
// it, TLS with the server's certificate verified when it is not a unix socket.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStoreUri, parsePostgresUri, storeLocation } from '../src/store/location.js';
import { keyFilePath } from '../src/store/secrets.js';
import { run } from './support/cli.js';
import { tempDir } from './support/store.js';

describe('store locations', () => {
  it('postgresql:// and postgres:// are URIs, anything else a path', () => {
    expect(isStoreUri('postgresql://kanri@/kanri?host=/run/postgresql')).toBe(true);
    expect(isStoreUri('postgres://kanri@/kanri')).toBe(true);
    expect(isStoreUri('POSTGRESQL://kanri@/kanri')).toBe(true);
    expect(isStoreUri('/var/lib/kanri/kanri.db')).toBe(false);
    expect(isStoreUri('postgresql:/relative/file.db')).toBe(false);
    expect(storeLocation('./kanri.db')).toEqual({ kind: 'sqlite', path: './kanri.db' });
  });

  it('a unix-socket URI needs no TLS; its parts become libpq parameters', () => {
    const loc = parsePostgresUri('postgresql://kanri@/kanri?host=/run/postgresql&password_file=/etc/kanri/pw');
    expect(loc).toMatchObject({ socket: true, passwordFile: '/etc/kanri/pw', params: { user: 'kanri', dbname: 'kanri', host: '/run/postgresql' } });
    expect(loc.params).not.toHaveProperty('password_file');
    expect(parsePostgresUri('postgresql://%2Frun%2Fpostgresql:5433/kanri')).toMatchObject({ socket: true, params: { host: '/run/postgresql', port: '5433' } });
    expect(parsePostgresUri('postgres:///kanri').socket).toBe(true);
  });

  it('over TCP, sslmode=verify-full and a CA are required', () => {
    const tcp = 'postgresql://kanri@db1.example:5432/kanri';
    expect(() => parsePostgresUri(tcp)).toThrow(/over TCP: add sslmode=verify-full&sslrootcert=CA-FILE/);
    expect(() => parsePostgresUri(`${tcp}?sslmode=require&sslrootcert=/ca.pem`)).toThrow(/verify-full/);
    expect(() => parsePostgresUri(`${tcp}?sslmode=verify-full`)).toThrow(/sslrootcert/);
    expect(() => parsePostgresUri('postgresql://kanri@/kanri?hostaddr=127.0.0.1')).toThrow(/over TCP/);
    expect(parsePostgresUri(`${tcp}?sslmode=verify-full&sslrootcert=/etc/kanri/ca.pem`)).toMatchObject({ socket: false, params: { host: 'db1.example', sslmode: 'verify-full' } });
  });

  it('a password in the URI is refused without being repeated', () => {
    for (const uri of ['postgresql://kanri:s3cret@/kanri', 'postgresql://kanri@/kanri?password=s3cret', 'postgresql://kanri:s3cret@db/k?sslmode=verify-full&sslrootcert=/c']) {
      let message = '';
      try {
        parsePostgresUri(uri);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, uri).toMatch(/PGPASSFILE.*password_file=FILE/);
      expect(message, uri).not.toContain('s3cret');
    }
  });

  it('the key of a PostgreSQL store is not looked for next to a "file" named by the URI', () => {
    expect(keyFilePath('postgresql://kanri@/kanri', { HOME: '/nonexistent/op' } as NodeJS.ProcessEnv)).toMatch(/^\/(var\/lib\/kanri|nonexistent\/op\/\.local\/share\/kanri)\/kanri\.key$/);
    expect(keyFilePath('postgresql://kanri@/kanri', { KANRI_KEY_FILE: '/etc/kanri/kanri.key' } as NodeJS.ProcessEnv)).toBe('/etc/kanri/kanri.key');
  });

  it('the commands never create a directory from a URI, and never print its password', () => {
    const cwd = tempDir();
    const cases: Array<[string, string[], string]> = [
      ['kanri', ['store', 'init'], 'postgresql://kanri:s3cret@/kanri'],
      ['pvmutl', ['list', 'group'], 'postgres://kanri@db1:5432/kanri'],
      ['dscli', ['getServerList'], 'postgresql://kanri@/kanri?password=s3cret'],
    ];
    for (const [name, args, uri] of cases) {
      for (const how of ['env', 'argv'] as const) {
        const r = how === 'env' ? run(name as 'kanri', args, { cwd, db: uri }) : run(name as 'kanri', [...(name === 'dscli' ? [] : ['--db', uri]), ...args], { cwd, env: name === 'dscli' ? { KANRI_DB: uri } : {} });
        expect(r.code, `${name} ${how}`).toBe(name === 'dscli' ? 8 : 70);
        expect(r.err.trim().split('\n'), `${name} ${how}: one line`).toHaveLength(1);
        expect(r.err + r.out).not.toContain('s3cret');
      }
    }
    expect(readdirSync(cwd)).toEqual([]);
    expect(existsSync(join(cwd, 'postgresql:'))).toBe(false);
  });
});
