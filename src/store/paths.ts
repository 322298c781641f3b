import { homedir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from './errors.js';

/** The store path: --db, then KANRI_DB, then /var/lib/kanri for root, else XDG_DATA_HOME. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KANRI_DB) return env.KANRI_DB;
  if (process.getuid?.() === 0) return '/var/lib/kanri/kanri.db';
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'kanri', 'kanri.db');
  let home: string;
  try {
    home = env.HOME || homedir();
  } catch {
    home = '';
  }
  if (!home || home === '/nonexistent') {
    throw new StoreError('no store path: this user has no home directory; give --db PATH or set KANRI_DB (or XDG_DATA_HOME)');
  }
  return join(home, '.local', 'share', 'kanri', 'kanri.db');
}
