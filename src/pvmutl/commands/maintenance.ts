// maintenance On|Off GroupName [HostName] (spec/pvmutl.md §4.9).
import { L } from '../../cli/locale.js';
import type { Db } from '../../store/db.js';
import { activeMachines } from '../../domain/machines.js';
import { activeByHost } from '../../engine/select.js';
import { Exit, PvmError } from '../exit-codes.js';
import { notActiveHost, resolveGroup } from '../../engine/planners/targets.js';

export function maintenance(db: Db, on: boolean, given: string, host: string | undefined): void {
  const { group, model } = resolveGroup(db, given);
  let ids: number[];
  if (host !== undefined) {
    const m = activeByHost(db, group.id, host);
    if (!m || (model && m.model_id !== model.id)) {
      throw new PvmError(Exit.MACHINE, notActiveHost(db, host, group, given, true));
    }
    ids = [m.id];
  } else {
    ids = activeMachines(db, group.id, model?.id).map((m) => m.id);
  }
  const set = db.prepare('UPDATE machines SET maintenance = ? WHERE id = ?');
  db.transaction(() => { for (const id of ids) set.run(on ? 1 : 0, id); })();
}
