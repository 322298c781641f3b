// A real tgtd (Linux SCSI target framework, userspace) for the iscsi-tgt driver's tests:
// its own control port (so its management socket, /var/run/tgtd/socket.<port>, is its
// own), its iSCSI portal on a free loopback port, targets made with tgtadm and checked
// with tgtadm --op show. tgtd ignores SIGTERM while it has targets: it is killed.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { type Daemon, daemon, waitFor } from './daemon.js';

export interface Tgtd {
  controlPort: number;
  socket: string;
  tgtadm(...args: string[]): string;
  /** Makes targets <prefix>:<name>, tids 1, 2, … in order. */
  addTargets(prefix: string, names: string[]): void;
  /** iqn -> the initiators its ACL allows. */
  acls(): Record<string, string[]>;
  kill(signal?: NodeJS.Signals): void;
  pid(): number;
  /** Kills tgtd and starts it again on the same control port, with no targets (tgtd keeps none). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const SOCKET_DIR = '/var/run/tgtd';

async function launch(port: number): Promise<Daemon> {
  const socket = `${SOCKET_DIR}/socket.${port}`;
  rmSync(socket, { force: true });
  rmSync(`${socket}.lock`, { force: true });
  const proc = daemon('tgtd', ['-f', '-C', String(port), '--iscsi', 'portal=127.0.0.1:0']);
  try {
    await waitFor(() => {
      if (proc.exited()) throw new Error(`tgtd exited:\n${proc.log()}`);
      try {
        execFileSync('tgtadm', ['-C', String(port), '--lld', 'iscsi', '--op', 'show', '--mode', 'target'], { stdio: 'ignore', timeout: 5000 });
        return true;
      } catch {
        return false;
      }
    }, 10_000, () => `tgtd did not answer on control port ${port}`);
  } catch (e) {
    await proc.stop('SIGKILL');
    throw e;
  }
  return proc;
}

export async function startTgtd(): Promise<Tgtd> {
  for (let attempt = 0; ; attempt++) {
    // Control ports are numbers in socket names, not network ports: pick one nobody uses.
    const port = 10000 + Math.floor(Math.random() * 22000);
    const socket = `${SOCKET_DIR}/socket.${port}`;
    if (existsSync(socket) || existsSync(`${socket}.lock`)) continue;
    let proc: Daemon;
    try {
      proc = await launch(port);
    } catch (e) {
      if (attempt >= 9) throw e;
      continue;
    }
    const tgtadm = (...args: string[]): string => execFileSync('tgtadm', ['-C', String(port), '--lld', 'iscsi', ...args], { encoding: 'utf8', timeout: 10_000 });
    let tid = 0;
    return {
      controlPort: port, socket, tgtadm,
      addTargets(prefix, names) {
        for (const n of names) tgtadm('--op', 'new', '--mode', 'target', '--tid', String(++tid), '-T', `${prefix}:${n}`);
      },
      acls() {
        const out: Record<string, string[]> = {};
        let cur = '';
        let inAcl = false;
        for (const line of tgtadm('--op', 'show', '--mode', 'target').split('\n')) {
          const m = /^Target \d+: (\S+)/.exec(line);
          if (m) { cur = m[1]!; out[cur] = []; inAcl = false; continue; }
          if (/^ {4}\S/.test(line)) inAcl = line.trim() === 'ACL information:';
          else if (inAcl && line.trim()) out[cur]!.push(line.trim());
        }
        // tgtd lists addresses before names: the order says nothing.
        for (const k of Object.keys(out)) out[k]!.sort();
        return out;
      },
      kill: (signal = 'SIGKILL') => proc.child.kill(signal),
      pid: () => proc.child.pid!,
      async restart() {
        await proc.stop('SIGKILL');
        proc = await launch(port);
        tid = 0;
      },
      async stop() {
        await proc.stop('SIGKILL');
        rmSync(socket, { force: true });
        rmSync(`${socket}.lock`, { force: true });
      },
    };
  }
}
