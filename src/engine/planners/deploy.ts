// deploygrp, deploysrv, deploypsv (spec/pvmutl.md §4.6–4.8, provisioning-model
// §4.7–4.9): redistribution of the registered software (differential, or full
// with /f) or specified distribution (/p, /a, deploypsv), one job per machine.
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import type { GroupRow } from '../../domain/paths.js';
import { EMPTY_SIDE, type JobPlan } from '../plan.js';
import { type MachineRow, activeByHost, machineByName } from '../select.js';
import { DISTRIBUTE_SPECIFIED, REDISTRIBUTE } from '../steps.js';
import { refuse } from '../errors.js';
import { plan, side, targetGroups } from './machines.js';
import type { Planned } from './index.js';
import { byName, closestName } from '../../domain/names.js';
import { machineNotFound, notActiveHost } from './targets.js';

/** Software to distribute by name: it must exist and be distributable (exit 8). */
function softwareIds(db: Db, names: string[], registeredOn?: GroupRow): number[] {
  return names.map((n) => {
    const s = byName<{ id: number; name: string; kind: string }>(db, 'SELECT id, name, kind FROM software WHERE {name}', 'name', n);
    if (!s) {
      const hint = closestName(db, 'SELECT name FROM software', n);
      throw refuse('software', L(`software not found: ${n}${hint}`, `ソフトウェアが見つかりません: ${n}${hint}`));
    }
    if (s.kind === 'template') throw refuse('software', L(`${s.name} is a template; templates are not distributed`, `${s.name} はテンプレートのため配布できません`));
    if (registeredOn && !db.prepare('SELECT 1 FROM software_registrations WHERE group_id = ? AND software_id = ?').get(registeredOn.id, s.id)) {
      throw refuse('software', L(`${s.name} is not registered on ${registeredOn.name} (/p distributes any software)`, `${s.name} は ${registeredOn.name} に登録されていません`));
    }
    return s.id;
  });
}

/** Active machines of a group in host-setting order: the order /seq distributes in. */
function activeInOrder(db: Db, g: GroupRow, modelId: number | null): MachineRow[] {
  return db.prepare(
    `SELECT m.* FROM machines m JOIN host_settings h ON h.id = m.host_setting_id
      WHERE m.group_id = ? AND (? IS NULL OR m.model_id = ?) ORDER BY h.position`,
  ).all(g.id, modelId, modelId) as MachineRow[];
}

type Mode = { mode: 'differential' | 'full' } | { mode: 'specified'; software: number[] };

function machinePlan(db: Db, m: MachineRow, how: Mode, given: Record<string, string>): JobPlan {
  const src = side(db, { group: m.group_id, model: m.model_id, machine: m.id, host: m.host_setting_id });
  const specified = how.mode === 'specified';
  return plan({
    sequence: specified ? 'DistributeSoftwareToMachineWithScenario' : 'DistributeSoftwareToMachine',
    table: specified ? DISTRIBUTE_SPECIFIED : REDISTRIBUTE,
    params: { ...given, HostName: src.host?.hostName ?? '', mode: how.mode, ...(src.group ? { group: src.group.path } : {}), machine: m.name },
    resources: [['machine', String(m.id)]],
    src, dst: EMPTY_SIDE, distribution: how,
    event: { machine: m.name, group: src.group?.path ?? '' },
  });
}


export function deployGroup(db: Db, c: { group: string; full: boolean; software?: string[]; sequential: boolean; registeredOnly?: boolean }): Planned {
  const specified = c.software !== undefined;
  const given: Record<string, string> = { GroupName: c.group, ...(c.full ? { f: 'yes' } : {}), ...(specified ? { p: c.software!.join(',') } : {}), ...(c.sequential ? { seq: 'yes' } : {}) };
  const build = (): JobPlan[] => {
    const { group: g, modelId } = targetGroups(db, c.group, 'highest-first', false)[0]!;
    const how: Mode = specified ? { mode: 'specified', software: softwareIds(db, c.software!, c.registeredOnly ? g : undefined) } : { mode: c.full ? 'full' : 'differential' };
    const machines = activeInOrder(db, g, modelId);
    if (machines.length === 0) throw refuse('machine', L(`no active machine in ${c.group}`, `${c.group} に稼動しているマシンがありません`));
    return machines.map((m) => machinePlan(db, m, how, given));
  };
  return {
    build,
    sequential: c.sequential,
    parent: { sequence: specified ? 'DistributeSoftwareToMachinesInGroupWithScenario' : 'DistributeSoftwareToMachinesInGroup', params: given },
  };
}

export function deployServer(db: Db, c: { group: string; host?: string; full: boolean; registered?: string[]; software?: string[] }): Planned {
  if (c.host === undefined) {
    // Without a host name, every active machine of the group, at once (spec/decisions.md).
    return deployGroup(db, { group: c.group, full: c.full, software: c.software ?? c.registered, sequential: false, registeredOnly: c.registered !== undefined });
  }
  const given: Record<string, string> = { GroupName: c.group, HostName: c.host };
  return {
    build: () => {
      const { group: g } = targetGroups(db, c.group, 'highest-first', false)[0]!;
      const m = activeByHost(db, g.id, c.host!);
      if (!m) throw refuse('machine', notActiveHost(db, c.host!, g));
      const how: Mode = c.software !== undefined ? { mode: 'specified', software: softwareIds(db, c.software) }
        : c.registered !== undefined ? { mode: 'specified', software: softwareIds(db, c.registered, g) }
        : { mode: c.full ? 'full' : 'differential' };
      return [machinePlan(db, m, how, given)];
    },
  };
}

export function deployMachine(db: Db, c: { machine: string; software: string[] }): Planned {
  return {
    build: () => {
      const m = machineByName(db, c.machine);
      if (!m) throw refuse('machine', machineNotFound(db, c.machine));
      return [machinePlan(db, m, { mode: 'specified', software: softwareIds(db, c.software) }, { MachineName: c.machine, SoftwareName: c.software.join(',') })];
    },
  };
}
