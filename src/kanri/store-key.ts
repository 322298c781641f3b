// kanri store key export|import: the key that seals secrets, carried from one manager to
// another by the administrator. The key never travels inside the store (whoever reads the
// database would then read every secret), so each manager of a shared store has its own copy
// of one key file. The key is never on argv: it moves through a file named on the command
// line (created 0600) or a pipe, never through a terminal. Both sides compare the key with the
// check value the store recorded (store/key-check.ts) when the store can be opened.
import { existsSync, linkSync, mkdirSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { withStore } from '../open-store.js';
import { SecretError, StoreError } from '../store/errors.js';
import { keyMatches, recordedKeyCheck } from '../store/key-check.js';
import { KEY_BYTES, keyFilePath, loadKey } from '../store/secrets.js';
import { complain } from '../cli/messages.js';
import { FileError, writePrivateFile } from '../util/files.js';
import { EXIT } from './exit-codes.js';

const fail = (code: number, line: string): number => {
  complain('kanri', line);
  return code;
};

/**
 * The check value the store recorded; undefined when it has none or cannot be opened here
 * (not created yet, or unreachable: the key then moves unchecked, and is checked at first use).
 */
function storeCheck(dbPath: string): string | undefined {
  try {
    return withStore(dbPath, recordedKeyCheck, { readonly: true });
  } catch (e) {
    if (e instanceof StoreError) return undefined;
    throw e;
  }
}

/** Exactly one of FILE and the flag for a standard stream; the usage line otherwise. */
function oneSource(file: string | undefined, stream: boolean | undefined, flag: string, verb: string): string | undefined {
  if (file !== undefined && stream) return `name either FILE or ${flag}, not both`;
  if (file === undefined && !stream) return `name the FILE to ${verb} the key, or ${flag}`;
  return undefined;
}

export function storeKeyExport(dbPath: string, file: string | undefined, o: { stdout?: boolean; force?: boolean }): number {
  const usage = oneSource(file, o.stdout, '--stdout', 'write');
  if (usage) return fail(EXIT.USAGE, usage);
  if (o.stdout && process.stdout.isTTY) return fail(EXIT.USAGE, 'the key is never written to a terminal: redirect standard output to a file or a pipe');
  const path = keyFilePath(dbPath);
  if (!existsSync(path)) throw new SecretError(`key file ${path} not found: this manager has no key to export (kanri store init makes one, as the first secret sealed does)`);
  const key = loadKey(path, false);
  const recorded = storeCheck(dbPath);
  if (recorded && !keyMatches(key, recorded)) throw new SecretError(`key file ${path} is not the key the secrets of ${dbPath} are sealed with: export it from a manager whose key works`);
  if (o.stdout) {
    try {
      writeSync(1, key);
    } catch (e) {
      return fail(EXIT.OUTPUT, `the key cannot be written to standard output: ${(e as Error).message}`);
    }
    return EXIT.OK;
  }
  if (existsSync(file!) && !o.force) return fail(EXIT.USAGE, `${file} exists: store key export replaces it only with --force`);
  try {
    writePrivateFile(file!, key, { replace: !!o.force });
  } catch (e) {
    if (e instanceof FileError) return fail(EXIT.OUTPUT, e.message);
    throw e;
  }
  process.stdout.write(`wrote the key of ${path} to ${file} (mode 600): install it on each other manager with 'kanri store key import ${file}', then remove it\n`);
  return EXIT.OK;
}

function readKey(file: string | undefined): Buffer | string {
  let bytes: Buffer;
  if (file === undefined) {
    if (process.stdin.isTTY) return 'the key is never read from a terminal: give it on a pipe or name its FILE';
    bytes = readFileSync(0);
  } else {
    try {
      bytes = readFileSync(file);
    } catch (e) {
      return `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }
  if (bytes.length !== KEY_BYTES) return `${file ?? 'standard input'} does not hold a kanri key (${KEY_BYTES} bytes, as kanri store key export writes it)`;
  return bytes;
}

export function storeKeyImport(dbPath: string, file: string | undefined, o: { stdin?: boolean; replace?: boolean }): number {
  const usage = oneSource(file, o.stdin, '--stdin', 'read');
  if (usage) return fail(EXIT.USAGE, usage);
  const key = readKey(file);
  if (typeof key === 'string') return fail(EXIT.USAGE, key);
  const path = keyFilePath(dbPath);
  const recorded = storeCheck(dbPath);
  if (recorded && !keyMatches(key, recorded)) {
    return fail(EXIT.USAGE, `this key is not the one the secrets of ${dbPath} are sealed with: nothing installed (export the key of a manager whose key works)`);
  }
  let backup: string | undefined;
  if (existsSync(path)) {
    const old = readFileSync(path);
    if (old.equals(key)) {
      process.stdout.write(`key file ${path} already holds this key; nothing to do\n`);
      return EXIT.OK;
    }
    if (!o.replace) {
      return fail(EXIT.USAGE, `key file ${path} holds another key: --replace installs this one, and secrets sealed with the old key become unreadable`);
    }
    // The old key is kept beside the new one: the secrets it sealed are not lost for good.
    backup = `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    linkSync(path, backup);
    complain('kanri', `warning: replacing key file ${path}: secrets sealed with the old key become unreadable (the old key is kept in ${backup})`);
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writePrivateFile(path, key, { replace: !!backup });
  } catch (e) {
    if (e instanceof FileError) return fail(EXIT.STORE, e.message);
    throw e;
  }
  process.stdout.write(`installed the key in ${path} (mode 600)${recorded ? "; it matches the store's" : ''}\n`);
  return EXIT.OK;
}
