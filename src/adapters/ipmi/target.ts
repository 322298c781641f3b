// The IPMI login of a machine's registered controller (adapters/controller.ts): address,
// port, user, the password opened at the last moment, and the cipher suite, or the probe
// a previous call remembered when the suite is 'auto'. The password never leaves the process.
import type { Db } from '../../store/db.js';
import { rememberProbe, rememberedProbe, type BmcTarget, type ProbeResult } from '../../ipmi/session.js';
import { type ControllerRow, controllerOf, controllerPassword } from '../controller.js';
import { declaredSetting } from '../settings.js';
import { DriverError, type MachineRef } from '../types.js';
import { IPMI } from './spec.js';

/** RMCP+'s port, as the spec declares it. */
const DEFAULT_IPMI_PORT = Number(declaredSetting(IPMI.settings, 'port')!.default);

/** The IPMI login of a registered ipmi controller; a missing part is a DriverError naming it. */
export function bmcTargetOf(db: Db, row: ControllerRow): BmcTarget {
  if (!row.bmc_address) throw new DriverError(`${row.name}: no BMC address registered`, { layer: 'configuration' });
  if (!row.bmc_secret) {
    throw new DriverError(`${row.name}: no BMC password stored (dscli setServer ${row.name} password_file=…)`, {
      layer: 'authentication', detail: `no BMC password stored (dscli setServer ${row.name} password_file=…)`,
    });
  }
  const t: BmcTarget = {
    host: row.bmc_address,
    port: row.bmc_port ?? DEFAULT_IPMI_PORT,
    user: row.bmc_user ?? '',
    // A SecretError (missing or replaced key file) reaches the caller as it is: it is about this host, not the BMC.
    password: controllerPassword(db, row),
    cipherSuite: row.cipher_suite ?? 'auto',
    name: row.name,
  };
  if (row.cipher_suite === null && row.bmc_probe && !rememberedProbe(t.host, t.port)) {
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

/** The login of the machine's controller, which must be an ipmi one. */
export function targetFor(db: Db, m: MachineRef): { row: ControllerRow; target: BmcTarget } {
  const row = controllerOf(db, m);
  if (!row || row.mgmt_type !== 'ipmi' || !row.bmc_address) {
    throw new DriverError(`${m.name}: no IPMI BMC registered for this machine (dscli createServer ${m.name} mgmt=ipmi address=… user=… password_file=…)`, { layer: 'configuration' });
  }
  return { row, target: bmcTargetOf(db, row) };
}
