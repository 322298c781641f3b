// kanri vmserver list | collect | watch: what the VM servers are, as placement sees them
// (capacity, the cost of the VMs that run, CPUs and free memory their hypervisor reported),
// reading them now, and following their connection and domain events.
import { EXIT } from './exit-codes.js';
import { bindInterface, driverNameFor, driverProblems } from '../adapters/registry.js';
import type { VmServerEvent } from '../adapters/types.js';
import { loadPercent, readingOf, recordReading, serverLoad } from '../engine/capacity.js';
import { machineRef } from '../engine/refs.js';
import { groupPathParts } from '../domain/paths.js';
import { foldName } from '../domain/names.js';
import { type Db } from '../store/db.js';
import { openStore } from '../open-store.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { complain } from '../cli/messages.js';
import { didYouMean } from '../util/nearest.js';

interface ServerRow { id: number; name: string; group_id: number | null; power_state: string; maintenance: number }


function servers(db: Db, names: string[]): ServerRow[] | undefined {
  const all = db.prepare("SELECT id, name, group_id, power_state, maintenance FROM machines WHERE kind = 'vmserver' ORDER BY name COLLATE NOCASE").all() as ServerRow[];
  if (names.length === 0) return all;
  const out: ServerRow[] = [];
  for (const n of names) {
    const s = all.find((x) => x.name === n) ?? all.find((x) => foldName(x.name) === foldName(n));
    if (!s) {
      complain('kanri', `VM server not found: ${n}${didYouMean(n, all.map((x) => x.name))}`);
      return undefined;
    }
    out.push(s);
  }
  return out;
}

const vmDriverOf = (db: Db, s: ServerRow): string | undefined => driverNameFor(db, s.id, s.group_id, 'vm');

interface ServerLine {
  name: string; group: string | null; power: string; maintenance: boolean; capacity: number | null; used: number; load: number;
  cpus: number | null; memoryKiB: number | null; freeMemoryKiB: number | null; error: string | null; readAt: string | null;
}

const SERVER_COLUMNS: Array<Column<ServerLine>> = [
  { header: 'SERVER', key: 'name', value: (s) => s.name },
  { header: 'GROUP', key: 'group', value: (s) => s.group ?? '' },
  { header: 'POWER', key: 'power', value: (s) => s.power, status: true },
  { header: 'CAPACITY', key: 'capacity', value: (s) => (s.capacity === null ? 'unlimited' : s.capacity) },
  { header: 'USED', key: 'used', value: (s) => s.used },
  { header: 'LOAD', key: 'load', value: (s) => `${s.load}%` },
  { header: 'CPUS', key: 'cpus', value: (s) => s.cpus ?? '' },
  { header: 'FREE_KIB', key: 'free_memory_kib', value: (s) => s.freeMemoryKiB ?? '' },
  { header: 'READ', key: 'read_at', value: (s) => s.readAt, time: true },
  { header: 'PROBLEM', key: 'error', value: (s) => s.error ?? (s.maintenance ? 'maintenance' : '') },
];

const SERVER_JSON: Array<Column<ServerLine>> = [
  ...(['name', 'group', 'power', 'maintenance', 'capacity', 'used', 'load', 'cpus'] as const).map((k) => ({ header: '', key: k, value: (s: ServerLine) => s[k] })),
  { header: '', key: 'memory_kib', value: (s) => s.memoryKiB },
  { header: '', key: 'free_memory_kib', value: (s) => s.freeMemoryKiB },
  { header: '', key: 'error', value: (s) => s.error },
  { header: '', key: 'read_at', value: (s) => s.readAt, time: true },
];

export function vmServerList(dbPath: string, json = false): number {
  const db = openStore(dbPath, { readonly: true });
  try {
    const lines: ServerLine[] = servers(db, [])!.map((s) => {
      const l = serverLoad(db, s.id);
      const r = readingOf(db, s.id);
      return {
        name: s.name, group: s.group_id !== null ? groupPathParts(db, s.group_id).join('\\') : null, power: s.power_state, maintenance: !!s.maintenance,
        capacity: l.capacity === Number.MAX_SAFE_INTEGER ? null : l.capacity, used: l.used, load: Math.round(loadPercent(l)),
        cpus: r?.cpus ?? null, memoryKiB: r?.memoryKiB ?? null, freeMemoryKiB: r?.freeMemoryKiB ?? null, error: r?.error ?? null, readAt: r?.readAt ?? null,
      };
    });
    process.stdout.write(renderListing(lines, json ? SERVER_JSON : SERVER_COLUMNS, listingMode(json)));
    return EXIT.OK;
  } finally {
    db.close();
  }
}

/** Reads each VM server through its vm driver now and records what it reported. */
export async function vmServerCollect(dbPath: string, names: string[]): Promise<number> {
  const db = openStore(dbPath);
  try {
    const list = servers(db, names);
    if (!list) return EXIT.NOT_FOUND;
    let code: number = EXIT.OK;
    for (const s of list) {
      const driver = vmDriverOf(db, s);
      const ref = machineRef(db, s.id);
      const problem = driver ? driverProblems(db, driver, 'vm', ref)[0] : { message: `no vm driver is configured for ${s.name} (drivers: { vm: … } on it or its group)` };
      if (problem) {
        complain('kanri', problem.message);
        code = EXIT.NOT_STARTABLE;
        continue;
      }
      try {
        const info = await (await bindInterface(db, driver!, 'vm')).serverInfo({ db, signal: new AbortController().signal, log: () => undefined }, ref);
        recordReading(db, s.id, info);
        process.stdout.write(`${s.name}: cpus=${info.cpus ?? '?'} memory=${info.memoryKiB ?? '?'}KiB free=${info.freeMemoryKiB ?? '?'}KiB\n`);
      } catch (e) {
        recordReading(db, s.id, { error: (e as Error).message });
        complain('kanri', `${s.name}: ${(e as Error).message}`);
        code = EXIT.JOB_FAILED;
      }
    }
    return code;
  } finally {
    db.close();
  }
}

/** Prints the VM-server events of the servers (every one without names) until SIGINT/SIGTERM. */
export async function vmServerWatch(dbPath: string, names: string[]): Promise<number> {
  const db = openStore(dbPath, { readonly: true });
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const list = servers(db, names);
    if (!list) return EXIT.NOT_FOUND;
    const print = (e: VmServerEvent): void => { process.stdout.write(`${e.time} ${e.source} ${e.machine}: ${e.event} [${e.category}] ${e.detail}\n`); };
    // A server whose driver has no events to follow is named with the reason, never passed over in silence.
    let watched = 0;
    const watches = list.map(async (s) => {
      const driver = vmDriverOf(db, s);
      if (!driver) {
        complain('kanri', `${s.name}: not watched: no vm driver is configured for it (drivers: { vm: … } on it or its group)`);
        return;
      }
      const vm = await bindInterface(db, driver, 'vm');
      if (!vm.watch) {
        complain('kanri', `${s.name}: not watched: its vm driver ${driver} reports no hypervisor events (the libvirt driver does)`);
        return;
      }
      watched++;
      await vm.watch({ db, signal: ac.signal, log: () => undefined }, machineRef(db, s.id), print);
    });
    await Promise.all(watches);
    if (!list.length) complain('kanri', 'no VM servers to watch');
    return watched || !list.length ? EXIT.OK : EXIT.NOT_STARTABLE;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    db.close();
  }
}
