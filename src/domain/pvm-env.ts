// The environment a local script (or an SSH scenario) sees: the PVM_* variables
// of spec/provisioning-model.md §5, numbered from 1, NIC 1 being the primary NIC.
import type { Db } from '../store/db.js';
import type { PvmEnvironment } from '../adapters/types.js';

export function pvmEnvironment(db: Db, machineId: number, hostId: number | null): PvmEnvironment {
  const env: PvmEnvironment = {};
  const m = db.prepare('SELECT uuid FROM machines WHERE id = ?').get(machineId) as { uuid: string | null };
  const host = hostId === null ? undefined : db.prepare('SELECT host_name FROM host_settings WHERE id = ?').get(hostId) as { host_name: string } | undefined;
  env.PVM_HOST_NAME = host?.host_name ?? '';
  env.PVM_HOST_UUID = m.uuid ?? '';

  const numbered = (prefix: string, values: string[]): void => {
    env[`${prefix}_COUNT`] = String(values.length);
    values.forEach((v, i) => { env[`${prefix}_${i + 1}`] = v; });
  };
  numbered('PVM_MACHINE_TAG', (db.prepare('SELECT tag FROM machine_tags WHERE machine_id = ? ORDER BY seq').all(machineId) as Array<{ tag: string }>).map((t) => t.tag));
  numbered('PVM_SERVER_DEFINITION_TAG', hostId === null ? [] : (db.prepare('SELECT tag FROM host_setting_tags WHERE host_setting_id = ? ORDER BY seq').all(hostId) as Array<{ tag: string }>).map((t) => t.tag));

  const macs = (db.prepare('SELECT nic_no, mac FROM machine_macs WHERE machine_id = ? ORDER BY nic_no').all(machineId) as Array<{ nic_no: number; mac: string }>);
  env.PVM_NIC_COUNT = String(macs.length);
  for (const { nic_no, mac } of macs) {
    env[`PVM_MAC_ADDRESS_${nic_no}`] = mac.toUpperCase();
    env[`PVM_MAC_ADDRESS_H_${nic_no}`] = mac.toUpperCase().replace(/:/g, '-');
  }
  if (hostId !== null) {
    const addrs = db.prepare('SELECT nic_no, seq, address, netmask FROM host_setting_addresses WHERE host_setting_id = ? ORDER BY nic_no, seq').all(hostId) as Array<{ nic_no: number; seq: number; address: string; netmask: string }>;
    const counts = new Map<number, number>();
    for (const a of addrs) {
      counts.set(a.nic_no, (counts.get(a.nic_no) ?? 0) + 1);
      env[`PVM_IP_ADDRESS_${a.nic_no}_${a.seq}`] = a.address;
      env[`PVM_NETMASK_${a.nic_no}_${a.seq}`] = a.netmask;
    }
    for (const [nic, n] of counts) env[`PVM_IP_COUNT_${nic}`] = String(n);
    for (const g of db.prepare('SELECT nic_no, seq, gateway FROM host_setting_gateways WHERE host_setting_id = ? ORDER BY nic_no, seq').all(hostId) as Array<{ nic_no: number; seq: number; gateway: string }>) {
      env[`PVM_GATEWAY_${g.nic_no}_${g.seq}`] = g.gateway;
    }
  }
  return env;
}
