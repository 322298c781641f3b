// ServerList operations: every target runs concurrently under a bounded fan-out, each
// within its own deadline; one result line per target is printed in input order as soon
// as the targets before it are done (`--json`: one object per line).
import { power, checkConnection as ipmiCheck, clearSel as ipmiClearSel, rememberedProbe, type BmcTarget, type PowerAction, type PowerResult, type SessionOptions } from '../ipmi/index.js';
import type { BmcRow } from '../adapters/ipmi/target.js';
import { bmcTargetOf } from '../adapters/ipmi/target.js';
import type { Db } from '../store/db.js';
import { combine, describeFailure, DscliError, formatError, RC } from './errors.js';
import { parseSettings, settingNumber } from './registry.js';

export interface Out {
  out(text: string): void;
  err(text: string): void;
  json: boolean;
}

export interface TargetOutcome {
  status: 'ok' | 'failed';
  code: number;
  line: string;
  before?: string | null;
  after?: string | null;
  layer?: string | null;
  message?: string | null;
  attempts?: number;
  /** Store bookkeeping: power state learnt and status text. */
  power?: 'on' | 'off' | 'unknown';
  probe?: string;
}

export interface RunSettings {
  fanout: number;
  session: SessionOptions;
  /** ms to wait for the expected state after a power change (0: do not wait). */
  waitMs: number;
  via: 'ipmi' | 'ssh';
}

export const RUN_KEYS = ['fanout', 'timeout', 'retries', 'wait', 'via'] as const;

function intSetting(s: Map<string, string>, k: string, min: number, max: number): number | undefined {
  const v = s.get(k);
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < min || Number(v) > max) throw formatError(`${k} must be a number from ${min} to ${max}, not '${v}'`);
  return Number(v);
}

/** fanout=N (1-1024, default 64), timeout=S per controller (default 5), retries=N (0-5, default 2), wait=S. */
export function runSettings(db: Db, words: string[], defaultWaitS: number): RunSettings {
  const s = parseSettings(words, RUN_KEYS);
  const fanout = intSetting(s, 'fanout', 1, 1024) ?? settingNumber(db, 'dscli.fanout', 64);
  const timeoutS = intSetting(s, 'timeout', 0.1, 600) ?? settingNumber(db, 'dscli.timeout_s', 5);
  const retries = intSetting(s, 'retries', 0, 5) ?? settingNumber(db, 'dscli.retries', 2);
  const waitS = intSetting(s, 'wait', 0, 3600) ?? defaultWaitS;
  const via = s.get('via') ?? 'ipmi';
  if (via !== 'ipmi' && via !== 'ssh') throw formatError(`via must be ipmi or ssh, not '${via}'`);
  const deadlineMs = Math.round(timeoutS * 1000);
  // Retransmissions fit inside the deadline: a dead BMC costs one deadline, not more.
  const timeoutMs = Math.max(50, Math.min(1000, Math.floor(deadlineMs / (retries + 1))));
  return { fanout: Math.floor(fanout), session: { deadlineMs, timeoutMs, retries }, waitMs: Math.round(waitS * 1000), via };
}

/** Bounded concurrency; onDone is called in completion order. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, Math.max(1, limit)) }, worker));
}

export type Handler = (row: BmcRow, target: BmcTarget | undefined, rs: RunSettings) => Promise<TargetOutcome>;

function failure(name: string, e: unknown): TargetOutcome {
  const f = describeFailure(e);
  return { status: 'failed', code: f.code, layer: f.layer, message: f.message, line: `${name} failed ${f.layer}: ${f.message}` };
}

function statusFailure(name: string, e: unknown): TargetOutcome {
  const f = failure(name, e);
  return { ...f, power: 'unknown', before: 'unknown', after: 'unknown', line: `${name} unknown (${f.layer}: ${f.message})` };
}

/** Runs `handler` on every row; prints in input order; records what was learnt; returns the code. */
export async function runOnServers(db: Db, rows: BmcRow[], operation: string, rs: RunSettings, out: Out, handler: Handler): Promise<number> {
  const results = new Array<(TargetOutcome & { elapsed: number }) | undefined>(rows.length);
  let printed = 0;
  const flush = () => {
    while (printed < rows.length && results[printed]) {
      const r = results[printed]!;
      const row = rows[printed]!;
      if (out.json) {
        out.out(JSON.stringify({
          target: row.name, operation, before: r.before ?? null, after: r.after ?? null, status: r.status,
          layer: r.layer ?? null, message: r.message ?? null, elapsed_ms: r.elapsed, attempts: r.attempts ?? 0, code: r.code,
        }) + '\n');
      } else out.out(r.line + '\n');
      printed++;
    }
  };
  await pool(rows.length, rs.fanout, async (i) => {
    const row = rows[i]!;
    const t0 = Date.now();
    let r: TargetOutcome;
    try {
      const target = row.mgmt_type === 'ipmi' ? bmcTargetOf(db, row) : undefined;
      r = await handler(row, target, rs);
    } catch (e) {
      r = operation === 'getPowerStatus' ? statusFailure(row.name, e) : failure(row.name, e);
    }
    results[i] = { ...r, elapsed: Date.now() - t0 };
    flush();
  });
  flush();
  record(db, rows, results.map((r) => r!));
  return combine(results.map((r) => r!.code));
}

function record(db: Db, rows: BmcRow[], results: TargetOutcome[]): void {
  const at = new Date().toISOString();
  const upd = db.prepare('UPDATE machines SET last_power = coalesce(?, last_power), last_status = ?, last_checked_at = ? WHERE id = ?');
  const probe = db.prepare('UPDATE machines SET bmc_probe = ? WHERE id = ?');
  const ps = db.prepare("UPDATE machines SET power_state = ? WHERE id = ? AND power_state <> 'suspended'");
  try {
    db.transaction(() => {
      rows.forEach((row, i) => {
        const r = results[i]!;
        upd.run(r.power ?? null, r.status === 'ok' ? 'ok' : `${r.layer}: ${r.message}`, at, row.id);
        if (r.probe) probe.run(r.probe, row.id);
        if (r.power === 'on' || r.power === 'off') ps.run(r.power, row.id);
      });
    })();
  } catch {
    // Bookkeeping must not turn a done operation into a failure.
  }
}

const notSupported = (row: BmcRow, what: string) =>
  new DscliError(RC.UNSUPPORTED, row.mgmt_type === 'redfish'
    ? `${what} over Redfish is not available in this version (mgmt=redfish)`
    : `${what} is not supported for mgmt=${row.mgmt_type}`);

// ---- power ----------------------------------------------------------------------------

export const POWER_COMMANDS: Record<string, PowerAction> = {
  powerOn: 'on', powerOff: 'off', powerCycle: 'cycle', reset: 'reset', dump: 'diag', shutdownOs: 'soft', getPowerStatus: 'status',
};

function simPower(db: Db, row: BmcRow, action: PowerAction): PowerResult {
  const t0 = Date.now();
  const cur = db.prepare('SELECT state FROM sim_power WHERE machine_id = ?').get(row.id) as { state: string } | undefined;
  const pm = (db.prepare('SELECT power_state FROM machines WHERE id = ?').get(row.id) as { power_state: string }).power_state;
  const before: 'on' | 'off' = (cur?.state ?? pm) === 'on' ? 'on' : 'off';
  let after = before, changed = false;
  if (action === 'diag') throw new DscliError(RC.UNSUPPORTED, 'dump (NMI) is not simulated by mgmt=sim');
  if (action === 'on' && before === 'off') { after = 'on'; changed = true; }
  if ((action === 'off' || action === 'soft') && before === 'on') { after = 'off'; changed = true; }
  if ((action === 'cycle' || action === 'reset') && before === 'on') changed = true;
  if (changed) db.prepare('INSERT INTO sim_power (machine_id, state) VALUES (?, ?) ON CONFLICT (machine_id) DO UPDATE SET state = excluded.state').run(row.id, after);
  return { action, before, after, changed, attempts: 0, elapsedMs: Date.now() - t0, ...(changed && action !== 'status' ? { sent: action } : {}) };
}

function powerOutcome(name: string, action: PowerAction, r: PowerResult, waitMs: number): TargetOutcome {
  const base = { before: r.before, after: r.after, attempts: r.attempts, power: r.after };
  if (action === 'status') {
    return { ...base, status: 'ok', code: RC.OK, line: `${name} ${r.before}`, message: null, layer: null };
  }
  if (r.changed && r.verified === false) {
    const message = `${r.sent} sent; still ${r.after} after ${Math.round(waitMs / 1000)} s`;
    return { ...base, status: 'failed', code: RC.CONTROLLER, layer: 'verify', message, line: `${name} failed verify: ${message}` };
  }
  if (!r.changed) return { ...base, status: 'ok', code: RC.OK, message: r.note ?? 'no change', layer: null, line: `${name} ok ${r.after} (no change)` };
  let line = `${name} ok ${r.before}->${r.after}`;
  if (r.before === r.after) line += action === 'soft' ? ' (soft-off requested; the OS shuts down)' : ` (${r.sent} sent)`;
  return { ...base, status: 'ok', code: RC.OK, message: r.note ?? null, layer: null, line };
}

export function powerHandler(db: Db, action: PowerAction): Handler {
  return async (row, target, rs) => {
    if (action === 'soft' && rs.via === 'ssh') throw new DscliError(RC.UNSUPPORTED, 'shutdownOs via=ssh is not implemented in this version; use via=ipmi (ACPI soft-off)');
    if (row.mgmt_type === 'sim') return powerOutcome(row.name, action, simPower(db, row, action), 0);
    const waitMs = action === 'status' || action === 'diag' ? 0 : rs.waitMs;
    try {
      if (row.mgmt_type !== 'ipmi' || !target) throw notSupported(row, action === 'status' ? 'power status' : 'power control');
      const r = await power(target, action, { ...rs.session, ...(waitMs > 0 ? { wait: { deadlineMs: waitMs, intervalMs: 250 } } : {}) });
      return powerOutcome(row.name, action, r, waitMs);
    } catch (e) {
      return action === 'status' ? statusFailure(row.name, e) : failure(row.name, e);
    }
  };
}

// ---- checkConnection / clearSel -----------------------------------------------------

export function checkHandler(): Handler {
  return async (row, target, rs) => {
    if (row.mgmt_type === 'sim') return { status: 'ok', code: RC.OK, line: `${row.name} ok (simulated)`, message: 'simulated' };
    if (row.mgmt_type !== 'ipmi' || !target) throw notSupported(row, 'checkConnection');
    const d = await ipmiCheck(target, { ...rs.session, privilege: 'user' });
    const suite = typeof target.cipherSuite === 'number' ? target.cipherSuite : rememberedProbe(target.host, target.port)?.chosen;
    const probe = target.cipherSuite === 'auto' ? rememberedProbe(target.host, target.port) : undefined;
    const msg = `IPMI ${d.ipmiVersion}, firmware ${d.firmware}, manufacturer ${d.manufacturerId}, product 0x${d.productId.toString(16).padStart(4, '0')}, cipher suite ${suite ?? '?'}`;
    return { status: 'ok', code: RC.OK, message: msg, line: `${row.name} ok (${msg})`, ...(probe ? { probe: JSON.stringify(probe) } : {}) };
  };
}

export function clearSelHandler(): Handler {
  return async (row, target, rs) => {
    if (row.mgmt_type !== 'ipmi' || !target) throw notSupported(row, 'clearSel');
    const r = await ipmiClearSel(target, { ...rs.session, readFirst: true });
    const msg = `cleared (${r.entries.length} entr${r.entries.length === 1 ? 'y' : 'ies'} read before clearing)`;
    return { status: 'ok', code: RC.OK, message: msg, line: `${row.name} ok ${msg}`, attempts: 1 };
  };
}
