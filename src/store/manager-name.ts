// Which manager this process speaks for. Several managers may share one PostgreSQL store;
// each names itself with KANRI_MANAGER (default: the host name), and that name is what the
// store records as the owner of its heartbeats, jobs and monitor. A name is printed in
// listings and compared as given, so it is kept to a short, printable, portable form.
import { hostname } from 'node:os';
import { StoreError } from './errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * A StoreError: a process that cannot say which manager it speaks for cannot own work in the
 * store, and every front end reports a store problem in one line (storeProblem).
 */
export class ManagerNameError extends StoreError {}

/** KANRI_MANAGER, or the host name when it is unset or empty. */
export function managerName(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.KANRI_MANAGER;
  if (given === undefined || given === '') return hostname().split('.')[0] || 'localhost';
  if (!NAME.test(given)) throw new ManagerNameError(`KANRI_MANAGER must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit: ${JSON.stringify(given.slice(0, 80))}`);
  return given;
}
