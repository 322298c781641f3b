// kanri redfish trust | forget: the TLS certificate a Redfish controller is trusted by,
// pinned by its SHA-256 fingerprint (driver setting redfish.fingerprint of the machine).
// A certificate is accepted only when its fingerprint matches the one the administrator
// gives (--fingerprint), or on explicit --yes after it was printed — never silently.
import { EXIT } from './exit-codes.js';
import { controllerByName } from '../adapters/controller.js';
import { deleteDriverSetting, ownDriverSetting, putDriverSetting } from '../adapters/settings.js';
import { DEFAULT_REDFISH_PORT } from '../adapters/redfish/target.js';
import { normaliseCertFingerprint } from '../adapters/redfish/fingerprint.js';
import { fetchCertificate } from '../adapters/redfish/trust.js';
import { bumpGeneration } from '../store/generation.js';
import { withDb } from './with-db.js';
import { complain } from '../cli/messages.js';

const say = (t: string): void => { process.stdout.write(t); };

interface Controller { id: number; host: string; port: number }

function controllerOf(dbPath: string, name: string): Controller | number {
  return withDb(dbPath, true, (db): Controller | number => {
    const row = controllerByName(db, name);
    if (!row) {
      complain('kanri', `server not found: ${name} (register it with dscli createServer ${name} mgmt=redfish …)`);
      return EXIT.NOT_FOUND;
    }
    if (row.mgmt_type !== 'redfish' || !row.bmc_address) {
      complain('kanri', `${name} is registered as mgmt=${row.mgmt_type}, not as a Redfish controller with an address`);
      return EXIT.USAGE;
    }
    return { id: row.id, host: row.bmc_address, port: row.bmc_port ?? DEFAULT_REDFISH_PORT };
  });
}

export async function redfishTrust(dbPath: string, name: string, opts: { fingerprint?: string; yes?: boolean }): Promise<number> {
  let want: string | undefined;
  if (opts.fingerprint !== undefined) {
    want = normaliseCertFingerprint(opts.fingerprint);
    if (!want) {
      complain('kanri', `not a SHA-256 fingerprint: ${opts.fingerprint} (SHA256:AB:CD:…, or the 64 hex digits of openssl x509 -noout -fingerprint -sha256)`);
      return EXIT.USAGE;
    }
  }
  const c = controllerOf(dbPath, name);
  if (typeof c === 'number') return c;
  let offered;
  try {
    offered = await fetchCertificate(c.host, c.port, 10_000);
  } catch (e) {
    complain('kanri', (e as Error).message);
    return EXIT.USAGE;
  }
  const where = `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  say(`${where} ${offered.fingerprint}\n  subject: ${offered.subject || '?'}\n  issuer:  ${offered.issuer || '?'}\n  valid:   ${offered.validFrom} to ${offered.validTo}\n`);
  if (want !== undefined) {
    if (want !== offered.fingerprint) {
      complain('kanri', `the certificate of ${where} has fingerprint ${offered.fingerprint}, not ${want}: not accepted`);
      return EXIT.USAGE;
    }
  } else if (!opts.yes) {
    complain('kanri', `not accepted: compare the fingerprint with the controller's own certificate (its web interface, or openssl x509 -noout -fingerprint -sha256 -in CERT), `
      + `then run kanri redfish trust ${name} --fingerprint ${offered.fingerprint} (or --yes)`);
    return EXIT.USAGE;
  }
  return withDb(dbPath, false, (db) => {
    const before = ownDriverSetting(db, { machineId: c.id }, 'redfish', 'fingerprint');
    if (before && normaliseCertFingerprint(before) !== offered.fingerprint) complain('kanri', `replacing the pinned fingerprint ${before}`);
    db.transaction(() => {
      putDriverSetting(db, { machineId: c.id }, 'redfish', 'fingerprint', offered.fingerprint);
      bumpGeneration(db);
    })();
    say(`accepted for ${name}\n`);
    return EXIT.OK;
  });
}

export function redfishForget(dbPath: string, name: string): number {
  const c = controllerOf(dbPath, name);
  if (typeof c === 'number') return c;
  return withDb(dbPath, false, (db) => {
    const removed = db.transaction(() => {
      const r = deleteDriverSetting(db, { machineId: c.id }, 'redfish', 'fingerprint');
      if (r) bumpGeneration(db);
      return r;
    })();
    say(removed ? `${name}: pinned certificate fingerprint removed\n` : `${name}: no pinned certificate fingerprint\n`);
    return EXIT.OK;
  });
}
