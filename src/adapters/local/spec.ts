// The local deploy driver's declaration: local scripts run on this server.
import type { DriverSpec } from '../types.js';

export const LOCAL: DriverSpec = {
  name: 'local',
  description: 'deploy: local scripts on this server (spec §5); scenarios are refused',
  interfaces: ['deploy'],
  settings: [
    { key: 'local_script_dir', scope: 'global', type: 'path', default: '/var/lib/kanri/scripts', description: 'the folder local scripts are run from' },
    { key: 'local_script.timeout_s', scope: 'global', type: 'number', min: 1, default: 7200, description: 'a local script still running after this many seconds is killed with its process group' },
  ],
  load: async () => (await import('./index.js')).createLocalDriver(),
};
