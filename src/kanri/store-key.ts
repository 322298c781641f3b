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

/** A refusal already said (one line on stderr): exit 1. */
const usage = (say: () => void): number => {
  say();
  return EXIT.USAGE;
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

export function storeKeyExport(dbPath: string, file: string | undefined, o: { stdout?: boolean; force?: boolean }): number {
  if (file !== undefined && o.stdout) return usage(() => complain('kanri', 'name either FILE or --stdout, not both'));
  if (file === undefined && !o.stdout) return usage(() => complain('kanri', 'name the FILE to write the key to, or --stdout'));
  if (o.stdout && process.stdout.isTTY) return usage(() => complain('kanri', 'the key is never written to a terminal: redirect standard output to a file or a pipe'));
  const path = keyFilePath(dbPath);
  if (!existsSync(path)) throw new SecretError(`key file ${path} not found: this manager has no key to export (kanri store init makes one, as the first secret sealed does)`);
  const key = loadKey(path, false);
  const recorded = storeCheck(dbPath);
  if (recorded && !keyMatches(key, recorded)) throw new SecretError(`key file ${path} is not the key the secrets of ${dbPath} are sealed with: export it from a manager whose key works`);
  if (o.stdout) {
    try {
      writeSync(1, key);
    } catch (e) {
      complain('kanri', `the key cannot be written to standard output: ${(e as Error).message}`);
      return EXIT.OUTPUT;
    }
    return EXIT.OK;
  }
  if (existsSync(file!) && !o.force) return usage(() => complain('kanri', `${file} exists: store key export replaces it only with --force`));
  try {
    writePrivateFile(file!, key, { replace: !!o.force });
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    complain('kanri', e.message);
    return EXIT.OUTPUT;
  }
  process.stdout.write(`wrote the key of ${path} to ${file} (mode 600): install it on each other manager with 'kanri store key import ${file}', then remove it\n`);
  return EXIT.OK;
}

/** The key in FILE or on standard input; undefined (and said why) when it is not one. */
function readKey(file: string | undefined): Buffer | undefined {
  let bytes: Buffer;
  if (file === undefined) {
    if (process.stdin.isTTY) {
      complain('kanri', 'the key is never read from a terminal: give it on a pipe or name its FILE');
      return undefined;
    }
    bytes = readFileSync(0);
  } else {
    try {
      bytes = readFileSync(file);
    } catch (e) {
      complain('kanri', `cannot read the key in ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return undefined;
    }
  }
  if (bytes.length !== KEY_BYTES) {
    complain('kanri', `${file ?? 'standard input'} does not hold a kanri key (${KEY_BYTES} bytes, as kanri store key export writes it)`);
    return undefined;
  }
  return bytes;
}

export function storeKeyImport(dbPath: string, file: string | undefined, o: { stdin?: boolean; replace?: boolean }): number {
  if (file !== undefined && o.stdin) return usage(() => complain('kanri', 'name either FILE or --stdin, not both'));
  if (file === undefined && !o.stdin) return usage(() => complain('kanri', 'name the FILE to read the key from, or --stdin'));
  const key = readKey(file);
  if (!key) return EXIT.USAGE;
  const path = keyFilePath(dbPath);
  const recorded = storeCheck(dbPath);
  if (recorded && !keyMatches(key, recorded)) {
    return usage(() => complain('kanri', `this key is not the one the secrets of ${dbPath} are sealed with: nothing installed (export the key of a manager whose key works)`));
  }
  let backup: string | undefined;
  if (existsSync(path)) {
    const old = readFileSync(path);
    if (old.equals(key)) {
      process.stdout.write(`key file ${path} already holds this key; nothing to do\n`);
      return EXIT.OK;
    }
    if (!o.replace) {
      return usage(() => complain('kanri', `key file ${path} holds another key: --replace installs this one, and secrets sealed with the old key become unreadable`));
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
    if (!(e instanceof FileError)) throw e;
    complain('kanri', e.message);
    return EXIT.STORE;
  }
  process.stdout.write(`installed the key in ${path} (mode 600)${recorded ? "; it matches the store's" : ''}\n`);
  return EXIT.OK;
}
