// The ovsdb vlan driver's declaration: a machine's NICs are ports of an Open vSwitch,
// changed in its database over OVSDB (RFC 7047).
import type { Db } from '../../store/db.js';
import { parseEndpoint } from '../endpoint.js';
import { SettingReader } from '../setting-reader.js';
import { groupVlan, nicPorts, switchPortSettings, vidOf } from '../switch-ports.js';
import type { DriverSpec, MachineRef, SettingSpec } from '../types.js';

export const OVSDB_PORT = 6640;

export const OVSDB_SETTINGS: readonly SettingSpec[] = [
  ...switchPortSettings(`an OVSDB remote, unix:/run/openvswitch/db.sock or tcp:host:port (port ${OVSDB_PORT} when omitted)`, "the Port's name in the switch's database", 'string'),
  { key: 'ovsdb.timeout_s', scope: 'global', type: 'number', min: 0.1, max: 600, default: 5, description: 'deadline of one OVSDB request (s)' },
  { key: 'ovsdb.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 2, description: 'attempts again after a lost connection or a port changed by someone else meanwhile' },
];

export function reader(db: Db, machineId: number, groupId: number | null | undefined): SettingReader {
  return new SettingReader(db, 'ovsdb', OVSDB_SETTINGS, { machineId, groupId: groupId ?? null });
}

function validate(db: Db, m: MachineRef, _iface: string, groupId?: number | null): string[] {
  const r = reader(db, m.id, groupId);
  const out = r.problems(['switch', 'vid', 'nics', 'mode', 'ovsdb.timeout_s', 'ovsdb.retries']);
  if (out.length) return out;
  try {
    for (const p of nicPorts(r, m.name)) {
      const e = parseEndpoint(p.switch, OVSDB_PORT);
      if (typeof e === 'string') out.push(`${m.name}: switch of NIC ${p.nic}: ${e}`);
    }
  } catch (e) {
    out.push((e as Error).message);
  }
  if (vidOf(r, groupVlan(db, groupId)) === undefined) {
    out.push(`no VLAN ID for VLAN '${groupVlan(db, groupId) ?? ''}': set the group's ovsdb setting vid (1-4094)`);
  }
  return out;
}

export const OVSDB: DriverSpec = {
  name: 'ovsdb',
  description: "vlan: ports of an Open vSwitch (access tag or trunk list), in one OVSDB transaction per switch conditioned on the port's current value",
  interfaces: ['vlan'],
  settings: OVSDB_SETTINGS,
  validate,
  load: async () => (await import('./index.js')).createOvsdbDriver(),
};
