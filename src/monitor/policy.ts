// Policy matching: which policy applies to a machine (its model's, else its group's), which
// rule of it an event matches (by notifying source and event, or by event category; the
// first enabled rule in order wins, so the standard policy's SSC1.3 rows keep their effect),
// and what would happen — the same answer for the policy engine and for `kanri policy explain`.
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { configGeneration } from '../store/generation.js';
import { groupPathParts } from '../domain/paths.js';
import type { TriggerDoc } from '../config/document.js';
import { type NotifyingSource, canonicalCategory, normalizeEvent, sameEvent } from './catalogue.js';

export interface PolicyRef { id: number; name: string; suppressionSeconds: number; via: 'model' | 'group' }
export interface RuleRef { position: number; event: string; actionName: string; actions: string[]; suppress: boolean; trigger: TriggerDoc }
export interface MachineInfo {
  id: number; name: string; groupId: number | null; modelId: number | null; hostName: string | null;
  maintenance: boolean; hardware: string; management: string; power: string; activatedFrom: string | null;
}

export function machineInfo(db: Db, id: number): MachineInfo | undefined {
  const r = prepared(db, 
    `SELECT m.id, m.name, m.group_id, m.model_id, h.host_name, m.maintenance, m.hardware_status, m.management_status, m.power_state, m.activated_from
       FROM machines m LEFT JOIN host_settings h ON h.id = m.host_setting_id WHERE m.id = ?`,
  ).get(id) as { id: number; name: string; group_id: number | null; model_id: number | null; host_name: string | null; maintenance: number; hardware_status: string; management_status: string; power_state: string; activated_from: string | null } | undefined;
  return r && {
    id: r.id, name: r.name, groupId: r.group_id, modelId: r.model_id, hostName: r.host_name, maintenance: r.maintenance === 1,
    hardware: r.hardware_status, management: r.management_status, power: r.power_state, activatedFrom: r.activated_from,
  };
}

export function groupPath(db: Db, groupId: number): string {
  return groupPathParts(db, groupId).join('\\');
}

/** The policy that decides for a machine of a group (its model's first) or for the group itself. */
export function policyFor(db: Db, groupId: number | null, modelId: number | null): PolicyRef | undefined {
  const q = (sql: string, id: number): PolicyRef | undefined => {
    const r = prepared(db, sql).get(id) as { id: number; name: string; suppression_seconds: number } | undefined;
    return r ? { id: r.id, name: r.name, suppressionSeconds: r.suppression_seconds, via: 'group' } : undefined;
  };
  if (modelId !== null) {
    const p = q('SELECT p.id, p.name, p.suppression_seconds FROM models m JOIN policies p ON p.id = m.policy_id WHERE m.id = ?', modelId);
    if (p) return { ...p, via: 'model' };
  }
  if (groupId !== null) return q('SELECT p.id, p.name, p.suppression_seconds FROM groups g JOIN policies p ON p.id = g.policy_id WHERE g.id = ?', groupId);
  return undefined;
}

function triggerMatches(t: TriggerDoc, source: NotifyingSource, event: string, category: string | null): boolean {
  if (t.source !== source) return false;
  if (t.category !== undefined) return category !== null && canonicalCategory(t.category) === category;
  const want = t.event !== undefined ? normalizeEvent(source, t.event) : undefined;
  return want !== undefined && sameEvent(want, event);
}

interface ParsedRule { position: number; event: string; actionName: string; actions: string[]; suppress: boolean; triggers: TriggerDoc[] }

/** Rules of each policy, parsed once per configuration generation. */
const rulesCache = new WeakMap<Db, { generation: number; byPolicy: Map<number, ParsedRule[]> }>();

function rulesOf(db: Db, policyId: number): ParsedRule[] {
  const g = configGeneration(db);
  let c = rulesCache.get(db);
  if (!c || c.generation !== g) rulesCache.set(db, (c = { generation: g, byPolicy: new Map() }));
  let rules = c.byPolicy.get(policyId);
  if (!rules) {
    const rows = prepared(db, 'SELECT position, event_name, triggers, action_name, actions, suppress FROM policy_rules WHERE policy_id = ? AND enabled = 1 ORDER BY position').all(policyId) as
      Array<{ position: number; event_name: string; triggers: string; action_name: string; actions: string; suppress: number }>;
    rules = rows.map((r) => ({ position: r.position, event: r.event_name, actionName: r.action_name, actions: JSON.parse(r.actions) as string[], suppress: r.suppress === 1, triggers: JSON.parse(r.triggers) as TriggerDoc[] }));
    c.byPolicy.set(policyId, rules);
  }
  return rules;
}

/** The first enabled rule of the policy that the event matches, with the trigger that matched. */
export function matchRule(db: Db, policyId: number, source: NotifyingSource, event: string, category: string | null): RuleRef | undefined {
  for (const r of rulesOf(db, policyId)) {
    const trigger = r.triggers.find((t) => triggerMatches(t, source, event, category));
    if (trigger) return { position: r.position, event: r.event, actionName: r.actionName, actions: [...r.actions], suppress: r.suppress, trigger };
  }
  return undefined;
}

/**
 * "Running normally" (spec §6): active in the group, powered on, hardware and management
 * status normal, not in maintenance. Actions with the guard are not executed when exactly
 * one machine of the group is.
 */
export function runningNormally(db: Db, groupId: number): number {
  return (prepared(db, 
    `SELECT count(*) AS n FROM machines WHERE group_id = ? AND power_state = 'on' AND hardware_status = 'normal'
        AND management_status = 'normal' AND maintenance = 0`,
  ).get(groupId) as { n: number }).n;
}
