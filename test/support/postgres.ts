// A private PostgreSQL cluster for a test: initdb in a temporary directory, listening on a
// unix socket in that directory only (no TCP port: nothing to collide with the other
// engineers' clusters), started by the test and stopped by it. PostgreSQL refuses to run as
// root, so under root the cluster belongs to the 'postgres' user Debian's package creates.
// Without Debian's postgresql the test skips, counted (requirePostgres).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

/** A directory of the cluster's owner (0700), and how to run the server's programs in it. */
function clusterDir(bin: string): { dir: string; opts: { encoding: 'utf8'; timeout: number; uid?: number; gid?: number; env: NodeJS.ProcessEnv }; must: (cmd: string, args: string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-pg-'));
  const as = owner();
  if (as) {
    chownSync(dir, as.uid, as.gid);
  }
  chmodSync(dir, 0o700);
  const opts = { encoding: 'utf8' as const, timeout: 120_000, ...(as ?? {}), env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } };
  const must = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd.startsWith('/') ? cmd : join(bin, cmd), args, { ...opts, cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  return { dir, opts, must };
}

// The superuser is 'kanri', trusted on the socket only; the socket directory is the cluster's
// own (0700), so only its owner and root reach it.
const INITDB = ['-U', 'kanri', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'];

/**
 * A data directory made by initdb once for a whole run of the suite (test/global-setup.ts
 * makes it and names it in KANRI_TEST_PG_TEMPLATE): each file's cluster starts from a copy,
 * a fraction of a second where initdb takes seconds. Returns the directory to remove.
 */
export function makeClusterTemplate(): { data: string; remove(): void } {
  const bin = postgresBin();
  if (!bin) throw new Error('postgresql is not installed');
  const { dir, must } = clusterDir(bin);
  must('initdb', ['-D', join(dir, 'data'), ...INITDB]);
  return { data: join(dir, 'data'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a cluster (a copy of the run's template, else initdb; pg_ctl start -w); call stop() in afterAll. */
export function startCluster(): PgCluster {
  const bin = postgresBin();
  if (!bin) throw new Error('postgresql is not installed');
  const { dir, opts, must } = clusterDir(bin);
  const data = join(dir, 'data');
  const template = process.env.KANRI_TEST_PG_TEMPLATE;
  if (template && existsSync(join(template, 'PG_VERSION'))) must('/bin/cp', ['-a', template, data]);
  else must('initdb', ['-D', data, ...INITDB]);
  const conf = ["listen_addresses=''", `unix_socket_directories='${dir}'`, 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=60', 'shared_buffers=16MB'];
  must('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '120', '-o', conf.map((c) => `-c ${c}`).join(' '), 'start']);
  const psql = (database: string, sql: string): string => {
    const r = spawnSync(join(bin, 'psql'), ['-h', dir, '-U', 'kanri', '-d', database, '-v', 'ON_ERROR_STOP=1', '-XAtq', '-c', sql], { ...opts });
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
    uri: (database) => `postgresql://kanri@/${database}?host=${encodeURIComponent(dir)}`,
    createDatabase(name, template) {
      const db = `${name}_${process.pid}_${++databases}`;
      const from = template === undefined ? '' : ` TEMPLATE "${databaseOf(template)}"`;
      psql('postgres', `CREATE DATABASE "${db}"${from}`);
      return `postgresql://kanri@/${db}?host=${encodeURIComponent(dir)}`;
    },
    psql,
    stop,
  };
}
