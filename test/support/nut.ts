// Network UPS Tools from Debian as a UPS for tests: the dummy-ups driver reads the UPS's
// variables from a file the test rewrites (ups.status: OL, OB, OB LB) and upsd serves them on
// a free loopback port; its configuration and state live in a temporary directory
// (NUT_CONFPATH, NUT_STATEPATH), nothing under /etc/nut. As root, both run as the nut user.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { type Daemon, daemon, freeTcpPort, peerDir, waitFor } from './daemon.js';

export const NUT_BIN = '/lib/nut';

export function haveNut(): boolean {
  return existsSync(join(NUT_BIN, 'upsd')) && existsSync(join(NUT_BIN, 'dummy-ups')) && existsSync('/usr/bin/upsc');
}

export interface Nut {
  port: number;
  ups: string;
  /** Rewrites the dummy UPS's ups.status (e.g. 'OB LB') and waits until upsd serves it. */
  setStatus(flags: string): Promise<void>;
  /** upsc's view of ups.status. */
  status(): string;
  stop(): Promise<void>;
}

export async function startNut(ups = 'testups', flags = 'OL'): Promise<Nut> {
  const d = peerDir('nut');
  chmodSync(d.dir, 0o755);
  const dev = join(d.dir, 'ups.dev');
  const state = join(d.dir, 'state');
  mkdirSync(state);
  const root = userInfo().uid === 0;
  const idOf = (flag: string): number => Number(execFileSync('id', [flag, 'nut'], { encoding: 'utf8' }).trim());
  const ids = root ? { uid: idOf('-u'), gid: idOf('-g') } : undefined;
  // dummy-ups reads the file again when its modification time (in whole seconds) changes:
  // each write gets a time a second later than the last one.
  let mtime = Math.floor(Date.now() / 1000);
  const writeDev = (f: string): void => {
    writeFileSync(dev, `ups.status: ${f}\nbattery.charge: ${f.includes('LB') ? 10 : f.includes('OB') ? 60 : 100}\n`);
    mtime = Math.max(mtime + 1, Math.floor(Date.now() / 1000));
    utimesSync(dev, mtime, mtime);
  };
  writeDev(flags);
  const port = await freeTcpPort();
  const files: Record<string, string> = {
    'nut.conf': 'MODE=netserver\n',
    'ups.conf': `[${ups}]\n  driver = dummy-ups\n  port = ${dev}\n  desc = "kanri test UPS"\n`,
    'upsd.conf': `LISTEN 127.0.0.1 ${port}\n`,
    'upsd.users': '',
  };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(d.dir, name), text, { mode: 0o640 });
    if (ids) chownSync(join(d.dir, name), 0, ids.gid);
  }
  if (ids) { chownSync(state, ids.uid, ids.gid); chownSync(dev, ids.uid, ids.gid); }
  const env = { ...process.env, NUT_CONFPATH: d.dir, NUT_STATEPATH: state };
  const user = root ? ['-u', 'nut'] : [];
  const driver: Daemon = daemon(join(NUT_BIN, 'dummy-ups'), ['-a', ups, ...user, '-F'], { env });
  let upsd: Daemon | undefined;
  const upsc = (): string => {
    try {
      return execFileSync('upsc', [`${ups}@127.0.0.1:${port}`, 'ups.status'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    } catch {
      return '';
    }
  };
  try {
    await waitFor(() => existsSync(join(state, `dummy-ups-${ups}`)) || driver.exited(), 10_000, () => `dummy-ups did not start:\n${driver.log()}`);
    if (driver.exited()) throw new Error(`dummy-ups exited:\n${driver.log()}`);
    upsd = daemon(join(NUT_BIN, 'upsd'), [...user, '-F'], { env });
    await waitFor(() => upsc() === flags || upsd!.exited(), 15_000, () => `upsd does not serve ${ups}:\n${upsd!.log()}`);
    if (upsd.exited()) throw new Error(`upsd exited:\n${upsd.log()}`);
  } catch (e) {
    await Promise.all([driver.stop(), upsd?.stop()]);
    d.remove();
    throw e;
  }
  return {
    port, ups,
    status: upsc,
    async setStatus(f) {
      writeDev(f);
      if (ids) chownSync(dev, ids.uid, ids.gid);
      // dummy-ups looks at the file every poll interval (2 s).
      await waitFor(() => upsc() === f, 20_000, () => `upsd does not serve '${f}' (it serves '${upsc()}')`);
    },
    async stop() {
      await Promise.all([upsd?.stop(), driver.stop()]);
      d.remove();
    },
  };
}
