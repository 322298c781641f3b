// shutdown | reboot | poweron GroupName [HostName...]: one job per machine.
// Without host names every active machine of the group (of every group under a
// category) is a target, except machines in maintenance (spec/decisions.md).
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import type { JobPlan } from '../plan.js';
import { EMPTY_SIDE } from '../plan.js';
import { type MachineRow, activeByHost } from '../select.js';
import { REBOOT, SHUTDOWN, STARTUP } from '../steps.js';
import { refuse } from '../errors.js';
import { plan, side, targetGroups } from './machines.js';

const SEQUENCES = {
  shutdown: { sequence: 'ShutdownMachine', table: SHUTDOWN },
  reboot: { sequence: 'RebootMachine', table: REBOOT },
  poweron: { sequence: 'StartupMachine', table: STARTUP },
} as const;

export function planPower(db: Db, c: { cmd: 'shutdown' | 'reboot' | 'poweron'; group: string; hosts: string[] }): JobPlan[] {
  const targets = targetGroups(db, c.group, 'highest-first', c.hosts.length === 0);
  const chosen: MachineRow[] = [];
  if (c.hosts.length > 0) {
    const g = targets[0]!.group;
    for (const h of c.hosts) {
      const m = activeByHost(db, g.id, h);
      if (!m) throw refuse('machine', L(`${h} is not active in ${g.name} (pool machines cannot be given)`, `${h} は ${g.name} で稼動していません (プールマシンは指定できません)`));
      if (chosen.some((x) => x.id === m.id)) throw refuse('machine', L(`${h} is given twice`, `${h} が重複しています`));
      chosen.push(m);
    }
  } else {
    for (const { group: g, modelId } of targets) {
      chosen.push(...(db.prepare(
        'SELECT * FROM machines WHERE group_id = ? AND (? IS NULL OR model_id = ?) AND maintenance = 0 ORDER BY name COLLATE NOCASE',
      ).all(g.id, modelId, modelId) as MachineRow[]));
    }
    if (chosen.length === 0) throw refuse('machine', L(`no active machine in ${c.group}`, `${c.group} に稼動しているマシンがありません`));
  }
  const { sequence, table } = SEQUENCES[c.cmd];
  return chosen.map((m) => {
    const src = side(db, { group: m.group_id, model: m.model_id, machine: m.id, host: m.host_setting_id });
    return plan({
      sequence, table,
      params: { GroupName: c.group, HostName: src.host?.hostName ?? '', group: src.group!.path, machine: m.name },
      resources: [['machine', String(m.id)]],
      src, dst: EMPTY_SIDE,
      event: { machine: m.name, group: src.group!.path },
    });
  });
}
