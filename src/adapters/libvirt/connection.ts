// The connection to a VM server: its libvirt URI (driver setting `uri` of the VM-server
// machine), checked before any job uses it, and for remote URIs over SSH the host keys an
// administrator accepted (table ssh_known_hosts, kanri ssh trust) — never trusted on first
// use. libvirt's OpenSSH transport cannot be told which known_hosts file to read, so an
// ssh URI is spoken over libvirt's libssh transport with a known_hosts file written from
// the accepted keys and verification on: an unknown or changed key fails the connection.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../store/db.js';
import { SettingReader } from '../setting-reader.js';
import { knownKeys } from '../ssh/known-hosts.js';
import { DriverError, type MachineRef, type SettingSpec } from '../types.js';

export const URI_SETTING: SettingSpec = {
  key: 'uri', scope: 'machine', type: 'string', required: true,
  description: "the VM server's libvirt connection URI (qemu:///system, qemu+ssh://root@host/system, test+unix:///default?socket=…)",
};
export const KEY_SETTING: SettingSpec = {
  key: 'ssh_key_path', scope: 'machine', type: 'path',
  description: 'private key file for a +ssh URI (read by libvirt at connect time, never logged); else libvirt.ssh_key_path',
};

export interface ParsedUri {
  driver: string;
  transport: string | undefined;
  user: string | undefined;
  host: string | undefined;
  port: number | undefined;
  path: string;
  query: URLSearchParams;
}

/** A VM server's own connection settings (machine → group → global libvirt.<key>), read through their declarations. */
export const serverSettings = (db: Db, server: { id: number }): SettingReader => new SettingReader(db, 'libvirt', [URI_SETTING, KEY_SETTING], { machineId: server.id });

/** Splits a libvirt URI (driver[+transport]://[user@][host[:port]]/path[?query]); undefined when it is not one. */
export function parseUri(uri: string): ParsedUri | undefined {
  const m = /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/(?:([^@/?]*)@)?(\[[^\]]+\]|[^:/?]*)(?::(\d+))?(\/[^?]*)?(?:\?(.*))?$/i.exec(uri.trim());
  if (!m) return undefined;
  const port = m[5] === undefined ? undefined : Number(m[5]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return {
    driver: m[1]!.toLowerCase(), transport: m[2]?.toLowerCase(), user: m[3] || undefined, host: m[4] || undefined, port,
    path: m[6] ?? '/', query: new URLSearchParams(m[7] ?? ''),
  };
}

const SSH_TRANSPORTS = ['ssh', 'libssh', 'libssh2'];

/** What is wrong with a URI, or undefined. */
export function uriProblem(db: Db, server: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return `${server} has no libvirt URI: set driver_settings: { libvirt: { uri: … } } on the VM server`;
  const u = parseUri(raw);
  if (!u) return `${server}: '${raw}' is not a libvirt URI (driver[+transport]://[user@][host[:port]]/path)`;
  if (u.query.has('no_verify') && u.query.get('no_verify') !== '0') return `${server}: no_verify in the URI would accept any SSH host key; remove it and accept the key with kanri ssh trust`;
  if (u.query.has('known_hosts_verify') && u.query.get('known_hosts_verify') !== 'normal') return `${server}: known_hosts_verify must stay 'normal' (keys are accepted with kanri ssh trust)`;
  if (u.transport && SSH_TRANSPORTS.includes(u.transport)) {
    if (!u.host) return `${server}: an ssh URI needs a host`;
    const port = u.port ?? 22;
    if (knownKeys(db, u.host, port).length === 0) {
      return `${server}: no accepted SSH host key for ${u.host}:${port}; accept it with kanri ssh trust ${server} (its os_address must be ${u.host})`;
    }
  }
  return undefined;
}

let khDir: string | undefined;

function knownHostsFile(db: Db, host: string, port: number): string {
  khDir ??= mkdtempSync(join(tmpdir(), 'kanri-libvirt-'));
  chmodSync(khDir, 0o700);
  const name = port === 22 ? host : `[${host}]:${port}`;
  const lines = knownKeys(db, host, port).map((k) => `${name} ${k.keyType} ${k.key}`);
  const file = join(khDir, `known_hosts-${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${port}`);
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

process.once('exit', () => { if (khDir) rmSync(khDir, { recursive: true, force: true }); });

/** A VM server's URI as configured (what another daemon is given, e.g. as a migration target). */
export function configuredUri(db: Db, server: MachineRef): string {
  const raw = serverSettings(db, server).str(URI_SETTING.key);
  const problem = uriProblem(db, server.name, raw);
  if (problem) throw new DriverError(problem, { layer: 'configuration' });
  return raw!.trim();
}

/** The URI virsh connects with for a VM server (the ssh rewrite above applied). */
export function connectionUri(db: Db, server: MachineRef): string {
  const raw = configuredUri(db, server);
  const u = parseUri(raw)!;
  if (!u.transport || !SSH_TRANSPORTS.includes(u.transport)) return raw;
  const port = u.port ?? 22;
  const q = new URLSearchParams(u.query);
  q.set('known_hosts', knownHostsFile(db, u.host!, port));
  q.set('known_hosts_verify', 'normal');
  const key = serverSettings(db, server).str(KEY_SETTING.key);
  if (key) {
    q.set('keyfile', key);
    q.set('sshauth', 'privkey');
  }
  const auth = u.user ? `${u.user}@` : '';
  return `${u.driver}+libssh://${auth}${u.host}${u.port ? `:${u.port}` : ''}${u.path}?${q.toString()}`;
}

/** The VM server a VM lives on, as recorded in the store. */
export function serverOf(db: Db, vm: MachineRef): MachineRef {
  const r = db.prepare('SELECT s.id, s.name, s.kind, s.uuid, s.mgmt_address FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.id = ?').get(vm.id) as
    { id: number; name: string; kind: MachineRef['kind']; uuid: string | null; mgmt_address: string | null } | undefined;
  if (!r) throw new DriverError(`${vm.name} is on no VM server`, { layer: 'configuration' });
  return { id: r.id, name: r.name, kind: r.kind, uuid: r.uuid, macs: [], mgmtAddress: r.mgmt_address };
}
