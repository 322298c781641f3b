// VM-server events as an intake source: for every VM server whose vm driver can watch it
// (libvirt: the connection to its hypervisor, its domains' crashes), the driver's watch()
// runs for as long as the monitor does, and each VMwareProvider event it reports goes to
// Intake.receive, so that the VM-server rules of the standard policies fire on what the
// hypervisor says, not only on hand-raised events. A watch that ends on its own (an
// unreadable setting, a driver failure) is started again after a bounded back-off.
import { bindInterface, driverNameFor } from '../adapters/registry.js';
import type { VmServerEvent } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { machineRef } from '../engine/refs.js';
import type { Intake } from './intake.js';

const BACKOFF_MS = [1000, 5000, 30_000, 60_000];

export class VmEventIntake {
  private ac: AbortController | undefined;
  private running: Array<Promise<void>> = [];

  constructor(private readonly o: { db: Db; intake: Intake; log: (line: string) => void }) {}

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
    if (this.ac) return;
    const ac = new AbortController();
    this.ac = ac;
    this.running = this.servers().map((s) => this.watch(s, ac.signal));
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
    this.ac?.abort();
    this.ac = undefined;
    const r = this.running;
    this.running = [];
    await Promise.allSettled(r);
  }
}
