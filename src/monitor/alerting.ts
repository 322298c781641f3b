// ESMPRO/AlertManager's functions (seed 000 §3.2.2, table 11, L2698-2712) as two policy
// actions and a mail queue:
//   - alert-command (コマンド実行): the command set for the policy rule (kanri alert command
//     set) runs without a shell, with the event in KANRI_EVENT_* variables and nothing else of
//     the monitor's environment, killed with its process group after its timeout; an exit
//     other than 0 fails the action;
//   - alert-notify (通報先のグループ管理): every destination group whose categories include the
//     event's (or that names none) gets it — a v2c notification to each of its trap
//     destinations at once, and a mail to its list, queued: sent within the group's time
//     window (スケジュール機能: the next opening when outside it) and tried again after each
//     wait of its retry schedule when the server does not take it.
// The queue (alert_mails) is the monitor's to send (MailQueue); a mail claimed by a monitor
// that ended is sent again at the next start (at least once).
import { spawn } from 'node:child_process';
import snmp from 'net-snmp';
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { byName } from '../domain/names.js';
import type { QueuedEvent } from './intake.js';
import { sendMail } from './mail.js';
import { mailServer } from './notify.js';
import { monitorSetting } from './settings.js';
import { Periodic } from '../util/periodic.js';
import { orphanedFor } from './lease.js';

// ---- what the store keeps ------------------------------------------------------------------

export interface AlertCommand { policy: string; rule_event: string; argv: string[]; timeout_s: number }
export interface Destination { name: string; mails: string[]; traps: string[]; community: string; categories: string[]; window: string; retry_s: number[] }

interface DestinationRow { name: string; mails: string; traps: string; community: string; categories: string; window: string; retry_s: string }
const destination = (r: DestinationRow): Destination => ({
  name: r.name, mails: JSON.parse(r.mails) as string[], traps: JSON.parse(r.traps) as string[], community: r.community,
  categories: JSON.parse(r.categories) as string[], window: r.window, retry_s: JSON.parse(r.retry_s) as number[],
});

export function setAlertCommand(db: Db, c: AlertCommand): void {
  prepared(db, `INSERT INTO alert_commands (policy, rule_event, argv, timeout_s) VALUES (?, ?, ?, ?)
    ON CONFLICT (policy, rule_event) DO UPDATE SET argv = excluded.argv, timeout_s = excluded.timeout_s`).run(c.policy, c.rule_event, JSON.stringify(c.argv), c.timeout_s);
}

/** Removes a rule's command; the policy as typed, found as any name is (byName: alike on both back ends). */
export function removeAlertCommand(db: Db, policy: string, rule: string): boolean {
  const c = byName<{ policy: string }>(db, 'SELECT policy FROM alert_commands WHERE rule_event = ? AND {name}', 'policy', policy, rule);
  return c !== undefined && prepared(db, 'DELETE FROM alert_commands WHERE policy = ? AND rule_event = ?').run(c.policy, rule).changes > 0;
}

export function alertCommand(db: Db, policy: string, rule: string): AlertCommand | undefined {
  const r = prepared(db, 'SELECT policy, rule_event, argv, timeout_s FROM alert_commands WHERE policy = ? AND rule_event = ?').get(policy, rule) as (Omit<AlertCommand, 'argv'> & { argv: string }) | undefined;
  return r ? { ...r, argv: JSON.parse(r.argv) as string[] } : undefined;
}

export function alertCommands(db: Db): AlertCommand[] {
  return (prepared(db, 'SELECT policy, rule_event, argv, timeout_s FROM alert_commands ORDER BY policy COLLATE NOCASE, rule_event').all() as Array<Omit<AlertCommand, 'argv'> & { argv: string }>)
    .map((r) => ({ ...r, argv: JSON.parse(r.argv) as string[] }));
}

export function putDestination(db: Db, d: Destination): void {
  prepared(db, `INSERT INTO alert_destinations (name, mails, traps, community, categories, window, retry_s) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET mails = excluded.mails, traps = excluded.traps, community = excluded.community, categories = excluded.categories,
      window = excluded.window, retry_s = excluded.retry_s`)
    .run(d.name, JSON.stringify(d.mails), JSON.stringify(d.traps), d.community, JSON.stringify(d.categories), d.window, JSON.stringify(d.retry_s));
}

// A destination group's name is no object name of spec/decisions.md L34-35: its column is
// plain TEXT (unique byte for byte on both back ends), so it is compared exactly.
export function removeDestination(db: Db, name: string): boolean {
  return prepared(db, 'DELETE FROM alert_destinations WHERE name = ?').run(name).changes > 0;
}

export function destinationsList(db: Db): Destination[] {
  return (prepared(db, 'SELECT * FROM alert_destinations ORDER BY name').all() as DestinationRow[]).map(destination);
}

/** The destination groups an event of this category goes to. */
export function destinationsFor(db: Db, category: string | null): Destination[] {
  return destinationsList(db).filter((d) => d.categories.length === 0 || (category !== null && d.categories.includes(category)));
}

// ---- time windows ------------------------------------------------------------------------

/** 'HH:MM-HH:MM' → minutes of the day [from, to); undefined when it is not one. */
export function parseWindow(w: string): { from: number; to: number } | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/.exec(w.trim());
  if (!m) return undefined;
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  return from === to || to > 24 * 60 ? undefined : { from, to };
}

/** `at` when it is inside the window (which may wrap midnight), else the window's next opening. */
export function windowOpen(w: string, at: Date): Date {
  const win = parseWindow(w);
  if (!win) return at;
  const min = at.getHours() * 60 + at.getMinutes();
  const inside = win.from < win.to ? min >= win.from && min < win.to : min >= win.from || min < win.to;
  if (inside) return at;
  const open = new Date(at.getFullYear(), at.getMonth(), at.getDate(), Math.floor(win.from / 60), win.from % 60);
  if (open.getTime() <= at.getTime()) open.setDate(open.getDate() + 1);
  return open;
}

// ---- the event, as a command and a message see it ----------------------------------------------

export interface AlertContext {
  event: QueuedEvent;
  machine: string | null;
  group: string | null;
  policy: string;
  rule: string;
}

/** KANRI_EVENT_* of one event (values without NUL, bounded). */
export function eventEnvironment(a: AlertContext): Record<string, string> {
  const e = a.event;
  const v: Record<string, string> = {
    KANRI_EVENT_ID: String(e.id), KANRI_EVENT_RECEIVED_AT: e.receivedAt, KANRI_EVENT_SOURCE: e.source, KANRI_EVENT_NAME: e.event,
    KANRI_EVENT_CATEGORY: e.category ?? '', KANRI_EVENT_SUMMARY: e.summary, KANRI_EVENT_MACHINE: a.machine ?? '', KANRI_EVENT_GROUP: a.group ?? '',
    KANRI_EVENT_ORIGIN: e.origin, KANRI_EVENT_SENDER: e.sender, KANRI_EVENT_DETAIL: e.detail, KANRI_EVENT_POLICY: a.policy, KANRI_EVENT_RULE: a.rule,
  };
  for (const k of Object.keys(v)) v[k] = v[k]!.replace(/\0/g, '').slice(0, 4000);
  return v;
}

function text(a: AlertContext): { subject: string; body: string } {
  const e = a.event;
  const on = a.machine ?? a.group ?? '';
  return {
    subject: `[kanri] ${a.rule}${on ? ` ${on}` : ''}: ${e.source} ${e.event}`,
    body: [`${e.summary || e.event}`, '', `event: ${e.source} ${e.event} (${e.category ?? 'no category'})`, ...(a.machine ? [`machine: ${a.machine}`] : []),
      ...(a.group ? [`group: ${a.group}`] : []), `policy: ${a.policy}`, `rule: ${a.rule}`, `received: ${e.receivedAt}`, ...(e.detail ? ['', e.detail] : []), ''].join('\n'),
  };
}

// ---- alert-command -------------------------------------------------------------------------

const KILL_GRACE_MS = 5000;
const OUTPUT_KEPT = 2000;

/** Runs the rule's command; resolves with what it said, rejects with why it failed. */
export function runAlertCommand(c: AlertCommand, a: AlertContext): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...eventEnvironment(a) };
    const p = spawn(c.argv[0]!, c.argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: '/' });
    let out = '';
    const keep = (d: Buffer): void => { out = (out + d.toString('utf8')).slice(-OUTPUT_KEPT); };
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    let timedOut = false;
    const group = (sig: NodeJS.Signals): void => { try { process.kill(-p.pid!, sig); } catch { /* gone */ } };
    const t = setTimeout(() => {
      timedOut = true;
      group('SIGTERM');
      setTimeout(() => group('SIGKILL'), KILL_GRACE_MS).unref();
    }, c.timeout_s * 1000);
    const last = (): string => { const l = out.trim().split('\n').pop(); return l ? ` (${l})` : ''; };
    p.once('error', (e) => { clearTimeout(t); reject(new Error(`${c.argv[0]} could not be started: ${e.message}`)); });
    p.once('close', (code, sig) => {
      clearTimeout(t);
      if (timedOut) return reject(new Error(`${c.argv[0]} did not end within ${c.timeout_s} s and was killed${last()}`));
      if (code === 0) return resolve(`${c.argv[0]} exited 0${last()}`);
      reject(new Error(`${c.argv[0]} ${code !== null ? `exited ${code}` : `was killed by ${sig}`}${last()}`));
    });
  });
}

// ---- alert-notify ----------------------------------------------------------------------------

/** host:port (IPv4, [IPv6] or a name); undefined when it is not one. */
export function parseTrapTarget(t: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(t.trim());
  const port = Number(m?.[2]);
  return m && port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
}

/** A v2c notification of the event (monitor.notify_oid, as the notify action's) to one destination. */
function sendTrap(db: Db, target: string, community: string, a: AlertContext): Promise<void> {
  const t = parseTrapTarget(target);
  if (!t) return Promise.reject(new Error(`'${target}' is not host:port`));
  const oid = monitorSetting(db, 'monitor.notify_oid');
  const str = (n: number, v: string): { oid: string; type: number; value: unknown } => ({ oid: `${oid}.${n}`, type: snmp.ObjectType.OctetString!, value: Buffer.from(v, 'utf8') });
  const session = snmp.createSession(t.host, community, { version: snmp.Version2c, trapPort: t.port, transport: t.host.includes(':') ? 'udp6' : 'udp4' });
  return new Promise<void>((resolve, reject) => {
    session.on('error', (e: Error) => reject(e));
    const words = `${a.event.summary || a.event.event} ${a.event.source} ${a.event.event}`;
    session.trap(oid, [str(1, words), str(2, a.machine ?? ''), str(3, a.group ?? ''), str(4, a.policy), str(5, a.rule)], {}, (e) => (e ? reject(e) : resolve()));
  }).finally(() => session.close());
}

/** The alert-notify action: traps now, mails queued per destination group; says what was done. */
export async function notifyDestinations(db: Db, a: AlertContext, now = new Date()): Promise<string> {
  const dests = destinationsFor(db, a.event.category);
  if (dests.length === 0) return `no destination group takes category ${a.event.category ?? 'none'}`;
  const { subject, body } = text(a);
  const done: string[] = [];
  for (const d of dests) {
    const parts: string[] = [];
    if (d.mails.length) {
      const at = windowOpen(d.window, now);
      prepared(db, `INSERT INTO alert_mails (destination, recipients, subject, body, event_id, created_at, not_before, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')`)
        .run(d.name, JSON.stringify(d.mails), subject, body, a.event.id, now.toISOString(), at.toISOString());
      parts.push(at === now ? `mail to ${d.mails.join(', ')} queued` : `mail to ${d.mails.join(', ')} held until ${at.toISOString()} (window ${d.window})`);
    }
    for (const t of d.traps) {
      try {
        await sendTrap(db, t, d.community, a);
        parts.push(`trap to ${t}`);
      } catch (e) {
        parts.push(`trap to ${t} not sent: ${(e as Error).message}`);
      }
    }
    done.push(`${d.name}: ${parts.join(', ') || 'nothing to send'}`);
  }
  return done.join('; ');
}

// ---- the mail queue --------------------------------------------------------------------------

const QUEUE_TICK_MS = 1000;
const BATCH = 20;

interface MailRow { id: number; destination: string; recipients: string; subject: string; body: string; attempts: number }

export class MailQueue {
  private readonly ticker = new Periodic(() => this.sendDue(), (e) => this.log(`alert mail: ${e.message}`));

  /**
   * `holder`: this monitor's lease holder, recorded as the claimer of each mail it sends. Unset
   * (the only monitor, without a lease): every mail left 'sending' is this store's to requeue.
   */
  constructor(private readonly db: Db, private readonly log: (line: string) => void, private readonly holder?: string) {}

  /** Mails a monitor that ended had claimed go back to the queue; then a look every second. */
  start(): void {
    this.requeueOrphans();
    this.ticker.start(QUEUE_TICK_MS);
  }

  /**
   * Mails claimed by a monitor that is gone go back to the queue: at start every one this
   * monitor does not send (without a lease: all of them); while it runs, those of a monitor
   * whose lease expired (with several monitors on one store), within a tick of the expiry.
   */
  private requeueOrphans(): void {
    const { db, holder } = this;
    const sending = prepared(db, "SELECT id, claimed_by AS claimedBy FROM alert_mails WHERE status = 'sending'").all() as Array<{ id: number; claimedBy: string | null }>;
    if (sending.length === 0) return;
    const orphan = holder === undefined ? (): boolean => true : orphanedFor(db, holder);
    for (const m of sending) {
      if (!orphan(m.claimedBy)) continue;
      prepared(db, "UPDATE alert_mails SET status = 'pending', claimed_by = NULL WHERE id = ? AND status = 'sending' AND claimed_by IS ?").run(m.id, m.claimedBy);
    }
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
  }

  async sendDue(now = new Date()): Promise<void> {
    const { db } = this;
    if (this.holder !== undefined) this.requeueOrphans();
    const due = prepared(db, "SELECT id, destination, recipients, subject, body, attempts FROM alert_mails WHERE status = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?").all(now.toISOString(), BATCH) as MailRow[];
    for (const m of due) {
      if (prepared(db, "UPDATE alert_mails SET status = 'sending', claimed_by = ? WHERE id = ? AND status = 'pending'").run(this.holder ?? null, m.id).changes === 0) continue;
      const server = mailServer(db);
      let error = '';
      if (!server) error = 'no mail server (mail.smtp_host is not set)';
      else {
        try {
          await sendMail({ ...server, to: JSON.parse(m.recipients) as string[] }, m.subject, m.body);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      const attempts = m.attempts + 1;
      if (!error) {
        prepared(db, "UPDATE alert_mails SET status = 'sent', attempts = ?, last_error = '' WHERE id = ?").run(attempts, m.id);
        continue;
      }
      const d = prepared(db, 'SELECT * FROM alert_destinations WHERE name = ?').get(m.destination) as DestinationRow | undefined;
      const waits = d ? destination(d).retry_s : [];
      const wait = waits[attempts - 1];
      if (wait === undefined) {
        prepared(db, "UPDATE alert_mails SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?").run(attempts, error, m.id);
        this.log(`alert mail ${m.id} to ${m.destination} failed after ${attempts} tr${attempts === 1 ? 'y' : 'ies'}: ${error}`);
      } else {
        const next = windowOpen(d!.window, new Date(Date.now() + wait * 1000));
        prepared(db, "UPDATE alert_mails SET status = 'pending', attempts = ?, last_error = ?, not_before = ? WHERE id = ?").run(attempts, error, next.toISOString(), m.id);
        this.log(`alert mail ${m.id} to ${m.destination} not delivered (${error}); next try at ${next.toISOString()}`);
      }
    }
  }
}
