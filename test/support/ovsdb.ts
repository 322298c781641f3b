// A real ovsdb-server with the Open vSwitch schema (no kernel module, no vswitchd) for
// the ovsdb driver's tests: its database in a temporary directory, served on a unix
// socket there, checked with ovs-vsctl.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type Daemon, daemon, peerDir, waitFor } from './daemon.js';

export const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface Ovsdb {
  socket: string;
  remote: string;
  vsctl(...args: string[]): string;
  /** The port's access VLAN ('' when none) and trunk list, as ovs-vsctl prints them. */
  vlans(port: string): { tag: string; trunks: string };
  kill(signal?: NodeJS.Signals): void;
  pid(): number;
  /** Starts ovsdb-server again on the same database (after a kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOvsdb(ports: string[]): Promise<Ovsdb> {
  const d = peerDir('ovsdb');
  const db = join(d.dir, 'conf.db');
  const socket = join(d.dir, 'db.sock');
  execFileSync('ovsdb-tool', ['create', db, SCHEMA]);
  let proc: Daemon;
  // stderr is captured, not inherited: the readiness probe fails until the socket exists, and a
  // green run must not print those failures (a real failure carries the text in its error).
  const vsctl = (...args: string[]): string => execFileSync('ovs-vsctl', [`--db=unix:${socket}`, '--no-wait', '--timeout=5', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const start = async (): Promise<void> => {
    proc = daemon('ovsdb-server', [db, `--remote=punix:${socket}`, `--unixctl=${join(d.dir, 'ctl.sock')}`, '--no-chdir', `--log-file=${join(d.dir, 'ovsdb.log')}`]);
    await waitFor(() => {
      if (proc.exited()) throw new Error(`ovsdb-server exited:\n${proc.log()}`);
      try {
        vsctl('show');
        return true;
      } catch {
        return false;
      }
    }, 10_000, () => `ovsdb-server did not answer on ${socket}`);
  };
  await start();
  vsctl('init');
  vsctl('add-br', 'br0', ...ports.flatMap((p) => ['--', 'add-port', 'br0', p]));
  return {
    socket, remote: `unix:${socket}`, vsctl,
    vlans(port) {
      const [tag, trunks] = vsctl('get', 'port', port, 'tag', 'trunks').split('\n');
      return { tag: tag === '[]' ? '' : tag!, trunks: trunks! };
    },
    kill: (signal = 'SIGKILL') => proc.child.kill(signal),
    pid: () => proc.child.pid!,
    restart: start,
    async stop() {
      await proc.stop();
      d.remove();
    },
  };
}
