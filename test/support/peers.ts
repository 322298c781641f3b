// Tests that need a real peer call requirePeer(): a missing peer is never a silent
// skip — the reason is logged and counted by scripts/test.mjs.
import { appendFileSync } from 'node:fs';
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
