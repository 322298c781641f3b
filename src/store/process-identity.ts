// A process as an owner of rows in a store that several hosts may share: host, pid, pid
// namespace, boot and a random token, in one text. A pid alone means nothing across hosts
// (or containers); with the host, the namespace and the boot it identifies a process that a
// survivor on the same host can prove dead at once. Anywhere else only an expired lease or a
// stale heartbeat says an owner is gone.
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** This process as an owner: host, pid, pid namespace, boot and a random token. */
export function processIdentity(): string {
  let ns = '?';
  let boot = '?';
  try { ns = readlinkSync('/proc/self/ns/pid').replace(/\D/g, ''); } catch { /* not Linux */ }
  try { boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { /* not Linux */ }
  return `host=${hostname()} pid=${process.pid} ns=${ns} boot=${boot} token=${randomBytes(6).toString('hex')}`;
}

/** One field (host, pid, ns, boot, token) of an identity. */
export const identityField = (identity: string, k: string): string | undefined => new RegExp(`(?:^| )${k}=(\\S+)`).exec(identity)?.[1];

/** Whether an identity is a process of this host, boot and pid namespace that no longer runs. */
export function deadHere(identity: string, mine: string): boolean {
  const f = (id: string, k: string): string | undefined => identityField(id, k);
  if (f(identity, 'host') !== f(mine, 'host') || f(identity, 'boot') !== f(mine, 'boot') || f(identity, 'ns') !== f(mine, 'ns')) return false;
  if (f(identity, 'boot') === '?' || f(identity, 'ns') === '?') return false;
  const pid = Number(f(identity, 'pid'));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
