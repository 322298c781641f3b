// What went wrong with the store, in one line that names the path: every front end
// reports a store problem this way (pvmutl and kanri exit 70, dscli 8), never with a
// stack trace.
import { busyTimeoutSeconds } from './busy.js';

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A sealed secret cannot be read (key file missing, replaced or too open). */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

const SQLITE: Record<string, string> = {
  SQLITE_BUSY: 'is busy: other commands have held it for more than the busy timeout ({timeout} s); try again when they are done',
  SQLITE_LOCKED: 'is busy: another command holds it; try again when it is done',
  SQLITE_READONLY: 'is read-only for this user (or its directory is): changes cannot be written',
  SQLITE_FULL: 'cannot be written: the disk is full',
  SQLITE_CANTOPEN: 'cannot be opened (is its directory missing or not writable?)',
  SQLITE_NOTADB: 'is not a kanri store (not an SQLite database)',
  SQLITE_CORRUPT: 'is damaged (SQLite reports corruption); restore it from a backup',
  SQLITE_PERM: 'cannot be accessed: permission denied',
  SQLITE_IOERR: 'cannot be read or written: input/output error',
};

const ERRNO: Record<string, string> = {
  ENOSPC: 'cannot be written: no space left on the device',
  EACCES: 'cannot be accessed: permission denied',
  EPERM: 'cannot be accessed: operation not permitted',
  EROFS: 'is on a read-only file system',
  ENOTDIR: 'has a path component that is not a directory',
  EISDIR: 'is a directory, not a store file',
  ELOOP: 'is a loop of symbolic links',
  ENAMETOOLONG: 'has a name that is too long',
  EDQUOT: 'cannot be written: the disk quota is exhausted',
};

/** One line about a failure of the store at `path`, or undefined when `err` is not about the store. */
/**
 * Why a kanri or dscli command cannot use its store, in one line — the store's problem
 * (storeProblem), or its key's: missing, too open, not the store's (SecretError) — or
 * undefined for anything else. pvmutl asks storeProblem alone (its key errors are its own).
 */
export function unusableStore(err: unknown, path: string): string | undefined {
  return err instanceof SecretError ? err.message : storeProblem(err, path);
}

export function storeProblem(err: unknown, path: string): string | undefined {
  if (err instanceof StoreError) return err.message;
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return undefined;
  const base = code.startsWith('SQLITE_IOERR') ? 'SQLITE_IOERR' : code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  const what = SQLITE[base] ?? ERRNO[code];
  return what ? `store ${path} ${what.replace('{timeout}', String(busyTimeoutSeconds()))} (${code})` : undefined;
}
