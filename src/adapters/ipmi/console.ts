// The ipmi driver's serial console: Serial over LAN (src/ipmi/sol.ts) on the machine's
// registered BMC. The session lives as long as the console; its packets are bounded by
// the call's per-request timeout and retries, as every other call is.
import { openSol } from '../../ipmi/sol.js';
import type { CallOptions, ConsoleSession, DriverContext, MachineRef } from '../types.js';
import { onBmc, sessionOptions } from './index.js';

export async function openConsole(ctx: DriverContext, m: MachineRef, onData: (b: Buffer) => void, o?: CallOptions): Promise<ConsoleSession> {
  const so = sessionOptions(ctx, o);
  return onBmc(ctx, m, (t) => openSol(t, {
    ...(so.timeoutMs !== undefined ? { timeoutMs: so.timeoutMs } : {}),
    // A console outlives a command's retries: a lost packet is sent again a few more times.
    retries: Math.max(4, so.retries ?? 0),
    ...(so.deadlineMs !== undefined ? { deadlineMs: so.deadlineMs } : {}),
  }, onData));
}
