// add, addspecname, delete, replace, move: validation with the spec's exit codes,
// automatic selection, and the plan of each machine's action sequence. These
// builders run inside the reservation transaction (engine/jobs.ts submit), so
// what they select cannot be selected by a concurrent command.
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import { type GroupRow, groupsUnder } from '../../domain/paths.js';
import { type JobPlan, type Side, EMPTY_SIDE, applicable } from '../plan.js';
import { groupInfo, hostRef, machineRef, modelInfo } from '../refs.js';
import {
  type Candidate, type HostRow, type MachineRow, activationCandidates, activeByHost, freeHosts, hostByNetInfo, hostInUse,
  machineByName, modelsByPriority, removalCandidates,
} from '../select.js';
import {
  ACTIVATE_PHYSICAL, ACTIVATE_VM, DELETE_PHYSICAL, MASTER_PHYSICAL, MASTER_VM, MOVE_PHYSICAL, REMOVE_VM, REPLACE_PHYSICAL, type StepDef,
} from '../steps.js';
import { EngineError, refuse } from '../errors.js';
import { hostNotFound, machineNotFound, notActiveHost, resolveOrFail } from './targets.js';

export function side(db: Db, ids: { group?: number | null; model?: number | null; machine?: number | null; host?: number | null }): Side {
  return {
    group: ids.group ? groupInfo(db, ids.group) : null,
    model: ids.model ? modelInfo(db, ids.model) : null,
    machine: ids.machine ? machineRef(db, ids.machine) : null,
    host: ids.host ? hostRef(db, ids.host) : null,
  };
}

export function plan(fields: Omit<JobPlan, 'steps'> & { table: StepDef[] }): JobPlan {
  const { table, ...rest } = fields;
  return { ...rest, steps: applicable(table, rest) };
}

/** The groups a path names, in the order automatic selection tries them. */
export function targetGroups(db: Db, given: string, order: 'highest-first' | 'lowest-first', categoryAllowed: boolean): Array<{ group: GroupRow; modelId: number | null }> {
  const r = resolveOrFail(db, given);
  if (r.kind === 'group') return [{ group: r.group, modelId: null }];
  if (r.kind === 'model') return [{ group: r.group, modelId: r.model.id }];
  if (!categoryAllowed) {
    throw refuse('group', L(`${given} is a category; give a group here`, `${given} はカテゴリです。ここではグループを指定してください`));
  }
  const groups = groupsUnder(db, r.category.id);
  if (order === 'lowest-first') groups.reverse();
  if (groups.length === 0) throw refuse('group', L(`no group under category ${given}`, `カテゴリ ${given} の下にグループがありません`));
  return groups.map((g) => ({ group: g, modelId: null }));
}

/** Tries each candidate (group, or pair of groups) in order and keeps the first that can serve; otherwise the first one's reason. */
export function firstServing<T, R>(targets: T[], fn: (t: T) => R): R {
  let first: unknown;
  for (const t of targets) {
    try {
      return fn(t);
    } catch (err) {
      if (!(err instanceof EngineError) || targets.length === 1) throw err;
      first ??= err;
    }
  }
  throw first;
}

const isVmGroup = (g: GroupRow): boolean => g.machine_type === 'virtual';

function activationPlan(db: Db, g: GroupRow, c: Candidate, modelId: number, host: HostRow, given: Record<string, string>): JobPlan {
  const virtual = isVmGroup(g);
  const sequence = virtual && c.from === 'common_pool' ? 'MoveFromManagedToGroup' : 'MoveFromPoolToGroup';
  const dst = side(db, { group: g.id, model: modelId, machine: c.machine.id, host: host.id });
  return plan({
    sequence, table: virtual ? ACTIVATE_VM : ACTIVATE_PHYSICAL,
    params: { ...given, MachineName: c.machine.name, HostName: host.host_name, group: dst.group!.path, machine: c.machine.name },
    resources: [['machine', String(c.machine.id)], ['host_setting', String(host.id)]],
    src: EMPTY_SIDE, dst, activatedFrom: c.from,
    event: { machine: c.machine.name, group: dst.group!.path },
  });
}

/** A machine named on the command line must stand by in the group's own pool. */
function namedPoolMachine(db: Db, g: GroupRow, name: string): { candidate: Candidate; modelId: number | null } {
  const m = machineByName(db, name);
  if (!m) throw refuse('machine', machineNotFound(db, name));
  if (m.group_id !== null) {
    throw refuse(isVmGroup(g) ? 'vm-active' : 'machine', L(`${m.name} is already active in a group`, `${m.name} は既にグループで稼動しています`));
  }
  const pool = db.prepare('SELECT model_id FROM pool_members WHERE group_id = ? AND machine_id = ?').get(g.id, m.id) as { model_id: number | null } | undefined;
  if (!pool) {
    throw refuse('machine', L(
      `${m.name} is not in the pool of ${g.name} (common-pool machines cannot be given)`,
      `${m.name} は ${g.name} のプールにありません (共通プールのマシンは指定できません)`,
    ));
  }
  if (m.kind !== g.machine_type) throw refuse('machine', L(`${m.name} is a ${m.kind} machine; ${g.name} takes ${g.machine_type} machines`, `${m.name} の種類 (${m.kind}) は ${g.name} (${g.machine_type}) と異なります`));
  return { candidate: { machine: m, modelId: pool.model_id, from: 'group_pool' }, modelId: pool.model_id };
}

function firstModel(db: Db, groupId: number): number {
  return modelsByPriority(db, groupId, 'highest-first')[0]!.id;
}

export function planAdd(db: Db, c: { group: string; machine?: string; count?: number }): JobPlan[] {
  const targets = targetGroups(db, c.group, 'highest-first', c.machine === undefined);
  const given: Record<string, string> = c.machine ? { GroupName: c.group } : { GroupName: c.group, count: String(c.count ?? 1) };
  return firstServing(targets, ({ group: g, modelId }) => {
    if (c.machine !== undefined) {
      const { candidate, modelId: poolModel } = namedPoolMachine(db, g, c.machine);
      const host = freeHosts(db, g.id)[0];
      if (!host) throw hostsInsufficient(g, 1, 0);
      return [activationPlan(db, g, candidate, modelId ?? poolModel ?? firstModel(db, g.id), host, given)];
    }
    const count = c.count ?? 1;
    const picked: Array<{ c: Candidate; model: number }> = [];
    const models = modelId ? [{ id: modelId }] : modelsByPriority(db, g.id, 'highest-first');
    for (const md of models) {
      for (const cand of activationCandidates(db, g.id, md.id, g.machine_type)) {
        if (picked.length < count && !picked.some((p) => p.c.machine.id === cand.machine.id)) picked.push({ c: cand, model: md.id });
      }
    }
    if (picked.length < count) {
      throw refuse('machine', L(
        `not enough usable pool machines for ${g.name}: ${count} needed, ${picked.length} available`,
        `${g.name} で使用できるプールマシンが不足しています: 必要 ${count} 台、使用可能 ${picked.length} 台`,
      ));
    }
    const hosts = freeHosts(db, g.id);
    if (hosts.length < count) throw hostsInsufficient(g, count, hosts.length);
    return picked.map((p, i) => activationPlan(db, g, p.c, p.model, hosts[i]!, given));
  });
}

function hostsInsufficient(g: GroupRow, need: number, have: number): EngineError {
  return refuse('host-setting', L(
    `host settings of ${g.name} are insufficient: ${need} needed, ${have} unused`,
    `${g.name} のホスト設定が不足しています: 必要 ${need}、未使用 ${have}`,
  ));
}

export function planAddSpecName(db: Db, c: { group: string; netInfo: string; machine?: string }): JobPlan[] {
  const targets = targetGroups(db, c.group, 'highest-first', c.machine === undefined);
  // With a category, the group is the one that defines the host name or address.
  const defining = targets.filter((t) => hostByNetInfo(db, t.group.id, c.netInfo));
  if (defining.length === 0) {
    throw refuse('host-setting', hostNotFound(db, targets.map((t) => t.group.id), c.netInfo, c.group));
  }
  return firstServing(defining, ({ group: g, modelId }) => {
    const host = hostByNetInfo(db, g.id, c.netInfo)!;
    if (hostInUse(db, host.id)) throw refuse('host-setting', L(`host setting ${host.host_name} is in use`, `ホスト設定 ${host.host_name} は使用中です`));
    const given = { GroupName: c.group, NetInfo: c.netInfo };
    if (c.machine !== undefined) {
      const { candidate, modelId: poolModel } = namedPoolMachine(db, g, c.machine);
      return [activationPlan(db, g, candidate, modelId ?? poolModel ?? firstModel(db, g.id), host, given)];
    }
    const models = modelId ? [{ id: modelId }] : modelsByPriority(db, g.id, 'highest-first');
    for (const md of models) {
      const cand = activationCandidates(db, g.id, md.id, g.machine_type)[0];
      if (cand) return [activationPlan(db, g, cand, md.id, host, given)];
    }
    throw refuse('machine', L(`no usable pool machine for ${g.name}`, `${g.name} で使用できるプールマシンがありません`));
  });
}

function standbyPlan(db: Db, g: GroupRow, m: MachineRow, given: Record<string, string>): JobPlan {
  const src = side(db, { group: g.id, model: m.model_id, machine: m.id, host: m.host_setting_id });
  return plan({
    sequence: m.activated_from === 'group_pool' ? 'MoveFromGroupToPool' : 'MoveFromGroupToManaged',
    table: isVmGroup(g) ? REMOVE_VM : DELETE_PHYSICAL,
    params: { ...given, HostName: src.host?.hostName ?? '', MachineName: m.name, group: src.group!.path, machine: m.name },
    resources: [['machine', String(m.id)], ['host_setting', String(m.host_setting_id)]],
    src, dst: EMPTY_SIDE,
    event: { machine: m.name, group: src.group!.path },
  });
}

function notActive(db: Db, host: string, g: GroupRow): EngineError {
  return refuse('machine', notActiveHost(db, host, g));
}

export function planDelete(db: Db, c: { group: string; host?: string; count?: number }): JobPlan[] {
  const targets = targetGroups(db, c.group, 'lowest-first', c.host === undefined);
  return firstServing(targets, ({ group: g, modelId }) => {
    if (c.host !== undefined) {
      const m = activeByHost(db, g.id, c.host);
      if (!m) throw notActive(db, c.host, g);
      return [standbyPlan(db, g, m, { GroupName: c.group })];
    }
    const count = c.count ?? 1;
    const ms = removalCandidates(db, g.id, modelId).slice(0, count);
    if (ms.length < count) {
      throw refuse('machine', L(
        `active machines of ${g.name} are insufficient: ${count} to delete, ${ms.length} can be`,
        `${g.name} の稼動マシンが不足しています: 削除 ${count} 台、削除可能 ${ms.length} 台`,
      ));
    }
    return ms.map((m) => standbyPlan(db, g, m, { GroupName: c.group, count: String(count) }));
  });
}

export function planReplace(db: Db, c: { group: string; host: string }): JobPlan[] {
  const g = targetGroups(db, c.group, 'highest-first', false)[0]!.group;
  if (isVmGroup(g)) throw refuse('group', L(`replace is not usable for virtual machines (${g.name})`, `replace は仮想マシンには使用できません (${g.name})`));
  // A VM server is never replaced (its VMs would stay recorded on a machine leaving the group).
  if (g.machine_type === 'vmserver') throw refuse('group', L(`replace is not usable for VM servers (${g.name})`, `仮想マシンサーバの置換はできません (${g.name})`));
  const opts = db.prepare('SELECT prefer_cpu_blade FROM groups WHERE id = ?').get(g.id) as { prefer_cpu_blade: number };
  if (opts.prefer_cpu_blade) {
    throw refuse('group', L(
      `${g.name} prefers SIGMABLADE CPU-blade replacement, which kanri does not support; turn prefer_cpu_blade off to replace whole machines`,
      `${g.name} は CPU ブレード置換 (SIGMABLADE) 優先に設定されていますが、kanri は対応していません`,
    ));
  }
  const src = activeByHost(db, g.id, c.host);
  if (!src) throw notActive(db, c.host, g);
  const cand = activationCandidates(db, g.id, src.model_id, g.machine_type)[0];
  if (!cand) {
    throw refuse('machine', L(
      `no usable machine in the pool of ${g.name} (or the common pool) to replace ${src.name}`,
      `${src.name} を置換できるマシンが ${g.name} のプール (共通プール) にありません`,
    ));
  }
  const srcSide = side(db, { group: g.id, model: src.model_id, machine: src.id, host: src.host_setting_id });
  const dstSide = side(db, { group: g.id, model: src.model_id, machine: cand.machine.id, host: src.host_setting_id });
  return [plan({
    sequence: 'TakeOverMachine', table: REPLACE_PHYSICAL,
    params: { GroupName: c.group, HostName: c.host, source: src.name, replacement: cand.machine.name, group: srcSide.group!.path, machine: src.name },
    resources: [['machine', String(src.id)], ['machine', String(cand.machine.id)], ['host_setting', String(src.host_setting_id)]],
    src: srcSide, dst: dstSide, activatedFrom: cand.from,
    event: { machine: src.name, group: srcSide.group!.path },
  })];
}

export function planMove(db: Db, c: { dest: string; src: string; host?: string; count?: number }): JobPlan[] {
  const dests = targetGroups(db, c.dest, 'highest-first', c.host === undefined);
  const srcs = targetGroups(db, c.src, 'lowest-first', c.host === undefined);
  const pairs = dests.flatMap((d) => srcs.map((s) => ({ d, s }))).filter(({ d, s }) => d.group.id !== s.group.id);
  if (pairs.length === 0) throw refuse('group', L('the source and destination groups are the same', '移動元と移動先のグループが同じです'));
  return firstServing(pairs, ({ d, s }) => movePlans(db, d.group, s.group, c));
}

function movePlans(db: Db, dest: GroupRow, srcG: GroupRow, c: { dest: string; src: string; host?: string; count?: number }): JobPlan[] {
  if (isVmGroup(dest) || isVmGroup(srcG)) throw refuse('group', L('move is not usable for virtual machines', 'move は仮想マシンには使用できません'));
  const inDestPool = (m: MachineRow): { model_id: number | null } | undefined =>
    db.prepare('SELECT model_id FROM pool_members WHERE group_id = ? AND machine_id = ?').get(dest.id, m.id) as { model_id: number | null } | undefined;
  let machines: MachineRow[];
  if (c.host !== undefined) {
    const m = activeByHost(db, srcG.id, c.host);
    if (!m) throw refuse('move', L(`no machine is active on host ${c.host} in ${srcG.name}`, `${srcG.name} のホスト ${c.host} で稼動しているマシンがありません`));
    if (!inDestPool(m)) throw refuse('group', L(`${m.name} is not in the pool of ${dest.name}`, `${m.name} は ${dest.name} のプールにありません`));
    machines = [m];
  } else {
    const count = c.count ?? 1;
    machines = removalCandidates(db, srcG.id, null).filter((m) => inDestPool(m)).slice(0, count);
    if (machines.length < count) {
      throw refuse('move', L(
        `machines to move are insufficient: ${count} needed, ${machines.length} active in ${srcG.name} and in the pool of ${dest.name}`,
        `移動するマシンが不足しています: 必要 ${count} 台、${srcG.name} で稼動し ${dest.name} のプールにあるマシン ${machines.length} 台`,
      ));
    }
  }
  const hosts = freeHosts(db, dest.id);
  if (hosts.length < machines.length) {
    throw refuse('group', L(
      `host settings of ${dest.name} are insufficient: ${machines.length} needed, ${hosts.length} unused`,
      `移動先 ${dest.name} のホスト設定が不足しています: 必要 ${machines.length}、未使用 ${hosts.length}`,
    ));
  }
  return machines.map((m, i) => {
    const src = side(db, { group: srcG.id, model: m.model_id, machine: m.id, host: m.host_setting_id });
    const dst = side(db, { group: dest.id, model: inDestPool(m)!.model_id ?? firstModel(db, dest.id), machine: m.id, host: hosts[i]!.id });
    return plan({
      sequence: 'ChangeServerGroup', table: MOVE_PHYSICAL,
      params: { GroupNameDest: c.dest, GroupNameSrc: c.src, HostNameSrc: src.host?.hostName ?? '', HostNameDest: hosts[i]!.host_name, group: dst.group!.path, machine: m.name },
      resources: [['machine', String(m.id)], ['host_setting', String(m.host_setting_id)], ['host_setting', String(hosts[i]!.id)]],
      src, dst, activatedFrom: 'group_pool',
      event: { machine: m.name, group: dst.group!.path, srcGroup: src.group!.path },
    });
  });
}

/**
 * Master machine registration (spec §4.10, §9.2, §9.8): a machine of the common
 * pool whose settings already match a host setting becomes active without
 * software or personality; it returns to the common pool afterwards.
 */
export function planMaster(db: Db, c: { group: string; machine: string; netInfo: string }): JobPlan[] {
  const { group: g, modelId } = targetGroups(db, c.group, 'highest-first', false)[0]!;
  const m = machineByName(db, c.machine);
  if (!m) throw refuse('machine', machineNotFound(db, c.machine));
  if (m.group_id !== null) throw refuse(isVmGroup(g) ? 'vm-active' : 'machine', L(`${m.name} is already active in a group`, `${m.name} は既にグループで稼動しています`));
  if (m.kind !== g.machine_type) throw refuse('machine', L(`${m.name} is a ${m.kind} machine; ${g.name} takes ${g.machine_type} machines`, `${m.name} の種類 (${m.kind}) は ${g.name} (${g.machine_type}) と異なります`));
  const host = hostByNetInfo(db, g.id, c.netInfo);
  if (!host) throw refuse('host-setting', hostNotFound(db, [g.id], c.netInfo, g.name));
  if (hostInUse(db, host.id)) throw refuse('host-setting', L(`host setting ${host.host_name} is in use`, `ホスト設定 ${host.host_name} は使用中です`));
  const dst = side(db, { group: g.id, model: modelId ?? firstModel(db, g.id), machine: m.id, host: host.id });
  return [plan({
    sequence: 'MoveMasterMachineToGroup', table: isVmGroup(g) ? MASTER_VM : MASTER_PHYSICAL,
    params: { GroupName: c.group, MachineName: m.name, NetInfo: c.netInfo, group: dst.group!.path, machine: m.name },
    resources: [['machine', String(m.id)], ['host_setting', String(host.id)]],
    src: EMPTY_SIDE, dst, activatedFrom: 'master',
    event: { machine: m.name, group: dst.group!.path },
  })];
}
