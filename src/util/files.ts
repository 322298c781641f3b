// Writing a file that may hold secrets (a configuration export with password hashes, a
// BMC backup): a new file in the same directory, created exclusively with mode 0600, then
// renamed over the path. A symbolic link at the path is replaced, never followed, and an
// existing file never keeps a wider mode.
import { closeSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export class FileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileError';
  }
}

const REASON: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of its path is not a directory',
  EACCES: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EISDIR: 'it is a directory',
  EEXIST: 'it exists',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return `${REASON[code] ?? (err as Error).message}${code ? ` (${code})` : ''}`;
}

/** With `replace: false` an existing path is an error (EEXIST), never overwritten, not even in a race. */
export function writePrivateFile(path: string, data: string | Uint8Array, { replace = true } = {}): void {
  try {
    if (lstatSync(path).isDirectory()) throw new FileError(`cannot write ${path}: it is a directory`);
  } catch (err) {
    if (err instanceof FileError) throw err;
    // Nothing there yet: fine.
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    // writeSync has one overload for text and one for bytes, none for the union.
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (replace) renameSync(tmp, path);
    else {
      // link() creates the name only if nothing has it, with the content already complete.
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new FileError(`cannot write ${path}: ${reason(err)}`);
  }
}

/**
 * Reads a file that holds a secret (a bearer token, a TLS key), refusing it when others may
 * read it: a secret readable by every local user is no secret.
 */
export function readPrivateFile(path: string, what: string): Buffer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new FileError(`cannot read ${what} ${path}: ${reason(err)}`);
  }
  if ((mode & 0o077) !== 0) throw new FileError(`${what} ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  return readFileSync(path);
}
