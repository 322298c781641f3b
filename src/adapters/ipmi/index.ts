// Placeholder until the IPMI power driver lands: refuses clearly.
import { type Driver, DriverError } from '../types.js';

export function createIpmiDriver(): Driver {
  return {
    name: 'ipmi',
    async prepare() {
      throw new DriverError('the ipmi power driver is not available in this build');
    },
    interfaces: {},
  };
}
