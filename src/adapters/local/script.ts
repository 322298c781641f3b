// Local scripts (spec §5): executables in the script folder, run on this server
// with no shell, no arguments, the folder as working directory and exactly the
// PVM_* environment (plus a fixed PATH). A script that outlives its timeout
// (default 2 hours) or whose job is canceled is killed with its whole process group.
import { execa } from 'execa';
import { constants, accessSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Db } from '../../store/db.js';
import { type DriverContext, DriverError, type PvmEnvironment, type SoftwareRef } from '../types.js';
import { settingNumber, settingText } from '../setting-reader.js';
import { LOCAL } from './spec.js';

const KILL_GRACE_MS = 2000;
const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function scriptDir(db: Db): string {
  return resolve(settingText(db, LOCAL.settings, 'local_script_dir')!);
}

export function scriptTimeoutMs(db: Db): number {
  return settingNumber(db, LOCAL.settings, 'local_script.timeout_s') * 1000;
}

/** The software name of a script file: `<file name without extension>/<localhost>`. */
export function scriptSoftwareName(file: string): string {
  return `${basename(file).replace(/\.[^.]*$/, '')}/<localhost>`;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export async function runLocalScript(ctx: DriverContext, sw: SoftwareRef, env: PvmEnvironment): Promise<void> {
  const dir = scriptDir(ctx.db);
  const file = join(dir, basename(sw.source || ''));
  // Only files directly in the script folder run (spec §5).
  if (!sw.source || basename(sw.source) !== sw.source) throw new DriverError(`local script ${sw.name}: its source must be a file name in ${dir}`);
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    accessSync(file, constants.X_OK);
  } catch {
    throw new DriverError(`local script ${sw.name}: ${file} is missing or not executable`);
  }
  const timeoutMs = scriptTimeoutMs(ctx.db);
  ctx.signal.throwIfAborted();
  const child = execa(file, [], {
    cwd: dir, env: { ...env, PATH: SAFE_PATH }, extendEnv: false, detached: true, reject: false,
    stdin: 'ignore', all: true, maxBuffer: 16 * 1024 * 1024,
  });
  const pid = child.pid!;
  let why: string | undefined;
  const stop = (reason: string): void => {
    if (why) return;
    why = reason;
    killGroup(pid, 'SIGTERM');
    setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer = setTimeout(() => stop(`timed out after ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
  const onAbort = (): void => stop('canceled');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await child;
    for (const line of String(r.all ?? '').split('\n').filter(Boolean)) ctx.log(line);
    // The group may outlive its leader: make sure nothing the script started keeps running.
    if (why) killGroup(pid, 'SIGKILL');
    ctx.signal.throwIfAborted();
    if (why) throw new DriverError(`local script ${sw.name} ${why}; its process group was killed`);
    if (r.exitCode !== 0) throw new DriverError(`local script ${sw.name} exited ${r.exitCode ?? `on signal ${r.signal}`}`);
    ctx.log(`${sw.name}: exit 0`);
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
