// Placeholder until the SSH scenario driver lands: refuses clearly.
import { type Driver, DriverError } from '../types.js';

export function createSshDriver(): Driver {
  return {
    name: 'ssh',
    async prepare() {
      throw new DriverError('the ssh deploy driver is not available in this build');
    },
    interfaces: {},
  };
}
