// Helpers for dscli tests: run the real binary against a store, read the store.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Ran } from './cli.js';
import { openStore } from '../../src/open-store.js';
import { newStoreLocation, tempDir } from './store.js';

export function newStore(): string {
  const path = newStoreLocation();
  openStore(path, { create: true }).close();
  return path;
}

export function dscli(db: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeout?: number } = {}): Ran {
  return run('dscli', args, { db, ...opts });
}

/** A 0600 file holding a password. */
export function secretFile(content: string): string {
  const f = join(tempDir(), 'pw');
  writeFileSync(f, content + '\n', { mode: 0o600 });
  return f;
}

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}
