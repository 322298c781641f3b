// Where and as whom kanri reaches a machine over SSH: the machine's own
// columns (os_address, ssh_port, ssh_user, ssh_key_path), else the settings
// ssh.port / ssh.user / ssh.key_path, else 22 and root; the address falls back
// to the first IP of the host setting's first NIC.
import type { Db } from '../../store/db.js';
import type { HostRef } from '../types.js';
import { DriverError } from '../types.js';
import { settingNumber, settingText } from '../setting-reader.js';
import { SSH } from './spec.js';


export interface SshTarget {
  machine: string;
  address: string;
  port: number;
  user: string;
  /** Path of the private key file; read at connect time, never logged. */
  keyPath: string | undefined;
  /** What `kanri ssh trust` takes to accept this host's key, when it is not the machine's name. */
  trustArgs?: string;
}


export const connectTimeoutMs = (db: Db): number => settingNumber(db, SSH.settings, 'ssh.connect_timeout_s') * 1000;
export const runTimeoutMs = (db: Db): number => settingNumber(db, SSH.settings, 'ssh.timeout_s') * 1000;

interface MachineSsh { name: string; os_address: string | null; ssh_user: string | null; ssh_port: number | null; ssh_key_path: string | null; host_setting_id: number | null }

function machineSsh(db: Db, where: 'id' | 'name', value: number | string): MachineSsh | undefined {
  return db.prepare(`SELECT name, os_address, ssh_user, ssh_port, ssh_key_path, host_setting_id FROM machines WHERE ${where} = ?`).get(value) as MachineSsh | undefined;
}

function firstHostAddress(db: Db, hostSettingId: number): string | undefined {
  return (db.prepare('SELECT address FROM host_setting_addresses WHERE host_setting_id = ? AND nic_no = 1 ORDER BY seq LIMIT 1').get(hostSettingId) as { address: string } | undefined)?.address;
}

function build(db: Db, m: MachineSsh, hostAddress: string | undefined): SshTarget {
  const address = m.os_address?.trim() || hostAddress;
  if (!address) {
    throw new DriverError(`${m.name} has no address to reach it over SSH: set its os_address, or give its host setting an IP address on NIC 1`, { layer: 'configuration' });
  }
  const port = m.ssh_port ?? settingNumber(db, SSH.settings, 'ssh.port');
  const user = m.ssh_user?.trim() || settingText(db, SSH.settings, 'ssh.user')!.trim();
  const keyPath = m.ssh_key_path?.trim() || settingText(db, SSH.settings, 'ssh.key_path')?.trim() || undefined;
  return { machine: m.name, address, port, user, keyPath };
}

/** The target for a distribution: `host` is the identity the machine takes in this job. */
export function targetFor(db: Db, machineId: number, host: HostRef | null): SshTarget {
  const m = machineSsh(db, 'id', machineId);
  if (!m) throw new DriverError(`machine ${machineId} no longer exists`, { layer: 'configuration' });
  const hostAddress = host ? host.nics[0]?.addresses[0]?.ip : m.host_setting_id !== null ? firstHostAddress(db, m.host_setting_id) : undefined;
  return build(db, m, hostAddress);
}

/** The target of a machine by name, with its current host setting; undefined when there is no such machine. */
export function targetByName(db: Db, name: string): SshTarget | undefined {
  const m = machineSsh(db, 'name', name);
  if (!m) return undefined;
  return build(db, m, m.host_setting_id !== null ? firstHostAddress(db, m.host_setting_id) : undefined);
}
