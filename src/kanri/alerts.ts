// kanri alert command set | remove, alert destination add | remove, alert list: what the
// policy actions alert-command and alert-notify use (src/monitor/alerting.ts).
import { EXIT } from './exit-codes.js';
import { isAbsolute } from 'node:path';
import { withStore } from '../open-store.js';
import { complain } from '../cli/messages.js';
import { byName } from '../domain/names.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import {
  type Destination, alertCommands, destinationsList, parseTrapTarget, parseWindow, putDestination, removeAlertCommand, removeDestination, setAlertCommand,
} from '../monitor/alerting.js';
import { CATEGORIES, canonicalCategory } from '../monitor/catalogue.js';

const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const MAIL = /^[^\s@<>,;]+@[^\s@<>,;]+$/;

export function alertCommandSet(dbPath: string, policy: string, rule: string, argv: string[], o: { timeout: string }): number {
  const timeout = Number(o.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 3600) { complain('kanri', `--timeout must be from 0.1 to 3600 seconds, not '${o.timeout}'`); return EXIT.USAGE; }
  if (!argv.length || !isAbsolute(argv[0]!)) { complain('kanri', 'give the command after --, its program as an absolute path (it runs without a shell)'); return EXIT.USAGE; }
  if (argv.some((a) => a.includes('\0')) || JSON.stringify(argv).length > 8000) { complain('kanri', 'the command is too long or holds a NUL character'); return EXIT.USAGE; }
  return withStore(dbPath, (db) => {
    const p = byName<{ id: number; name: string }>(db, 'SELECT id, name FROM policies WHERE {name}', 'name', policy);
    if (!p) { complain('kanri', `policy not found: ${policy}`); return EXIT.NOT_FOUND; }
    // A rule's event label is no object name (spec/decisions.md L34-35 lists those): a plain
    // column, compared exactly on both back ends, as alert_commands.rule_event is.
    if (!db.prepare('SELECT 1 FROM policy_rules WHERE policy_id = ? AND event_name = ?').get(p.id, rule)) { complain('kanri', `policy ${p.name} has no rule ${rule}`); return EXIT.NOT_FOUND; }
    setAlertCommand(db, { policy: p.name, rule_event: rule, argv, timeout_s: timeout });
    return EXIT.OK;
  });
}

export function alertCommandRemove(dbPath: string, policy: string, rule: string): number {
  return withStore(dbPath, (db) => {
    if (!removeAlertCommand(db, policy, rule)) { complain('kanri', `no command is set for rule ${rule} of ${policy}`); return EXIT.NOT_FOUND; }
    return EXIT.OK;
  });
}

export function alertDestinationAdd(dbPath: string, name: string, o: { mail?: string; trap?: string; community: string; category?: string; window?: string; retry?: string }): number {
  if (!/^[\p{L}\p{N}_.-]{1,64}$/u.test(name)) { complain('kanri', 'a destination group name is 1-64 letters, digits, _ . -'); return EXIT.USAGE; }
  const mails = list(o.mail);
  const traps = list(o.trap);
  const categories = list(o.category).map(canonicalCategory);
  const retry = list(o.retry);
  const bad = (what: string): number => { complain('kanri', what); return EXIT.USAGE; };
  if (!mails.length && !traps.length) return bad('give --mail or --trap (or both)');
  for (const m of mails) if (!MAIL.test(m)) return bad(`'${m}' is not a mail address`);
  for (const t of traps) if (!parseTrapTarget(t)) return bad(`--trap '${t}' is not host:port`);
  for (const c of categories) if (!CATEGORIES.includes(c)) return bad(`unknown event category '${c}'`);
  if (o.window !== undefined && !parseWindow(o.window)) return bad(`--window '${o.window}' is not HH:MM-HH:MM`);
  if (retry.some((r) => !/^\d{1,5}$/.test(r) || Number(r) < 1 || Number(r) > 86400) || retry.length > 20) return bad(`--retry '${o.retry}' is not a list of up to 20 waits in seconds (1-86400)`);
  if (!/^[\x21-\x7e]{1,64}$/.test(o.community)) return bad('the community must be 1-64 printable characters');
  const d: Destination = { name, mails, traps, community: o.community, categories, window: o.window ?? '', retry_s: retry.map(Number) };
  return withStore(dbPath, (db) => { putDestination(db, d); return EXIT.OK; });
}

export function alertDestinationRemove(dbPath: string, name: string): number {
  return withStore(dbPath, (db) => {
    if (!removeDestination(db, name)) { complain('kanri', `destination group not found: ${name}`); return EXIT.NOT_FOUND; }
    return EXIT.OK;
  });
}

interface CommandLine { policy: string; rule_event: string; argv: string[]; timeout_s: number }
interface DestinationLine extends Destination { pending: number; sent: number; failed: number }

const COMMAND_COLUMNS: Array<Column<CommandLine>> = [
  { header: 'KIND', key: 'kind', value: () => 'command' },
  { header: 'POLICY', key: 'policy', value: (c) => c.policy },
  { header: 'RULE', key: 'rule', value: (c) => c.rule_event },
  { header: 'COMMAND', key: 'argv', value: (c) => c.argv.join(' ') },
  { header: 'TIMEOUT', key: 'timeout_s', value: (c) => c.timeout_s },
];

const DESTINATION_COLUMNS: Array<Column<DestinationLine>> = [
  { header: 'KIND', key: 'kind', value: () => 'destination' },
  { header: 'NAME', key: 'name', value: (d) => d.name },
  { header: 'MAIL', key: 'mail', value: (d) => d.mails.join(',') || '-' },
  { header: 'TRAP', key: 'trap', value: (d) => d.traps.join(',') || '-' },
  { header: 'CATEGORIES', key: 'categories', value: (d) => d.categories.join(',') || 'all' },
  { header: 'WINDOW', key: 'window', value: (d) => d.window || 'always' },
  { header: 'RETRY', key: 'retry_s', value: (d) => d.retry_s.join(',') || 'none' },
  { header: 'PENDING', key: 'pending', value: (d) => d.pending },
  { header: 'SENT', key: 'sent', value: (d) => d.sent },
  { header: 'FAILED', key: 'failed', value: (d) => d.failed },
];

export function alertList(dbPath: string, json: boolean): number {
  return withStore(dbPath, (db) => {
    const counts = db.prepare("SELECT destination, status, count(*) AS n FROM alert_mails GROUP BY destination, status").all() as Array<{ destination: string; status: string; n: number }>;
    const n = (d: string, st: string): number => counts.filter((c) => c.destination === d && (c.status === st || (st === 'pending' && c.status === 'sending'))).reduce((a, c) => a + c.n, 0);
    const mode = listingMode(json);
    const dests = destinationsList(db).map((d) => ({ ...d, pending: n(d.name, 'pending'), sent: n(d.name, 'sent'), failed: n(d.name, 'failed') }));
    process.stdout.write(renderListing(alertCommands(db), COMMAND_COLUMNS, mode) + (mode.tty ? '\n' : '') + renderListing(dests, DESTINATION_COLUMNS, mode));
    return EXIT.OK;
  });
}
