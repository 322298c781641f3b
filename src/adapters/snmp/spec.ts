// The snmp vlan driver's declaration: a machine's NICs are bridge ports of a physical
// switch, put in the group's VLAN with IEEE 802.1Q Q-BRIDGE-MIB SETs (SNMP v2c or v3).
import type { Db } from '../../store/db.js';
import { SettingReader } from '../setting-reader.js';
import { groupVlan, nicPorts, switchPortSettings } from '../switch-ports.js';
import type { DriverSpec, MachineRef, SettingSpec } from '../types.js';

export const SNMP_PORT = 161;
export const AUTH_PROTOCOLS = ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export const PRIV_PROTOCOLS = ['none', 'des', 'aes', 'aes256b', 'aes256r'] as const;

export const SNMP_SETTINGS: readonly SettingSpec[] = [
  ...switchPortSettings(`the switch's SNMP agent, host or host:port (port ${SNMP_PORT} when omitted)`, 'its bridge port number (dot1dBasePort)', 'integer'),
  { key: 'default_vid', scope: 'group', type: 'integer', min: 1, max: 4094, default: 1, description: "the VLAN an access port returns to when it leaves the group's VLAN" },
  { key: 'version', scope: 'group', type: 'string', values: ['2c', '3'], default: '2c', description: 'SNMP version' },
  { key: 'community', scope: 'group', type: 'secret', description: 'SNMP v2c community with write access (kanri driver secret --group G snmp community)' },
  { key: 'user', scope: 'group', type: 'string', description: 'SNMP v3 user name' },
  { key: 'auth_protocol', scope: 'group', type: 'string', values: AUTH_PROTOCOLS, default: 'sha', description: 'SNMP v3 authentication protocol' },
  { key: 'auth_key', scope: 'group', type: 'secret', description: 'SNMP v3 authentication pass phrase (kanri driver secret)' },
  { key: 'priv_protocol', scope: 'group', type: 'string', values: PRIV_PROTOCOLS, default: 'aes', description: 'SNMP v3 privacy protocol (none: authentication only)' },
  { key: 'priv_key', scope: 'group', type: 'secret', description: 'SNMP v3 privacy pass phrase (kanri driver secret)' },
  { key: 'snmp.timeout_s', scope: 'global', type: 'number', min: 0.1, max: 60, default: 2, description: 'wait for an answer before sending a request again (s)' },
  { key: 'snmp.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 2, description: 'times a request is sent again' },
];

export function reader(db: Db, machineId: number, groupId: number | null | undefined): SettingReader {
  return new SettingReader(db, 'snmp', SNMP_SETTINGS, { machineId, groupId: groupId ?? null });
}

const secretHint = (key: string): string => `kanri driver secret --group GROUP snmp ${key}, the value on standard input`;

function validate(db: Db, m: MachineRef, _iface: string, groupId?: number | null): string[] {
  const r = reader(db, m.id, groupId);
  const out = r.problems(['switch', 'vid', 'nics', 'mode', 'default_vid', 'version', 'user', 'auth_protocol', 'priv_protocol', 'snmp.timeout_s', 'snmp.retries']);
  if (out.length) return out;
  try {
    nicPorts(r, m.name);
  } catch (e) {
    out.push((e as Error).message);
  }
  if (r.num('vid') === undefined && !groupVlan(db, groupId)) out.push("no VLAN for the group: set its vlan (the VLAN's name on the switch) or the snmp setting vid");
  const secrets = r.problems(['community', 'auth_key', 'priv_key']);
  if (secrets.length) return [...out, ...secrets];
  if (r.str('version') === '3') {
    if (r.str('user') === undefined) out.push('SNMP v3 needs the group\'s snmp setting user');
    if (r.str('auth_key') === undefined) out.push(`SNMP v3 needs an authentication key: ${secretHint('auth_key')}`);
    if (r.str('priv_protocol') !== 'none' && r.str('priv_key') === undefined) out.push(`SNMP v3 with privacy ${r.str('priv_protocol')} needs a privacy key: ${secretHint('priv_key')} (or priv_protocol: none)`);
  } else if (r.str('community') === undefined) {
    out.push(`SNMP v2c needs the switch's write community: ${secretHint('community')}`);
  }
  return out;
}

export const SNMP: DriverSpec = {
  name: 'snmp',
  description: 'vlan: ports of a physical switch, with IEEE 802.1Q Q-BRIDGE-MIB SETs (SNMP v2c or v3), read back after every SET',
  interfaces: ['vlan'],
  settings: SNMP_SETTINGS,
  validate,
  load: async () => (await import('./index.js')).createSnmpDriver(),
};
