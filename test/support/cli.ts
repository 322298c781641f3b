// Runs the real binary under one of its three names.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, tempDir } from './store.js';

let binDir: string | undefined;

/** A directory holding pvmutl, dscli and kanri as symbolic links to the binary. */
export function binaries(): string {
  if (!binDir) {
    binDir = tempDir();
    // Readable by everyone: one test runs the binary as an unprivileged user.
    chmodSync(binDir, 0o755);
    for (const name of ['pvmutl', 'dscli', 'kanri']) {
      const link = join(binDir, name);
      if (!existsSync(link)) symlinkSync(BIN, link);
    }
  }
  return binDir;
}

export interface Ran { code: number | null; out: string; err: string }

export function run(name: 'pvmutl' | 'dscli' | 'kanri', args: string[], opts: SpawnSyncOptions & { db?: string } = {}): Ran {
  const env = { ...process.env, LANG: 'C', LC_ALL: '', ...(opts.db ? { KANRI_DB: opts.db } : {}), ...(opts.env ?? {}) };
  const r = spawnSync(join(binaries(), name), args, { encoding: 'utf8', timeout: 30_000, ...opts, env });
  if (r.error) throw r.error;
  return { code: r.status, out: String(r.stdout ?? ''), err: String(r.stderr ?? '') };
}

/** Runs a command under a pseudo-terminal (util-linux script), returning what the terminal showed. */
export function onTerminal(cmd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm', PATH: `${binaries()}:${process.env.PATH}`, ...env }, timeout: 60_000 });
  return String(r.stdout).replace(/\r\n/g, '\n');
}
