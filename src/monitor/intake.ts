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
// writes at once (a command that raises one event and exits). In the monitor a batch the
// store cannot take (another process holds it) is kept, in order, and written again a moment
// later, and the loop never waits on the store for long (IntakeOptions.busyMs): the listeners
// keep receiving into a bounded queue (IntakeOptions.maxQueued; beyond it an event is refused
// and counted) and a sender is acknowledged only once its event is committed (Receipt.written).
//
// Several monitors (managers sharing a PostgreSQL store) may each receive the same event: a
// trap sent or relayed to both, a Redfish event delivered to both subscriptions, an alert
// Alertmanager sends to both. A source that can tell gives the event a deduplication key
// derived from what the sender sent (IncomingEvent.dedupKey); the key is stored digested
// under a UNIQUE index and the insert does nothing when it is there already (ON CONFLICT DO
// NOTHING, the same on both back ends), so the event is stored, decided and acted on once.
// The second receipt is counted as a duplicate (IntakeOptions.onDuplicate) and acknowledged:
// the event is in the store.
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { byName } from '../domain/names.js';
import { isBusy, withBusyTimeout } from '../store/busy.js';
import { resolvePath, isResolved } from '../domain/paths.js';
import { EVENT_SOURCES } from '../domain/policy-actions.js';
import { type NotifyingSource, lookup, normalizeEvent } from './catalogue.js';

export type Origin = 'trap' | 'poll' | 'custom' | 'webhook' | 'redfish' | 'schedule' | 'ups' | 'libvirt';

/** An event as a source hands it over. */
export interface IncomingEvent {
  /** Notifying source: SystemMonitorEvent, SystemMonitorPerf or VMwareProvider. */
  source: string;
  /** As a policy names it: Source[0xID] (SystemMonitorEvent), 8 hex digits (SystemMonitorPerf), an alarm text. */
  event: string;
  /** The machine it is about, by name (what a sender says: never an internal row id). */
  machine?: string;
  /** The machine it is about, by row id (a source that matched it itself: traps, polling, Redfish). */
  machineId?: number;
  /** The group it is about (group events, e.g. custom notifications for a group): its path. */
  group?: string;
  origin: Origin;
  /** Where it came from (an address, a user), for the log. */
  sender?: string;
  /** Free text kept with the event (a decoded trap, an alert's annotations); never a secret. */
  detail?: string;
  /**
   * What the sender sent that names this one event wherever it is received (a trap's content
   * and occurrence, a Redfish EventId with its origin, an alert's fingerprint and start): the
   * same event taken by two monitors is stored once. Unset: every receipt is an event.
   */
  dedupKey?: string;
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

export type Receipt =
  | {
    ok: true; event: QueuedEvent;
    /** Resolves true once the event is committed, false when it was withdrawn first. */
    written(): Promise<boolean>;
    /** Takes the event back while it is still waiting for the store; false when it is already committed. */
    withdraw(): boolean;
  }
  | { ok: false; reason: string; /** Refused because the store is behind (the queue is full), not for what it says. */ busy?: true };

export class IntakeRefusal extends Error {}

interface Pending { e: Omit<QueuedEvent, 'id'>; key: string | null; state: 'queued' | 'written' | 'withdrawn'; waiters?: Array<(ok: boolean) => void> }

const MAX_CONTENTS = 100_000;

/**
 * How many copies of each content (a v1/v2c trap, a Redfish record) this monitor received:
 * the n-th copy is the same on every monitor (each counts its own), so what is sent to two
 * managers is stored once, and a sender repeating itself word for word (a storm, a PET retry)
 * still makes one record per copy, as with one monitor. Bounded: the contents seen least
 * recently go first, and each is kept as its digest — a content is what a sender chose (a
 * trap's octet strings, a whole Redfish record), up to a datagram's or a body's size.
 */
export class Occurrences {
  private readonly seen = new Map<string, number>();

  next(content: string): number {
    const key = createHash('sha256').update(content).digest('base64url');
    const n = (this.seen.get(key) ?? 0) + 1;
    this.seen.delete(key);
    this.seen.set(key, n);
    if (this.seen.size > MAX_CONTENTS) this.seen.delete(this.seen.keys().next().value!);
    return n;
  }
}

/** A deduplication key as stored: a digest of bounded length, whatever the source made it of. */
export const digestKey = (key: string | undefined): string | null => (key ? createHash('sha256').update(key).digest('base64url').slice(0, 32) : null);

export interface IntakeOptions {
  /** Sees every event once it is committed (the daemon logs it and wakes the policy engine). */
  onQueued?: (e: QueuedEvent) => void;
  /**
   * Keep a batch the store cannot take and write it again later, waiting at most busyMs for
   * the store each time (the monitor). Unset: flush() waits the store's busy timeout and
   * throws (a command).
   */
  busyMs?: number;
  /** Events waiting for the store beyond which a new one is refused (default 50,000). */
  maxQueued?: number;
  /** A write the store refused (busy or failing) and an event refused because the queue was full. */
  onTrouble?: (what: 'store_busy' | 'store_error' | 'queue_full', e?: Error) => void;
  /** An event the store holds already (its deduplication key): another monitor received it first. */
  onDuplicate?: (e: Omit<QueuedEvent, 'id'>) => void;
}

const MAX_QUEUED = 50_000;

/** Checks an incoming event and resolves what it is about, without writing anything. */
export function checkEvent(db: Db, e: IncomingEvent): Omit<QueuedEvent, 'id' | 'receivedAt'> {
  if (typeof e.source !== 'string' || !(EVENT_SOURCES as readonly string[]).includes(e.source)) throw new IntakeRefusal(`unknown notifying source '${e.source}' (known: ${EVENT_SOURCES.join(', ')})`);
  const source = e.source as NotifyingSource;
  const event = normalizeEvent(source, String(e.event ?? ''));
  if (event === undefined) {
    throw new IntakeRefusal(source === 'SystemMonitorEvent' ? `'${e.event}' is not Source[0xID] (e.g. ESMDSVNT[0xC0000002])` : `'${e.event}' is not an event of ${source}`);
  }
  const entry = lookup(source, event);
  if (!entry && source !== 'SystemMonitorEvent') throw new IntakeRefusal(`${source} has no event '${e.event}' (see spec/events-and-policies.md §${source === 'SystemMonitorPerf' ? 3 : 4})`);
  let machineId: number | null = null;
  let groupId: number | null = null;
  if (e.machine !== undefined && typeof e.machine !== 'string') throw new IntakeRefusal('the machine is not a name');
  if (e.group !== undefined && typeof e.group !== 'string') throw new IntakeRefusal('the group is not a path');
  if (e.machineId !== undefined || (e.machine !== undefined && e.machine !== '')) {
    type Row = { id: number; group_id: number | null };
    const m = e.machineId !== undefined
      ? prepared(db, 'SELECT id, group_id FROM machines WHERE id = ?').get(e.machineId) as Row | undefined
      : byName<Row>(db, 'SELECT id, group_id FROM machines WHERE {name}', 'name', e.machine!);
    if (!m) throw new IntakeRefusal(`machine not found: ${e.machine ?? e.machineId}`);
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
    machineId, groupId, sender: String(e.sender ?? '').slice(0, 256), detail: String(e.detail ?? '').slice(0, 4000),
  };
}

export class Intake {
  private pending: Pending[] = [];
  private scheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private readonly insert;
  private readonly write;
  private readonly o: IntakeOptions;

  constructor(private readonly db: Db, o: IntakeOptions | ((e: QueuedEvent) => void) = {}) {
    this.o = typeof o === 'function' ? { onQueued: o } : o;
    this.insert = prepared(db,
      `INSERT INTO monitor_events (received_at, origin, source, event, category, machine_id, group_id, sender, detail, dedup_key)
       VALUES (@receivedAt, @origin, @source, @event, @category, @machineId, @groupId, @sender, @detail, @dedupKey)
       ON CONFLICT DO NOTHING`,
    );
    // One transaction function for the life of the intake (making one prepares its statements).
    // A receipt whose key the store holds already inserts nothing: undefined, a duplicate.
    this.write = db.transaction((batch: Pending[]) => batch.map((p): QueuedEvent | undefined => {
      const r = this.insert.run({ ...p.e, dedupKey: p.key });
      return r.changes === 1 ? { ...p.e, id: Number(r.lastInsertRowid) } : undefined;
    }));
  }

  /** Events received and not committed yet. */
  get queued(): number {
    return this.pending.length;
  }

  /** Takes one event from any source; refuses (never throws) one that names nothing known. */
  receive(e: IncomingEvent): Receipt {
    if (this.pending.length >= (this.o.maxQueued ?? MAX_QUEUED)) {
      this.o.onTrouble?.('queue_full');
      return { ok: false, reason: 'the intake queue is full (the store has been busy): not taken', busy: true };
    }
    let checked: Omit<QueuedEvent, 'id' | 'receivedAt'>;
    try {
      checked = checkEvent(this.db, e);
    } catch (err) {
      if (err instanceof IntakeRefusal) return { ok: false, reason: err.message };
      throw err;
    }
    const q: Omit<QueuedEvent, 'id'> = { ...checked, receivedAt: new Date().toISOString() };
    const p: Pending = { e: q, key: digestKey(e.dedupKey), state: 'queued' };
    this.pending.push(p);
    if (!this.scheduled && !this.retry) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return {
      ok: true, event: { ...q, id: 0 },
      written: () => (p.state === 'queued' ? new Promise<boolean>((r) => { (p.waiters ??= []).push(r); }) : Promise.resolve(p.state === 'written')),
      withdraw: () => {
        if (p.state !== 'queued') return p.state === 'withdrawn';
        p.state = 'withdrawn';
        this.pending = this.pending.filter((x) => x !== p);
        for (const w of p.waiters?.splice(0) ?? []) w(false);
        return true;
      },
    };
  }

  /**
   * Commits what was received so far; returns the committed events. In the monitor (busyMs
   * set) a batch the store does not take stays queued and is tried again shortly; without it
   * the error is the caller's.
   */
  flush(): QueuedEvent[] {
    this.scheduled = false;
    if (this.pending.length === 0) return [];
    const batch = this.pending;
    this.pending = [];
    let written: Array<QueuedEvent | undefined>;
    try {
      written = (this.o.busyMs === undefined ? this.write(batch) : withBusyTimeout(this.db, this.o.busyMs, () => this.write(batch))) as Array<QueuedEvent | undefined>;
    } catch (e) {
      if (this.o.busyMs === undefined) {
        this.pending = batch.concat(this.pending);
        throw e;
      }
      // Kept, in order, ahead of what arrived since; tried again with a growing pause (at most 1 s).
      this.pending = batch.concat(this.pending);
      this.o.onTrouble?.(isBusy(e) ? 'store_busy' : 'store_error', e as Error);
      this.backoffMs = Math.min(1000, Math.max(20, this.backoffMs * 2));
      if (!this.retry) {
        this.retry = setTimeout(() => { this.retry = undefined; this.flush(); }, this.backoffMs);
      }
      return [];
    }
    this.backoffMs = 0;
    const out: QueuedEvent[] = [];
    batch.forEach((p, i) => {
      p.state = 'written';
      for (const w of p.waiters?.splice(0) ?? []) w(true);
      const e = written[i];
      if (e) out.push(e);
      else this.o.onDuplicate?.(p.e);
    });
    for (const e of out) this.o.onQueued?.(e);
    return out;
  }

  /** Stops retrying on a timer (the monitor stops; what is still queued is written by a last flush() or lost with the process). */
  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
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

export function queuedEvent(db: Db, id: number): QueuedEvent | undefined {
  const r = prepared(db, `SELECT ${COLUMNS} FROM monitor_events WHERE id = ?`).get(id) as Omit<QueuedEvent, 'summary'> | undefined;
  return r ? { ...r, summary: lookup(r.source, r.event)?.summaryJa ?? '' } : undefined;
}

/** Keeps the queue bounded: decided events beyond the newest `keep` go, except those a chain refers to. */
export function pruneEvents(db: Db, keep: number): number {
  return prepared(db, 
    `DELETE FROM monitor_events WHERE state = 'decided' AND id <= (SELECT max(id) FROM monitor_events) - ?
       AND id NOT IN (SELECT event_id FROM monitor_chains)`,
  ).run(keep).changes;
}
