// Turning a GroupName argument into a group (or model, or category), with the
// exit code 3 reasons every subcommand shares.
import { L } from '../../cli/locale.js';
import type { Db } from '../../store/db.js';
import { type GroupRow, type ModelRow, type Resolved, groupPathParts, isResolved, resolvePath, splitPath } from '../../domain/paths.js';
import { didYouMean } from '../../util/nearest.js';
import { closestName } from '../../domain/names.js';
import { refuse } from '../errors.js';

export function resolveOrFail(db: Db, given: string): Resolved {
  const r = resolvePath(db, given);
  if (isResolved(r)) return r;
  if (r.kind === 'ambiguous') {
    throw refuse('group', L(
      `'${r.at}' names more than one category or group; give the full path (Category\\Group)`,
      `'${r.at}' に該当するカテゴリまたはグループが複数あります。フルパス (カテゴリ\\グループ) で指定してください`,
    ));
  }
  throw refuse('group', groupNotFound(db, given));
}

/** "group not found: X", naming the closest category or group path when one is close. */
export function groupNotFound(db: Db, given: string): string {
  const hint = didYouMean(splitPath(given).join('\\'), knownPaths(db));
  return L(`group not found: ${given}${hint}`, `グループが見つかりません: ${given}${hint}`);
}

/** Every category and group path, and every group's own name: what a near miss is compared with. */
function knownPaths(db: Db): string[] {
  const groups = (db.prepare('SELECT id, name FROM groups').all() as Array<{ id: number; name: string }>);
  return [...groups.map((g) => groupPathParts(db, g.id).join('\\')), ...groups.map((g) => g.name)];
}

/** "machine not found: X", naming the closest machine when one is close. */
export function machineNotFound(db: Db, name: string, what = 'machine'): string {
  const names = (db.prepare('SELECT name FROM machines').all() as Array<{ name: string }>).map((m) => m.name);
  const hint = didYouMean(name, names);
  return L(`${what} not found: ${name}${hint}`, `${what === 'machine' ? 'マシン' : what}が見つかりません: ${name}${hint}`);
}

/** A group, or a model of a group; a category alone is refused with exit 3. */
export function resolveGroup(db: Db, given: string): { group: GroupRow; model?: ModelRow } {
  const r = resolveOrFail(db, given);
  if (r.kind === 'category') {
    throw refuse('group', L(
      `${given} is a category; this command needs a group`,
      `${given} はカテゴリです。グループを指定してください`,
    ));
  }
  return r.kind === 'model' ? { group: r.group, model: r.model } : { group: r.group };
}

/** "no host setting named or addressed X in G", naming the closest host name of those groups. */
export function hostNotFound(db: Db, groupIds: number[], netInfo: string, where: string): string {
  const hint = closestName(db, `SELECT host_name AS name FROM host_settings WHERE group_id IN (${groupIds.map(() => '?').join(', ')})`, netInfo, ...groupIds);
  return L(`no host setting named or addressed ${netInfo} in ${where}${hint}`, `${where} に ${netInfo} のホスト設定がありません${hint}`);
}

/** "H is not active in G", naming the closest host name active in the group. */
export function notActiveHost(db: Db, host: string, g: { id: number; name: string }, where: string = g.name, poolNote = false): string {
  const hint = closestName(db, 'SELECT h.host_name AS name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE m.group_id = ?', host, g.id);
  return poolNote
    ? L(`${host} is not active in ${where} (pool machines cannot be given)${hint}`, `${host} は ${where} で稼動していません (プールマシンは指定できません)${hint}`)
    : L(`${host} is not active in ${where}${hint}`, `${host} は ${where} で稼動していません${hint}`);
}
