// Where the store is: an SQLite file path, or a PostgreSQL connection URI
// (postgresql://user@host:port/db, postgresql://user@/db?host=/run/postgresql). A URI is
// recognised here, before anything treats the string as a path: taken for one, it would
// create a directory named "postgresql:" in the working directory.
//
// What a URI may say is checked here too, so that every front end refuses the same:
// - no password in it (it would be on argv with --db, and in every message naming the
//   store): libpq's PGPASSFILE / ~/.pgpass, or password_file=FILE (kanri's parameter: a
//   file holding the password alone, 0600, read by kanri and never passed on argv);
// - TLS with the server's certificate checked when not on a unix socket: sslmode=verify-full
//   and sslrootcert=CA-FILE, so that the store's credentials and secrets never cross a
//   network in clear or to a server nobody vouched for.
// A URI that passes these checks holds no secret and can be printed as it is.
import { StoreError } from './errors.js';

export interface SqliteLocation {
  kind: 'sqlite';
  path: string;
}

export interface PostgresLocation {
  kind: 'postgresql';
  /** The URI as given (it holds no password): what messages name. */
  uri: string;
  /** libpq keywords and values, password_file removed (read at connect time). */
  params: Record<string, string>;
  /** kanri's own parameter: the file holding the password. */
  passwordFile?: string;
  /** Every host is a unix socket directory (or none is given: libpq's default socket). */
  socket: boolean;
}

export type StoreLocation = SqliteLocation | PostgresLocation;

const URI = /^postgres(?:ql)?:\/\//i;

/** Whether the store string is a PostgreSQL connection URI rather than a file path. */
export function isStoreUri(store: string): boolean {
  return URI.test(store);
}

function decode(part: string, uri: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new StoreError(`store URI ${uri} has a malformed percent-escape`);
  }
}

/** Parameters libpq would take a password from, or that would let it skip the server check. */
const FORBIDDEN: Record<string, string> = {
  password: 'a password in the URI would show on argv and in messages; use PGPASSFILE (~/.pgpass) or password_file=FILE',
};

/** Parses and checks a PostgreSQL URI; throws a StoreError that names it (without a password). */
export function parsePostgresUri(uri: string): PostgresLocation {
  const m = /^(postgres(?:ql)?):\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(uri);
  if (!m) throw new StoreError(`store URI is not a PostgreSQL connection URI (postgresql://user@host:port/database)`);
  const [, , userinfo, hostspec, dbname, query] = m;
  if (userinfo !== undefined && userinfo.includes(':')) {
    // Never echo the URI: it holds the password.
    throw new StoreError(`store URI postgresql://${decode(userinfo.split(':')[0]!, '')}@… holds a password: ${FORBIDDEN.password}`);
  }
  const params: Record<string, string> = {};
  if (userinfo) params.user = decode(userinfo, uri);
  if (dbname) params.dbname = decode(dbname, uri);
  const hosts: string[] = [];
  const ports: string[] = [];
  if (hostspec) {
    for (const h of hostspec.split(',')) {
      // [v6]:port or name:port
      const hm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(h);
      if (!hm) throw new StoreError(`store URI ${uri} has a malformed host '${h}'`);
      hosts.push(decode(hm[1]!.replace(/^\[|\]$/g, ''), uri));
      ports.push(hm[2] ?? '');
    }
    if (hosts.some((h) => h !== '')) params.host = hosts.join(',');
    if (ports.some((p) => p !== '')) params.port = ports.join(',');
  }
  let passwordFile: string | undefined;
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new StoreError(`store URI ${uri} has a parameter without a value: '${pair}'`);
    const key = decode(pair.slice(0, eq), uri);
    const value = decode(pair.slice(eq + 1), uri);
    if (FORBIDDEN[key]) throw new StoreError(`store URI has a ${key} parameter: ${FORBIDDEN[key]}`);
    if (!/^[a-z_]{1,40}$/.test(key)) throw new StoreError(`store URI ${uri} has a parameter with a malformed name '${key}'`);
    if (key === 'password_file') passwordFile = value;
    else params[key] = value;
  }
  // libpq: an empty host, or one starting with '/' (or '@', Linux's abstract namespace), is a
  // unix socket; hostaddr always means TCP.
  const hostList = (params.host ?? '').split(',');
  const socket = params.hostaddr === undefined && hostList.every((h) => h === '' || h.startsWith('/') || h.startsWith('@'));
  if (!socket) {
    if (params.sslmode !== 'verify-full' || !params.sslrootcert) {
      throw new StoreError(`store URI ${uri} reaches the server over TCP: add sslmode=verify-full&sslrootcert=CA-FILE (the CA that signed the server's certificate), or use a unix socket (host=/run/postgresql)`);
    }
  }
  return { kind: 'postgresql', uri, params, passwordFile, socket };
}

/** What the store string names: a PostgreSQL URI (checked) or an SQLite file path. */
export function storeLocation(store: string): StoreLocation {
  return isStoreUri(store) ? parsePostgresUri(store) : { kind: 'sqlite', path: store };
}

/** libpq's conninfo string ("key='value' …") for a location, with the password when given. */
export function conninfo(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}='${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}
