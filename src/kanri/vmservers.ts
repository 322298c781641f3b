// kanri vmserver list | collect | watch: what the VM servers are, as placement sees them
// (capacity, the cost of the VMs that run, CPUs and free memory their hypervisor reported),
// reading them now, and following their connection and domain events.
import { bindInterface, driverNameFor, driverProblems } from '../adapters/registry.js';
import type { VmServerEvent } from '../adapters/types.js';
import { loadPercent, readingOf, recordReading, serverLoad } from '../engine/capacity.js';
import { machineRef } from '../engine/refs.js';
import { groupPathParts } from '../domain/paths.js';
import { type Db, openStore } from '../store/db.js';

interface ServerRow { id: number; name: string; group_id: number | null; power_state: string; maintenance: number }

const complain = (t: string): void => { process.stderr.write(`kanri: ${t}\n`); };

function servers(db: Db, names: string[]): ServerRow[] | undefined {
  const all = db.prepare("SELECT id, name, group_id, power_state, maintenance FROM machines WHERE kind = 'vmserver' ORDER BY name COLLATE NOCASE").all() as ServerRow[];
  if (names.length === 0) return all;
  const out: ServerRow[] = [];
  for (const n of names) {
    const s = all.find((x) => x.name.toLowerCase() === n.toLowerCase());
    if (!s) {
      complain(`VM server not found: ${n}`);
      return undefined;
    }
    out.push(s);
  }
  return out;
}

const vmDriverOf = (db: Db, s: ServerRow): string | undefined => driverNameFor(db, s.id, s.group_id, 'vm');

export function vmServerList(dbPath: string): number {
  const db = openStore(dbPath, { readonly: true });
  try {
    for (const s of servers(db, [])!) {
      const l = serverLoad(db, s.id);
      const r = readingOf(db, s.id);
      const where = s.group_id !== null ? groupPathParts(db, s.group_id).join('\\') : 'no group';
      const cap = l.capacity === Number.MAX_SAFE_INTEGER ? 'unlimited' : String(l.capacity);
      const read = !r ? 'not read' : r.error ? `unreachable at ${r.readAt}: ${r.error}`
        : `cpus=${r.cpus ?? '?'} memory=${r.memoryKiB ?? '?'}KiB free=${r.freeMemoryKiB ?? '?'}KiB at ${r.readAt}`;
      process.stdout.write(`${[s.name, where, `power=${s.power_state}`, `capacity=${cap}`, `used=${l.used}`, `load=${Math.round(loadPercent(l))}%`, read, ...(s.maintenance ? ['maintenance'] : [])].join('  ')}\n`);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** Reads each VM server through its vm driver now and records what it reported. */
export async function vmServerCollect(dbPath: string, names: string[]): Promise<number> {
  const db = openStore(dbPath);
  try {
    const list = servers(db, names);
    if (!list) return 2;
    let code = 0;
    for (const s of list) {
      const driver = vmDriverOf(db, s);
      const ref = machineRef(db, s.id);
      const problem = driver ? driverProblems(db, driver, 'vm', ref)[0] : { message: `no vm driver is configured for ${s.name} (drivers: { vm: … } on it or its group)` };
      if (problem) {
        complain(problem.message);
        code = 6;
        continue;
      }
      try {
        const info = await (await bindInterface(db, driver!, 'vm')).serverInfo({ db, signal: new AbortController().signal, log: () => undefined }, ref);
        recordReading(db, s.id, info);
        process.stdout.write(`${s.name}: cpus=${info.cpus ?? '?'} memory=${info.memoryKiB ?? '?'}KiB free=${info.freeMemoryKiB ?? '?'}KiB\n`);
      } catch (e) {
        recordReading(db, s.id, { error: (e as Error).message });
        complain(`${s.name}: ${(e as Error).message}`);
        code = 7;
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
    if (!list) return 2;
    const print = (e: VmServerEvent): void => { process.stdout.write(`${e.time} ${e.source} ${e.machine}: ${e.event} [${e.category}] ${e.detail}\n`); };
    const watches = list.map(async (s) => {
      const driver = vmDriverOf(db, s);
      if (!driver) return;
      const vm = await bindInterface(db, driver, 'vm');
      await vm.watch?.({ db, signal: ac.signal, log: () => undefined }, machineRef(db, s.id), print);
    });
    await Promise.all(watches);
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    db.close();
  }
}
