// The configuration generation: a counter every change of driver configuration bumps
// (config apply, a controller registration, a driver setting), so that a long-running
// process notices and drops the driver instances and sessions it keeps.
import type { Db } from './db.js';
import { prepared } from './statements.js';

export function configGeneration(db: Db): number {
  return (prepared(db, 'SELECT n FROM config_generation WHERE id = 1').get() as { n: number } | undefined)?.n ?? 0;
}

export function bumpGeneration(db: Db): void {
  db.prepare('UPDATE config_generation SET n = n + 1 WHERE id = 1').run();
}
