// Tests that need a real peer call requirePeer(): a missing peer is never a silent
// skip — the reason is logged and counted by scripts/test.mjs.
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export function havePeer(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command}`], { stdio: 'ignore' }).status === 0;
}

export function skipReason(what: string, reason: string): void {
  const line = `${what}: ${reason}`;
  process.stderr.write(`SKIP ${line}\n`);
  if (process.env.KANRI_SKIP_LOG) appendFileSync(process.env.KANRI_SKIP_LOG, line + '\n');
}

/** Returns true when the peer is present; otherwise logs the skip reason. */
export function requirePeer(command: string, suite: string): boolean {
  if (havePeer(command)) return true;
  skipReason(suite, `peer '${command}' not installed (run scripts/peers.sh as root)`);
  return false;
}

/**
 * Debian's libfaketime (package libfaketime, /usr/lib/<multiarch>/faketime), or
 * KANRI_TEST_LIBFAKETIME naming it elsewhere; undefined (the skip logged) when it is missing.
 * Tests preload it themselves: the faketime command forks and waits, so a signal sent to it
 * would not reach the process whose clock it shifts.
 */
export function libfaketime(suite: string): string | undefined {
  const named = process.env.KANRI_TEST_LIBFAKETIME;
  const debian = readdirSync('/usr/lib').map((d) => join('/usr/lib', d, 'faketime', 'libfaketime.so.1'));
  const found = [...(named ? [named] : []), ...debian].find((f) => existsSync(f));
  if (!found) skipReason(suite, 'libfaketime not installed (run scripts/peers.sh as root)');
  return found;
}

/** A wrapper (argv prefix) that runs a command with its clock `offset` ahead or behind (FAKETIME: +1h, -2d), its monotonic clock untouched. */
export const shiftedClock = (lib: string, offset: string): string[] => ['env', `LD_PRELOAD=${lib}`, `FAKETIME=${offset}`, 'FAKETIME_DONT_FAKE_MONOTONIC=1'];

/** Whether the test may make a pid namespace (root: `unshare --pid`, a death not provable on this host); the skip is logged otherwise. */
export function canUnshare(suite: string): boolean {
  if (process.getuid?.() === 0) return true;
  skipReason(suite, 'a new pid namespace (unshare --pid) needs root');
  return false;
}

/** The pid, on this host, of the one child of a process (unshare's forked command). */
export function childOf(pid: number): number | undefined {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  const pids = r.stdout.trim().split('\n').filter(Boolean).map(Number);
  return pids.length === 1 ? pids[0] : undefined;
}
