// The wol power driver's declaration: Wake-on-LAN magic packets to the machine's MACs
// (seed 004 L10750-10753: DeploymentManager's 電源ON, UDP to port 5561 of the managed
// machine; L11072-11075: ESMPRO's Remote Wake Up, UDP port 10101). A NIC wakes on the
// packet whatever its port: the default is the usual 9. Waking is all
// it can do; the power state comes from another source when one is configured (the
// machine's OS address answering ping, or its SSH service), else it is said to be unknown.
import type { Db } from '../../store/db.js';
import { SettingReader } from '../setting-reader.js';
import type { DriverSpec, MachineRef, SettingSpec } from '../types.js';

const ipv4 = (raw: string): string | undefined =>
  /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(raw) && raw.split('.').every((o) => Number(o) <= 255) ? undefined : `must be an IPv4 address (a broadcast address of the machine's LAN), not '${raw}'`;

export const WOL_SETTINGS: readonly SettingSpec[] = [
  { key: 'address', scope: 'group', type: 'string', default: '255.255.255.255', check: ipv4, description: "where the magic packets go: the directed broadcast address of the machine's LAN (group, else wol.address)" },
  { key: 'port', scope: 'group', type: 'integer', min: 1, max: 65535, default: 9, description: 'UDP port of the magic packets (9, discard; DeploymentManager sends to 5561, ESMPRO to 10101: a NIC wakes on any)' },
  { key: 'state_from', scope: 'group', type: 'string', values: ['none', 'ping', 'ssh'], default: 'none', description: "where the power state is read: ping (its OS address answers ICMP echo: on), ssh (its SSH service sends its banner: on) or none (unknown)" },
  { key: 'wol.packets', scope: 'global', type: 'integer', min: 1, max: 10, default: 3, description: 'magic packets sent per MAC (UDP may lose one), 100 ms apart' },
  { key: 'wol.on_wait_s', scope: 'global', type: 'number', min: 0, max: 3600, default: 300, description: 'with a state source: how long a power-on waits for the machine to answer (s)' },
  { key: 'wol.probe_timeout_s', scope: 'global', type: 'number', min: 0.1, max: 60, default: 3, description: 'deadline of one state probe (s)' },
];

export function wolReader(db: Db, machineId: number, groupId: number | null | undefined): SettingReader {
  return new SettingReader(db, 'wol', WOL_SETTINGS, { machineId, groupId: groupId ?? null });
}

function validate(db: Db, m: MachineRef, _iface: string, groupId?: number | null): string[] {
  const out = wolReader(db, m.id, groupId).problems(['address', 'port', 'state_from', 'wol.packets', 'wol.on_wait_s', 'wol.probe_timeout_s']);
  const macs = db.prepare('SELECT count(*) AS n FROM machine_macs WHERE machine_id = ?').get(m.id) as { n: number };
  if (macs.n === 0) out.push(`${m.name} has no MAC address: Wake-on-LAN needs the MACs of its NICs (macs: in the data-centre description)`);
  return out;
}

export const WOL: DriverSpec = {
  name: 'wol',
  description: 'power: Wake-on-LAN magic packets to each MAC of the machine (power on only); state from ping or its SSH service when state_from says so, else unknown',
  interfaces: ['power'],
  settings: WOL_SETTINGS,
  validate,
  load: async () => (await import('./index.js')).createWolDriver(),
};
