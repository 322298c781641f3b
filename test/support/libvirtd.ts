// Real libvirt daemons for the libvirt driver's tests: one libvirtd per simulated VM server,
// each with its own socket directory in a temporary folder and the built-in test driver
// (../shared/peers/README.md). The test driver frees its state when its last connection
// closes, so each daemon gets one `virsh event --loop` connection for its lifetime.
// Results are checked with virsh against the daemon itself, never through kanri.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const LIBVIRTD = '/usr/sbin/libvirtd';

export interface Libvirtd {
  dir: string;
  uri: string;
  /** virsh against this daemon: stdout, or throws with virsh's stderr. */
  virsh(...args: string[]): string;
  /** Names of the defined domains, and of the running ones. */
  domains(): { all: string[]; running: string[] };
  stop(): Promise<void>;
  /** SIGKILL now, without waiting (for a step hook, which cannot wait). */
  killNow(): void;
  start(): Promise<void>;
  readonly alive: boolean;
}

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function startLibvirtd(name: string): Promise<Libvirtd> {
  const dir = mkdtempSync(join(tmpdir(), `kanri-lv-${name}-`));
  const run = join(dir, 'run');
  const drivers = join(dir, 'drivers');
  mkdirSync(run);
  mkdirSync(drivers);
  const conf = join(dir, 'libvirtd.conf');
  writeFileSync(conf, `unix_sock_dir = "${run}"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n`);
  const sock = join(run, 'libvirt-sock');
  const uri = `test+unix:///default?socket=${sock}`;
  let daemon: ChildProcess | undefined;
  let holder: ChildProcess | undefined;
  const env = { ...process.env, LIBVIRT_DRIVER_DIR: drivers, LC_ALL: 'C' };

  const self: Libvirtd = {
    dir, uri,
    get alive() { return daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null; },
    virsh: (...args) => execFileSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8', env, timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }),
    domains() {
      const list = (extra: string[]): string[] => self.virsh('list', '--name', ...extra).split('\n').map((l) => l.trim()).filter(Boolean);
      return { all: list(['--all']), running: list([]) };
    },
    async start() {
      // Each (re)start is a fresh test-driver state: the built-in "test" domain only.
      rmSync(sock, { force: true });
      daemon = spawn(LIBVIRTD, ['--config', conf, '--pid-file', join(dir, 'libvirtd.pid')], { env, stdio: 'ignore' });
      await waitFor(`libvirtd ${name}`, () => existsSync(sock), 15_000);
      holder = spawn('virsh', ['-q', '-c', uri, 'event', '--all', '--loop'], { env, stdio: 'ignore' });
      await waitFor(`libvirtd ${name} to answer`, () => { try { self.virsh('uri'); return true; } catch { return false; } }, 15_000);
      // The test driver starts with a domain of its own; these tests use only theirs.
      try { self.virsh('destroy', 'test'); } catch { /* not running */ }
      self.virsh('undefine', 'test');
    },
    killNow() {
      holder?.kill('SIGKILL');
      daemon?.kill('SIGKILL');
    },
    async stop() {
      holder?.kill('SIGKILL');
      holder = undefined;
      const d = daemon;
      daemon = undefined;
      if (d && d.exitCode === null && d.signalCode === null) {
        const gone = new Promise((r) => d.once('exit', r));
        d.kill('SIGKILL');
        await gone;
      }
    },
  };
  await self.start();
  return self;
}

export function removeDir(d: Libvirtd): void {
  rmSync(d.dir, { recursive: true, force: true });
}

/** A domain XML template of the test driver: small, so that many fit a test VM server's free memory. */
export function testTemplate(memoryKiB = 256, extraDisk = ''): string {
  return `<domain type='test'>
  <name>template</name>
  <memory unit='KiB'>${memoryKiB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/shared/{name}.img'/><target dev='vda' bus='virtio'/></disk>${extraDisk}
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>
`;
}

