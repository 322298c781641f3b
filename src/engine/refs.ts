// Loading the engine's views of machines, host settings, groups and software.
import type { Db } from '../store/db.js';
import type { HostRef, MachineRef, SoftwareRef } from '../adapters/types.js';
import { groupPathParts } from '../domain/paths.js';
import type { GroupInfo, ModelInfo } from './plan.js';
import { prepared } from '../store/statements.js';

export function machineRef(db: Db, id: number): MachineRef {
  const m = prepared(db, 'SELECT id, name, kind, uuid, mgmt_address FROM machines WHERE id = ?').get(id) as
    { id: number; name: string; kind: MachineRef['kind']; uuid: string | null; mgmt_address: string | null } | undefined;
  if (!m) throw new Error(`machine ${id} no longer exists`);
  const macs = (prepared(db, 'SELECT mac FROM machine_macs WHERE machine_id = ? ORDER BY nic_no').all(id) as Array<{ mac: string }>).map((x) => x.mac);
  return { id: m.id, name: m.name, kind: m.kind, uuid: m.uuid, macs, mgmtAddress: m.mgmt_address };
}

export function hostRef(db: Db, id: number): HostRef {
  const h = prepared(db, 'SELECT id, host_name FROM host_settings WHERE id = ?').get(id) as { id: number; host_name: string };
  const addrs = prepared(db, 'SELECT nic_no, address, netmask FROM host_setting_addresses WHERE host_setting_id = ? ORDER BY nic_no, seq').all(id) as Array<{ nic_no: number; address: string; netmask: string }>;
  const gws = prepared(db, 'SELECT nic_no, gateway FROM host_setting_gateways WHERE host_setting_id = ? ORDER BY nic_no, seq').all(id) as Array<{ nic_no: number; gateway: string }>;
  const count = Math.max(0, ...addrs.map((a) => a.nic_no), ...gws.map((g) => g.nic_no));
  const nics = Array.from({ length: count }, (_, i) => ({
    addresses: addrs.filter((a) => a.nic_no === i + 1).map((a) => ({ ip: a.address, netmask: a.netmask })),
    gateways: gws.filter((g) => g.nic_no === i + 1).map((g) => g.gateway),
  }));
  const tags = (prepared(db, 'SELECT tag FROM host_setting_tags WHERE host_setting_id = ? ORDER BY seq').all(id) as Array<{ tag: string }>).map((t) => t.tag);
  return { id: h.id, hostName: h.host_name, nics, tags };
}

/** The first address of the first NIC: what a load balancer and the monitor reach. */
export function primaryAddress(host: HostRef | null): string {
  return host?.nics[0]?.addresses[0]?.ip ?? '';
}

export function groupInfo(db: Db, id: number): GroupInfo {
  const g = prepared(db, 'SELECT id, name, machine_type, storage, vlan, lb_group, dpm_registration FROM groups WHERE id = ?').get(id) as
    { id: number; name: string; machine_type: GroupInfo['type']; storage: number; vlan: string | null; lb_group: string | null; dpm_registration: number };
  return {
    id: g.id, name: g.name, path: groupPathParts(db, g.id).join('\\'), type: g.machine_type,
    storage: !!g.storage, vlan: g.vlan, lbGroup: g.lb_group, dpm: !!g.dpm_registration,
  };
}

export function modelInfo(db: Db, id: number): ModelInfo {
  const m = prepared(db, 'SELECT id, name, register_dpm_on_create FROM models WHERE id = ?').get(id) as { id: number; name: string; register_dpm_on_create: number };
  return { id: m.id, name: m.name, registerDpmOnCreate: !!m.register_dpm_on_create };
}

export function softwareRef(db: Db, id: number): SoftwareRef {
  const s = prepared(db, 'SELECT id, name, kind, version, content_date, source FROM software WHERE id = ?').get(id) as
    { id: number; name: string; kind: SoftwareRef['kind']; version: string; content_date: string; source: string };
  return { id: s.id, name: s.name, kind: s.kind, version: s.version, date: s.content_date, source: s.source };
}

export function volumesOf(db: Db, hostId: number): string[] {
  return (prepared(db, 'SELECT v.name FROM host_setting_volumes hv JOIN disk_volumes v ON v.id = hv.volume_id WHERE hv.host_setting_id = ? ORDER BY v.name COLLATE NOCASE').all(hostId) as Array<{ name: string }>).map((v) => v.name);
}
