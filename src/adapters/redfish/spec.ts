// The redfish driver's declaration: power and info of an iLO-class controller over
// Redfish (HTTPS), for a machine registered with mgmt=redfish (dscli createServer,
// `bmc: { type: redfish }`). The controller columns hold address, port, user and the
// sealed password; what only Redfish needs (the system of a multi-system service, how
// the certificate is trusted, the login kind) are machine driver settings.
import type { Db } from '../../store/db.js';
import { prepared } from '../../store/statements.js';
import { controllerProblems } from '../controller.js';
import { SettingReader } from '../setting-reader.js';
import type { DriverSpec, MachineRef, SettingSpec } from '../types.js';
import { COMPONENT } from './schema.js';
import { fingerprintProblem } from './fingerprint.js';

const FALSE = ['false', 'no', 'off', '0'];
const isOff = (v: string | undefined): boolean => v !== undefined && FALSE.includes(v.trim().toLowerCase());

export const REDFISH_SETTINGS: readonly SettingSpec[] = [
  { key: 'address', scope: 'controller', column: 'bmc_address', type: 'string', required: true, description: 'controller address (IPv4, IPv6 or host name)' },
  { key: 'port', scope: 'controller', column: 'bmc_port', type: 'integer', min: 1, max: 65535, default: 443, description: 'HTTPS port' },
  { key: 'user', scope: 'controller', column: 'bmc_user', type: 'string', required: true, maxBytes: 256, description: 'controller account' },
  { key: 'password', scope: 'controller', column: 'bmc_secret', type: 'secret', required: true, maxBytes: 256, description: 'controller password (dscli createServer/setServer password_file=…, stored sealed)' },
  {
    key: 'system', scope: 'machine', type: 'string',
    description: 'Id of the ComputerSystem this registration manages on a service with several (else the only one)',
    check: (v) => (/^[^/?#\s]{1,255}$/.test(v) ? undefined : `must be a ComputerSystem Id (no /, ?, # or spaces), not '${v}'`),
  },
  { key: 'ca_file', scope: 'machine', type: 'path', description: "PEM file of the CA that signed the controller's certificate (its name must match the address)" },
  { key: 'fingerprint', scope: 'machine', type: 'string', check: fingerprintProblem, description: "pinned SHA-256 fingerprint of the controller's certificate (kanri redfish trust NAME)" },
  {
    key: 'verify', scope: 'machine', type: 'boolean', default: true,
    description: 'false turns certificate verification off (anyone on the path can then read the password; laboratories only)',
    warning: (v) => (isOff(v) ? "verify=off: the controller's certificate is not checked; anyone on the network path can pose as it and read its password" : undefined),
  },
  { key: 'auth', scope: 'machine', type: 'string', values: ['auto', 'session', 'basic'], default: 'auto', description: 'login: a Redfish session when the service has a SessionService (auto), always a session, or HTTP basic' },
  { key: 'redfish.deadline_s', scope: 'global', type: 'number', min: 0.001, default: 20, description: 'deadline of the requests of one power step or call on one controller (s)' },
  { key: 'redfish.request_timeout_s', scope: 'global', type: 'number', min: 0.001, default: 10, description: 'longest wait for one answer, within the deadline (s)' },
  { key: 'redfish.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 2, description: 'retries of a request on 503 or a failed connection (within the deadline)' },
  { key: 'redfish.on_wait_s', scope: 'global', type: 'number', min: 0.001, default: 60, description: 'how long a job waits for a machine to be on after power on or restart (s)' },
  { key: 'redfish.soft_off_wait_s', scope: 'global', type: 'number', min: 0.001, default: 300, description: 'how long a job waits for the OS to power off after GracefulShutdown (s)' },
  { key: 'redfish.event_destination', scope: 'global', type: 'string', description: "URL controllers post their events to (the event listener, e.g. https://manager:8443/redfish/events); dscli … events=on subscribes to it" },
  { key: 'redfish.listener_address', scope: 'global', type: 'string', default: '0.0.0.0', description: 'address the HTTPS event listener binds' },
  { key: 'redfish.listener_port', scope: 'global', type: 'integer', min: 1, max: 65535, default: 8443, description: 'port of the HTTPS event listener' },
  { key: 'redfish.listener_cert', scope: 'global', type: 'path', description: "PEM certificate (chain) of the event listener; controllers must trust it" },
  { key: 'redfish.listener_key', scope: 'global', type: 'path', description: 'PEM private key of the event listener' },
];

function groupOf(db: Db, machineId: number): number | null {
  return (prepared(db, 'SELECT group_id FROM machines WHERE id = ?').get(machineId) as { group_id: number | null } | undefined)?.group_id ?? null;
}

/** A machine's redfish settings (machine → group → global → default), read through their declarations. */
export function machineSettings(db: Db, machineId: number): SettingReader {
  return new SettingReader(db, 'redfish', REDFISH_SETTINGS, { machineId, groupId: groupOf(db, machineId) });
}

function problems(db: Db, m: MachineRef): string[] {
  const out = controllerProblems(db, m, 'redfish', 'Redfish controller');
  if (out.length) return out;
  return machineSettings(db, m.id).problems(['system', 'ca_file', 'fingerprint', 'verify', 'auth']);
}

export const REDFISH: DriverSpec = {
  name: 'redfish',
  schema: COMPONENT,
  description: 'power and info of an iLO-class controller over Redfish (HTTPS; certificates trusted explicitly)',
  interfaces: ['power', 'info'],
  controller: true,
  settings: REDFISH_SETTINGS,
  validate: (db, m) => problems(db, m),
  load: async () => (await import('./index.js')).createRedfishDriver(),
};
