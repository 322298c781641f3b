// Capacity control (spec/provisioning-model.md §3.3) and what placement knows of VM
// servers: the cost of the powered-on VMs on a server never exceeds its capacity value,
// counting the VMs that running jobs are putting there (their claims); and a VM whose size
// is known must fit in the free memory its server's hypervisor last reported. The one
// module that owns vm_server_readings, vm_sizes and vm_claims.
import type { Db } from '../store/db.js';
import { settingNumber } from '../adapters/setting-reader.js';
import { CORE_SETTINGS } from '../domain/settings.js';
import type { VmServerInfo, VmSize } from '../adapters/types.js';
import { L } from '../cli/locale.js';

export interface Claim { server: number; vm: string; cost: number; memoryKiB: number | null }

export interface Reading { cpus: number | null; memoryKiB: number | null; freeMemoryKiB: number | null; error: string | null; readAt: string }

export interface ServerLoad {
  id: number;
  name: string;
  /** The capacity value (no value: unlimited). */
  capacity: number;
  /** Cost of its powered-on VMs and of the VMs claimed on it, except the one being placed. */
  used: number;
  /** Free memory reported, less what running jobs claimed since; undefined when not known. */
  freeMemoryKiB: number | undefined;
  reading: Reading | undefined;
}

const now = (): string => new Date().toISOString();

export function insertClaims(db: Db, jobId: number, claims: readonly Claim[]): void {
  const ins = db.prepare('INSERT INTO vm_claims (job_id, server_id, vm, cost, memory_kib) VALUES (?, ?, ?, ?, ?)');
  for (const c of claims) ins.run(jobId, c.server, c.vm, c.cost, c.memoryKiB);
}

export function releaseClaims(db: Db, jobId: number): void {
  db.prepare('DELETE FROM vm_claims WHERE job_id = ?').run(jobId);
}

export function recordReading(db: Db, serverId: number, info: VmServerInfo | { error: string }): void {
  const e = 'error' in info ? info.error : null;
  const i = 'error' in info ? {} : info;
  db.prepare(
    `INSERT INTO vm_server_readings (machine_id, cpus, memory_kib, free_memory_kib, error, read_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (machine_id) DO UPDATE SET cpus = excluded.cpus, memory_kib = excluded.memory_kib, free_memory_kib = excluded.free_memory_kib,
       error = excluded.error, read_at = excluded.read_at`,
  ).run(serverId, i.cpus ?? null, i.memoryKiB ?? null, i.freeMemoryKiB ?? null, e, now());
}

export function readingOf(db: Db, serverId: number): Reading | undefined {
  const r = db.prepare('SELECT cpus, memory_kib, free_memory_kib, error, read_at FROM vm_server_readings WHERE machine_id = ?').get(serverId) as
    { cpus: number | null; memory_kib: number | null; free_memory_kib: number | null; error: string | null; read_at: string } | undefined;
  return r && { cpus: r.cpus, memoryKiB: r.memory_kib, freeMemoryKiB: r.free_memory_kib, error: r.error, readAt: r.read_at };
}

/** How old a reading may be before placement reads the server again (vm.reading_max_age_s). */
export function readingMaxAgeMs(db: Db): number {
  return settingNumber(db, CORE_SETTINGS, 'vm.reading_max_age_s') * 1000;
}

export function recordSize(db: Db, machineId: number, size: VmSize): void {
  db.prepare(
    `INSERT INTO vm_sizes (machine_id, vcpus, memory_kib, read_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (machine_id) DO UPDATE SET vcpus = excluded.vcpus, memory_kib = excluded.memory_kib, read_at = excluded.read_at`,
  ).run(machineId, size.vcpus, size.memoryKiB, now());
}

export function sizeOf(db: Db, machineId: number): VmSize | undefined {
  const r = db.prepare('SELECT vcpus, memory_kib FROM vm_sizes WHERE machine_id = ?').get(machineId) as { vcpus: number; memory_kib: number } | undefined;
  return r && { vcpus: r.vcpus, memoryKiB: r.memory_kib };
}

/**
 * The load of a VM server as placement sees it. `except` names a VM not to count (the one
 * being placed, when it is on the server already); `readings` are readings taken for this
 * planning that are not yet recorded.
 */
export function serverLoad(db: Db, serverId: number, except?: string, readings?: ReadonlyMap<number, Reading>): ServerLoad {
  const s = db.prepare('SELECT name, capacity FROM machines WHERE id = ?').get(serverId) as { name: string; capacity: number | null };
  const onVms = (db.prepare(
    `SELECT ifnull(sum(cost), 0) AS n FROM machines m WHERE m.vm_server_id = ? AND m.kind = 'virtual' AND m.power_state = 'on' AND m.name IS NOT ?
       AND NOT EXISTS (SELECT 1 FROM vm_claims c WHERE c.server_id = m.vm_server_id AND c.vm = m.name)`,
  ).get(serverId, except ?? null) as { n: number }).n;
  const claims = db.prepare('SELECT ifnull(sum(cost), 0) AS cost, ifnull(sum(memory_kib), 0) AS mem FROM vm_claims WHERE server_id = ? AND vm IS NOT ?')
    .get(serverId, except ?? null) as { cost: number; mem: number };
  const reading = readings?.get(serverId) ?? readingOf(db, serverId);
  const free = reading?.freeMemoryKiB ?? undefined;
  return {
    id: serverId, name: s.name, capacity: s.capacity ?? Number.MAX_SAFE_INTEGER, used: onVms + claims.cost,
    freeMemoryKiB: free === undefined || free === null ? undefined : free - claims.mem, reading,
  };
}

export interface Need { vm: string; cost: number; memoryKiB: number | undefined }

/** Why `need` does not fit on the server after `planned` more cost and memory, or undefined when it fits. */
export function misfit(load: ServerLoad, need: Need, planned: { cost: number; memoryKiB: number } = { cost: 0, memoryKiB: 0 }): string | undefined {
  if (load.reading?.error) return L(`VM server ${load.name} cannot be reached (${load.reading.error})`, `VM サーバ ${load.name} に接続できません (${load.reading.error})`);
  const free = load.capacity - load.used - planned.cost;
  if (need.cost > free) {
    return L(`VM server ${load.name} has no free capacity: cost ${need.cost} needed, ${Math.max(0, free)} of ${load.capacity} free`,
      `VM サーバ ${load.name} のキャパシティが不足しています: 必要コスト ${need.cost}、空き ${Math.max(0, free)}/${load.capacity}`);
  }
  if (need.memoryKiB !== undefined && load.freeMemoryKiB !== undefined && need.memoryKiB > load.freeMemoryKiB - planned.memoryKiB) {
    const left = Math.max(0, load.freeMemoryKiB - planned.memoryKiB);
    return L(`VM server ${load.name} has too little free memory: ${need.memoryKiB} KiB needed, ${left} KiB free (reported ${load.reading?.readAt})`,
      `VM サーバ ${load.name} の空きメモリが不足しています: 必要 ${need.memoryKiB} KiB、空き ${left} KiB`);
  }
  return undefined;
}

/** The load of a server in percent of its capacity (spec §3.4 bounds are percentages). */
export function loadPercent(l: ServerLoad, extraCost = 0): number {
  return l.capacity === Number.MAX_SAFE_INTEGER || l.capacity === 0 ? 0 : (100 * (l.used + extraCost)) / l.capacity;
}
