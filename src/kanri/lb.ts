// kanri lb sync GROUP: puts the group's load balancer in line with the store (HAProxy
// forgets the servers added at run time when it reloads) and says what it changed and
// what it left as it is.
import { EXIT } from './exit-codes.js';
import { bindInterface, driverNameFor, dropDrivers } from '../adapters/registry.js';
import { DriverError } from '../adapters/types.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { groupInfo } from '../engine/refs.js';
import { complain } from '../cli/messages.js';
import { openStore } from '../open-store.js';
import { groupNotFound } from '../engine/planners/targets.js';


export async function lbSync(dbPath: string, groupPath: string): Promise<number> {
  // A store that cannot be used is exit 70, reported by kanri's main like every command's.
  const db = openStore(dbPath);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort(new Error('canceled by a signal to the process'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = resolvePath(db, groupPath);
    if (!isResolved(r) || r.kind !== 'group') {
      complain('kanri', groupNotFound(db, groupPath));
      return EXIT.NOT_FOUND;
    }
    const g = groupInfo(db, r.group.id);
    if (!g.lbGroup) {
      complain('kanri', `group ${g.path} has no load-balancing group (load_balancer:)`);
      return EXIT.USAGE;
    }
    const driver = driverNameFor(db, null, g.id, 'lb');
    if (!driver) {
      complain('kanri', `no lb driver is configured for group ${g.path}`);
      return EXIT.USAGE;
    }
    const lb = await bindInterface(db, driver, 'lb');
    if (!lb.sync) {
      process.stdout.write(`${g.path}: the ${driver} driver has no load balancer outside the store: nothing to put in line\n`);
      return EXIT.OK;
    }
    const lines = await lb.sync({ db, signal: stop.signal, log: () => undefined, group: { id: g.id, path: g.path } }, g.lbGroup);
    process.stdout.write(lines.length ? lines.map((l) => `${l}\n`).join('') : `${g.path}: ${g.lbGroup} is in line with the store; nothing changed\n`);
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof DriverError)) throw err;
    complain('kanri', err.message);
    return EXIT.USAGE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    dropDrivers();
    db.close();
  }
}
