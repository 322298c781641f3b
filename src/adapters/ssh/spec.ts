// The ssh deploy driver's declaration: scenarios over SSH, local scripts on this server.
import type { DriverSpec } from '../types.js';
import { LOCAL } from '../local/spec.js';

export const SSH: DriverSpec = {
  name: 'ssh',
  description: 'deploy: scenarios run on the machine over SSH (host keys accepted with kanri ssh trust), local scripts on this server',
  interfaces: ['deploy'],
  settings: [
    { key: 'os_address', scope: 'machine', column: 'os_address', type: 'string', description: "the machine's OS address (else the first IP of its host setting's NIC 1)" },
    { key: 'ssh_port', scope: 'machine', column: 'ssh_port', type: 'integer', min: 1, max: 65535, description: 'SSH port of this machine' },
    { key: 'ssh_user', scope: 'machine', column: 'ssh_user', type: 'string', description: 'SSH user of this machine' },
    { key: 'ssh_key_path', scope: 'machine', column: 'ssh_key_path', type: 'path', description: 'private key file for this machine (read at connect time, never logged)' },
    { key: 'ssh.port', scope: 'global', type: 'integer', min: 1, max: 65535, default: 22, description: 'SSH port when the machine sets none' },
    { key: 'ssh.user', scope: 'global', type: 'string', default: 'root', description: 'SSH user when the machine sets none' },
    { key: 'ssh.key_path', scope: 'global', type: 'path', description: 'private key file when the machine sets none' },
    { key: 'ssh.connect_timeout_s', scope: 'global', type: 'number', min: 0.001, default: 10, description: 'connection and handshake deadline (s)' },
    { key: 'ssh.timeout_s', scope: 'global', type: 'number', min: 0.001, default: 7200, description: 'a scenario still running after this many seconds is stopped' },
    { key: 'ssh.shutdown_command', scope: 'global', type: 'string', default: 'shutdown -h now', description: 'what dscli shutdownOs via=ssh runs on the machine (as its ssh_user)' },
    ...LOCAL.settings,
  ],
  load: async () => (await import('./index.js')).createSshDriver(),
};
