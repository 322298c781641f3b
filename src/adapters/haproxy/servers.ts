// What HAProxy says about a backend's servers: `show servers state BACKEND` (address,
// port, administrative state) and `show stat BACKEND 4 -1` (current sessions).
import { DriverError } from '../types.js';

export interface ServerState {
  name: string;
  address: string;
  port: number;
  /** srv_admin_state: forced/inherited/config/resolution maintenance, forced/inherited drain. */
  admin: number;
}

const MAINT = 0x01 | 0x02 | 0x04 | 0x20;
const DRAIN = 0x08 | 0x10;

export const inMaint = (s: ServerState): boolean => (s.admin & MAINT) !== 0;
export const draining = (s: ServerState): boolean => !inMaint(s) && (s.admin & DRAIN) !== 0;
export const ready = (s: ServerState): boolean => (s.admin & (MAINT | DRAIN)) === 0;
export const adminText = (s: ServerState): string => (inMaint(s) ? 'in maintenance' : draining(s) ? 'draining' : 'ready');

/** A server name HAProxy accepts: the machine's name when it can be one, else m<id>. */
export function serverName(machine: { id: number; name: string }): string {
  return /^[A-Za-z0-9_.:-]{1,64}$/.test(machine.name) ? machine.name : `m${machine.id}`;
}

/** Parses `show servers state BACKEND`; undefined when HAProxy has no such backend. */
export function parseServersState(text: string, backend: string, where: string): Map<string, ServerState> | undefined {
  if (/^Can't find backend/m.test(text)) return undefined;
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new DriverError(`HAProxy at ${where} answered 'show servers state ${backend}' with: ${text.slice(0, 200)}`, { layer: 'protocol' });
  const cols = header.slice(2).trim().split(/\s+/);
  const at = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new DriverError(`HAProxy at ${where}: 'show servers state' has no ${name} column`, { layer: 'protocol' });
    return i;
  };
  const [iName, iAddr, iAdmin, iPort, iBackend] = [at('srv_name'), at('srv_addr'), at('srv_admin_state'), at('srv_port'), at('be_name')];
  const out = new Map<string, ServerState>();
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || /^\d+$/.test(line)) continue;
    const f = line.split(' ');
    if (f[iBackend] !== backend) continue;
    out.set(f[iName]!, { name: f[iName]!, address: f[iAddr]!, port: Number(f[iPort]), admin: Number(f[iAdmin]) });
  }
  return out;
}

/** Current sessions per server from `show stat BACKEND 4 -1` (CSV). */
export function parseSessions(text: string): Map<string, number> {
  const lines = text.split('\n');
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  const iName = header.indexOf('svname');
  const iCur = header.indexOf('scur');
  const out = new Map<string, number>();
  if (iName < 0 || iCur < 0) return out;
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f.length > Math.max(iName, iCur)) out.set(f[iName]!, Number(f[iCur]) || 0);
  }
  return out;
}
