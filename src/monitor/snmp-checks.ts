// Arbitrary MIB monitoring (seed 000 L883, L1460: 任意のMIB監視): SNMP GETs of listed OIDs on
// listed machines every monitor.snmp_check_s, each value compared with its threshold. A value
// that crosses it raises kanriSnmpCheck[0xC0000001] for the machine, once; its return
// (beyond the clear value, for hysteresis) raises kanriSnmpCheck[0x40000002]; an agent that
// does not answer monitor.poll_failures polls in a row raises kanriSnmpCheck[0x80000003].
// The state and the events it raised commit together (table snmp_check_state).
//
//   monitor.snmp_checks: "web01 1.3.6.1.4.1.2021.10.1.5.1 > 200 clear 150; db01@10.0.0.7:161 1.3.6.1.2.1.25.1.6.0 >= 400"
//
// The agent is the machine's os_address on port 161 unless the check names one; v2c with the
// read community monitor.snmp_check_community. With several monitors each agent is asked by
// the one the hash ring gives it (ring.ts), as controllers are polled.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { byName } from '../domain/names.js';
import { SnmpClient, type Value } from '../adapters/snmp/session.js';
import { fanOutAll } from '../util/fanout.js';
import { Periodic } from '../util/periodic.js';
import { kanriEvent } from './catalogue.js';
import type { Intake } from './intake.js';
import { monitorNumber, monitorSetting } from './settings.js';
import { shareOf } from './ring.js';
import { type SnmpCheck, compare, parseSnmpChecks } from './snmp-check-syntax.js';

/** OIDs in one GET PDU (agents limit a PDU's size). */
const PER_PDU = 32;

export const SNMP_CROSSED = kanriEvent('kanriSnmpCheck', 0xC0000001);
export const SNMP_RECOVERED = kanriEvent('kanriSnmpCheck', 0x40000002);
export const SNMP_UNANSWERED = kanriEvent('kanriSnmpCheck', 0x80000003);

/** A value as a number: integers, counters, gauges, and octet strings that hold a number (UCD laLoad "0.42"). */
function numberOf(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) {
    const t = v.toString('latin1').trim();
    return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : undefined;
  }
  return undefined;
}

interface State { crossed: number; failures: number; unanswered: number }
type Reading = { ok: true; value: Value } | { ok: false; reason: string };

export class SnmpChecker {
  private readonly periodic = new Periodic((signal) => this.pollOnce(signal), (e) => this.log(`SNMP checks: ${e.message}`));
  private complained = '';

  /** `manager`: this monitor's manager, which asks its share of the agents; unset: all of them. */
  constructor(private readonly db: Db, private readonly intake: Intake, private readonly log: (line: string) => void, private readonly manager?: string) {}

  /** Polls now and then every monitor.snmp_check_s, when there are checks. */
  start(): void {
    this.periodic.start(monitorSetting(this.db, 'monitor.snmp_checks').trim() ? monitorNumber(this.db, 'monitor.snmp_check_s') * 1000 : 0);
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
  }

  /** One GET per agent (in PDUs of PER_PDU OIDs), then each check's state. */
  async pollOnce(stop?: AbortSignal): Promise<void> {
    const { db } = this;
    let checks: SnmpCheck[];
    try {
      checks = parseSnmpChecks(monitorSetting(db, 'monitor.snmp_checks'));
    } catch (e) {
      const why = `monitor.snmp_checks: ${(e as Error).message}`;
      if (why !== this.complained) this.log(`SNMP checks: ${why}`);
      this.complained = why;
      return;
    }
    const byAgent = new Map<string, { host: string; port: number; checks: Array<SnmpCheck & { machineId: number }> }>();
    for (const c of checks) {
      const m = byName<{ id: number; os_address: string | null }>(db, 'SELECT id, os_address FROM machines WHERE {name}', 'name', c.machine);
      if (!m) { this.log(`SNMP checks: machine not found: ${c.machine}`); continue; }
      const agent = c.agent ?? (m.os_address ? { host: m.os_address, port: 161 } : undefined);
      if (!agent) { this.log(`SNMP checks: ${c.machine} has no os_address: name the agent (${c.machine}@HOST)`); continue; }
      const k = `${agent.host}:${agent.port}`;
      let a = byAgent.get(k);
      if (!a) byAgent.set(k, a = { ...agent, checks: [] });
      a.checks.push({ ...c, machineId: m.id });
    }
    const mine = shareOf(db, this.manager);
    for (const k of [...byAgent.keys()]) if (!mine(`snmp-agent:${k}`)) byAgent.delete(k);
    const community = monitorSetting(db, 'monitor.snmp_check_community');
    const timeoutMs = monitorNumber(db, 'monitor.snmp_check_timeout_s') * 1000;
    const threshold = monitorNumber(db, 'monitor.poll_failures');
    await fanOutAll([...byAgent.values()], async (a, _i, signal) => {
      const client = new SnmpClient({ host: a.host, port: a.port, timeoutMs, retries: 1, kind: 'agent' }, { version: '2c', community });
      const readings: Reading[] = [];
      try {
        for (let i = 0; i < a.checks.length; i += PER_PDU) {
          const part = a.checks.slice(i, i + PER_PDU);
          try {
            const values = await client.get(part.map((c) => c.oid), signal);
            for (const v of values) readings.push({ ok: true, value: v });
          } catch (e) {
            for (const _ of part) readings.push({ ok: false, reason: (e as Error).message });
          }
        }
      } finally {
        client.close();
      }
      if (signal.aborted) return;
      this.record(a.checks, readings, threshold, `${a.host}:${a.port}`);
    }, { concurrency: monitorNumber(db, 'monitor.poll_fanout'), ...(stop ? { signal: stop } : {}) });
  }

  private record(checks: Array<SnmpCheck & { machineId: number }>, readings: Reading[], threshold: number, sender: string): void {
    const { db } = this;
    const raise = (c: SnmpCheck & { machineId: number }, event: string, detail: string): void => {
      const r = this.intake.receive({ source: 'SystemMonitorEvent', event, machineId: c.machineId, origin: 'poll', sender, detail });
      if (!r.ok) this.log(`SNMP checks: ${event} for ${c.machine} not taken: ${r.reason}`);
    };
    db.transaction(() => {
      checks.forEach((c, i) => {
        const r = readings[i]!;
        const st = (prepared(db, 'SELECT crossed, failures, unanswered FROM snmp_check_state WHERE check_key = ?').get(c.key) as State | undefined) ?? { crossed: 0, failures: 0, unanswered: 0 };
        const what = `${c.oid} ${c.op} ${c.threshold}${c.clear !== c.threshold ? ` (clear ${c.clear})` : ''}`;
        let value: string | null = null;
        if (!r.ok) {
          st.failures++;
          if (st.failures >= threshold && !st.unanswered) {
            st.unanswered = 1;
            raise(c, SNMP_UNANSWERED, `${what}: no answer in ${st.failures} polls: ${r.reason}`);
          }
        } else {
          st.failures = 0;
          st.unanswered = 0;
          const n = numberOf(r.value);
          value = r.value === null ? null : Buffer.isBuffer(r.value) ? r.value.toString('latin1').slice(0, 64) : String(r.value);
          if (n === undefined) {
            this.log(`SNMP checks: ${c.machine} ${c.oid}: ${r.value === null ? 'no such object' : `'${value}' is not a number`}`);
          } else if (!st.crossed && compare(n, c.op, c.threshold)) {
            st.crossed = 1;
            raise(c, SNMP_CROSSED, `${what}: value ${n}`);
          } else if (st.crossed && !compare(n, c.op, c.clear)) {
            st.crossed = 0;
            raise(c, SNMP_RECOVERED, `${what}: value ${n}`);
          }
        }
        prepared(db, `INSERT INTO snmp_check_state (check_key, machine_id, crossed, failures, unanswered, value, polled_at) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (check_key) DO UPDATE SET crossed = excluded.crossed, failures = excluded.failures, unanswered = excluded.unanswered,
            value = coalesce(excluded.value, snmp_check_state.value), polled_at = excluded.polled_at`)
          .run(c.key, c.machineId, st.crossed, st.failures, st.unanswered, value, new Date().toISOString());
      });
      this.intake.flush();
    })();
  }
}
