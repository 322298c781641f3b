// kanri ssh trust | forget | known: the host keys the ssh deploy driver accepts.
// A key is accepted only when its fingerprint matches the one given by the
// administrator (--fingerprint), or on explicit --yes after it was printed.
import { EXIT } from './exit-codes.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { DriverError } from '../adapters/types.js';
import { addKnownKey, allKnownKeys, fingerprintOf, forgetKeys, keyTypeOf, knownKeys, normaliseFingerprint } from '../adapters/ssh/known-hosts.js';
import { fetchHostKey } from '../adapters/ssh/session.js';
import { type SshTarget, connectTimeoutMs, targetByName } from '../adapters/ssh/target.js';
import { complain } from '../cli/messages.js';
import { withDb } from './with-db.js';
import { machineNotFound } from '../engine/planners/targets.js';

const say = (t: string): void => { process.stdout.write(t); };

export interface HostOption { address?: string; port?: string }

/** A host named by --address/--port instead of a machine (a storage host). */
function hostTarget(o: HostOption): SshTarget | string {
  const port = Number(o.port ?? 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `--port must be from 1 to 65535, not '${o.port}'`;
  const address = o.address!.trim();
  if (address === '' || /\s/.test(address)) return `--address must be a host name or address, not '${o.address}'`;
  return { machine: address, address, port, user: 'root', keyPath: undefined, trustArgs: `--address ${address} --port ${port}` };
}

function resolveTarget(dbPath: string, machine: string | undefined, host: HostOption = {}): { target?: SshTarget; timeoutMs: number; code: number } {
  let r: { target?: SshTarget; timeoutMs: number; code: number } = { timeoutMs: 0, code: EXIT.USAGE };
  if ((machine === undefined) === (host.address === undefined)) {
    complain('kanri', 'give a machine or --address HOST (not both)');
    return r;
  }
  const opened = withDb(dbPath, true, (db) => {
    try {
      if (host.address !== undefined) {
        const t = hostTarget(host);
        if (typeof t === 'string') complain('kanri', t);
        else r = { target: t, timeoutMs: connectTimeoutMs(db), code: EXIT.OK };
        return r.code;
      }
      const target = targetByName(db, machine!);
      if (!target) {
        complain('kanri', machineNotFound(db, machine!));
        r = { timeoutMs: 0, code: EXIT.NOT_FOUND };
      } else {
        r = { target, timeoutMs: connectTimeoutMs(db), code: EXIT.OK };
      }
    } catch (err) {
      if (!(err instanceof DriverError)) throw err;
      complain('kanri', err.message);
    }
    return r.code;
  });
  // the store could not be opened: withDb said why, with its code
  return typeof opened === 'number' && opened === EXIT.STORE ? { timeoutMs: 0, code: EXIT.STORE } : r;
}

export async function sshTrust(dbPath: string, machine: string | undefined, opts: { fingerprint?: string; yes?: boolean } & HostOption): Promise<number> {
  const r = resolveTarget(dbPath, machine, opts);
  if (!r.target) return r.code;
  const t = r.target;
  let blob: Buffer;
  try {
    blob = await fetchHostKey(t, r.timeoutMs);
  } catch (err) {
    complain('kanri', (err as Error).message);
    return EXIT.USAGE;
  }
  const fp = fingerprintOf(blob);
  say(`${t.address}:${t.port} ${keyTypeOf(blob)} ${fp}\n`);
  if (opts.fingerprint !== undefined) {
    const want = normaliseFingerprint(opts.fingerprint);
    if (want !== fp) {
      complain('kanri', `the host key of ${t.address}:${t.port} has fingerprint ${fp}, not ${want}: not accepted`);
      return EXIT.USAGE;
    }
  } else if (!opts.yes) {
    complain('kanri', `not accepted: compare the fingerprint with the machine's own (ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(blob).replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub), `
      + `then run kanri ssh trust ${t.trustArgs ?? machine} --fingerprint ${fp} (or --yes)`);
    return EXIT.USAGE;
  }
  const stored = withDb(dbPath, false, (db) => {
    const before = knownKeys(db, t.address, t.port).find((k) => k.keyType === keyTypeOf(blob));
    if (before && before.fingerprint !== fp) complain('kanri', `replacing the ${before.keyType} key accepted on ${before.addedAt} (${before.fingerprint})`);
    addKnownKey(db, t.address, t.port, blob);
    return EXIT.OK;
  });
  if (stored !== 0) return stored;
  say(`accepted for ${machine ?? `${t.address}:${t.port}`}\n`);
  return EXIT.OK;
}

export function sshForget(dbPath: string, machine: string | undefined, host: HostOption = {}): number {
  const r = resolveTarget(dbPath, machine, host);
  if (!r.target) return r.code;
  const t = r.target;
  return withDb(dbPath, false, (db) => {
    const n = forgetKeys(db, t.address, t.port);
    say(`${t.address}:${t.port}: ${n} host key${n === 1 ? '' : 's'} removed\n`);
    return EXIT.OK;
  });
}

type KnownKey = ReturnType<typeof allKnownKeys>[number];

const KNOWN_COLUMNS: Array<Column<KnownKey>> = [
  { header: 'HOST', key: 'host', value: (k) => k.host },
  { header: 'PORT', key: 'port', value: (k) => k.port },
  { header: 'TYPE', key: 'type', value: (k) => k.keyType },
  { header: 'FINGERPRINT', key: 'fingerprint', value: (k) => k.fingerprint },
  { header: 'ACCEPTED', key: 'added_at', value: (k) => k.addedAt, time: true },
];

export function sshKnown(dbPath: string, json = false): number {
  return withDb(dbPath, true, (db) => {
    say(renderListing(allKnownKeys(db), KNOWN_COLUMNS, listingMode(json)));
    return EXIT.OK;
  });
}
