// A real OpenSSH sshd on a free loopback port for the ssh driver's tests:
// throw-away host and user keys in a temporary directory, public-key login
// only, stopped (with its session processes) when the test is done.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './daemon.js';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  dir: string;
  user: string;
  /** The private key sshd accepts (authorized_keys holds its public half). */
  userKey: string;
  /** A second private key that sshd does not accept. */
  strangerKey: string;
  /** The host key's fingerprint as `ssh-keygen -l` prints it (SHA256:…). */
  hostFingerprint: string;
  /** Another host key's public blob (base64) and fingerprint, to fake a changed key. */
  otherHostKey: { type: string; key: string; fingerprint: string };
  stop(): Promise<void>;
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
}

function fingerprint(pubPath: string): string {
  // "256 SHA256:xxxx comment (ED25519)"
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' });
  const fp = out.split(' ')[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${out}`);
  return fp;
}


/** Resolves when something on the port sends an SSH banner. */
function banner(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const t = setTimeout(() => { sock.destroy(); resolve(false); }, ms);
    sock.once('data', (d) => { clearTimeout(t); sock.destroy(); resolve(d.toString('latin1').startsWith('SSH-')); });
    sock.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let lastLog = '';

async function startOnce(dir: string, port: number): Promise<{ child: ChildProcess; log: () => string } | undefined> {
  const root = process.getuid?.() === 0;
  const cfg = join(dir, 'sshd_config');
  writeFileSync(cfg, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'StrictModes no',
    root ? 'PermitRootLogin prohibit-password' : '',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthenticationMethods publickey',
    'MaxStartups 50',
    'LogLevel VERBOSE',
    // The account's own dotfiles (a ~/.bashrc that takes a second to run) are not part of
    // the peer: sessions start in an empty home, as on a server kanri reaches.
    `SetEnv HOME=${join(dir, 'home')}`,
    '',
  ].join('\n'));
  mkdirSync(join(dir, 'home'), { recursive: true, mode: 0o700 });
  if (root) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let log = '';
  const child = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => { if (log.length < 200_000) log += d.toString(); });
  let exited = false;
  child.once('exit', () => { exited = true; lastLog = log; });
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    if (exited) return undefined;
    if (await banner(port, 1000)) return { child, log: () => log };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 10 s:\n${log}`);
}

export async function startSshd(): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-sshd-'));
  keygen(join(dir, 'host_ed25519'), 'kanri-test-host');
  keygen(join(dir, 'other_host_ed25519'), 'kanri-test-other-host');
  keygen(join(dir, 'user_ed25519'), 'kanri-test-user');
  keygen(join(dir, 'stranger_ed25519'), 'kanri-test-stranger');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_ed25519.pub')));
  const otherPub = readFileSync(join(dir, 'other_host_ed25519.pub'), 'utf8').split(' ');
  let started: { child: ChildProcess; log: () => string } | undefined;
  let port = 0;
  // A free port may be taken between probing and binding: try a few.
  for (let i = 0; i < 5 && !started; i++) {
    port = await freeTcpPort();
    started = await startOnce(dir, port);
  }
  if (!started) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`sshd could not be started on a free port; its last output:\n${lastLog}`);
  }
  const { child } = started;
  return {
    port,
    dir,
    user: userInfo().username,
    userKey: join(dir, 'user_ed25519'),
    strangerKey: join(dir, 'stranger_ed25519'),
    hostFingerprint: fingerprint(join(dir, 'host_ed25519.pub')),
    otherHostKey: { type: otherPub[0]!, key: otherPub[1]!, fingerprint: fingerprint(join(dir, 'other_host_ed25519.pub')) },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await Promise.race([gone, sleep(2000)]);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
