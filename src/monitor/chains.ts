// The policy engine's record and its runner. An event the queue holds is decided once: no
// policy, no matching rule, a machine in maintenance, a rule that does nothing, the same
// rule already running or just run for the machine (coalesced: a storm of identical traps
// yields one chain), or a new chain of the rule's actions — waiting first when the rule
// suppresses (§5). Chains run one per target (machine or group) at a time, their actions in
// order, each recorded before and after it runs; an action that fails stops its chain.
// After a restart, a chain goes on from its first action that did not complete; one the
// monitor stopped in the middle of goes on with it when the action is safe to repeat
// (ActionDef.repeatable: notify, set status, nothing), and an engine action is judged by its
// jobs. Only an action whose effect cannot be known abandons its chain, so that no action
// ever runs twice. Status changes go through chain-state.ts; every decision and every start
// of a chain is claimed inside its transaction (the event still undecided, the chain still
// pending, the monitor's lease still held), so that two monitors never run one action twice.
//
// Several monitors (one per manager on a PostgreSQL store) share the queue and the chains:
// each event is claimed by the decision that takes it (its row locked, FOR UPDATE SKIP LOCKED
// on PostgreSQL: store/dialect.ts claimRows), each chain by the conditional move that starts
// it, which also checks that no chain of the same target runs on any monitor. A running chain
// names its runner; recover() takes over only the chains of runners whose lease is gone (at
// start: the previous monitor of this manager; while running: a monitor that died), never
// those of a live monitor.
import type { Db } from '../store/db.js';
import { claimRows, storeNow } from '../store/dialect.js';
import { prepared } from '../store/statements.js';
import { formatJobId } from '../engine/plan.js';
import { changedMachines } from '../engine/jobs.js';
import type { ChangeResult, Engine } from '../engine/service.js';
import { EngineError } from '../engine/errors.js';
import { settledOutcome } from '../engine/outcome.js';
import { type ActionDef, ACTIONS, ActionRefused, type ActionTarget, actionNames } from './actions.js';
import { RECOVERY_OF } from './catalogue.js';
import { type QueuedEvent, markDecided, queuedEvent } from './intake.js';
import type { Notifier, NoticeContext } from './notify.js';
import { type MachineInfo, groupPath, machineInfo, matchRule, policyFor, runningNormally } from './policy.js';
import { suppressionWindow } from './suppression.js';
import { type ChainStatus, initialStatus, moveChain, runningChains, targetRunning } from './chain-state.js';
import { orphanedFor } from './lease.js';

export type { ChainStatus } from './chain-state.js';

interface ChainRow {
  id: number; event_id: number; target: string; machine_id: number | null; group_id: number | null; policy: string;
  rule_position: number; rule_event: string; category: string | null; actions: string; notify: number; status: ChainStatus;
  next_action: number; wait_until: string | null; error: string | null;
}

const now = (): string => new Date().toISOString();

export interface ChainDeps {
  db: Db;
  engine: Engine;
  notifier: Notifier;
  log: (line: string) => void;
  /** Seconds in which the same rule for the same target starts no second chain. */
  coalesceSeconds: () => number;
  /** Chains running at the same time (on different targets). */
  parallel?: number;
  /** Inside a claiming transaction: whether this monitor may still decide and start (its lease). */
  claim?: () => boolean;
  /**
   * This monitor's lease holder, recorded as the runner of the chains it starts. Unset (a
   * monitor without a lease): recover() takes every running chain, as the only monitor.
   */
  runner?: string;
}

/** The monitor no longer holds its lease: it claims nothing more. */
export class ClaimLost extends Error {}

export class ChainRunner {
  private readonly running = new Map<number, Promise<void>>();
  private readonly busyTargets = new Set<string>();
  private stopping = false;

  private readonly decideAll;

  constructor(private readonly d: ChainDeps) {
    // The claim of an event: its row, still new, locked by this transaction (another monitor's
    // decision skips it, and finds it decided once this one commits).
    const stillNew = prepared(d.db, `SELECT 1 AS y FROM monitor_events WHERE id = ? AND state = 'new'${claimRows(d.db)}`);
    this.decideAll = d.db.transaction((events: QueuedEvent[]) => {
      if (d.claim && !d.claim()) throw new ClaimLost('the monitor no longer holds its lease on the store');
      // Re-checked inside the transaction: an event another turn (or monitor) decided is not decided again.
      return events.filter((e) => stillNew.get(e.id)).map((e) => {
        const { decision, chainId } = this.decideOne(e);
        markDecided(d.db, e.id, decision, chainId);
        return `event ${e.id} ${e.origin} ${e.source} ${e.event}${e.summary ? ` ${e.summary}` : ''}${e.sender ? ` from ${e.sender}` : ''}: ${decision}`;
      });
    });
  }

  // ---- deciding ------------------------------------------------------------------------------

  /** Decides queued events (one transaction); returns one log line per event. */
  decide(events: QueuedEvent[]): string[] {
    return this.decideAll.immediate(events) as string[];
  }

  private decideOne(e: QueuedEvent): { decision: string; chainId: number | null } {
    const { db } = this.d;
    const m = e.machineId !== null ? machineInfo(db, e.machineId) : undefined;
    if (e.machineId !== null && !m) return { decision: 'the machine no longer exists', chainId: null };
    const about = m ? m.name : e.groupId !== null ? groupPath(db, e.groupId) : '?';
    const target = m ? `machine:${m.id}` : `group:${e.groupId}`;
    const notes: string[] = [];
    // A recovery ends the suppression windows of the faults it recovers from (§5).
    const recovered = e.category === null ? [] : Object.entries(RECOVERY_OF).filter(([, r]) => r === e.category).map(([f]) => f);
    if (recovered.length) {
      const waiting = prepared(db,
        `SELECT id FROM monitor_chains WHERE status = 'waiting' AND target = ? AND category IN (${recovered.map(() => '?').join(', ')})`,
      ).all(target, ...recovered) as Array<{ id: number }>;
      const ended = waiting.filter((w) => moveChain(db, w.id, 'waiting', 'suppressed', `recovered by event ${e.id} (${e.event}) within the suppression window: not run`)).length;
      if (ended) notes.push(`ends ${ended} suppressed fault(s): their actions do not run`);
    }
    const tail = (s: string): string => [s, ...notes].join('; ');
    if (m?.maintenance) return { decision: tail(`${about} is in maintenance: no policy runs`), chainId: null };
    const groupId = m ? m.groupId : e.groupId;
    const policy = policyFor(db, groupId, m?.modelId ?? null);
    if (!policy) return { decision: tail(`${about}: ${groupId === null ? 'not active in a group' : 'its group has no policy'}`), chainId: null };
    const rule = matchRule(db, policy.id, e.source, e.event, e.category);
    if (!rule) return { decision: tail(`no rule of policy ${policy.name} matches`), chainId: null };
    const ruleText = `policy ${policy.name} rule ${rule.position} ${rule.event}`;
    if (rule.actions.every((a) => a === 'none')) return { decision: tail(`${ruleText}: ${rule.actionName || 'nothing to do'}`), chainId: null };
    // Windows by the store's clock (dialect.ts storeNow), as the chains' times are written:
    // any manager's monitor may decide the next event of a target, or end another's wait.
    const same = prepared(db, 
      `SELECT id, status FROM monitor_chains WHERE target = ? AND rule_position = ? AND policy = ?
          AND (status IN ('waiting', 'pending', 'running') OR created_at >= ${storeNow(db, -this.d.coalesceSeconds())}) ORDER BY id DESC LIMIT 1`,
    ).get(target, rule.position, policy.name) as { id: number; status: string } | undefined;
    if (same) return { decision: tail(`${ruleText}: coalesced into chain ${same.id} (${same.status})`), chainId: same.id };
    const waitS = suppressionWindow(policy, rule);
    const status = initialStatus(waitS > 0 ? 'waiting' : 'pending');
    const id = Number(prepared(db, 
      `INSERT INTO monitor_chains (event_id, target, machine_id, group_id, policy, rule_position, rule_event, category, actions, notify, status, created_at, wait_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${storeNow(db)}, ${waitS > 0 ? storeNow(db, waitS) : 'NULL'})`,
    ).run(e.id, target, m?.id ?? null, groupId, policy.name, rule.position, rule.event, e.category, JSON.stringify(rule.actions),
      rule.actions.includes('notify') ? 1 : 0, status).lastInsertRowid);
    return { decision: tail(`chain ${id}: ${ruleText}: ${rule.actions.join(', ')}${waitS > 0 ? ` after ${waitS} s unless the recovery arrives` : ''}`), chainId: id };
  }

  // ---- running -------------------------------------------------------------------------------

  /** Starts what is due: waits that ended, then the oldest pending chain of each free target. */
  tick(): void {
    if (this.stopping) return;
    const { db } = this.d;
    const due = this.claimed(() => {
      const waits = prepared(db, `SELECT id FROM monitor_chains WHERE status = 'waiting' AND wait_until <= ${storeNow(db)}`).all() as Array<{ id: number }>;
      return waits.filter((c) => moveChain(db, c.id, 'waiting', 'pending'));
    });
    for (const c of due) this.d.log(`chain ${c.id}: no recovery within the suppression window: its actions run`);
    const limit = this.d.parallel ?? 64;
    if (this.running.size >= limit) return;
    const pending = prepared(db, "SELECT id, target FROM monitor_chains WHERE status = 'pending' ORDER BY id").all() as Array<{ id: number; target: string }>;
    for (const c of pending) {
      if (this.running.size >= limit) break;
      if (this.busyTargets.has(c.target)) continue;
      // Claimed in its own transaction: still pending (no other monitor took it), no chain of its
      // target running on any monitor, lease still held.
      if (!this.claimed(() => !targetRunning(db, c.target) && moveChain(db, c.id, 'pending', 'running', null, this.d.runner ?? null))) continue;
      this.busyTargets.add(c.target);
      // Run on a turn of its own: the claim above may be made with a short wait for the store
      // (the monitor's loop), the chain's actions wait for it as every command does.
      const p = new Promise<void>((r) => setImmediate(r)).then(() => this.run(c.id)).catch((e: unknown) => {
        this.end(c.id, 'failed', `internal: ${(e as Error).message}`);
      }).finally(() => {
        this.running.delete(c.id);
        this.busyTargets.delete(c.target);
        if (!this.stopping) setImmediate(() => this.tick());
      });
      this.running.set(c.id, p);
    }
  }

  /** Runs fn in an immediate transaction that first checks the monitor's claim (its lease). */
  private claimed<T>(fn: () => T): T {
    const { db, claim } = this.d;
    return db.transaction(() => {
      if (claim && !claim()) throw new ClaimLost('the monitor no longer holds its lease on the store');
      return fn();
    }).immediate();
  }

  /** Chains running now. */
  active(): number {
    return this.running.size;
  }

  private row(id: number): ChainRow {
    return prepared(this.d.db, 'SELECT * FROM monitor_chains WHERE id = ?').get(id) as ChainRow;
  }

  private end(id: number, status: ChainStatus, error: string | null): void {
    moveChain(this.d.db, id, 'running', status, error);
    this.d.log(`chain ${id}: ${status}${error ? `: ${error}` : ''}`);
  }

  private async run(id: number): Promise<void> {
    const { db } = this.d;
    const c = this.row(id);
    const actions = JSON.parse(c.actions) as string[];
    for (let i = c.next_action; i < actions.length; i++) {
      if (this.stopping) {
        // Between two actions: the rest runs after the restart.
        moveChain(db, id, 'running', 'pending');
        this.d.log(`chain ${id}: stopped before action ${i + 1}; it goes on when the monitor starts again`);
        return;
      }
      const r = await this.action(c, i, actions[i]!);
      if (r === 'stopped' || this.parkedIds.has(id)) return;
      if (r !== 'go-on') {
        this.end(id, r.status, r.error);
        return;
      }
    }
    this.end(id, 'completed', null);
  }

  /** The target the chain's actions act on, as it is now. */
  private target(c: ChainRow): ActionTarget & { notice: NoticeContext } {
    const { db } = this.d;
    const m: MachineInfo | null = c.machine_id !== null ? machineInfo(db, c.machine_id) ?? null : null;
    const gid = m?.groupId ?? c.group_id;
    const g = gid !== null ? prepared(db, 'SELECT id, machine_type FROM groups WHERE id = ?').get(gid) as { id: number; machine_type: string } | undefined : undefined;
    const group = g ? { id: g.id, path: groupPath(db, g.id), type: g.machine_type } : null;
    return { db, machine: m, group, notice: { machine: m?.name ?? null, group: group?.path ?? null, policy: c.policy, rule: c.rule_event } };
  }

  private async action(c: ChainRow, i: number, id: string): Promise<'go-on' | 'stopped' | { status: ChainStatus; error: string }> {
    const { db } = this.d;
    const t = this.target(c);
    const names = actionNames(id);
    const on = t.machine?.name ?? t.group?.path ?? '?';
    const info = { en: `${names.en} (${on})`, ja: `${names.ja} (${on})` };
    const record = (status: string, detail: string, extra: { mgmtId?: string; marker?: string } = {}): void => {
      prepared(db, 
        `INSERT INTO monitor_chain_actions (chain_id, idx, action, status, started_at, ended_at, mgmt_id, marker, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (chain_id, idx) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at, mgmt_id = excluded.mgmt_id, detail = excluded.detail`,
      ).run(c.id, i, id, status, now(), status === 'running' ? null : now(), extra.mgmtId ?? '', extra.marker ?? '', detail);
    };
    const advance = (): void => { prepared(db, 'UPDATE monitor_chains SET next_action = ? WHERE id = ?').run(i + 1, c.id); };
    const logAction = (result: string): void => this.d.log(`chain ${c.id} action ${i + 1}/${JSON.parse(c.actions).length} ${id} on ${on}: ${result}`);
    const def: ActionDef | undefined = ACTIONS[id];
    const refuse = (why: string): { status: ChainStatus; error: string } => {
      db.transaction(() => { record('failed', why); advance(); })();
      logAction(`failed: ${why}`);
      return { status: 'failed', error: `action ${i + 1} ${id} failed: ${why}` };
    };
    if (!def) return refuse(`${names.ja} is not available in this version of kanri`);
    if (def.needs === 'machine' && !t.machine) return refuse('the event names no machine');
    if (def.needs !== 'nothing' && !t.group) return refuse(`${t.machine?.name ?? 'the machine'} is not active in a group`);
    if (def.guard && t.group && runningNormally(db, t.group.id) === 1) {
      const why = `not executed: only one machine is running normally in ${t.group.path}`;
      db.transaction(() => { record('skipped', why); advance(); })();
      logAction(why);
      return 'go-on';
    }
    const mgmtStore = `P${formatJobId(c.id)}.${i + 1}`;
    switch (def.kind) {
      case 'none':
        db.transaction(() => { record('skipped', 'nothing to do'); advance(); })();
        return 'go-on';
      case 'notify': {
        record('running', '');
        const ev = prepared(db, 'SELECT source, event, sender, detail FROM monitor_events WHERE id = ?').get(c.event_id) as { source: string; event: string; sender: string; detail: string } | undefined;
        const content = `${ev?.source ?? ''} ${ev?.event ?? ''} ${c.rule_event} ${on}${ev?.detail ? `: ${ev.detail}` : ''}`.slice(0, 1000);
        const detail = await this.d.notifier.received(content, t.notice);
        // Cut off at the drain bound: parked, it runs again after the restart; nothing more is written.
        if (this.parkedIds.has(c.id)) return 'stopped';
        db.transaction(() => { record('completed', detail); advance(); })();
        logAction(`completed: ${detail}`);
        return 'go-on';
      }
      case 'store': {
        let detail = '';
        db.transaction(() => { detail = def.apply(t); record('completed', detail, { mgmtId: mgmtStore }); advance(); })();
        if (c.notify) {
          await this.d.notifier.progress('start', info, mgmtStore, t.notice, null);
          await this.d.notifier.progress('complete', info, mgmtStore, t.notice, null);
        }
        logAction(`completed: ${detail}`);
        return 'go-on';
      }
      case 'engine':
        return this.engineAction(c, i, id, def, t, info, record, advance, logAction);
      case 'run': {
        record('running', '');
        const event = queuedEvent(db, c.event_id);
        if (!event) return refuse('the event is no longer in the queue');
        try {
          const detail = await def.run(t, { event, policy: c.policy, rule: c.rule_event });
          db.transaction(() => { record('completed', detail); advance(); })();
          logAction(`completed: ${detail}`);
          return 'go-on';
        } catch (e) {
          if (!(e instanceof ActionRefused)) throw e;
          return refuse(e.message);
        }
      }
    }
  }

  private async engineAction(
    c: ChainRow, i: number, id: string, def: Extract<ActionDef, { kind: 'engine' }>, t: ActionTarget & { notice: NoticeContext },
    info: { en: string; ja: string }, record: (status: string, detail: string, extra?: { mgmtId?: string; marker?: string }) => void,
    advance: () => void, logAction: (s: string) => void,
  ): Promise<'go-on' | 'stopped' | { status: ChainStatus; error: string }> {
    const { db } = this.d;
    let request;
    try {
      request = def.request(t);
    } catch (e) {
      if (!(e instanceof ActionRefused)) throw e;
      db.transaction(() => { record('failed', e.message); advance(); })();
      logAction(`failed: ${e.message}`);
      if (c.notify) await this.d.notifier.progress('failed', info, '-', t.notice, null);
      return { status: 'failed', error: `action ${i + 1} ${id} failed: ${e.message}` };
    }
    const marker = `policy chain ${c.id} action ${i + 1}: ${id} ${t.machine?.name ?? t.group?.path ?? ''}`.trim();
    record('running', '', { marker });
    const started = new Set<number>();
    const notices: Array<Promise<void>> = [];
    const onStart = (jobId: number): void => {
      if (started.has(jobId)) return;
      started.add(jobId);
      logAction(`job ${formatJobId(jobId)} started`);
      if (c.notify) notices.push(this.d.notifier.progress('start', info, formatJobId(jobId), t.notice, jobId));
    };
    let result: ChangeResult;
    try {
      result = await this.d.engine.run(request, { origin: 'policy', command: marker }, { onHeld: (ids) => ids.forEach(onStart), onStep: (p) => onStart(p.jobId) });
    } catch (e) {
      if (this.stopping && !(e instanceof EngineError)) {
        // The engine took no new change: nothing was submitted, the action runs after the restart.
        prepared(db, 'DELETE FROM monitor_chain_actions WHERE chain_id = ? AND idx = ?').run(c.id, i);
        moveChain(db, c.id, 'running', 'pending');
        return 'stopped';
      }
      const why = e instanceof EngineError ? e.message : `internal: ${(e as Error).message}`;
      db.transaction(() => { record('failed', why, { marker }); advance(); })();
      logAction(`failed: ${why}`);
      await Promise.all(notices);
      if (c.notify) await this.d.notifier.progress('failed', info, '-', t.notice, null);
      return { status: 'failed', error: `action ${i + 1} ${id} failed: ${why}` };
    }
    await Promise.all(notices);
    const outcome = settledOutcome(result);
    const mgmtId = result.jobs.map((j) => formatJobId(j.id)).join(',') || '-';
    const detail = result.jobs.map((j) => `job ${formatJobId(j.id)} ${j.sequence} ${j.machine}: ${j.outcome}${j.error ? ` (${j.error})` : ''}`).join('; ') || (result.canceledWhileHeld ? 'canceled while it waited for resources' : 'no job');
    db.transaction(() => { record(outcome === 'completed' ? 'completed' : outcome, detail, { mgmtId, marker }); advance(); })();
    logAction(`${outcome}: ${detail}`);
    if (c.notify) await this.d.notifier.progress(outcome === 'completed' ? 'complete' : outcome, info, mgmtId, t.notice, result.jobs[0]?.id ?? null);
    if (outcome === 'completed') return 'go-on';
    return { status: outcome, error: `action ${i + 1} ${id} ${outcome}: ${detail}` };
  }

  // ---- start and stop ------------------------------------------------------------------------

  /**
   * At start: chains the previous monitor left running. Between two actions they go on; in
   * the middle of an engine action, its jobs (found by the command they carry) tell how it
   * ended; any other action that was running may have taken effect, so its chain is abandoned.
   */
  recover(): string[] {
    const { db } = this.d;
    const lines: string[] = [];
    db.transaction(() => {
      if (this.d.claim && !this.d.claim()) throw new ClaimLost('the monitor no longer holds its lease on the store');
      const orphans = this.orphans();
      if (orphans.length === 0) return;
      for (const c of prepared(db, "SELECT * FROM monitor_chains WHERE status = 'running' ORDER BY id").all() as ChainRow[]) {
        if (!orphans.includes(c.id)) continue;
        const a = prepared(db, "SELECT idx, action, marker, started_at FROM monitor_chain_actions WHERE chain_id = ? AND status = 'running'").get(c.id) as { idx: number; action: string; marker: string; started_at: string } | undefined;
        const pending = (): void => { moveChain(db, c.id, 'running', 'pending'); };
        if (!a) {
          pending();
          lines.push(`chain ${c.id}: goes on at action ${c.next_action + 1}`);
          continue;
        }
        const finish = (status: string, detail: string, mgmt = ''): void => {
          prepared(db, 'UPDATE monitor_chain_actions SET status = ?, ended_at = ?, detail = ?, mgmt_id = ? WHERE chain_id = ? AND idx = ?').run(status, now(), detail, mgmt, c.id, a.idx);
        };
        const abandon = (why: string): void => {
          moveChain(db, c.id, 'running', 'abandoned', why);
          lines.push(`chain ${c.id}: abandoned: ${why}`);
        };
        const def = ACTIONS[a.action];
        if (def?.repeatable) {
          // Safe to repeat (a notification, a status set): the chain goes on with it.
          prepared(db, 'DELETE FROM monitor_chain_actions WHERE chain_id = ? AND idx = ?').run(c.id, a.idx);
          prepared(db, 'UPDATE monitor_chains SET next_action = ? WHERE id = ?').run(a.idx, c.id);
          pending();
          lines.push(`chain ${c.id}: action ${a.idx + 1} ${a.action} was interrupted and is safe to repeat: it runs again`);
          continue;
        }
        if (def?.kind !== 'engine') {
          finish('failed', 'the monitor stopped while it ran: not run again');
          abandon(`the monitor stopped during action ${a.idx + 1} ${a.action}, which may have taken effect; it is not run again`);
          continue;
        }
        const jobs = prepared(db, "SELECT id, status FROM jobs WHERE origin = 'policy' AND command = ? AND created_at >= ? ORDER BY id").all(a.marker, a.started_at) as Array<{ id: number; status: string }>;
        const ids = jobs.map((j) => formatJobId(j.id)).join(',');
        // A job still running or held is its owner's until the owner's lease (manager.lease_s)
        // runs out or its death is proven (jobs.ts sweepAbandoned): the monitor's own lease may
        // end first (a monitor on another host, or stalled). The chain waits for the next look.
        if (jobs.some((j) => j.status === 'running' || j.status === 'held')) continue;
        if (jobs.length === 0) {
          prepared(db, 'DELETE FROM monitor_chain_actions WHERE chain_id = ? AND idx = ?').run(c.id, a.idx);
          pending();
          lines.push(`chain ${c.id}: action ${a.idx + 1} ${a.action} had not started: it runs now`);
        } else if (jobs.every((j) => j.status === 'abandoned' && !changedMachines(db, j.id))) {
          // Its jobs died before any step that changes a machine: nothing took effect.
          prepared(db, 'DELETE FROM monitor_chain_actions WHERE chain_id = ? AND idx = ?').run(c.id, a.idx);
          pending();
          lines.push(`chain ${c.id}: action ${a.idx + 1} ${a.action} changed nothing before the monitor stopped (job ${ids} abandoned): it runs again`);
        } else if (jobs.every((j) => j.status === 'completed')) {
          finish('completed', `job ${ids} completed while the monitor was stopping`, ids);
          prepared(db, 'UPDATE monitor_chains SET next_action = ? WHERE id = ?').run(a.idx + 1, c.id);
          pending();
          lines.push(`chain ${c.id}: action ${a.idx + 1} ${a.action} had completed (job ${ids}): goes on`);
        } else {
          const how = jobs.map((j) => `job ${formatJobId(j.id)} ${j.status}`).join(', ');
          finish('failed', `the monitor stopped during the action: ${how}`, ids);
          abandon(`the monitor stopped during action ${a.idx + 1} ${a.action} (${how}); it is not run again`);
        }
      }
    }).immediate();
    return lines;
  }

  /**
   * Running chains no live monitor runs: every one, for a monitor without a lease; otherwise
   * those whose runner is neither this monitor nor the holder of an unexpired lease.
   */
  orphans(): number[] {
    const { db, runner } = this.d;
    const running = runningChains(db);
    if (runner === undefined || running.length === 0) return running.map((c) => c.id);
    const orphan = orphanedFor(db, runner);
    return running.filter((c) => orphan(c.runner)).map((c) => c.id);
  }

  /**
   * Starts nothing new; running jobs get `drainMs` to end (then they are canceled), and so do
   * the chains: at the bound the notifications under way are canceled (mail) and a chain still
   * in an action that is safe to repeat is put back to pending at that action, so that it goes
   * on after the restart — whatever a peer does, stop() ends by drainMs and a little more.
   */
  async stop(drainMs: number): Promise<{ finished: number; canceled: number; parked: number }> {
    this.stopping = true;
    const deadline = Date.now() + drainMs;
    const bound = <T>(p: Promise<T>, ms: number): Promise<T | 'late'> => {
      let t: NodeJS.Timeout | undefined;
      return Promise.race([p, new Promise<'late'>((r) => { t = setTimeout(() => r('late'), Math.max(0, ms)); })]).finally(() => clearTimeout(t));
    };
    const r = await bound(this.d.engine.drain(drainMs), drainMs + 1000);
    const drained = r === 'late' ? { finished: 0, canceled: 0 } : r;
    const all = Promise.allSettled([...this.running.values()]);
    if (await bound(all, deadline - Date.now()) !== 'late') return { ...drained, parked: 0 };
    // Parked first, then the deliveries are canceled: a notification cut off runs again at the next start.
    const parked = this.park();
    this.d.notifier.cancel();
    await bound(all, 500);
    return { ...drained, parked };
  }

  private readonly parkedIds = new Set<number>();

  /** At the drain bound: chains still in a repeatable action go back to pending at it. */
  private park(): number {
    const { db } = this.d;
    let n = 0;
    db.transaction(() => {
      for (const id of this.running.keys()) {
        const a = prepared(db, "SELECT idx, action FROM monitor_chain_actions WHERE chain_id = ? AND status = 'running'").get(id) as { idx: number; action: string } | undefined;
        if (a && !ACTIONS[a.action]?.repeatable) continue;
        if (a) {
          prepared(db, 'DELETE FROM monitor_chain_actions WHERE chain_id = ? AND idx = ?').run(id, a.idx);
          prepared(db, 'UPDATE monitor_chains SET next_action = ? WHERE id = ?').run(a.idx, id);
        }
        if (moveChain(db, id, 'running', 'pending')) {
          this.parkedIds.add(id);
          n++;
          this.d.log(`chain ${id}: cut off at the drain bound${a ? ` in action ${a.idx + 1} ${a.action} (safe to repeat)` : ''}; it goes on when the monitor starts again`);
        }
      }
    })();
    return n;
  }
}
