// A real snmpd (net-snmp) for the snmp driver's tests: on a free loopback UDP port, with
// a v2c write community and a v3 user (SHA/AES), the Q-BRIDGE-MIB tables served by a
// pass_persist script (qbridge-pass.py) from a JSON file; checked with snmpget.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Daemon, daemon, freeUdpPort, peerDir, waitFor } from './daemon.js';

const PASS = join(dirname(fileURLToPath(import.meta.url)), 'qbridge-pass.py');

export interface SwitchState {
  vlans: Record<string, { name: string; egress: string; untagged: string }>;
  pvid: Record<string, number>;
  fail_set?: string[];
}

export interface Snmpd {
  port: number;
  address: string;
  community: string;
  user: { name: string; auth: string; priv: string };
  /** snmpget -v2c (read community) of numeric OIDs: one value per OID as snmpget prints it (-Oqv). */
  snmpget(...oids: string[]): string[];
  state(): SwitchState;
  setState(s: SwitchState): void;
  stop(): Promise<void>;
}

/** A PortList in hex with the given ports, `octets` long. */
export function portList(ports: number[], octets = 4): string {
  const b = Buffer.alloc(octets);
  for (const p of ports) b[Math.floor((p - 1) / 8)]! |= 0x80 >> ((p - 1) % 8);
  return b.toString('hex');
}

/** `extra`: more snmpd.conf lines (a pass script of a test's own MIB). */
export async function startSnmpd(initial: SwitchState, extra: string[] = []): Promise<Snmpd> {
  const d = peerDir('snmpd');
  const stateFile = join(d.dir, 'qbridge.json');
  writeFileSync(stateFile, JSON.stringify(initial));
  mkdirSync(join(d.dir, 'persist'));
  mkdirSync(join(d.dir, 'mibs'));
  const community = `w${Math.random().toString(36).slice(2, 10)}`;
  const user = { name: 'kanri', auth: 'auth-pass-phrase-1', priv: 'priv-pass-phrase-1' };
  const env = { ...process.env, SNMP_PERSISTENT_DIR: join(d.dir, 'persist'), MIBDIRS: join(d.dir, 'mibs'), MIBS: '' };
  let proc: Daemon | undefined;
  let port = 0;
  for (let i = 0; i < 5; i++) {
    port = await freeUdpPort();
    const conf = join(d.dir, 'snmpd.conf');
    writeFileSync(conf, [
      `rocommunity public 127.0.0.1`,
      `rwcommunity ${community} 127.0.0.1`,
      `createUser ${user.name} SHA "${user.auth}" AES "${user.priv}"`,
      `rwuser ${user.name} priv`,
      `pass_persist .1.3.6.1.2.1.17.7 /usr/bin/python3 ${PASS} ${stateFile}`,
      ...extra,
      '',
    ].join('\n'));
    const p = daemon('/usr/sbin/snmpd', ['-f', '-Lo', '-C', '-c', conf, `udp:127.0.0.1:${port}`], { env });
    const get = (): boolean => {
      try {
        execFileSync('snmpget', ['-m', '', '-v2c', '-c', 'public', '-r', '0', '-t', '1', `127.0.0.1:${port}`, '1.3.6.1.2.1.1.3.0'], { env, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    try {
      await waitFor(() => {
        if (p.exited()) throw new Error(`snmpd exited:\n${p.log()}`);
        return get();
      }, 10_000, () => `snmpd did not answer on udp 127.0.0.1:${port}:\n${p.log()}`);
      proc = p;
      break;
    } catch (e) {
      await p.stop('SIGKILL');
      if (i === 4) throw e;
    }
  }
  return {
    port, address: `127.0.0.1:${port}`, community, user,
    snmpget: (...oids) => execFileSync('snmpget', ['-m', '', '-v2c', '-c', 'public', '-Oqv', '-r', '1', '-t', '2', `127.0.0.1:${port}`, ...oids], { env, encoding: 'utf8' }).trim().split('\n'),
    state: () => JSON.parse(readFileSync(stateFile, 'utf8')) as SwitchState,
    setState: (s) => writeFileSync(stateFile, JSON.stringify(s)),
    async stop() {
      await proc?.stop();
      d.remove();
    },
  };
}
