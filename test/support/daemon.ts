// Starting and stopping peer daemons for tests: each in a temporary directory of its own,
// on free loopback ports or unix sockets there (other developers' tests run on the same
// machine at the same time), always stopped with a bounded wait.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function peerDir(name: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `kanri-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls until ok() holds, up to ms; throws with what() otherwise. */
export async function waitFor(ok: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await ok()) return;
    await sleep(50);
  }
  throw new Error(`${what()} (after ${ms} ms)`);
}

export interface Daemon {
  child: ChildProcess;
  log(): string;
  exited(): boolean;
  /** SIGTERM (or the given signal), then SIGKILL; resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function daemon(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Daemon {
  let out = '';
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => { if (out.length < 200_000) out += d.toString(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let gone = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { gone = true; r(); }));
  return {
    child,
    log: () => out,
    exited: () => gone,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (gone) return;
      child.kill(signal);
      await Promise.race([exit, sleep(3000)]);
      if (!gone) {
        child.kill('SIGKILL');
        await Promise.race([exit, sleep(3000)]);
      }
    },
  };
}
