// The local deploy driver: runs local scripts on this server; it has no way to
// install scenarios on a machine, and says so.
import { type Driver, DriverError } from '../types.js';
import { runLocalScript } from './script.js';

export function createLocalDriver(): Driver {
  return {
    name: 'local',
    interfaces: {
      deploy: {
        async distribute(ctx, m, sw, _host, env) {
          if (sw.kind !== 'local_script') {
            throw new DriverError(`${sw.name} is a ${sw.kind}; the local driver runs only local scripts (use the ssh driver for scenarios on ${m.name})`);
          }
          await runLocalScript(ctx, sw, env);
        },
        async register(ctx, m) { ctx.log(`${m.name}: no deployment server to register with (local driver)`); },
        async unregister(ctx, m) { ctx.log(`${m.name}: no deployment server to unregister from (local driver)`); },
      },
    },
  };
}
