// A machine's management controller as the store keeps it (V4_DSCLI columns on
// `machines`), and the IPMI login built from it. Shared by dscli and the ipmi power
// driver so that both drive the same BMC the same way. The password is decrypted here,
// at the last moment, and never leaves the process.
import type { Db } from '../../store/db.js';
import { openSecret } from '../../store/secrets.js';
import { rememberProbe, rememberedProbe, type BmcTarget, type ProbeResult } from '../../ipmi/session.js';

export type MgmtType = 'ipmi' | 'redfish' | 'sim';

export interface BmcRow {
  id: number;
  name: string;
  mgmt_type: MgmtType | null;
  bmc_address: string | null;
  bmc_port: number | null;
  bmc_user: string | null;
  bmc_secret: string | null;
  cipher_suite: number | null;
  bmc_probe: string | null;
  last_power: string | null;
  last_status: string | null;
  os_address: string | null;
  ssh_user: string | null;
  ssh_key_path: string | null;
  hw_model_name: string | null;
}

export const BMC_COLUMNS = 'id, name, mgmt_type, bmc_address, bmc_port, bmc_user, bmc_secret, cipher_suite, bmc_probe, last_power, last_status, os_address, ssh_user, ssh_key_path, hw_model_name';

/** The AAD a BMC password is sealed with: bound to its machine row. */
export function bmcSecretPurpose(machineId: number): string {
  return `bmc-password:${machineId}`;
}

export function bmcRowById(db: Db, id: number): BmcRow | undefined {
  return db.prepare(`SELECT ${BMC_COLUMNS} FROM machines WHERE id = ?`).get(id) as BmcRow | undefined;
}

export const DEFAULT_IPMI_PORT = 623;

/** The IPMI login of a registered ipmi server (throws when something is missing). */
export function bmcTargetOf(db: Db, row: BmcRow): BmcTarget {
  if (!row.bmc_address) throw new Error(`${row.name}: no BMC address registered`);
  const t: BmcTarget = {
    host: row.bmc_address,
    port: row.bmc_port ?? DEFAULT_IPMI_PORT,
    user: row.bmc_user ?? '',
    password: row.bmc_secret ? openSecret(db, row.bmc_secret, bmcSecretPurpose(row.id)) : '',
    cipherSuite: row.cipher_suite ?? 'auto',
    name: row.name,
  };
  if (row.cipher_suite === null && row.bmc_probe) {
    // A remembered probe saves the discovery round trips.
    try {
      const p = JSON.parse(row.bmc_probe) as ProbeResult;
      if (!rememberedProbe(p.host, p.port)) rememberProbe(p);
    } catch {
      // A damaged probe record only costs a new probe.
    }
  }
  return t;
}
