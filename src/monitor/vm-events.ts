// VM-server events as an intake source: for every VM server whose vm driver can watch it
// (libvirt: the connection to its hypervisor, its domains' crashes), the driver's watch()
// runs for as long as the monitor does, and each VMwareProvider event it reports goes to
// Intake.receive, so that the VM-server rules of the standard policies fire on what the
// hypervisor says, not only on hand-raised events. A watch that ends on its own (an
// unreadable setting, a driver failure) is started again after a bounded back-off.
//
// With several monitors on one store each watches the VM servers the hash ring gives its
// manager (ring.ts), looked at again every third of monitor.lease_s: the servers of a monitor
// whose lease expired are watched by the survivors within a beat, and a watch whose server
// moved to another monitor ends (the two may both watch for that beat).
import { bindInterface, driverNameFor } from '../adapters/registry.js';
import type { VmServerEvent } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { machineRef } from '../engine/refs.js';
import type { Intake } from './intake.js';
import { shareOf } from './ring.js';
import { monitorNumber } from './settings.js';

const BACKOFF_MS = [1000, 5000, 30_000, 60_000];

export class VmEventIntake {
  private readonly watches = new Map<number, { ac: AbortController; done: Promise<void> }>();
  private ending: Array<Promise<void>> = [];
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  /** `manager`: this monitor's manager, which watches its share of the VM servers; unset: all of them. */
  constructor(private readonly o: { db: Db; intake: Intake; log: (line: string) => void; manager?: string }) {}

  /** The VM servers a driver can watch: every VM server whose vm driver offers watch(). */
  private servers(): Array<{ id: number; name: string; driver: string }> {
    const rows = this.o.db.prepare("SELECT id, name, group_id FROM machines WHERE kind = 'vmserver' ORDER BY id").all() as Array<{ id: number; name: string; group_id: number | null }>;
    const out: Array<{ id: number; name: string; driver: string }> = [];
    for (const r of rows) {
      const driver = driverNameFor(this.o.db, r.id, r.group_id, 'vm');
      if (driver) out.push({ id: r.id, name: r.name, driver });
    }
    return out;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.reconcile();
    if (this.o.manager === undefined) return;
    this.timer = setInterval(() => this.reconcile(), Math.max(1000, monitorNumber(this.o.db, 'monitor.lease_s') * 1000 / 3));
    this.timer.unref();
  }

  /** Watches this monitor's share of the VM servers: starts the new ones, ends those that moved away. */
  private reconcile(): void {
    let wanted: Array<{ id: number; name: string; driver: string }>;
    try {
      const mine = shareOf(this.o.db, this.o.manager);
      wanted = this.servers().filter((s) => mine(`vmserver:${s.id}`));
    } catch (e) {
      // The store is busy or failing: the share is looked at again at the next beat.
      this.o.log(`VM-server watches not updated: ${(e as Error).message}`);
      return;
    }
    const ids = new Set(wanted.map((s) => s.id));
    for (const [id, w] of this.watches) {
      if (ids.has(id)) continue;
      w.ac.abort();
      this.watches.delete(id);
      this.ending.push(w.done);
      void w.done.finally(() => { this.ending = this.ending.filter((p) => p !== w.done); });
    }
    for (const s of wanted) {
      if (this.watches.has(s.id)) continue;
      const ac = new AbortController();
      this.watches.set(s.id, { ac, done: this.watch(s, ac.signal) });
    }
  }

  private async watch(s: { id: number; name: string; driver: string }, signal: AbortSignal): Promise<void> {
    const { db, intake, log } = this.o;
    const onEvent = (e: VmServerEvent): void => {
      const r = intake.receive({ source: e.source, event: e.event, machine: e.machine, origin: 'libvirt', sender: s.name, detail: e.detail });
      if (!r.ok) log(`${s.name}: VM-server event not taken: ${r.reason}`);
    };
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const vm = await bindInterface(db, s.driver, 'vm');
        if (!vm.watch) return;
        await vm.watch({ db, signal, log: (l) => log(`${s.name}: ${l}`) }, machineRef(db, s.id), onEvent);
        if (signal.aborted) return;
      } catch (e) {
        if (signal.aborted) return;
        log(`${s.name}: watching its ${s.driver} events stopped: ${(e as Error).message}`);
      }
      const ms = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
      await new Promise<void>((r) => {
        const t = setTimeout(r, ms);
        signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
      });
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.started = false;
    const r = [...this.ending, ...[...this.watches.values()].map((w) => { w.ac.abort(); return w.done; })];
    this.watches.clear();
    this.ending = [];
    await Promise.allSettled(r);
  }
}
