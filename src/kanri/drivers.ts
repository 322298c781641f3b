// kanri driver list | show | secret: what each driver serves and reads (its declaration),
// and the secrets of a machine's or group's driver settings, which no file carries.
import { EXIT } from './exit-codes.js';
import { driverSpec, DRIVER_SPECS, KNOWN_DRIVERS } from '../adapters/registry.js';
import type { DriverSpec } from '../adapters/types.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { type Owner, declaredSetting, deleteDriverSetting, putDriverSecret } from '../adapters/settings.js';
import { readSecret } from '../cli/secret-input.js';
import { withStore } from '../open-store.js';
import { bumpGeneration } from '../store/generation.js';
import { didYouMean } from '../util/nearest.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { complain } from '../cli/messages.js';
import { groupNotFound, machineNotFound } from '../engine/planners/targets.js';
import { machineByName } from '../engine/select.js';

const pad = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
};

const DRIVER_COLUMNS: Array<Column<DriverSpec>> = [
  { header: 'DRIVER', key: 'name', value: (d) => d.name },
  { header: 'INTERFACES', key: 'interfaces', value: (d) => d.interfaces.join(',') },
  { header: 'DESCRIPTION', key: 'description', value: (d) => d.description },
];

export function driverList(json = false): number {
  if (json) {
    for (const d of DRIVER_SPECS) process.stdout.write(JSON.stringify({ name: d.name, interfaces: d.interfaces, controller: !!d.controller, description: d.description, settings: d.settings }) + '\n');
    return EXIT.OK;
  }
  process.stdout.write(renderListing(DRIVER_SPECS, DRIVER_COLUMNS, listingMode()));
  return EXIT.OK;
}

function unknownDriver(name: string): number {
  complain('kanri', `unknown driver '${name}'${didYouMean(name, KNOWN_DRIVERS)} (known: ${KNOWN_DRIVERS.join(', ')})`);
  return EXIT.NOT_FOUND;
}

export function driverShow(name: string): number {
  const d = driverSpec(name);
  if (!d) return unknownDriver(name);
  let out = `${d.name}: ${d.description}\ninterfaces: ${d.interfaces.join(', ') || 'none'}${d.controller ? ' (a management controller type: dscli createServer mgmt=' + d.name + ', bmc: { type: ' + d.name + ' })' : ''}\n`;
  if (d.settings.length) {
    out += 'settings:\n' + pad(d.settings.map((s) => [
      '  ' + s.key + (s.suffixes ? '[.<operation>]' : ''), s.scope, s.type, s.required ? 'required' : s.default !== undefined ? `default ${s.default}` : '-', s.description,
    ]));
  }
  process.stdout.write(out);
  return EXIT.OK;
}

export interface SecretTarget { machine?: string; group?: string; clear?: boolean }

/** Seals a secret setting of a machine's or group's driver, read from standard input (or removes it). */
export async function driverSecret(dbPath: string, driver: string, key: string, t: SecretTarget): Promise<number> {
  const d = driverSpec(driver);
  if (!d) return unknownDriver(driver);
  if ((t.machine === undefined) === (t.group === undefined)) {
    complain('kanri', 'give exactly one of --machine NAME or --group PATH');
    return EXIT.USAGE;
  }
  const scope = t.machine !== undefined ? 'machine' : 'group';
  const spec = declaredSetting(d.settings.filter((s) => s.scope === scope && s.type === 'secret' && !s.column), key);
  if (!spec) {
    const secrets = d.settings.filter((s) => s.scope === scope && s.type === 'secret' && !s.column).map((s) => s.key);
    if (secrets.length) complain('kanri', `the ${driver} driver has no ${scope} secret '${key}' (its ${scope} secrets: ${secrets.join(', ')})`);
    else complain('kanri', `the ${driver} driver has no ${scope} secret '${key}' (it has no ${scope} secrets)`);
    return EXIT.USAGE;
  }
  const secret = t.clear ? undefined : await readSecret(`${key} for ${driver}: `);
  if (!t.clear && !secret) {
    complain('kanri', 'expected the secret on standard input');
    return EXIT.USAGE;
  }
  return withStore(dbPath, (db) => {
    let owner: Owner;
    if (t.machine !== undefined) {
      const m = machineByName(db, t.machine);
      if (!m) {
        complain('kanri', machineNotFound(db, t.machine));
        return EXIT.NOT_FOUND;
      }
      owner = { machineId: m.id };
    } else {
      const r = resolvePath(db, t.group!);
      if (!isResolved(r) || r.kind !== 'group') {
        complain('kanri', groupNotFound(db, t.group!));
        return EXIT.NOT_FOUND;
      }
      owner = { groupId: r.group.id };
    }
    db.transaction(() => {
      if (t.clear) deleteDriverSetting(db, owner, driver, key);
      else putDriverSecret(db, owner, driver, key, secret!);
      bumpGeneration(db);
    })();
    return EXIT.OK;
  });
}
