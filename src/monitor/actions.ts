// The policy actions of spec/events-and-policies.md §6, one entry each: what it needs
// (a machine of a group, or the group), whether the "only one machine running normally"
// guard stops it, and what it is — a store change, or a request to the engine service
// (the same ChangeRequest a pvmutl command makes; the monitor never runs a sequence itself).
//
// The VM-server actions (4.2.16–4.2.20) are valid only for an event detected on a VM
// server: that machine is the server whose VMs move; the planner refuses any other.
import type { Db } from '../store/db.js';
import { L } from '../cli/locale.js';
import type { ChangeRequest } from '../engine/planners/index.js';
import { POLICY_ACTIONS } from '../domain/policy-actions.js';
import { freeHosts, machineByName } from '../engine/select.js';
import type { MachineInfo } from './policy.js';
import type { QueuedEvent } from './intake.js';

/** What an action acts on: the event's machine (if any) and the group it is about. */
export interface ActionTarget {
  db: Db;
  machine: MachineInfo | null;
  group: { id: number; path: string; type: string } | null;
}

export class ActionRefused extends Error {}

/** What an action that runs something of its own (kind run) knows of its event. */
export interface RunContext { event: QueuedEvent; policy: string; rule: string }

interface Common {
  /** English name (the Japanese one is POLICY_ACTIONS[id]). */
  en: string;
  needs: 'machine' | 'group' | 'nothing';
  /** Not executed when exactly one machine of the group runs normally (§6). */
  guard?: boolean;
  /**
   * Safe to run again when the monitor stopped in the middle of it (a notification, a status
   * set, nothing): its chain goes on with it after a restart. An action that is not (a
   * change through the engine) is judged by its jobs, and abandoned when they cannot tell.
   */
  repeatable: boolean;
}
export type ActionDef =
  | Common & { kind: 'notify' }
  | Common & { kind: 'none' }
  | Common & { kind: 'store'; apply(t: ActionTarget): string }
  | Common & { kind: 'engine'; request(t: ActionTarget): ChangeRequest }
  /** Runs something itself (a command, deliveries); resolves with what it did, throws ActionRefused when it failed. */
  | Common & { kind: 'run'; run(t: ActionTarget, r: RunContext): Promise<string>; explain(t: ActionTarget, r: Omit<RunContext, 'event'> & { category: string | null }): string };

const alertContext = (t: ActionTarget, r: RunContext) => ({ event: r.event, machine: t.machine?.name ?? null, group: t.group?.path ?? null, policy: r.policy, rule: r.rule });

/** コマンド実行 (seed 000 L2706): the command set for this policy rule (kanri alert command set). */
const ALERT_COMMAND: ActionDef = {
  // A command whose effect is not known when the monitor stopped during it: never run twice.
  kind: 'run', en: 'Notification / Run a command', needs: 'nothing', repeatable: false,
  async run(t, r) {
    const { alertCommand, runAlertCommand } = await import('./alerting.js');
    const c = alertCommand(t.db, r.policy, r.rule);
    if (!c) throw new ActionRefused(L(`no command is set for rule ${r.rule} of ${r.policy} (kanri alert command set)`, `${r.policy} のルール ${r.rule} にコマンドが設定されていません (kanri alert command set)`));
    return runAlertCommand(c, alertContext(t, r)).catch((e: unknown) => { throw new ActionRefused((e as Error).message); });
  },
  explain(t, r) {
    const c = t.db.prepare('SELECT argv, timeout_s FROM alert_commands WHERE policy = ? AND rule_event = ?').get(r.policy, r.rule) as { argv: string; timeout_s: number } | undefined;
    return c ? `runs ${(JSON.parse(c.argv) as string[]).join(' ')} (no shell; the event in KANRI_EVENT_*; killed after ${c.timeout_s} s)` : 'no command is set for this rule (kanri alert command set): the chain would stop here';
  },
};

/** 通報先のグループ管理 (seed 000 L2698-2710): the destination groups of the event's category. */
const ALERT_NOTIFY: ActionDef = {
  // A notification, like notify: sent again rather than lost.
  kind: 'run', en: 'Notification / Destination groups (mail, SNMP traps)', needs: 'nothing', repeatable: true,
  async run(t, r) {
    return (await import('./alerting.js')).notifyDestinations(t.db, alertContext(t, r));
  },
  explain(t, r) {
    const rows = t.db.prepare('SELECT name, categories FROM alert_destinations ORDER BY name').all() as Array<{ name: string; categories: string }>;
    const names = rows.filter((d) => { const c = JSON.parse(d.categories) as string[]; return c.length === 0 || (r.category !== null && c.includes(r.category)); }).map((d) => d.name);
    return names.length ? `destination groups ${names.join(', ')}: traps at once, mail within each group's window, retried on its schedule` : `no destination group takes category ${r.category ?? 'none'}`;
  },
};

const host = (t: ActionTarget): string => {
  if (!t.machine?.hostName || !t.group) throw new ActionRefused(L(`${t.machine?.name ?? 'the machine'} is not active in a group`, `${t.machine?.name ?? 'マシン'} はグループで稼動していません`));
  return t.machine.hostName;
};
const path = (t: ActionTarget): string => t.group!.path;

function setStatus(status: 'normal' | 'degraded' | 'faulted', en: string): ActionDef {
  return {
    kind: 'store', en, needs: 'machine', repeatable: true,
    apply: (t) => {
      t.db.prepare('UPDATE machines SET hardware_status = ? WHERE id = ?').run(status, t.machine!.id);
      return `${t.machine!.name}: hardware status ${status}`;
    },
  };
}

/** One machine of the group that is stopped (4.2.13), skipping maintenance, by host order. */
function stoppedMachine(t: ActionTarget): string {
  const r = t.db.prepare(
    `SELECT h.host_name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id
      WHERE m.group_id = ? AND m.power_state = 'off' AND m.maintenance = 0 ORDER BY h.position LIMIT 1`,
  ).get(t.group!.id) as { host_name: string } | undefined;
  if (!r) throw new ActionRefused(L(`no stopped machine in ${path(t)}`, `${path(t)} に停止しているマシンがありません`));
  return r.host_name;
}

/** One running machine of the group (4.2.15): the one a scale-in would take first. */
function runningMachine(t: ActionTarget): string {
  const r = t.db.prepare(
    `SELECT h.host_name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id LEFT JOIN models md ON md.id = m.model_id
      WHERE m.group_id = ? AND m.power_state = 'on' AND m.maintenance = 0
      ORDER BY ifnull(md.priority, 0) DESC, ifnull(m.activated_at, '') DESC, m.name COLLATE NOCASE DESC LIMIT 1`,
  ).get(t.group!.id) as { host_name: string } | undefined;
  if (!r) throw new ActionRefused(L(`no running machine in ${path(t)}`, `${path(t)} に稼動しているマシンがありません`));
  return r.host_name;
}

/** A new VM takes the name of the host setting it gets, with _1, _2 … when that is taken (source 004, 8409-8421). */
function newVm(t: ActionTarget): ChangeRequest {
  const h = freeHosts(t.db, t.group!.id)[0];
  if (!h) throw new ActionRefused(L(`host settings of ${path(t)} are insufficient: none unused`, `${path(t)} のホスト設定が不足しています`));
  let name = h.host_name;
  // Taken as the store's unique index and vmadd see it: a name folding alike is taken.
  for (let i = 1; machineByName(t.db, name); i++) name = `${h.host_name}_${i}`;
  return { action: 'vmadd', group: path(t), vm: name, netInfo: h.host_name, existing: false };
}

export const ACTIONS: Readonly<Record<string, ActionDef>> = {
  'notify': { kind: 'notify', en: 'Notification / E-mail, ESMPRO', needs: 'nothing', repeatable: true },
  'status-normal': setStatus('normal', 'Machine setting / Set status: normal'),
  'status-degraded': setStatus('degraded', 'Machine setting / Set status: partially failed'),
  'status-faulted': setStatus('faulted', 'Machine setting / Set status: failed'),
  'machine-start': { kind: 'engine', repeatable: false, en: 'Machine operation / Start machine', needs: 'machine', request: (t) => ({ action: 'power', cmd: 'poweron', group: path(t), hosts: [host(t)] }) },
  'machine-reboot': { kind: 'engine', repeatable: false, en: 'Machine operation / Restart machine', needs: 'machine', request: (t) => ({ action: 'power', cmd: 'reboot', group: path(t), hosts: [host(t)] }) },
  'machine-shutdown': { kind: 'engine', repeatable: false, en: 'Machine operation / Stop machine', needs: 'machine', guard: true, request: (t) => ({ action: 'power', cmd: 'shutdown', group: path(t), hosts: [host(t)] }) },
  // The replaced machine goes back to its pool, or to the common pool when it came from there or by master registration (leaveGroup).
  'machine-replace': { kind: 'engine', repeatable: false, en: 'Machine operation / Replace machine', needs: 'machine', request: (t) => ({ action: 'replace', group: path(t), host: host(t) }) },
  'group-add': { kind: 'engine', repeatable: false, en: 'Group operation / Add group machine', needs: 'group', request: (t) => ({ action: 'add', group: path(t), count: 1 }) },
  'group-create-add': { kind: 'engine', repeatable: false, en: 'Group operation / Create and add group machine', needs: 'group', request: newVm },
  'group-delete-to-pool': { kind: 'engine', repeatable: false, en: 'Group operation / Delete group machine (move to pool)', needs: 'group', guard: true, request: (t) => ({ action: 'delete', group: path(t), count: 1 }) },
  'group-delete-vm': { kind: 'engine', repeatable: false, en: 'Group operation / Delete group machine (delete VM)', needs: 'group', guard: true, request: (t) => ({ action: 'vmdelete', group: path(t), removeOnly: false }) },
  'group-start': { kind: 'engine', repeatable: false, en: 'Group operation / Start group machine', needs: 'group', request: (t) => ({ action: 'power', cmd: 'poweron', group: path(t), hosts: [stoppedMachine(t)] }) },
  'group-suspend': { kind: 'engine', repeatable: false, en: 'Group operation / Suspend group machine', needs: 'group', guard: true, request: (t) => ({ action: 'suspend', group: path(t), hosts: [runningMachine(t)] }) },
  'group-shutdown': { kind: 'engine', repeatable: false, en: 'Group operation / Stop group machine', needs: 'group', guard: true, request: (t) => ({ action: 'power', cmd: 'shutdown', group: path(t), hosts: [runningMachine(t)] }) },
  'vms-migrate-all': { kind: 'engine', repeatable: false, en: 'VMS operation / Move all VMs on VMS (Hot/Cold Migration)', needs: 'machine', request: (t) => ({ action: 'vms-evacuate', server: t.machine!.name, how: 'migrate' }) },
  'vms-migrate-all-failover': {
    kind: 'engine', repeatable: false, en: 'VMS operation / Move all VMs on VMS (Hot/Cold Migration, then Failover)', needs: 'machine',
    request: (t) => ({ action: 'vms-evacuate', server: t.machine!.name, how: 'migrate-then-failover' }),
  },
  'vms-failover-all': { kind: 'engine', repeatable: false, en: 'VMS operation / Move all VMs on VMS (Failover)', needs: 'machine', request: (t) => ({ action: 'vms-evacuate', server: t.machine!.name, how: 'failover' }) },
  'vms-power-save': { kind: 'engine', repeatable: false, en: 'VMS operation / VMS power save', needs: 'machine', request: (t) => ({ action: 'vms-power-save', group: path(t), server: t.machine!.name }) },
  'vms-load-balance': { kind: 'engine', repeatable: false, en: 'VMS operation / VMS load balance', needs: 'machine', request: (t) => ({ action: 'vms-load-balance', group: path(t), server: t.machine!.name }) },
  'alert-command': ALERT_COMMAND,
  'alert-notify': ALERT_NOTIFY,
  'none': { kind: 'none', en: 'Do nothing', needs: 'nothing', repeatable: true },
};

/** The action's name as the product shows it (Japanese) and in English. */
export function actionNames(id: string): { ja: string; en: string } {
  return { ja: POLICY_ACTIONS[id] ?? id, en: ACTIONS[id]?.en ?? id };
}
