// Redfish power: the ComputerSystem's PowerState read first, only a needed change sent,
// as a ResetType the service lists in ResetType@Redfish.AllowableValues (or in the
// action's ActionInfo), and the state read back — the same idempotent result as the
// ipmi driver's (before, after, changed, verified).
import { type CallOptions, type DriverContext, DriverError, type MachineRef, type PowerAction, type PowerChange, type PowerInterface, type PowerState } from '../types.js';
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

function plan(action: PowerAction, before: PowerState, onIfOff: boolean): { send?: PowerAction; expect?: PowerState; note?: string } {
  switch (action) {
    case 'on':
      return before === 'on' ? { note: 'already on' } : { send: 'on', expect: 'on' };
    case 'off':
      return before === 'off' ? { note: 'already off' } : { send: 'off', expect: 'off' };
    case 'soft':
      return before === 'off' ? { note: 'already off' } : { send: 'soft', expect: 'off', note: 'GracefulShutdown asks the OS; it may take a while or be ignored' };
    case 'cycle':
    case 'reset':
      if (before === 'off') return onIfOff ? { send: 'on', expect: 'on', note: `was off: powered on instead of ${action}` } : { note: `off: not ${action === 'cycle' ? 'cycled' : 'reset'} (use onIfOff to power on)` };
      return { send: action, expect: 'on' };
    case 'diag':
      return before === 'off' ? { note: 'off: no NMI sent' } : { send: 'diag' };
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = (): void => { clearTimeout(t); reject(new DriverError('canceled while waiting for the power state', { layer: 'network', aborted: true, detail: 'canceled while waiting for the power state' })); };
  if (signal.aborted) return onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
});

function waitFor(ctx: DriverContext, action: PowerAction): number {
  if (action === 'soft') return softOffWaitMs(ctx.db);
  if (action === 'diag') return 0;
  return onWaitMs(ctx.db);
}

async function act(c: Controller, action: PowerAction, o: { waitMs: number; onIfOff: boolean; force: boolean }, started: number): Promise<PowerChange> {
  let sys: Json | undefined;
  let before: PowerState = 'unknown';
  try {
    sys = await c.system();
    before = powerStateOf(str(sys, 'PowerState'));
  } catch (e) {
    if (!o.force) throw e;
  }
  if (before === 'unknown' && !o.force && sys) {
    throw new DriverError(`${c.m.name}: controller error: the system reports no known PowerState ('${str(sys, 'PowerState') ?? 'none'}'); nothing sent`, { layer: 'controller', detail: `the system reports no known PowerState; nothing sent` });
  }
  const p = plan(action, before, o.onIfOff);
  const out: PowerChange = { action, before, after: before, changed: false, attempts: 0, elapsedMs: 0 };
  if (p.note) out.note = p.note;
  if (!p.send) {
    out.attempts = c.s.attempts;
    out.elapsedMs = Date.now() - started;
    return out;
  }
  const reset = await resetAction(c, sys ?? await c.system());
  const type = RESET_TYPES[p.send].find((t) => reset.allowed.includes(t));
  if (!type) {
    const detail = `the service offers no ResetType for ${p.send === 'diag' ? 'an NMI' : p.send} (it allows: ${reset.allowed.join(', ') || 'none listed'})`;
    throw new DriverError(`${c.m.name}: not-supported error: ${detail}`, { layer: 'not-supported', detail });
  }
  const sentBefore = c.s.attempts;
  await c.s.request('POST', reset.target, { ResetType: type });
  out.sent = type;
  out.changed = true;
  out.attempts = c.s.attempts - sentBefore;
  if (o.waitMs > 0 && p.expect) {
    c.waitPhase(o.waitMs);
    const until = Date.now() + o.waitMs;
    for (;;) {
      out.after = powerStateOf(str(await c.system(), 'PowerState'));
      if (out.after === p.expect) { out.verified = true; break; }
      if (Date.now() + 500 > until) { out.verified = false; break; }
      await sleep(500, c.ctx.signal);
    }
  } else {
    out.after = powerStateOf(str(await c.system(), 'PowerState'));
  }
  out.elapsedMs = Date.now() - started;
  return out;
}

export const redfishPower: PowerInterface = {
  async state(ctx: DriverContext, m: MachineRef, o?: CallOptions) {
    const started = Date.now();
    return onController(ctx, m, o, async (c) => {
      const state = powerStateOf(str(await c.system(), 'PowerState'));
      return { state, attempts: c.s.attempts, elapsedMs: Date.now() - started };
    });
  },
  async act(ctx, m, action, o = {}) {
    const started = Date.now();
    const waitMs = o.waitMs ?? waitFor(ctx, action);
    return onController(ctx, m, o, (c) => act(c, action, { waitMs, onIfOff: o.onIfOff ?? false, force: o.force ?? false }, started));
  },
};
