// Runs the real `kanri monitor` on a store (it listens on free loopback ports: the store's
// settings say 127.0.0.1:0) and watches its log; stop() ends it by signal within a bound.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { binaries } from './cli.js';
import { waitFor } from './daemon.js';
import { queryAll } from './store.js';

export interface RunningMonitor {
  proc: ChildProcess;
  /** The trap port it bound. */
  port: number;
  /** The HTTP port, when monitor.http_listen is set. */
  httpPort?: number;
  log(): string;
  /** Resolves with the log line matching re (seen after `from` characters of the log). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Signals the monitor and waits for it to exit (SIGKILL after boundMs); resolves with its exit code or signal. */
  stop(signal?: NodeJS.Signals, boundMs?: number): Promise<number | string>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => { for (const c of live) try { c.kill('SIGKILL'); } catch { /* gone */ } });

export async function startMonitor(db: string, env: NodeJS.ProcessEnv = {}, wrapper: string[] = []): Promise<RunningMonitor> {
  const argv = [...wrapper, join(binaries(), 'kanri'), 'monitor'];
  const proc = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, LANG: 'C', LC_ALL: '', KANRI_DB: db, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let log = '';
  const waiters: Array<() => void> = [];
  proc.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  proc.once('exit', () => { for (const w of waiters.splice(0)) w(); });
  const waitFor = (re: RegExp, timeoutMs = 15_000, from = 0): Promise<string> => new Promise((resolve, reject) => {
    const end = Date.now() + timeoutMs;
    const check = (): void => {
      const m = re.exec(log.slice(from));
      if (m) return resolve(m[0]);
      if (proc.exitCode !== null || proc.signalCode !== null) return reject(new Error(`monitor exited (${proc.exitCode ?? proc.signalCode}) before ${re}:\n${log}`));
      if (Date.now() > end) return reject(new Error(`no ${re} in the monitor's log within ${timeoutMs} ms:\n${log}`));
      waiters.push(check);
      setTimeout(check, Math.min(200, Math.max(1, end - Date.now())));
    };
    check();
  });
  const started = await waitFor(/running \(pid \d+\)[^\n]*/);
  const port = Number(/traps on [^ ;]*:(\d+)/.exec(started)?.[1]);
  const http = /HTTP on [^ ;]*:(\d+)/.exec(started)?.[1];
  return {
    proc, port, ...(http ? { httpPort: Number(http) } : {}),
    log: () => log,
    waitFor,
    stop: (signal = 'SIGTERM', boundMs = 20_000) => new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode ?? proc.signalCode!);
      const k = setTimeout(() => proc.kill('SIGKILL'), boundMs);
      proc.once('exit', (code, sig) => { clearTimeout(k); resolve(code ?? sig!); });
      proc.kill(signal);
    }),
  };
}

/** Runs net-snmp's snmptrap; resolves when it has sent. */
export function snmptrap(args: string[]): { code: number | null; err: string } {
  const r = spawnSync('snmptrap', ['-M', '/dev/null', '-Ln', ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, err: r.stderr };
}

/** snmptrap arguments of an IPMI PET (v1): enterprise 3183.1.1, specific trap, the PET varbind in hex. */
export function petTrapArgs(o: { port: number; community?: string; guid: string; sensorType: number; eventType?: number; offset: number; agent?: string; severity?: number; version?: '1' | '2c' }): string[] {
  const specific = (o.sensorType << 16) | ((o.eventType ?? 0x6f) << 8) | o.offset;
  const guid = o.guid.replace(/-/g, '');
  // GUID, sequence, local timestamp, UTC offset, trap source, event source, severity, sensor device,
  // sensor number, entity, instance, event data 1-8, language, manufacturer, system ID (PET v1.0 table 4).
  const body = guid + '0001' + '12345678' + 'ffff' + '20' + '20' + (o.severity ?? 0x10).toString(16).padStart(2, '0') + '20' + '01' + '03' + '01'
    + o.offset.toString(16).padStart(2, '0') + 'ffffffffffffff' + '19' + '00001234' + '0000';
  const target = `127.0.0.1:${o.port}`;
  if (o.version === '2c') {
    return ['-v', '2c', '-c', o.community ?? 'public', target, '', `1.3.6.1.4.1.3183.1.1.0.${specific}`, '1.3.6.1.4.1.3183.1.1.1', 'x', body];
  }
  return ['-v', '1', '-c', o.community ?? 'public', target, '1.3.6.1.4.1.3183.1.1', o.agent ?? '0.0.0.0', '6', String(specific), '', '1.3.6.1.4.1.3183.1.1.1', 'x', body];
}

/** Sends what snmptrap would send (its target replaced) from another loopback address: the same datagram to each port; returns it. */
export async function sendFrom(address: string, port: number | number[], args: string[]): Promise<Buffer> {
  const cap = createSocket('udp4');
  await new Promise<void>((r) => cap.bind(0, '127.0.0.1', () => r()));
  const got = new Promise<Buffer>((r) => cap.once('message', (m) => r(m)));
  const i = args.findIndex((a) => /^127\.0\.0\.1:\d+$/.test(a));
  const a = [...args];
  a[i] = `127.0.0.1:${cap.address().port}`;
  snmptrap(a);
  const raw = await got;
  cap.close();
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  for (const p of [port].flat()) await new Promise<void>((r) => s.send(raw, p, '127.0.0.1', () => r()));
  s.close();
  return raw;
}

/** A counter the monitor keeps (monitor_counters, written every second): the state to wait on. */
export function counter(db: string, name: string): number {
  return queryAll<{ n: number }>(db, 'SELECT coalesce(sum(n), 0) AS n FROM monitor_counters WHERE name = ?', name)[0]!.n;
}

/** Waits until the counter reaches `at`: rounds of polling done, say. */
export async function counterReaches(db: string, name: string, at: number, ms = 30_000): Promise<void> {
  await waitFor(() => counter(db, name) >= at, ms, () => `${name} to reach ${at} (it is ${counter(db, name)})`);
}

/** Waits until chain `id` has ended — its row in monitor_chains, the state, not the log's wording — and returns it. */
export async function chainEnded(db: string, id: number, ms = 30_000): Promise<{ status: string; error: string | null }> {
  const row = (): { status: string; error: string | null } | undefined =>
    queryAll<{ status: string; error: string | null }>(db, 'SELECT status, error FROM monitor_chains WHERE id = ?', id)[0];
  await waitFor(() => ['completed', 'failed', 'canceled', 'abandoned'].includes(row()?.status ?? ''), ms, () => `chain ${id} to end (it is ${row()?.status ?? 'not there'})`);
  return row()!;
}

/**
 * Waits until the monitor has swept its chains (started the waits that ended and the pending
 * chains) from start to end after this call — counter chain_sweeps, not a fixed sleep — so
 * that a test may then say that nothing happened.
 */
export async function chainsSwept(db: string, ms = 15_000): Promise<void> {
  // A count seen going up may hold a sweep that began before the call: the next one began after it.
  for (let i = 0; i < 2; i++) await counterReaches(db, 'chain_sweeps', counter(db, 'chain_sweeps') + 1, ms);
}

export interface MonitorEvent {
  id: number; origin: string; source: string; event: string; sender: string; detail: string;
  decision: string; chain_id: number | null; machine: string | null;
}

/** The newest received event's id: a test step looks only at the events after it. */
export function lastEventId(db: string): number {
  return queryAll<{ n: number }>(db, 'SELECT coalesce(max(id), 0) AS n FROM monitor_events')[0]!.n;
}

const text = (want: string | RegExp | undefined, v: string | null): boolean => want === undefined || (typeof want === 'string' ? v === want : want.test(v ?? ''));

/**
 * Waits until the monitor has decided an event (after event `after`) matching `m` — its row
 * in monitor_events, the state, not the log's wording — and returns it.
 */
export async function eventDecided(db: string, m: { origin?: string; source?: string; event?: string | RegExp; machine?: string; sender?: string | RegExp; detail?: RegExp; decision?: RegExp }, after = 0, ms = 15_000): Promise<MonitorEvent> {
  const find = (): MonitorEvent | undefined => queryAll<MonitorEvent>(db,
    `SELECT e.id, e.origin, e.source, e.event, e.sender, e.detail, e.decision, e.chain_id, m.name AS machine
       FROM monitor_events e LEFT JOIN machines m ON m.id = e.machine_id WHERE e.id > ? AND e.state = 'decided' ORDER BY e.id`, after)
    .find((e) => text(m.origin, e.origin) && text(m.source, e.source) && text(m.event, e.event) && text(m.machine, e.machine) && text(m.sender, e.sender) && text(m.detail, e.detail) && text(m.decision, e.decision));
  await waitFor(() => find() !== undefined, ms, () => `an event ${JSON.stringify(m, (_, v: unknown) => (v instanceof RegExp ? String(v) : v))} decided after event ${after}`);
  return find()!;
}

/** Waits until action `action` (1-based) of chain `chain` has a job of the given status, and returns the job's id. */
export async function chainJob(db: string, chain: number, action: number, status = 'running', ms = 15_000): Promise<number> {
  const find = (): number | undefined => queryAll<{ id: number }>(db, 'SELECT id FROM jobs WHERE command LIKE ? AND status = ? ORDER BY id', `policy chain ${chain} action ${action}:%`, status)[0]?.id;
  await waitFor(() => find() !== undefined, ms, () => `a ${status} job of chain ${chain} action ${action}`);
  return find()!;
}

/**
 * The group the monitor tests share: G, of the standard policy, served by the sim driver, a
 * host setting h01, h02 … (10.9.0.11, .12 …) for each machine of its pool.
 */
export function monitorGroup(pool: readonly string[]): string {
  const hosts = pool.map((_, i) => `      - { host: h0${i + 1}, nics: [{ addresses: [{ ip: 10.9.0.${11 + i}, netmask: 255.255.255.0 }] }] }`).join('\n');
  return `groups:
  - name: G
    type: physical
    policy: 標準ポリシー
    drivers: { power: sim, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings:
${hosts}
    pool: [${pool.join(', ')}]
`;
}
