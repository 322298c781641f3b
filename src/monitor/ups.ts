// The UPS source (seed 004 L11134-11142, the power-management pack's UPS生存確認 / UPS制御 /
// UPSイベント通知): every monitor.ups_poll_s the status of each UPS of monitor.ups is read
// from its Network UPS Tools upsd (the NUT network protocol: GET VAR <ups> ups.status). A
// change becomes an event for each group the UPS feeds: on battery kanriUPS[0x80000001], low
// battery kanriUPS[0xC0000002], back on line kanriUPS[0x40000003]; a upsd that does not
// answer (or a UPS whose driver is gone) monitor.poll_failures times kanriUPS[0x80000004].
// The standard action: at low battery (or after monitor.ups_shutdown_delay_s on battery
// with monitor.ups_shutdown_on = on-battery) the groups are shut down in order — groups of
// VMs (also those whose VMs run on the UPS's VM servers without being listed), then of VM
// servers, then physical ones — and when the power returns they are powered on in the
// reverse order (monitor.ups_poweron). The state and the events commit together. With several
// monitors each UPS is read by the one the hash ring gives it (ring.ts).
import { createConnection } from 'node:net';
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import type { Engine } from '../engine/service.js';
import { EngineError } from '../engine/errors.js';
import { formatJobId } from '../engine/plan.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { fanOutAll } from '../util/fanout.js';
import { Periodic } from '../util/periodic.js';
import { kanriEvent } from './catalogue.js';
import type { Intake } from './intake.js';
import { monitorNumber, monitorSetting } from './settings.js';
import { type UpsEntry, parseUpsList } from './ups-syntax.js';
import { groupPath } from './policy.js';
import { shareOf } from './ring.js';

export const UPS_ON_BATTERY = kanriEvent('kanriUPS', 0x80000001);
export const UPS_LOW_BATTERY = kanriEvent('kanriUPS', 0xC0000002);
export const UPS_ONLINE = kanriEvent('kanriUPS', 0x40000003);
export const UPS_UNANSWERED = kanriEvent('kanriUPS', 0x80000004);

export type UpsStatus = 'online' | 'on-battery' | 'low-battery';
const LINE_MAX = 1024;

/** ups.status flags (OL, OB, LB, CHRG …) as what the monitor acts on; undefined when none of OL, OB, LB is there. */
export function upsStatus(flags: string): UpsStatus | undefined {
  const f = new Set(flags.trim().split(/\s+/));
  if (f.has('LB')) return 'low-battery';
  if (f.has('OB')) return 'on-battery';
  if (f.has('OL')) return 'online';
  return undefined;
}

/** ups.status of one UPS from upsd, in one connection bounded by timeoutMs; rejects with what went wrong. */
export function readUpsStatus(u: UpsEntry, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: u.host, port: u.port });
    let buf = '';
    const done = (v: string | Error): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      if (!sock.destroyed) sock.end('LOGOUT\n');
      sock.destroy();
      if (typeof v === 'string') resolve(v); else reject(v);
    };
    const onAbort = (): void => done(new Error('canceled'));
    const t = setTimeout(() => done(new Error(`upsd ${u.host}:${u.port} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('latin1');
    sock.once('connect', () => sock.write(`GET VAR ${u.name} ups.status\n`));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > LINE_MAX) done(new Error(`upsd ${u.host}:${u.port} sent an over-long line`));
        return;
      }
      const line = buf.slice(0, nl).replace(/\r$/, '');
      const m = /^VAR (\S+) ups\.status "([^"]*)"$/.exec(line);
      if (m && m[1] === u.name) return done(m[2]!);
      const err = /^ERR (\S+)/.exec(line);
      done(new Error(err ? `upsd ${u.host}:${u.port}: ${u.name}: ${err[1]}` : `upsd ${u.host}:${u.port} answered '${line.slice(0, 80)}'`));
    });
    sock.once('error', (e) => done(new Error(`upsd ${u.host}:${u.port}: ${e.message}`)));
    sock.once('close', () => done(new Error(`upsd ${u.host}:${u.port} closed the connection`)));
  });
}

interface State { status: string; failures: number; unanswered: number; on_battery_since: string | null; shut_down: number }
const ORDER: Record<string, number> = { virtual: 0, vmserver: 1, physical: 2 };

export class UpsWatcher {
  private readonly periodic = new Periodic((signal) => this.pollOnce(new Date(), signal), (e) => this.d.log(`UPS: ${e.message}`));
  /** Per UPS, its shutdown or power-on sequence, one after the other. */
  private readonly sequences = new Map<string, Promise<void>>();

  /** `d.manager`: this monitor's manager, which reads its share of the UPSs; unset: all of them. */
  constructor(private readonly d: { db: Db; engine: Engine; intake: Intake; log: (line: string) => void; manager?: string }) {}

  start(): void {
    this.periodic.start(monitorSetting(this.d.db, 'monitor.ups').trim() ? monitorNumber(this.d.db, 'monitor.ups_poll_s') * 1000 : 0);
  }

  /** Stops polling; sequences already started end with the engine's drain (then settled() resolves). */
  async stop(): Promise<void> {
    await this.periodic.stop();
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.sequences.values()]);
  }

  async pollOnce(now = new Date(), stop?: AbortSignal): Promise<void> {
    const { db } = this.d;
    let list: UpsEntry[];
    try {
      list = parseUpsList(monitorSetting(db, 'monitor.ups'));
    } catch (e) {
      this.d.log(`UPS: monitor.ups: ${(e as Error).message}`);
      return;
    }
    const timeoutMs = monitorNumber(db, 'monitor.ups_timeout_s') * 1000;
    const mine = shareOf(db, this.d.manager);
    list = list.filter((u) => mine(`ups:${u.key}`));
    await fanOutAll(list, async (u, _i, signal) => {
      let status: UpsStatus | undefined;
      let why = '';
      try {
        const flags = await readUpsStatus(u, timeoutMs, signal);
        status = upsStatus(flags);
        if (!status) why = `${u.key}: ups.status '${flags}' says neither OL, OB nor LB`;
      } catch (e) {
        why = (e as Error).message;
      }
      if (signal.aborted) return;
      const act = this.record(u, status, why, now);
      if (act) this.sequence(u, act);
    }, { concurrency: 16, ...(stop ? { signal: stop } : {}) });
  }

  /** What was read, as state and events in one transaction; the standard action due, if any. */
  private record(u: UpsEntry, status: UpsStatus | undefined, why: string, now: Date): 'shutdown' | 'poweron' | undefined {
    const { db, intake } = this.d;
    const raise = (event: string, detail: string): void => {
      for (const g of u.groups) {
        const r = intake.receive({ source: 'SystemMonitorEvent', event, group: g, origin: 'ups', sender: u.key, detail });
        if (!r.ok) this.d.log(`UPS ${u.key}: ${event} for ${g} not taken: ${r.reason}`);
      }
      this.d.log(`UPS ${u.key}: ${detail}`);
    };
    return db.transaction(() => {
      const st = (prepared(db, 'SELECT status, failures, unanswered, on_battery_since, shut_down FROM ups_state WHERE ups = ?').get(u.key) as State | undefined)
        ?? { status: 'unknown', failures: 0, unanswered: 0, on_battery_since: null, shut_down: 0 };
      let act: 'shutdown' | 'poweron' | undefined;
      if (!status) {
        st.failures++;
        if (st.failures >= monitorNumber(db, 'monitor.poll_failures') && !st.unanswered) {
          st.unanswered = 1;
          raise(UPS_UNANSWERED, `no status in ${st.failures} polls: ${why}`);
        }
      } else {
        st.failures = 0;
        st.unanswered = 0;
        const was = st.status;
        if (status !== was) {
          if (status === 'on-battery' && was !== 'low-battery') raise(UPS_ON_BATTERY, 'on battery');
          if (status === 'low-battery') raise(UPS_LOW_BATTERY, 'battery low');
          if (status === 'online' && (was === 'on-battery' || was === 'low-battery')) raise(UPS_ONLINE, 'back on line power');
          st.status = status;
        }
        if (status === 'online') st.on_battery_since = null;
        else st.on_battery_since ??= now.toISOString();
        const onBatteryMs = st.on_battery_since ? now.getTime() - new Date(st.on_battery_since).getTime() : 0;
        const early = monitorSetting(db, 'monitor.ups_shutdown_on') === 'on-battery' && onBatteryMs >= monitorNumber(db, 'monitor.ups_shutdown_delay_s') * 1000;
        if (!st.shut_down && (status === 'low-battery' || (status === 'on-battery' && early))) {
          st.shut_down = 1;
          act = 'shutdown';
        } else if (st.shut_down && status === 'online') {
          st.shut_down = 0;
          if (['true', 'yes', 'on', '1'].includes(monitorSetting(db, 'monitor.ups_poweron').toLowerCase())) act = 'poweron';
        }
      }
      prepared(db, `INSERT INTO ups_state (ups, status, failures, unanswered, on_battery_since, shut_down, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (ups) DO UPDATE SET status = excluded.status, failures = excluded.failures, unanswered = excluded.unanswered,
          on_battery_since = excluded.on_battery_since, shut_down = excluded.shut_down, changed_at = excluded.changed_at`)
        .run(u.key, st.status, st.failures, st.unanswered, st.on_battery_since, st.shut_down, now.toISOString());
      intake.flush();
      return act;
    })() as 'shutdown' | 'poweron' | undefined;
  }

  /** The standard action, after any sequence of the same UPS still running. */
  private sequence(u: UpsEntry, cmd: 'shutdown' | 'poweron'): void {
    const before = this.sequences.get(u.key) ?? Promise.resolve();
    const p = before.then(() => this.run(u, cmd)).catch((e: unknown) => this.d.log(`UPS ${u.key}: ${cmd}: ${(e as Error).message}`));
    this.sequences.set(u.key, p);
    void p.finally(() => { if (this.sequences.get(u.key) === p) this.sequences.delete(u.key); });
  }

  /** Groups of VMs first, then of VM servers, then physical ones (power-on: the reverse); each as engine jobs of origin ups. */
  private async run(u: UpsEntry, cmd: 'shutdown' | 'poweron'): Promise<void> {
    const { db, engine } = this.d;
    const groups: Array<{ id: number; path: string; type: string }> = [];
    for (const g of u.groups) {
      const r = resolvePath(db, g);
      if (!isResolved(r) || r.kind !== 'group') { this.d.log(`UPS ${u.key}: ${cmd}: group not found: ${g}`); continue; }
      groups.push({ id: r.group.id, path: g, type: r.group.machine_type });
    }
    // The VMs running on the VM servers of these groups go first even when their groups are not listed.
    const servers = groups.filter((g) => g.type === 'vmserver').map((g) => g.id);
    if (servers.length) {
      // A list of placeholders, not SQLite's json_each: standard SQL, the same on PostgreSQL.
      const vmGroups = prepared(db, `SELECT DISTINCT vm.group_id AS id FROM machines vm JOIN machines s ON s.id = vm.vm_server_id
        WHERE vm.group_id IS NOT NULL AND s.group_id IN (${servers.map(() => '?').join(', ')}) ORDER BY vm.group_id`).all(...servers) as Array<{ id: number }>;
      for (const { id } of vmGroups) {
        if (groups.some((g) => g.id === id)) continue;
        const path = groupPath(db, id);
        this.d.log(`UPS ${u.key}: ${cmd}: ${path} too (its VMs run on the UPS's VM servers)`);
        groups.push({ id, path, type: 'virtual' });
      }
    }
    groups.sort((a, b) => (ORDER[a.type]! - ORDER[b.type]!) * (cmd === 'shutdown' ? 1 : -1));
    for (const g of groups) {
      this.d.log(`UPS ${u.key}: ${cmd} ${g.path}: starting`);
      try {
        const r = await engine.run({ action: 'power', cmd, group: g.path, hosts: [] }, { origin: 'ups', command: `ups ${u.key} ${cmd} ${g.path}` });
        this.d.log(`UPS ${u.key}: ${cmd} ${g.path}: ${r.jobs.map((j) => `job ${formatJobId(j.id)} ${j.machine} ${j.outcome}`).join(', ') || 'no job'}`);
      } catch (e) {
        if (!(e instanceof EngineError)) throw e;
        this.d.log(`UPS ${u.key}: ${cmd} ${g.path}: ${e.message}`);
      }
    }
  }
}
