// What placement reads from the hypervisors before it plans: each candidate VM server's
// CPUs and free memory (when the recorded reading is older than vm.reading_max_age_s) and
// the size of the VM a template makes. Read before the planning transaction (drivers are
// asynchronous, planning is not), handed to the planner, and recorded only when the change
// is accepted, so that a refused command leaves the store as it was.
import type { Db } from '../store/db.js';
import { bindInterface, driverProblems } from '../adapters/registry.js';
import { DriverError, type DriverContext, type SoftwareRef, type VmSize } from '../adapters/types.js';
import { type Reading, readingMaxAgeMs, readingOf, recordReading } from './capacity.js';
import { machineRef } from './refs.js';

export class Readings {
  private readonly taken = new Map<number, Reading>();
  private readonly raw = new Map<number, Parameters<typeof recordReading>[2]>();

  constructor(private readonly db: Db) {}

  /** Readings taken for this planning, by server id (the planner prefers them to recorded ones). */
  get map(): ReadonlyMap<number, Reading> {
    return this.taken;
  }

  /** Reads the servers whose reading is missing or too old, through `driver`'s vm interface. */
  async refresh(driver: string | undefined, serverIds: readonly number[], signal: AbortSignal): Promise<void> {
    if (!driver) return;
    const maxAge = readingMaxAgeMs(this.db);
    const stale = [...new Set(serverIds)].filter((id) => {
      const r = readingOf(this.db, id);
      return !r || Date.now() - Date.parse(r.readAt) > maxAge || r.error !== null;
    });
    if (stale.length === 0) return;
    let vm;
    try {
      vm = await bindInterface(this.db, driver, 'vm');
    } catch {
      return; // The plan's driver check says what is wrong with the driver.
    }
    const ctx: DriverContext = { db: this.db, signal, log: () => undefined };
    await Promise.all(stale.map(async (id) => {
      const server = machineRef(this.db, id);
      // A server the driver cannot serve (no URI, …) is refused by the plan's driver check, not read.
      if (driverProblems(this.db, driver, 'vm', server).length > 0) return;
      let info: Parameters<typeof recordReading>[2];
      try {
        info = await vm.serverInfo(ctx, server);
      } catch (e) {
        if (e instanceof DriverError && e.layer === 'configuration') return;
        info = { error: (e as Error).message };
      }
      this.raw.set(id, info);
      const err = 'error' in info ? info.error : null;
      const i = 'error' in info ? {} : info;
      this.taken.set(id, { cpus: i.cpus ?? null, memoryKiB: i.memoryKiB ?? null, freeMemoryKiB: i.freeMemoryKiB ?? null, error: err, readAt: new Date().toISOString() });
    }));
  }

  /** Writes what was read (called once the change is accepted). */
  record(): void {
    for (const [id, info] of this.raw) recordReading(this.db, id, info);
  }
}

/** The size of the VM a template makes, if the driver can tell. */
export async function templateSize(db: Db, driver: string | undefined, template: SoftwareRef, signal: AbortSignal): Promise<VmSize | undefined> {
  if (!driver) return undefined;
  try {
    const vm = await bindInterface(db, driver, 'vm');
    return await vm.templateSize?.({ db, signal, log: () => undefined }, template);
  } catch {
    return undefined; // The create step reports a template it cannot read.
  }
}
