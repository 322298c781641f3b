// A private PostgreSQL cluster for a test: initdb in a temporary directory, listening on a
// unix socket in that directory only (no TCP port: nothing to collide with the other
// engineers' clusters), started by the test and stopped by it. PostgreSQL refuses to run as
// root, so under root the cluster belongs to the 'postgres' user Debian's package creates.
// Without Debian's postgresql the test skips, counted (requirePostgres).
// With { tls: true } it also listens on 127.0.0.1 (only) at a free port with ssl=on: a CA
// made here with openssl signs the server's certificate (for the name db.kanri.test and the
// address 127.0.0.1), and TCP connections must log in with a password (scram-sha-256).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { skipReason } from './peers.js';

/** Where Debian installs the server's programs (newest major version first). */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  for (const m of majors) if (existsSync(join(base, m, 'bin', 'initdb'))) return join(base, m, 'bin');
  return undefined;
}

/** True when a cluster can be started; otherwise the skip is logged and counted. */
export function requirePostgres(suite: string): boolean {
  if (!postgresBin()) {
    skipReason(suite, "peer 'postgresql' not installed (run scripts/peers.sh as root)");
    return false;
  }
  // The client is an optional dependency: built by npm only where libpq-dev was installed first.
  try {
    createRequire(import.meta.url)('libpq');
  } catch {
    skipReason(suite, "the libpq binding is not built (apt-get install libpq-dev, then npm ci)");
    return false;
  }
  return true;
}

export interface PgCluster {
  /** The socket directory. */
  socketDir: string;
  /** The cluster's data directory (pg_hba.conf is there). */
  dataDir: string;
  /** A store URI for a database of this cluster (created by createDatabase). */
  uri(database: string): string;
  /** Creates an empty database (a new store each time), or a copy of `template`'s database (a URI of this cluster, not in use). */
  createDatabase(name: string, template?: string): string;
  /** Runs SQL through psql as the superuser; returns its output. */
  psql(database: string, sql: string): string;
  stop(): void;
  /** With { tls: true }: where TCP clients connect and the CA that vouches for the server. */
  tls?: PgTls;
}

export interface PgTls {
  /** 127.0.0.1's port. */
  port: number;
  /** The name the server's certificate is for (connect with hostaddr=127.0.0.1). */
  hostName: string;
  /** The CA certificate that signed the server's (sslrootcert). */
  ca: string;
  /** Another CA's certificate, which signed nothing of this server's: a wrong sslrootcert. */
  otherCa: string;
}

/** A TCP port free on 127.0.0.1 now (the kernel's choice; taken again at once by the caller). */
export function freePort(): number {
  const r = spawnSync(process.execPath, ['-e', "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"], { encoding: 'utf8', timeout: 30_000 });
  const port = Number(r.stdout.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no free port: ${r.stderr}`);
  return port;
}

const TLS_NAME = 'db.kanri.test';

/** A CA, and a server certificate and key it signed, in `dir` (openssl; elliptic-curve keys are quick to make). */
function makeCertificates(dir: string): { ca: string; otherCa: string; cert: string; key: string } {
  const openssl = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=kanri test CA']);
  openssl(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=kanri test CA']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${TLS_NAME}`]);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=DNS:${TLS_NAME},IP:127.0.0.1\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  return { ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other-ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

let databases = 0;

/** The database a store URI of a cluster names. */
export function databaseOf(uri: string): string {
  return decodeURIComponent(/^postgresql:\/\/[^/]*\/([^?]*)/.exec(uri)?.[1] ?? '');
}

// The superuser is 'kanri', trusted on the socket only; the socket directory is the cluster's
// own (0700), so only its owner and root reach it.
const INITDB = ['-U', 'kanri', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'];

/**
 * A data directory made by initdb once for a whole run of the suite (test/global-setup.ts
 * makes it and names it in KANRI_TEST_PG_TEMPLATE): each file's cluster starts from a copy,
 * a fraction of a second where initdb takes seconds. remove() deletes it.
 */
export function makeClusterTemplate(): { data: string; remove(): void } {
  const bin = postgresBin();
  if (!bin) throw new Error('postgresql is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'kanri-pg-'));
  const as = owner();
  if (as) chownSync(dir, as.uid, as.gid);
  chmodSync(dir, 0o700);
  const r = spawnSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), ...INITDB], { encoding: 'utf8', timeout: 120_000, ...(as ?? {}), cwd: dir, env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
  if (r.status !== 0) throw new Error(`initdb failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return { data: join(dir, 'data'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a cluster (a copy of the run's template, else initdb; pg_ctl start -w); call stop() in afterAll. */
export function startCluster(options: { tls?: boolean } = {}): PgCluster {
  const bin = postgresBin();
  if (!bin) throw new Error('postgresql is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'kanri-pg-'));
  const as = owner();
  if (as) {
    chownSync(dir, as.uid, as.gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const opts = { encoding: 'utf8' as const, timeout: 120_000, ...(as ?? {}), env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };
  const must = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd.startsWith('/') ? cmd : join(bin, cmd), args, { ...opts, cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const template = process.env.KANRI_TEST_PG_TEMPLATE;
  if (template && existsSync(join(template, 'PG_VERSION'))) must('/bin/cp', ['-a', template, data]);
  else must('initdb', ['-D', data, ...INITDB]);
  const conf = [`unix_socket_directories='${dir}'`, 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=60', 'shared_buffers=16MB'];
  let tls: PgTls | undefined;
  let port = 5432;
  // The socket's name carries the port: URIs name it when it is not the default.
  let portParam = '';
  if (options.tls) {
    const certs = makeCertificates(dir);
    // The server reads its key as the cluster's owner, and only a key its owner alone may read.
    if (as) for (const f of [certs.cert, certs.key]) chownSync(f, as.uid, as.gid);
    chmodSync(certs.key, 0o600);
    writeFileSync(join(data, 'pg_hba.conf'), `hostssl all all 127.0.0.1/32 scram-sha-256\n${readFileSync(join(data, 'pg_hba.conf'), 'utf8')}`);
    port = freePort();
    portParam = `&port=${port}`;
    conf.push("listen_addresses='127.0.0.1'", `port=${port}`, 'ssl=on', `ssl_cert_file='${certs.cert}'`, `ssl_key_file='${certs.key}'`);
    tls = { port, hostName: TLS_NAME, ca: certs.ca, otherCa: certs.otherCa };
  } else {
    conf.push("listen_addresses=''");
  }
  must('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '120', '-o', conf.map((c) => `-c ${c}`).join(' '), 'start']);
  const psql = (database: string, sql: string): string => {
    const r = spawnSync(join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'kanri', '-d', database, '-v', 'ON_ERROR_STOP=1', '-XAtq', '-c', sql], { ...opts });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout;
  };
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { ...opts });
    rmSync(dir, { recursive: true, force: true });
  };
  // Also when the worker ends without its afterAll (a killed or timed-out run): no cluster outlives it.
  process.once('exit', stop);
  return {
    socketDir: dir,
    dataDir: data,
    uri: (database) => `postgresql://kanri@/${database}?host=${encodeURIComponent(dir)}${portParam}`,
    createDatabase(name, template) {
      const db = `${name}_${process.pid}_${++databases}`;
      const from = template === undefined ? '' : ` TEMPLATE "${databaseOf(template)}"`;
      psql('postgres', `CREATE DATABASE "${db}"${from}`);
      return `postgresql://kanri@/${db}?host=${encodeURIComponent(dir)}${portParam}`;
    },
    psql,
    stop,
    tls,
  };
}
