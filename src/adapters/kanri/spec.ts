// The kanri driver's declaration: kanri's own monitor as the `monitor` interface of real
// machines. Registration is kanri's monitor (`kanri monitor` polls every machine with a
// management controller and matches its traps); "get and update machine information"
// reads the controller's inventory through the machine's controller driver (IPMI FRU and
// product name, Redfish System and Chassis). It is the monitor driver of a machine whose
// group and own description name none (registry.ts, driverNameFor).
import type { DriverSpec } from '../types.js';

export const KANRI_MONITOR: DriverSpec = {
  name: 'kanri',
  description: "kanri's own monitor: machines with a management controller are polled and their traps matched; inventory read through the controller (IPMI FRU, Redfish System/Chassis)",
  interfaces: ['monitor'],
  settings: [
    {
      key: 'fence', scope: 'group', type: 'string', values: ['none', 'vlan'], default: 'none',
      description: "how a takeover fences a source machine its controller cannot confirm off: vlan = the group's vlan driver confirms its ports are out of the group's VLAN (else the job waits for kanri machine confirm-off)",
    },
    { key: 'kanri.fence_poll_s', scope: 'global', type: 'number', min: 0.05, default: 1, description: 'how often a takeover waiting for fencing looks for a confirm-off (s)' },
    { key: 'kanri.fence_retry_s', scope: 'global', type: 'number', min: 0.1, default: 30, description: 'how often a takeover waiting for fencing asks the controller again (s)' },
    { key: 'kanri.inventory_deadline_s', scope: 'global', type: 'number', min: 0.1, default: 20, description: "deadline of reading one machine's inventory from its controller (s)" },
  ],
  load: async () => (await import('./index.js')).createKanriMonitorDriver(),
};
