// The redfish controller type: iLO-class controllers can be registered (mgmt=redfish)
// and described, but no interface is served by this version; every call through it is
// answered "not supported" (dscli return code 6), never attempted.
import type { DriverSpec } from '../types.js';

export const REDFISH: DriverSpec = {
  name: 'redfish',
  description: 'Redfish controllers (iLO): registration only in this version; power and info are not served yet',
  interfaces: [],
  controller: true,
  settings: [
    { key: 'address', scope: 'controller', column: 'bmc_address', type: 'string', required: true, description: 'controller address' },
    { key: 'port', scope: 'controller', column: 'bmc_port', type: 'integer', min: 1, max: 65535, default: 443, description: 'HTTPS port' },
    { key: 'user', scope: 'controller', column: 'bmc_user', type: 'string', description: 'controller account' },
    { key: 'password', scope: 'controller', column: 'bmc_secret', type: 'secret', description: 'controller password (stored sealed)' },
  ],
  load: async () => ({ name: 'redfish', interfaces: {} }),
};
