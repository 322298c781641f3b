// The haproxy lb driver's declaration: a group's load-balancing group is a backend of an
// HAProxy, changed through its runtime API (the stats socket at level admin).
import { prepared } from '../../store/statements.js';
import { isIP } from 'node:net';
import type { Db } from '../../store/db.js';
import { parseEndpoint } from '../endpoint.js';
import { SettingReader } from '../setting-reader.js';
import type { DriverSpec, MachineRef, SettingSpec } from '../types.js';
import { COMPONENT } from './schema.js';

export const HAPROXY_SETTINGS: readonly SettingSpec[] = [
  { key: 'socket', scope: 'group', type: 'string', description: "the HAProxy runtime API serving the group's backend: /path or unix:/path, or tcp:host:port (stats socket … level admin); else the setting haproxy.socket" },
  { key: 'haproxy.socket', scope: 'global', type: 'string', description: 'the runtime API of groups that set none' },
  { key: 'backend', scope: 'group', type: 'string', description: "the HAProxy backend (default: the group's load_balancer name)" },
  { key: 'port', scope: 'group', type: 'integer', min: 1, max: 65535, default: 80, description: 'the port the machines serve on' },
  { key: 'server_options', scope: 'group', type: 'string', description: 'options added to each server, as in add server (e.g. check inter 2s weight 10)' },
  { key: 'drain_timeout_s', scope: 'group', type: 'number', min: 0, description: "how long an unregistered machine may drain its sessions (else the setting lb.drain_timeout_s)" },
  { key: 'lb.drain_timeout_s', scope: 'global', type: 'number', min: 0, default: 30, description: 'how long a machine leaving a load-balancing group may drain its sessions before it is put in maintenance (s)' },
  { key: 'haproxy.timeout_s', scope: 'global', type: 'number', min: 0.1, max: 600, default: 5, description: 'deadline of one runtime API command (s)' },
  { key: 'haproxy.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 2, description: 'attempts again after a lost connection (the backend is read afresh first)' },
];

export const BACKEND_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
/** add server options: words, numbers, paths; never the CLI's ';' or '#'. */
export const SERVER_OPTIONS = /^[A-Za-z0-9_.:,=/@+ -]*$/;

export function reader(db: Db, machineId: number | null, groupId: number | null | undefined): SettingReader {
  return new SettingReader(db, 'haproxy', HAPROXY_SETTINGS, { machineId, groupId: groupId ?? null });
}

/** The group's load-balancing group name (its `load_balancer:`). */
export function groupLbName(db: Db, groupId: number | null | undefined): string | null {
  if (groupId == null) return null;
  return (prepared(db, 'SELECT lb_group FROM groups WHERE id = ?').get(groupId) as { lb_group: string | null } | undefined)?.lb_group ?? null;
}

function validate(db: Db, m: MachineRef, _iface: string, groupId?: number | null): string[] {
  const r = reader(db, m.id, groupId);
  const out = r.problems(['socket', 'backend', 'port', 'server_options', 'drain_timeout_s', 'lb.drain_timeout_s', 'haproxy.timeout_s', 'haproxy.retries']);
  if (out.length) return out;
  const socket = r.str('socket');
  if (socket === undefined) out.push("no HAProxy runtime API for the group: set its haproxy setting socket (driver_settings: { haproxy: { socket: unix:/run/haproxy/admin.sock } }) or the setting haproxy.socket");
  else {
    const e = parseEndpoint(socket);
    if (typeof e === 'string') out.push(`haproxy setting socket: ${e}`);
  }
  const backend = r.str('backend') ?? groupLbName(db, groupId);
  if (!backend || !BACKEND_NAME.test(backend)) out.push(`'${backend ?? ''}' is not an HAProxy backend name (letters, digits, _ . : -): set the group's haproxy setting backend`);
  const opts = r.str('server_options') ?? '';
  if (!SERVER_OPTIONS.test(opts)) out.push(`haproxy setting server_options '${opts}' holds a character the runtime API cannot take`);
  return out;
}

/** The address a load balancer sends to must be an IP address (the first of the host setting's NIC 1). */
export const validAddress = (a: string): boolean => isIP(a) !== 0;

export const HAPROXY: DriverSpec = {
  name: 'haproxy',
  schema: COMPONENT,
  description: 'lb: a backend of HAProxy, through its runtime API (add/enable, drain/maint/del server; kanri lb sync after a reload)',
  interfaces: ['lb'],
  settings: HAPROXY_SETTINGS,
  validate,
  load: async () => (await import('./index.js')).createHaproxyDriver(),
};
