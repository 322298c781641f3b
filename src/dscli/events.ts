// Alerts received by the trap listener and the SNMP trap forwarding destinations
// (index 1-5). Store-backed: the listener that fills dscli_alerts is the monitor's.
import type { Db } from '../store/db.js';
import { formatError, notFound, RC } from './errors.js';
import { serverRow } from './servers.js';
import { parseSettings } from './words.js';
import type { Out } from './ops.js';
import { isoWithOffset } from '../util/time.js';

export interface AlertRow { id: number; time: string; server: string; source: string; kind: string; severity: string; event: string; message: string }

/** Received alerts, newest first (of one machine, at most `count`). */
export function alertRows(db: Db, machineId?: number, count?: number): AlertRow[] {
  return db.prepare(`SELECT a.id, a.time, coalesce(m.name, '-') AS server, a.source, a.kind, a.severity, a.event, a.message
    FROM dscli_alerts a LEFT JOIN machines m ON m.id = a.machine_id
    WHERE (? IS NULL OR a.machine_id = ?) ORDER BY a.id DESC LIMIT ?`).all(machineId ?? null, machineId ?? null, count ?? -1) as AlertRow[];
}

export function getAlertListCmd(db: Db, args: string[], out: Out): number {
  let name: string | undefined, count: number | undefined;
  for (const a of args) {
    if (/^\d+$/.test(a) && count === undefined && !serverRow(db, a)) count = Number(a);
    else if (name === undefined) name = a;
    else throw formatError('usage: getAlertList [Name] [count]');
  }
  let machineId: number | undefined;
  if (name !== undefined) {
    const r = serverRow(db, name);
    if (!r) throw notFound(`server not found: ${name}`);
    machineId = r.id;
  }
  const rows = alertRows(db, machineId, count);
  for (const r of rows) {
    // One rule with kanri's listings: local time with its offset, not UTC.
    r.time = isoWithOffset(String(r.time)) ?? r.time!;
    if (out.json) out.out(JSON.stringify(r) + '\n');
    else out.out(`${r.time} ${r.server} ${r.severity} ${r.event || '-'} ${r.message}\n`);
  }
  return RC.OK;
}

const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:]+\]?$/;

export function setTrapForwardCmd(db: Db, args: string[]): number {
  const [index, address, ...words] = args;
  if (index === undefined || address === undefined) throw formatError('usage: setTrapForward Index Address[:port] [community=…] | setTrapForward Index off');
  if (!/^[1-5]$/.test(index)) throw formatError('Index must be 1-5');
  if (address === 'off' || address === 'none') {
    if (words.length) throw formatError('setTrapForward Index off takes no settings');
    const r = db.prepare('DELETE FROM dscli_trap_forwards WHERE idx = ?').run(Number(index));
    if (r.changes === 0) throw notFound(`no trap forwarding destination ${index}`);
    return RC.OK;
  }
  const s = parseSettings(words, ['community', 'port']);
  let host = address, port = 162;
  const m = /^(.*):(\d{1,5})$/.exec(address);
  if (m && !address.includes('::')) { host = m[1]!; port = Number(m[2]); }
  if (s.has('port')) port = Number(s.get('port'));
  if (!HOST.test(host)) throw formatError(`bad address '${address}'`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw formatError('port must be 1-65535');
  const community = s.get('community') ?? 'public';
  if (!/^[\x21-\x7e]{1,32}$/.test(community)) throw formatError('community must be 1-32 printable characters');
  db.prepare('INSERT INTO dscli_trap_forwards (idx, address, port, community) VALUES (?, ?, ?, ?) ON CONFLICT (idx) DO UPDATE SET address = excluded.address, port = excluded.port, community = excluded.community')
    .run(Number(index), host, port, community);
  return RC.OK;
}

export function getTrapForwardCmd(db: Db, args: string[], out: Out): number {
  if (args.length) throw formatError('usage: getTrapForward');
  const rows = db.prepare('SELECT idx, address, port, community FROM dscli_trap_forwards ORDER BY idx').all() as Array<{ idx: number; address: string; port: number; community: string }>;
  for (const r of rows) out.out(out.json ? JSON.stringify(r) + '\n' : `${r.idx} ${r.address}:${r.port} community=${r.community}\n`);
  return RC.OK;
}
