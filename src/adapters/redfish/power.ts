// Redfish power, mechanism only: the ComputerSystem's PowerState read, and a command sent
// as a ResetType the service lists in ResetType@Redfish.AllowableValues (or in the
// action's ActionInfo), on one login. Reading first, waiting and verifying are the one
// power action's (adapters/power.ts), as for every driver.
import type { Db } from '../../store/db.js';
import { DriverError, type PowerAction, type PowerControl, type PowerInterface, type PowerState } from '../types.js';
import { type Json, arr, isObj, obj, str } from './session.js';
import { type Controller, onController, onWaitMs, softOffWaitMs } from './target.js';

/** A Redfish PowerState as the contract's: powering on or off still counts as on (not yet off). */
export function powerStateOf(v: string | undefined): PowerState {
  switch (v) {
    case 'On': case 'PoweringOn': case 'PoweringOff': return 'on';
    case 'Off': return 'off';
    case 'Paused': return 'suspended';
    default: return 'unknown';
  }
}

/** The ResetTypes to try for an action, in order of preference. */
const RESET_TYPES: Record<PowerAction, readonly string[]> = {
  on: ['On', 'ForceOn'],
  off: ['ForceOff'],
  soft: ['GracefulShutdown'],
  // Redfish's PowerCycle is the IPMI cycle; a hard restart where the service has none.
  cycle: ['PowerCycle', 'ForceRestart'],
  reset: ['ForceRestart'],
  diag: ['Nmi'],
};

interface ResetAction { target: string; allowed: string[] }

async function resetAction(c: Controller, sys: Json): Promise<ResetAction> {
  const a = obj(obj(sys, 'Actions'), '#ComputerSystem.Reset');
  const target = str(a, 'target');
  if (!a || !target) throw new DriverError(`${c.m.name}: not-supported error: the system offers no ComputerSystem.Reset action`, { layer: 'not-supported', detail: 'the system offers no ComputerSystem.Reset action' });
  let allowed = arr(a, 'ResetType@Redfish.AllowableValues').filter((x): x is string => typeof x === 'string');
  const info = str(a, '@Redfish.ActionInfo');
  if (!allowed.length && info) {
    const ai = await c.s.get(c.path(info));
    const p = arr(ai, 'Parameters').find((x) => isObj(x) && x.Name === 'ResetType');
    allowed = arr(p, 'AllowableValues').filter((x): x is string => typeof x === 'string');
  }
  return { target: c.path(target), allowed };
}

function waitFor(db: Db, action: PowerAction): number {
  if (action === 'soft') return softOffWaitMs(db);
  if (action === 'diag') return 0;
  return onWaitMs(db);
}

/** The system of one login, read and reset; the last reading keeps the Reset action's description. */
function control(c: Controller): PowerControl {
  let sys: Json | undefined;
  return {
    async read() {
      sys = await c.system();
      return powerStateOf(str(sys, 'PowerState'));
    },
    async send(command) {
      const reset = await resetAction(c, sys ?? await c.system());
      const type = RESET_TYPES[command].find((t) => reset.allowed.includes(t));
      if (!type) {
        const detail = `the service offers no ResetType for ${command === 'diag' ? 'an NMI' : command} (it allows: ${reset.allowed.join(', ') || 'none listed'})`;
        throw new DriverError(`${c.m.name}: not-supported error: ${detail}`, { layer: 'not-supported', detail });
      }
      await c.s.request('POST', reset.target, { ResetType: type });
      return { sent: type };
    },
    get attempts() { return c.s.attempts; },
    waiting: (ms) => c.waitPhase(ms),
  };
}

export const redfishPower: PowerInterface = {
  open: (ctx, m, o, use) => onController(ctx, m, o, (c) => use(control(c))),
  supports: { commands: ['on', 'off', 'soft', 'cycle', 'reset', 'diag'], waitMs: waitFor, pollMs: 500 },
};
