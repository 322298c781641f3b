import { homedir } from 'node:os';
import { join } from 'node:path';

/** The store path: --db, then KANRI_DB, then /var/lib/kanri for root, else XDG_DATA_HOME. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KANRI_DB) return env.KANRI_DB;
  if (process.getuid?.() === 0) return '/var/lib/kanri/kanri.db';
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'kanri', 'kanri.db');
}
