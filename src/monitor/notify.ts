// The notification action (4.2.1 通報 / E-mail通報、ESMPRO通報): the event log entry 502
// "notification received", an e-mail to mail.to, and a v2c notification to the trap
// forwarding destinations ("reported to ESMPRO/ServerManager"). For a rule that notifies,
// the start and result of each of its other actions are written and mailed the same way.
// Mail is best effort: a server that is down is logged and said in the action's detail,
// it does not keep the rule's other actions (marking the machine failed) from running.
import type { Db } from '../store/db.js';
import snmp from 'net-snmp';
import { type PolicyEventKind, writePolicyEvent } from '../engine/events.js';
import type { Forwarder } from './forwarding.js';
import { sendMail, type MailSettings } from './mail.js';
import { monitorNumber, monitorSetting } from './settings.js';

export interface NoticeContext { machine: string | null; group: string | null; policy: string; rule: string }

/** The SMTP server of the settings (mail.smtp_host …), without recipients; undefined when none is set. */
export function mailServer(db: Db): Omit<MailSettings, 'to'> | undefined {
  const host = monitorSetting(db, 'mail.smtp_host');
  if (!host) return undefined;
  const ca = monitorSetting(db, 'mail.tls_ca');
  return { host, port: monitorNumber(db, 'mail.smtp_port'), from: monitorSetting(db, 'mail.from'), timeoutMs: monitorNumber(db, 'mail.timeout_s') * 1000, ...(ca ? { caFile: ca } : {}) };
}

function mailSettings(db: Db): MailSettings | undefined {
  const server = mailServer(db);
  const to = monitorSetting(db, 'mail.to').split(',').map((s) => s.trim()).filter(Boolean);
  if (!server || to.length === 0) return undefined;
  return { ...server, to };
}

export class Notifier {
  private readonly abort = new AbortController();

  constructor(private readonly db: Db, private readonly forwarder: Forwarder, private readonly log: (line: string) => void) {}

  /** Cancels every delivery under way and any later one (the monitor's drain bound). */
  cancel(): void {
    this.abort.abort();
  }

  /** The notification itself: event log, mail, trap. Returns what was done, for the chain's record. */
  async received(content: string, c: NoticeContext): Promise<string> {
    const t = writePolicyEvent(this.db, 'received', { info: content, machine: c.machine, group: c.group });
    const mail = await this.mail(`[kanri] ${c.rule}${c.machine ? ` ${c.machine}` : c.group ? ` ${c.group}` : ''}`, this.body(t, c));
    const traps = this.trap(t.ja, c);
    return `event log 502; ${mail}; ${traps}`;
  }

  /** Start and result of another action of a notifying rule. */
  async progress(kind: Exclude<PolicyEventKind, 'received'>, info: { en: string; ja: string }, mgmtId: string, c: NoticeContext, jobId: number | null): Promise<void> {
    const t = writePolicyEvent(this.db, kind, { info: info.en, infoJa: info.ja, mgmtId, machine: c.machine, group: c.group, jobId });
    const what = { start: 'started', complete: 'completed', failed: 'failed', canceled: 'canceled' }[kind];
    const r = await this.mail(`[kanri] ${info.ja} ${what}${c.machine ? ` ${c.machine}` : ''}`, this.body(t, c));
    void r; // a delivery that failed was logged by mail()
  }

  private body(t: { en: string; ja: string }, c: NoticeContext): string {
    return [t.ja, t.en, '', `policy: ${c.policy}`, `rule: ${c.rule}`, ...(c.machine ? [`machine: ${c.machine}`] : []), ...(c.group ? [`group: ${c.group}`] : []), `time: ${new Date().toISOString()}`, ''].join('\n');
  }

  private async mail(subject: string, body: string): Promise<string> {
    const s = mailSettings(this.db);
    if (!s) return 'no mail (mail.smtp_host or mail.to not set)';
    try {
      const d = await sendMail({ ...s, signal: this.abort.signal }, subject, body);
      return `mail sent to ${s.to.join(', ')}${d.tls ? ' (STARTTLS)' : ''}`;
    } catch (e) {
      const why = `mail to ${s.to.join(', ')} not delivered: ${(e as Error).message}`;
      this.log(why);
      return why;
    }
  }

  private trap(text: string, c: NoticeContext): string {
    this.forwarder.reload(this.db);
    if (this.forwarder.count === 0) return 'no trap forwarding destination';
    const oid = monitorSetting(this.db, 'monitor.notify_oid');
    const str = (n: number, v: string): { oid: string; type: number; value: unknown } => ({ oid: `${oid}.${n}`, type: snmp.ObjectType.OctetString!, value: Buffer.from(v, 'utf8') });
    this.forwarder.notify(oid, [str(1, text), str(2, c.machine ?? ''), str(3, c.group ?? ''), str(4, c.policy), str(5, c.rule)]);
    return `notification trap to ${this.forwarder.count} destination(s)`;
  }
}
