// Polling spread over the live monitors, as OpenStack Ironic spreads nodes over its conductors
// (ironic/common/hash_ring.py): a consistent hash ring over the names of the managers whose
// monitor holds an unexpired lease (lease.ts), POINTS virtual points each; a machine belongs to
// the member of the first point at or after the machine's hash. Every monitor builds the same
// ring from the same lease rows, so each machine has one poller; when a lease expires, the
// survivors' next round builds the ring without it and its machines are theirs, and only
// those move (a member's arrival or departure moves about 1/n of the machines).
//
// Liveness is the lease's expiry alone, never "its process is gone on this host": every member
// must see the same ring, and only the store's rows look the same from every host.
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { liveLeases } from './lease.js';

/** Virtual points per member: enough for an even share with a handful of managers. */
const POINTS = 64;

/** The machines polling covers: those with a controller registration (polling.ts, monitors.ts). */
export const POLLED_MACHINES = 'mgmt_type IS NOT NULL';

const hash32 = (s: string): number => createHash('md5').update(s).digest().readUInt32BE(0);

/** The ring's key of a machine: its row id (a rename moves nothing). */
export const machineKey = (id: number): string => `machine:${id}`;

export class HashRing {
  private readonly points: ReadonlyArray<{ at: number; member: string }>;

  constructor(readonly members: readonly string[], points = POINTS) {
    this.points = members.flatMap((m) => Array.from({ length: points }, (_, i) => ({ at: hash32(`${m}#${i}`), member: m })))
      // Ties (two members on one point) broken by name, so that every monitor orders them alike.
      .sort((a, b) => a.at - b.at || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  }

  /** The member a key belongs to; undefined on an empty ring. */
  owner(key: string): string | undefined {
    const p = this.points;
    if (p.length === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid]!.at < h) lo = mid + 1;
      else hi = mid;
    }
    return p[lo === p.length ? 0 : lo]!.member;
  }
}

/** The ring of the monitors live now (by the store's clock: lease.ts). */
export function pollingRing(db: Db): HashRing {
  return new HashRing(liveLeases(db).map((l) => l.manager));
}

/**
 * Whether a key (a machine, an SNMP agent, a UPS, a VM server) is this monitor's to watch now,
 * by the ring of this moment; every key when `manager` is unset (a monitor without a lease).
 */
export function shareOf(db: Db, manager: string | undefined): (key: string) => boolean {
  if (manager === undefined) return () => true;
  const ring = pollingRing(db);
  return (key) => ring.owner(key) === manager;
}
