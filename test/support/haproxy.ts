// A real HAProxy for the haproxy driver's tests: its runtime API on a unix socket in a
// temporary directory (and on a free loopback TCP port), the backends given, and a
// frontend on a unix socket so that a test can hold a session open through a backend.
// Checked with HAProxy's own runtime API, read here without the driver's code.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type Daemon, daemon, freeTcpPort, peerDir, waitFor } from './daemon.js';

export interface Haproxy {
  socket: string;
  tcpPort: number;
  frontend: string;
  /** One runtime API command on a connection of its own (as socat would send it). */
  cli(command: string): Promise<string>;
  /** name -> "address:port admin_state" of a backend's servers. */
  servers(backend: string): Promise<Record<string, string>>;
  /** Stops HAProxy and starts it again from its configuration: servers added at run time are gone. */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  pid(): number;
  stop(): Promise<void>;
}

export function cli(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ path: socket });
    let out = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`haproxy did not answer ${command}`)); }, 5000);
    s.on('connect', () => s.write(command + '\n'));
    s.on('data', (d) => { out += d.toString(); });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(out); });
  });
}

export async function startHaproxy(backends: string[], opts: { staticServers?: Record<string, string> } = {}): Promise<Haproxy> {
  const d = peerDir('haproxy');
  const socket = join(d.dir, 'admin.sock');
  const frontend = join(d.dir, 'fe.sock');
  const tcpPort = await freeTcpPort();
  const cfg = join(d.dir, 'haproxy.cfg');
  writeFileSync(cfg, [
    'global',
    `  stats socket ${socket} level admin`,
    `  stats socket ipv4@127.0.0.1:${tcpPort} level admin`,
    '  stats timeout 1m',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    ...backends.flatMap((b) => [`backend ${b}`, '  balance roundrobin', ...Object.entries(opts.staticServers ?? {}).map(([n, a]) => `  server ${n} ${a}`)]),
    'frontend fe',
    `  bind unix@${frontend}`,
    `  default_backend ${backends[0]}`,
    '',
  ].join('\n'));
  let proc: Daemon;
  const start = async (): Promise<void> => {
    proc = daemon('haproxy', ['-f', cfg, '-db']);
    await waitFor(async () => {
      if (proc.exited()) throw new Error(`haproxy exited:\n${proc.log()}`);
      try {
        return (await cli(socket, 'show info')).includes('Name: HAProxy');
      } catch {
        return false;
      }
    }, 10_000, () => `haproxy did not answer on ${socket}:\n${proc.log()}`);
  };
  await start();
  return {
    socket, tcpPort, frontend,
    cli: (c) => cli(socket, c),
    async servers(backend) {
      const text = await cli(socket, `show servers state ${backend}`);
      const lines = text.split('\n');
      const cols = lines.find((l) => l.startsWith('# '))!.slice(2).split(' ');
      const out: Record<string, string> = {};
      for (const l of lines) {
        const f = l.split(' ');
        if (f.length !== cols.length || l.startsWith('#')) continue;
        out[f[cols.indexOf('srv_name')]!] = `${f[cols.indexOf('srv_addr')]}:${f[cols.indexOf('srv_port')]} ${f[cols.indexOf('srv_admin_state')]}`;
      }
      return out;
    },
    async restart() {
      await proc.stop();
      await start();
    },
    kill: (signal = 'SIGKILL') => proc.child.kill(signal),
    pid: () => proc.child.pid!,
    async stop() {
      await proc.stop();
      d.remove();
    },
  };
}
