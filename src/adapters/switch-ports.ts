// Which switch ports a machine's VLAN step changes, for the vlan drivers (ovsdb, snmp):
// the group says which of its machines' NICs carry its VLAN (`nics`, default 1), with
// which VLAN ID (`vid`, else the VLAN name when it is a number) and how (`mode`: the
// access VLAN of the port, or one VLAN of its trunk); each machine says where each NIC
// is plugged in (`nic<n>.port`, on `nic<n>.switch` or the group's `switch`).
import { prepared } from '../store/statements.js';
import type { Db } from '../store/db.js';
import type { SettingReader } from './setting-reader.js';
import { DriverError, type SettingSpec } from './types.js';

export type PortMode = 'access' | 'trunk';
export interface NicPort { nic: number; switch: string; port: string; mode: PortMode }

export const MAX_NICS = 16;

/** The settings every vlan driver declares; `switchIs` and `portIs` say what the values are for it. */
export function switchPortSettings(switchIs: string, portIs: string, portType: 'string' | 'integer'): SettingSpec[] {
  const index = { min: 1, max: MAX_NICS };
  return [
    { key: 'switch', scope: 'group', type: 'string', description: `the switch the group's VLAN is on: ${switchIs} (a machine's nic<n>.switch overrides it)` },
    { key: 'vid', scope: 'group', type: 'integer', min: 1, max: 4094, description: "the VLAN ID of the group's VLAN (default: the VLAN name, when it is a number)" },
    { key: 'nics', scope: 'group', type: 'string', default: '1', description: "the NICs of each machine that carry the group's VLAN, e.g. 1 or 1,2" },
    { key: 'mode', scope: 'group', type: 'string', values: ['access', 'trunk'], default: 'access', description: "access: the VLAN becomes the port's untagged (access) VLAN; trunk: it joins the port's tagged VLANs" },
    { key: 'nic<n>.port', scope: 'machine', type: portType, index, ...(portType === 'integer' ? { min: 1, max: 4096 } : {}), description: `the switch port NIC n of this machine is plugged into: ${portIs}` },
    { key: 'nic<n>.switch', scope: 'machine', type: 'string', index, description: 'the switch NIC n is plugged into, when it is not the group\'s' },
    { key: 'nic<n>.mode', scope: 'machine', type: 'string', index, values: ['access', 'trunk'], description: "the mode for NIC n's port, when it is not the group's" },
  ];
}

function nicList(r: SettingReader): number[] {
  const text = r.need('nics');
  const out: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const n = Number(part);
    if (!/^[0-9]+$/.test(part) || n < 1 || n > MAX_NICS) {
      throw new DriverError(`${r.driver} setting nics must list NIC numbers from 1 to ${MAX_NICS} separated by commas, not '${text}'`, { layer: 'configuration' });
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** The ports of the machine's VLAN NICs; a missing port or switch is a configuration error naming the key. */
export function nicPorts(r: SettingReader, machine: string): NicPort[] {
  return nicList(r).map((nic) => {
    const port = r.str(`nic${nic}.port`);
    if (port === undefined) {
      throw new DriverError(`${machine}: the switch port of NIC ${nic} is not set (driver_settings: { ${r.driver}: { nic${nic}.port: … } } of the machine)`, { layer: 'configuration' });
    }
    const sw = r.str(`nic${nic}.switch`) ?? r.str('switch');
    if (sw === undefined) {
      throw new DriverError(`${machine}: no switch for NIC ${nic}: set the group's ${r.driver} setting switch or the machine's nic${nic}.switch`, { layer: 'configuration' });
    }
    return { nic, switch: sw, port, mode: (r.str(`nic${nic}.mode`) ?? r.need('mode')) as PortMode };
  });
}

/** The VLAN name of a group (its `vlan:`), or null when it has none. */
export function groupVlan(db: Db, groupId: number | null | undefined): string | null {
  if (groupId == null) return null;
  return (prepared(db, 'SELECT vlan FROM groups WHERE id = ?').get(groupId) as { vlan: string | null } | undefined)?.vlan ?? null;
}

/** The VLAN ID: the group's vid setting, else the VLAN name when it is a number from 1 to 4094. */
export function vidOf(r: SettingReader, vlanName: string | null): number | undefined {
  const vid = r.num('vid');
  if (vid !== undefined) return vid;
  if (vlanName !== null && /^[0-9]+$/.test(vlanName.trim())) {
    const n = Number(vlanName);
    if (n >= 1 && n <= 4094) return n;
  }
  return undefined;
}

/** The ports grouped by switch, in the order the NICs are listed. */
export function bySwitch(ports: NicPort[]): Map<string, NicPort[]> {
  const out = new Map<string, NicPort[]>();
  for (const p of ports) out.set(p.switch, [...(out.get(p.switch) ?? []), p]);
  return out;
}
