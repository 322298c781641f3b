// The sim driver's declaration: it serves every interface from state kept in the
// store, for the demo and the engine's tests; it proves no protocol.
import type { DriverSpec } from '../types.js';
import { COMPONENT } from './schema.js';
import { DELAY_SETTING } from './state.js';

export const SIM: DriverSpec = {
  name: 'sim',
  schema: COMPONENT,
  description: 'a simulated data centre kept in the store (demonstrations and engine tests; proves no protocol)',
  interfaces: ['power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor', 'info'],
  controller: true,
  settings: [
    DELAY_SETTING,
    {
      key: 'delay_ms', scope: 'machine', type: 'integer', min: 0,
      description: "delay of every simulated operation on this machine in ms (a slow BMC), instead of the sim.delay_ms settings",
    },
  ],
  load: async () => (await import('./index.js')).createSimDriver(),
};
