// The iscsi-tgt storage driver's declaration: a disk volume is a target of a Linux tgt
// iSCSI target (tgtd); connecting it to a machine allows the machine's initiator on it.
import { isIP } from 'node:net';
import type { Db } from '../../store/db.js';
import { SettingReader } from '../setting-reader.js';
import { knownKeys } from '../ssh/known-hosts.js';
import type { DriverSpec, MachineRef, SettingSpec } from '../types.js';

export const ISCSI_TGT_SETTINGS: readonly SettingSpec[] = [
  { key: 'host', scope: 'group', type: 'string', description: 'the storage host running tgtd, reached over SSH (its host key accepted with kanri ssh trust --address HOST); empty: tgtd on this server' },
  { key: 'ssh_port', scope: 'group', type: 'integer', min: 1, max: 65535, default: 22, description: "the storage host's SSH port" },
  { key: 'ssh_user', scope: 'group', type: 'string', default: 'root', description: 'the SSH user on the storage host (it runs tgtadm)' },
  { key: 'ssh_key', scope: 'group', type: 'secret', description: 'the SSH private key for the storage host, sealed (kanri driver secret --group G iscsi-tgt ssh_key < key)' },
  { key: 'ssh_key_path', scope: 'group', type: 'path', description: 'a private key file for the storage host, when no ssh_key is sealed' },
  { key: 'control_port', scope: 'group', type: 'integer', min: 0, max: 32767, default: 0, description: "tgtd's --control-port (its management socket is /var/run/tgtd/socket.<port>)" },
  { key: 'client', scope: 'group', type: 'string', values: ['native', 'tgtadm'], default: 'native', description: "how a tgtd on this server is reached: native (its management socket, as tgtadm does) or tgtadm (the command; e.g. through sudo)" },
  { key: 'socket', scope: 'group', type: 'path', description: "tgtd's management socket when it is not /var/run/tgtd/socket.<control_port>" },
  { key: 'tgtadm', scope: 'group', type: 'string', default: 'tgtadm', description: 'the tgtadm command (e.g. sudo -n tgtadm), on the storage host or here' },
  { key: 'target_prefix', scope: 'group', type: 'string', description: "a volume's target is <target_prefix>:<volume name> (default: the target whose name is the volume's, or ends in :<volume name>)" },
  { key: 'initiator', scope: 'machine', type: 'string', description: "the machine's iSCSI initiator: its IQN (iqn.…) or IP address (default: the first address of its host setting's NIC 1)" },
  { key: 'iscsi-tgt.timeout_s', scope: 'global', type: 'number', min: 0.1, max: 600, default: 10, description: 'deadline of one request to tgtd (s)' },
  { key: 'iscsi-tgt.retries', scope: 'global', type: 'integer', min: 0, max: 5, default: 1, description: 'attempts again after a lost connection (the targets are read afresh first)' },
];

export const IQN = /^(iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:[A-Za-z0-9.:_-]+)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;
export const COMMAND = /^[A-Za-z0-9_./ -]+$/;

export function reader(db: Db, machineId: number | null, groupId: number | null | undefined): SettingReader {
  return new SettingReader(db, 'iscsi-tgt', ISCSI_TGT_SETTINGS, { machineId, groupId: groupId ?? null });
}

const validInitiator = (v: string): boolean => IQN.test(v) || isIP(v) !== 0;

function validate(db: Db, m: MachineRef, _iface: string, groupId?: number | null): string[] {
  const r = reader(db, m.id, groupId);
  const out = r.problems(['host', 'ssh_port', 'ssh_user', 'ssh_key_path', 'control_port', 'client', 'socket', 'tgtadm', 'target_prefix', 'initiator', 'iscsi-tgt.timeout_s', 'iscsi-tgt.retries']);
  if (out.length) return out;
  const initiator = r.str('initiator');
  if (initiator !== undefined && !validInitiator(initiator)) out.push(`${m.name}: iscsi-tgt setting initiator '${initiator}' is neither an iSCSI name (iqn.…) nor an IP address`);
  if (!COMMAND.test(r.need('tgtadm'))) out.push(`iscsi-tgt setting tgtadm '${r.need('tgtadm')}' is not a command line kanri can run safely`);
  const host = r.str('host');
  if (host !== undefined) {
    const secret = r.problems(['ssh_key']);
    if (secret.length) return [...out, ...secret];
    if (r.str('ssh_key') === undefined && r.str('ssh_key_path') === undefined) {
      out.push(`no SSH key for the storage host ${host}: kanri driver secret --group GROUP iscsi-tgt ssh_key (the key on standard input), or the setting ssh_key_path`);
    }
    const port = r.num('ssh_port')!;
    if (knownKeys(db, host, port).length === 0) out.push(`the host key of the storage host ${host}:${port} is not trusted: check it and run kanri ssh trust --address ${host} --port ${port}`);
  }
  return out;
}

export const ISCSI_TGT: DriverSpec = {
  name: 'iscsi-tgt',
  description: "storage: a disk volume is a target of a Linux tgt iSCSI target; connect allows the machine's initiator on it (locally or on the storage host over SSH)",
  interfaces: ['storage'],
  settings: ISCSI_TGT_SETTINGS,
  validate,
  load: async () => (await import('./index.js')).createIscsiTgtDriver(),
};
