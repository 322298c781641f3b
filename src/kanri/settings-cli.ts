// kanri settings list | get | set | unset: one global setting at a time, without a YAML
// round trip. A key must be declared (config/settings-catalogue.ts) and a value is checked
// exactly as `kanri config check` checks the settings: section; a change is audited and
// bumps the configuration generation, so that a running process reads it afresh. A secret
// setting (monitor.communities) is read from standard input or a prompt, never from argv,
// stored sealed, shown as (sealed) and audited without its value.
import { EXIT } from './exit-codes.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { complain } from '../cli/messages.js';
import { isSecretSetting, knownSetting, knownSettingKeys } from '../config/settings-catalogue.js';
import { readSecret } from '../cli/secret-input.js';
import { settingProblem } from '../adapters/settings.js';
import { recordAudit } from '../store/audit.js';
import { type Db } from '../store/db.js';
import { withStore } from '../open-store.js';
import { bumpGeneration } from '../store/generation.js';
import { getSetting, putSecretSetting, putSetting } from '../store/settings.js';
import { didYouMean } from '../util/nearest.js';

interface SettingLine { key: string; value: string; set: boolean; owner: string; description: string }

const COLUMNS: Array<Column<SettingLine>> = [
  { header: 'KEY', key: 'key', value: (s) => s.key },
  { header: 'VALUE', key: 'value', value: (s) => s.value },
  { header: 'SET', key: 'set', value: (s) => (s.set ? 'set' : 'default') },
  { header: 'DESCRIPTION', key: 'description', value: (s) => s.description },
];
const JSON_COLUMNS: Array<Column<SettingLine>> = [
  { header: '', key: 'key', value: (s) => s.key },
  { header: '', key: 'value', value: (s) => s.value },
  { header: '', key: 'set', value: (s) => s.set },
  { header: '', key: 'owner', value: (s) => s.owner },
  { header: '', key: 'description', value: (s) => s.description },
];

const SEALED = '(sealed)';

function line(db: Db, key: string): SettingLine {
  const k = knownSetting(key)!;
  const stored = getSetting(db, key);
  if (stored !== undefined && isSecretSetting(key)) return { key, value: SEALED, set: true, owner: k.owner, description: k.spec.description };
  return { key, value: stored ?? (k.spec.default === undefined ? '' : String(k.spec.default)), set: stored !== undefined, owner: k.owner, description: k.spec.description };
}

/** The declaration of KEY, or a complaint naming the closest declared key. */
function declared(key: string): boolean {
  if (knownSetting(key)) return true;
  complain('kanri', `unknown setting '${key}'${didYouMean(key, knownSettingKeys())}; 'kanri settings list' shows them all`);
  return false;
}

export function settingsList(dbPath: string, json: boolean, onlySet: boolean): number {
  return withStore(dbPath, (db) => {
    const lines = knownSettingKeys().sort().map((k) => line(db, k)).filter((s) => !onlySet || s.set);
    process.stdout.write(renderListing(lines, json ? JSON_COLUMNS : COLUMNS, listingMode(json)));
    return EXIT.OK;
  }, { readonly: true });
}

export function settingsGet(dbPath: string, key: string): number {
  if (!declared(key)) return EXIT.NOT_FOUND;
  return withStore(dbPath, (db) => {
    process.stdout.write(`${line(db, key).value}\n`);
    return EXIT.OK;
  }, { readonly: true });
}

/** VALUE from argv, or for a secret setting from standard input / a prompt (argv refused). */
export async function settingsSet(dbPath: string, key: string, argv: string | undefined): Promise<number> {
  if (!declared(key)) return EXIT.NOT_FOUND;
  const secret = isSecretSetting(key);
  if (secret && argv !== undefined) {
    complain('kanri', `${key} is a secret: give it on standard input or at the prompt, never on the command line (kanri settings set ${key} < file)`);
    return EXIT.USAGE;
  }
  if (!secret && argv === undefined) {
    complain('kanri', `give the value: kanri settings set ${key} VALUE`);
    return EXIT.USAGE;
  }
  const value = secret ? await readSecret(`${key}: `) : argv!;
  if (secret && value === '') {
    complain('kanri', `expected the value of ${key} on standard input; 'kanri settings unset ${key}' removes it`);
    return EXIT.USAGE;
  }
  const problem = value === '' ? undefined : settingProblem(knownSetting(key)!.spec, value);
  if (problem) {
    complain('kanri', `${key}: ${problem}`);
    return EXIT.USAGE;
  }
  return withStore(dbPath, (db) => db.transaction(() => {
    const before = line(db, key);
    if (secret) {
      putSecretSetting(db, key, value);
    } else {
      if (before.set && before.value === value) {
        process.stdout.write(`${key} is already ${value === '' ? "''" : value}\n`);
        return EXIT.OK;
      }
      putSetting(db, key, value);
    }
    bumpGeneration(db);
    const shown = secret ? SEALED : value === '' ? "''" : value;
    recordAudit(db, 'kanri', `settings set ${key} ${shown}`, EXIT.OK);
    process.stdout.write(`${key}: ${before.value === '' ? "''" : before.value} -> ${shown}\n`);
    return EXIT.OK;
  })());
}

export function settingsUnset(dbPath: string, key: string): number {
  if (!declared(key)) return EXIT.NOT_FOUND;
  return withStore(dbPath, (db) => db.transaction(() => {
    const before = line(db, key);
    if (!before.set) {
      process.stdout.write(`${key} is not set (default: ${before.value === '' ? "''" : before.value})\n`);
      return EXIT.OK;
    }
    db.prepare('DELETE FROM settings WHERE key = ?').run(key);
    bumpGeneration(db);
    recordAudit(db, 'kanri', `settings unset ${key}`, EXIT.OK);
    const after = line(db, key);
    process.stdout.write(`${key}: ${before.value === '' ? "''" : before.value} -> ${after.value === '' ? "''" : after.value} (default)\n`);
    return EXIT.OK;
  })());
}
