// The one entry point of every event source: SNMP traps, polling, `kanri event raise`, the
// Alertmanager webhook and (later) Redfish event subscriptions all hand their events to
// Intake.receive(). It checks the event against the catalogue, resolves the machine or
// group it is about and queues it in monitor_events, the received-events queue that the
// policy engine decides from (policy.ts). A queued event survives a restart; it is
// decided once.
//
//   intake.receive({ source: 'SystemMonitorEvent', event: 'ESMDSVNT[0xC0000002]',
//                    machine: 'web01', origin: 'redfish', sender: '10.0.0.5', detail: '…' })
//
// Writes are batched per turn of the event loop (one transaction for every event that
// arrived in it), so that thousands of traps a second cost one commit each turn; flush()
// writes at once (a command that raises one event and exits).
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { resolvePath, isResolved } from '../domain/paths.js';
import { EVENT_SOURCES } from '../domain/policy-actions.js';
import { type NotifyingSource, lookup, normalizeEvent } from './catalogue.js';

export type Origin = 'trap' | 'poll' | 'custom' | 'webhook' | 'redfish';

/** An event as a source hands it over. */
export interface IncomingEvent {
  /** Notifying source: SystemMonitorEvent, SystemMonitorPerf or VMwareProvider. */
  source: string;
  /** As a policy names it: Source[0xID] (SystemMonitorEvent), 8 hex digits (SystemMonitorPerf), an alarm text. */
  event: string;
  /** The machine it is about: its name or its id. */
  machine?: string | number;
  /** The group it is about (group events, e.g. custom notifications for a group): its path. */
  group?: string;
  origin: Origin;
  /** Where it came from (an address, a user), for the log. */
  sender?: string;
  /** Free text kept with the event (a decoded trap, an alert's annotations); never a secret. */
  detail?: string;
}

/** A queued event as the policy engine reads it. */
export interface QueuedEvent {
  id: number;
  receivedAt: string;
  origin: Origin;
  source: NotifyingSource;
  event: string;
  category: string | null;
  summary: string;
  machineId: number | null;
  groupId: number | null;
  sender: string;
  detail: string;
}

export type Receipt = { ok: true; event: QueuedEvent } | { ok: false; reason: string };

export class IntakeRefusal extends Error {}

interface Pending { e: Omit<QueuedEvent, 'id'>; done?: (id: number) => void }

/** Checks an incoming event and resolves what it is about, without writing anything. */
export function checkEvent(db: Db, e: IncomingEvent): Omit<QueuedEvent, 'id' | 'receivedAt'> {
  if (!(EVENT_SOURCES as readonly string[]).includes(e.source)) throw new IntakeRefusal(`unknown notifying source '${e.source}' (known: ${EVENT_SOURCES.join(', ')})`);
  const source = e.source as NotifyingSource;
  const event = normalizeEvent(source, String(e.event ?? ''));
  if (event === undefined) {
    throw new IntakeRefusal(source === 'SystemMonitorEvent' ? `'${e.event}' is not Source[0xID] (e.g. ESMDSVNT[0xC0000002])` : `'${e.event}' is not an event of ${source}`);
  }
  const entry = lookup(source, event);
  if (!entry && source !== 'SystemMonitorEvent') throw new IntakeRefusal(`${source} has no event '${e.event}' (see spec/events-and-policies.md §${source === 'SystemMonitorPerf' ? 3 : 4})`);
  let machineId: number | null = null;
  let groupId: number | null = null;
  if (e.machine !== undefined && e.machine !== '') {
    const m = (typeof e.machine === 'number'
      ? prepared(db, 'SELECT id, group_id FROM machines WHERE id = ?').get(e.machine)
      : prepared(db, 'SELECT id, group_id FROM machines WHERE name = ?').get(e.machine)) as { id: number; group_id: number | null } | undefined;
    if (!m) throw new IntakeRefusal(`machine not found: ${e.machine}`);
    machineId = m.id;
    groupId = m.group_id;
  }
  if (e.group !== undefined && e.group !== '') {
    const r = resolvePath(db, e.group);
    if (!isResolved(r) || r.kind === 'category') throw new IntakeRefusal(`group not found: ${e.group}`);
    if (machineId !== null && groupId !== r.group.id) throw new IntakeRefusal(`${e.machine} is not active in ${e.group}`);
    groupId = r.group.id;
  }
  if (entry?.scope === 'group') {
    if (groupId === null) throw new IntakeRefusal(`${event} is a notification for a group: give the group`);
  } else if (machineId === null) {
    throw new IntakeRefusal(`${event} is about a machine: give the machine`);
  }
  return {
    origin: e.origin, source, event, category: entry?.category ?? null, summary: entry?.summaryJa || entry?.summary || '',
    machineId, groupId, sender: (e.sender ?? '').slice(0, 256), detail: (e.detail ?? '').slice(0, 4000),
  };
}

export class Intake {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly insert;
  private readonly write;

  /** onQueued sees every event once it is committed (the daemon logs it and wakes the policy engine). */
  constructor(private readonly db: Db, private readonly onQueued: (e: QueuedEvent) => void = () => undefined) {
    this.insert = prepared(db, 
      `INSERT INTO monitor_events (received_at, origin, source, event, category, machine_id, group_id, sender, detail)
       VALUES (@receivedAt, @origin, @source, @event, @category, @machineId, @groupId, @sender, @detail)`,
    );
    // One transaction function for the life of the intake (making one prepares its statements).
    this.write = db.transaction((batch: Pending[]) => batch.map((p) => ({ ...p.e, id: Number(this.insert.run(p.e).lastInsertRowid) })));
  }

  /** Takes one event from any source; refuses (never throws) one that names nothing known. */
  receive(e: IncomingEvent): Receipt {
    let checked: Omit<QueuedEvent, 'id' | 'receivedAt'>;
    try {
      checked = checkEvent(this.db, e);
    } catch (err) {
      if (err instanceof IntakeRefusal) return { ok: false, reason: err.message };
      throw err;
    }
    const q: Omit<QueuedEvent, 'id'> = { ...checked, receivedAt: new Date().toISOString() };
    this.pending.push({ e: q });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return { ok: true, event: { ...q, id: 0 } };
  }

  /** Commits what was received so far; returns the committed events. */
  flush(): QueuedEvent[] {
    this.scheduled = false;
    if (this.pending.length === 0) return [];
    const batch = this.pending;
    this.pending = [];
    const out = this.write(batch) as QueuedEvent[];
    for (const e of out) this.onQueued(e);
    return out;
  }
}

// ---- the queue, as the policy engine reads it -----------------------------------------------

const COLUMNS = `id, received_at AS receivedAt, origin, source, event, category, machine_id AS machineId, group_id AS groupId, sender, detail`;

/** Events not decided yet, oldest first (also those another process queued: kanri event raise). */
export function undecided(db: Db, limit = 1000): QueuedEvent[] {
  const rows = prepared(db, `SELECT ${COLUMNS} FROM monitor_events WHERE state = 'new' ORDER BY id LIMIT ?`).all(limit) as Array<Omit<QueuedEvent, 'summary'>>;
  return rows.map((r) => ({ ...r, summary: lookup(r.source, r.event)?.summaryJa ?? '' }));
}

export function markDecided(db: Db, id: number, decision: string, chainId: number | null): void {
  prepared(db, "UPDATE monitor_events SET state = 'decided', decision = ?, chain_id = ? WHERE id = ?").run(decision, chainId, id);
}

/** Keeps the queue bounded: decided events beyond the newest `keep` go, except those a chain refers to. */
export function pruneEvents(db: Db, keep: number): number {
  return prepared(db, 
    `DELETE FROM monitor_events WHERE state = 'decided' AND id <= (SELECT max(id) FROM monitor_events) - ?
       AND id NOT IN (SELECT event_id FROM monitor_chains)`,
  ).run(keep).changes;
}
