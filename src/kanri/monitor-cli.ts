// kanri monitor | monitor status | monitor user … | event raise | policy templates | policy explain.
import { EXIT } from './exit-codes.js';
import { readSecret } from '../cli/secret-input.js';
import { withStore } from '../open-store.js';
import { sealSecret } from '../store/secrets.js';
import { EVENT_SOURCES } from '../domain/policy-actions.js';
import { isResolved, resolvePath } from '../domain/paths.js';
import { readCounters } from '../monitor/counters.js';
import { Intake, IntakeRefusal, checkEvent } from '../monitor/intake.js';
import { ACTIONS, ActionRefused, actionNames } from '../monitor/actions.js';
import { RECOVERY_OF, catalogue, lookup, normalizeEvent, type NotifyingSource } from '../monitor/catalogue.js';
import { groupPath, machineInfo, matchRule, policyFor, runningNormally } from '../monitor/policy.js';
import { STANDARD_POLICIES } from '../monitor/templates.js';
import { snmpUserPurpose } from '../monitor/traps.js';
import { liveLeases, monitorManager } from '../monitor/lease.js';
import { monitorsOf } from '../monitor/monitors.js';
import { monitorNumber } from '../monitor/settings.js';
import { complain } from '../cli/messages.js';
import { groupNotFound, machineNotFound } from '../engine/planners/targets.js';
import { fencingWaits } from '../engine/fencing.js';
import { machineByName } from '../engine/select.js';

const out = (s: string): void => { process.stdout.write(s + '\n'); };

export async function monitorRun(dbPath: string): Promise<number> {
  return (await import('../monitor/daemon.js')).runMonitor(dbPath);
}

export async function monitorStatus(dbPath: string, json = false): Promise<number> {
  return withStore(dbPath, (db) => {
    const monitors = monitorsOf(db);
    const live = monitors.filter((m) => m.live);
    // The one the first line speaks of: this manager's monitor, else the first live one.
    let own: string | undefined;
    try {
      own = monitorManager(db);
    } catch {
      // KANRI_MANAGER is not a manager's name: no monitor is this process's own.
    }
    const h = live.find((m) => m.manager === own) ?? live[0];
    const q = db.prepare("SELECT count(*) AS n FROM monitor_events WHERE state = 'new'").get() as { n: number };
    const chains = db.prepare('SELECT status, count(*) AS n FROM monitor_chains GROUP BY status ORDER BY status').all() as Array<{ status: string; n: number }>;
    const counters = readCounters(db);
    const fencing = [...fencingWaits(db).values()];
    const recent = (db.prepare('SELECT id, status, policy, rule_event, actions, next_action, error, machine_id, group_id FROM monitor_chains ORDER BY id DESC LIMIT 10').all() as
      Array<{ id: number; status: string; policy: string; rule_event: string; actions: string; next_action: number; error: string | null; machine_id: number | null; group_id: number | null }>)
      .map((c) => ({
        id: c.id, status: c.status, policy: c.policy, rule: c.rule_event,
        machine: c.machine_id !== null ? machineInfo(db, c.machine_id)?.name ?? null : null,
        group: c.group_id !== null ? groupPath(db, c.group_id) : null,
        actions: JSON.parse(c.actions) as string[], done: c.next_action, error: c.error,
      }));
    if (json) {
      // One object, stable field names: what a script or a health check reads.
      out(JSON.stringify({
        running: h !== undefined, pid: h && /^\d+$/.test(h.pid) ? Number(h.pid) : null, host: h?.host ?? null, events_waiting: q.n,
        chains: Object.fromEntries(chains.map((c) => [c.status, c.n])), counters, recent_chains: recent,
        waiting_for_fencing: fencing.map((w) => ({ machine: w.machine, job: w.jobId, since: w.since, reason: w.reason })),
        monitors: monitors.map((m) => ({
          manager: m.manager, running: m.live, pid: /^\d+$/.test(m.pid) ? Number(m.pid) : null, host: m.host,
          heartbeat_at: m.heartbeatAt, expires_at: m.expiresAt, polls: m.polls.length, polled_machines: m.polls,
        })),
      }));
      return EXIT.OK;
    }
    out(`monitor: ${h ? `running (pid ${h.pid} on ${h.host})` : 'not running'}${live.length > 1 ? `; ${live.length} monitors share the store` : ''}`);
    for (const m of monitors) {
      out(`  manager ${m.manager}: ${m.live ? `running (pid ${m.pid} on ${m.host}), heartbeat ${m.heartbeatAt}, lease until ${m.expiresAt}; polls ${m.polls.length} machine(s)` : `lease expired at ${m.expiresAt} (pid ${m.pid} on ${m.host}): its machines are polled by the others`}`);
    }
    out(`events waiting to be decided: ${q.n}`);
    out(`chains: ${chains.map((c) => `${c.n} ${c.status}`).join(', ') || 'none'}`);
    for (const w of fencing) {
      out(`waiting for fencing: ${w.machine}${w.jobId !== null ? ` (job ${String(w.jobId).padStart(5, '0')})` : ''} since ${w.since}: ${w.reason}; kanri machine confirm-off ${w.machine}`);
    }
    out(`counted: ${Object.entries(counters).map(([k, n]) => `${k}=${n}`).join(' ') || 'nothing yet'}`);
    for (const c of recent) {
      out(`  chain ${c.id} ${c.status} ${c.machine ?? c.group ?? '?'}: ${c.policy} / ${c.rule}: ${c.actions.map((a, i) => (i < c.done ? `${a}✓` : a)).join(', ')}${c.error ? ` (${c.error})` : ''}`);
    }
    return EXIT.OK;
  });
}

async function twoSecrets(): Promise<[string, string]> {
  if (process.stdin.isTTY) return [await readSecret('authentication key: '), await readSecret('privacy key: ')];
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const [a = '', b = ''] = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  return [a, b];
}

export async function monitorUserAdd(dbPath: string, name: string, o: { auth: string; priv: string }): Promise<number> {
  const auths = ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'];
  const privs = ['des', 'aes', 'aes256b', 'aes256r'];
  if (!/^[\x21-\x7e]{1,32}$/.test(name)) { complain('kanri', 'the user name must be 1-32 printable characters'); return EXIT.USAGE; }
  if (!auths.includes(o.auth)) { complain('kanri', `--auth must be one of ${auths.join(', ')}`); return EXIT.USAGE; }
  if (!privs.includes(o.priv)) { complain('kanri', `--priv must be one of ${privs.join(', ')}`); return EXIT.USAGE; }
  const [authKey, privKey] = await twoSecrets();
  if (authKey.length < 8 || privKey.length < 8) { complain('kanri', 'expected the authentication and privacy keys (8 characters or more) on two lines of standard input'); return EXIT.USAGE; }
  return withStore(dbPath, (db) => {
    db.prepare(`INSERT INTO monitor_snmp_users (name, auth_protocol, priv_protocol, auth_key, priv_key) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET auth_protocol = excluded.auth_protocol, priv_protocol = excluded.priv_protocol, auth_key = excluded.auth_key, priv_key = excluded.priv_key`)
      .run(name, o.auth, o.priv, sealSecret(db, authKey, snmpUserPurpose(name, 'auth')), sealSecret(db, privKey, snmpUserPurpose(name, 'priv')));
    out(`SNMPv3 user ${name} (authPriv, ${o.auth}/${o.priv}) stored; a running monitor takes it on SIGHUP`);
    return EXIT.OK;
  });
}

export function monitorUserList(dbPath: string): number {
  return withStore(dbPath, (db) => {
    for (const u of db.prepare('SELECT name, auth_protocol, priv_protocol FROM monitor_snmp_users ORDER BY name').all() as Array<{ name: string; auth_protocol: string; priv_protocol: string }>) {
      out(`${u.name} authPriv ${u.auth_protocol}/${u.priv_protocol}`);
    }
    return EXIT.OK;
  });
}

export function monitorUserRemove(dbPath: string, name: string): number {
  return withStore(dbPath, (db) => {
    // An SNMPv3 user name is matched byte for byte, as USM matches msgUserName (RFC 3414): no folding.
    if (db.prepare('DELETE FROM monitor_snmp_users WHERE name = ?').run(name).changes === 0) { complain('kanri', `no SNMPv3 user ${name}`); return EXIT.NOT_FOUND; }
    return EXIT.OK;
  });
}

export async function eventRaise(dbPath: string, source: string, event: string, o: { machine?: string; group?: string; detail?: string }): Promise<number> {
  if ((o.machine === undefined) === (o.group === undefined)) { complain('kanri', 'give exactly one of --machine NAME or --group PATH'); return EXIT.USAGE; }
  const code = withStore(dbPath, (db) => {
    const intake = new Intake(db);
    const r = intake.receive({
      source, event, origin: 'custom', sender: `kanri event raise (uid ${process.getuid?.() ?? '?'})`,
      ...(o.machine !== undefined ? { machine: o.machine } : {}), ...(o.group !== undefined ? { group: o.group } : {}), ...(o.detail ? { detail: o.detail } : {}),
    });
    if (!r.ok) { complain('kanri', r.reason); return /not found/.test(r.reason) ? EXIT.NOT_FOUND : EXIT.USAGE; }
    const [q] = intake.flush();
    out(`queued event ${q!.id}: ${q!.source} ${q!.event}${q!.summary ? ` (${q!.summary})` : ''}`);
    return EXIT.OK;
  });
  if (code !== 0) return code;
  warnWithoutMonitor(dbPath, 'no monitor is running on this store: the event is decided when one starts');
  return EXIT.OK;
}

/**
 * kanri policy events [SOURCE]: every event a policy rule can match (seed 004 L5963–5969),
 * one per line: source, event, category, summary.
 */
export function policyEvents(source: string | undefined): number {
  const wanted = source === undefined ? undefined : EVENT_SOURCES.find((s) => s.toLowerCase() === source.toLowerCase());
  if (source !== undefined && !wanted) { complain('kanri', `unknown notifying source ${source} (known: ${EVENT_SOURCES.join(', ')})`); return EXIT.NOT_FOUND; }
  for (const e of catalogue()) {
    if (wanted && e.source !== wanted) continue;
    out(`${e.source}\t${e.event}\t${e.category ?? '-'}\t${e.summary}`);
  }
  return EXIT.OK;
}

/** Says `message` when no monitor holds a lease on the store (what was just stored waits for one). */
export function warnWithoutMonitor(dbPath: string, message: string): void {
  if (!withStore(dbPath, (db) => liveLeases(db).length > 0)) complain('kanri', message);
}

export function policyTemplates(name: string | undefined): number {
  if (name === undefined) {
    for (const t of STANDARD_POLICIES) out(`${t.name}\t${t.rules.length} rules\t${t.description}`);
    return EXIT.OK;
  }
  const t = STANDARD_POLICIES.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!t) { complain('kanri', `no standard policy ${name} (known: ${STANDARD_POLICIES.map((p) => p.name).join(', ')})`); return EXIT.NOT_FOUND; }
  out(`${t.name}: ${t.description}`);
  t.rules.forEach((r, i) => {
    const trig = r.triggers.map((x) => `${x.source} ${x.category !== undefined ? `category ${x.category}` : x.event}`).join(' | ');
    out(`${String(i + 1).padStart(2)}. ${r.event} [${trig}] ${r.action_name}: ${r.actions.join(', ')}`);
  });
  return EXIT.OK;
}

/** Which rule matches, which actions would run in which order, which guard would stop them; changes nothing. */
export function policyExplain(dbPath: string, group: string, source: string, event: string, o: { machine?: string }, print: (s: string) => void = out): number {
  const out = print;
  return withStore(dbPath, (db) => {
    if (!(EVENT_SOURCES as readonly string[]).includes(source)) { complain('kanri', `unknown notifying source '${source}' (known: ${EVENT_SOURCES.join(', ')})`); return EXIT.USAGE; }
    const r = resolvePath(db, group);
    if (!isResolved(r) || r.kind === 'category') { complain('kanri', groupNotFound(db, group)); return EXIT.NOT_FOUND; }
    if (o.machine !== undefined && !machineByName(db, o.machine)) { complain('kanri', machineNotFound(db, o.machine)); return EXIT.NOT_FOUND; }
    let checked;
    try {
      checked = checkEvent(db, { source, event, origin: 'custom', group, ...(o.machine !== undefined ? { machine: o.machine } : {}) });
    } catch (e) {
      if (!(e instanceof IntakeRefusal)) throw e;
      // A machine event explained for the group alone: no machine, but the rule still shows.
      if (o.machine !== undefined || normalizeEvent(source as NotifyingSource, event) === undefined) { complain('kanri', e.message); return /not found/.test(e.message) ? EXIT.NOT_FOUND : EXIT.USAGE; }
      const entry = lookup(source as NotifyingSource, event);
      checked = { source: source as NotifyingSource, event: normalizeEvent(source as NotifyingSource, event)!, category: entry?.category ?? null, summary: entry?.summaryJa ?? '', machineId: null, groupId: r.group.id };
    }
    const m = checked.machineId !== null ? machineInfo(db, checked.machineId) : undefined;
    const gid = r.group.id;
    const path = groupPath(db, gid);
    out(`event: ${checked.source} ${checked.event}${checked.summary ? ` (${checked.summary})` : ''}; category ${checked.category ?? 'none'}`);
    out(`about: ${m ? `machine ${m.name}${m.hostName ? ` (host ${m.hostName})` : ''} in ` : ''}${path}`);
    const modelId = m?.modelId ?? (r.kind === 'model' ? r.model.id : null);
    const policy = policyFor(db, gid, modelId);
    if (!policy) { out(`policy: none (${path} has no policy): nothing runs`); return EXIT.OK; }
    out(`policy: ${policy.name} (of the ${policy.via})`);
    const rule = matchRule(db, policy.id, checked.source, checked.event, checked.category);
    if (!rule) { out('rule: none matches: nothing runs'); return EXIT.OK; }
    const t = rule.trigger;
    out(`rule ${rule.position}: ${rule.event} (matched by ${t.source} ${t.category !== undefined ? `category ${t.category}` : t.event})${rule.actionName ? `, action setting ${rule.actionName}` : ''}`);
    if (m?.maintenance) out(`stop: ${m.name} is in maintenance: no policy runs for it`);
    if (rule.suppress && policy.suppressionSeconds > 0) {
      const rec = checked.category !== null ? RECOVERY_OF[checked.category] : undefined;
      out(`suppression: waits ${policy.suppressionSeconds} s${rec ? ` for a ${rec} event of the same machine; if it comes, nothing runs` : ' (no recovery event ends the wait)'}`);
    }
    const coalesce = monitorNumber(db, 'monitor.coalesce_s');
    out(coalesce > 0 ? `coalescing: the same rule for the same ${m ? 'machine' : 'group'} starts no new chain for ${coalesce} s after the last` : 'coalescing: off (monitor.coalesce_s is 0)');
    out('actions, in order:');
    const g = db.prepare('SELECT id, machine_type FROM groups WHERE id = ?').get(gid) as { id: number; machine_type: string };
    const target = { db, machine: m ?? null, group: { id: g.id, path, type: g.machine_type } };
    rule.actions.forEach((id, i) => {
      const names = actionNames(id);
      const def = ACTIONS[id];
      let what: string;
      if (!def) what = 'not available in this version: the chain would stop here';
      else if (def.kind === 'notify') what = 'event log 502, mail to mail.to, notification trap to the forwarding destinations';
      else if (def.kind === 'none') what = 'nothing';
      else if (def.needs === 'machine' && !m) what = 'needs a machine: give --machine; the chain would stop here';
      else if (def.kind === 'store') what = `store change on ${m!.name}`;
      else if (def.kind === 'run') what = def.explain(target, { policy: policy.name, rule: rule.event, category: checked.category });
      else {
        try {
          what = `engine request ${JSON.stringify(def.request(target))}`;
        } catch (e) {
          if (!(e instanceof ActionRefused)) throw e;
          what = `would fail: ${e.message}`;
        }
      }
      out(`  ${i + 1}. ${id} ${names.ja}: ${what}`);
      if (def?.guard) {
        const n = runningNormally(db, gid);
        out(`     guard: not executed when exactly one machine runs normally in ${path} (now ${n}${n === 1 ? ': it would be skipped' : ''})`);
      }
    });
    return EXIT.OK;
  });
}
