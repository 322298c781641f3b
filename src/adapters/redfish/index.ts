// The redfish driver: power and info of a machine's iLO-class controller over Redfish,
// with the login of its registered controller. pvmutl power steps, dscli and the monitor
// drive such a controller through this one driver.
import type { Driver } from '../types.js';
import { closeAgents } from './client.js';
import { redfishInfo } from './info.js';
import { redfishPower } from './power.js';
import { redfishPowerReading, redfishSetPowerLimit } from './power-limit.js';
import { redfishInventory } from './inventory.js';

export function createRedfishDriver(): Driver {
  return { name: 'redfish', interfaces: { power: redfishPower, info: { ...redfishInfo, ...redfishInventory, powerReading: redfishPowerReading, setPowerLimit: redfishSetPowerLimit } }, close: closeAgents };
}
