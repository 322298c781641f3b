// The ipmi driver's declaration: power and info of a BMC over IPMI 2.0 / RMCP+, for a
// machine registered with mgmt=ipmi (dscli createServer, `bmc: { type: ipmi }`).
import { controllerProblems } from '../controller.js';
import type { DriverSpec } from '../types.js';

export const IPMI_CIPHERS = ['auto', '1', '2', '3', '15', '16', '17'] as const;

export const IPMI: DriverSpec = {
  name: 'ipmi',
  description: 'power and info of a BMC over IPMI 2.0 / RMCP+ (native, one UDP socket for every BMC)',
  interfaces: ['power', 'info'],
  controller: true,
  settings: [
    { key: 'address', scope: 'controller', column: 'bmc_address', type: 'string', required: true, description: 'BMC address (IPv4, IPv6 or host name)' },
    { key: 'port', scope: 'controller', column: 'bmc_port', type: 'integer', min: 1, max: 65535, default: 623, description: 'RMCP+ port' },
    { key: 'user', scope: 'controller', column: 'bmc_user', type: 'string', required: true, maxBytes: 16, description: 'BMC account (at most 16 bytes)' },
    { key: 'password', scope: 'controller', column: 'bmc_secret', type: 'secret', required: true, maxBytes: 20, description: 'BMC password (at most 20 bytes; dscli createServer/setServer password_file=…, stored sealed)' },
    { key: 'cipher', scope: 'controller', column: 'cipher_suite', type: 'string', values: IPMI_CIPHERS, default: '3', description: 'cipher suite, or auto to ask the BMC once and remember its answer' },
    { key: 'ipmi.deadline_s', scope: 'global', type: 'number', min: 0.001, default: 10, description: 'deadline of the commands of one power step on one BMC (s)' },
    { key: 'ipmi.on_wait_s', scope: 'global', type: 'number', min: 0.001, default: 60, description: 'how long a job waits for a machine to be on after power on or cycle (s)' },
    { key: 'ipmi.soft_off_wait_s', scope: 'global', type: 'number', min: 0.001, default: 300, description: 'how long a job waits for the OS to power off after an ACPI shutdown (s)' },
  ],
  validate: (db, m) => controllerProblems(db, m, 'ipmi', 'IPMI BMC'),
  load: async () => (await import('./index.js')).createIpmiDriver(),
};
