// Turning a GroupName argument into a group (or model, or category), with the
// exit code 3 reasons every subcommand shares.
import { L } from '../../cli/locale.js';
import type { Db } from '../../store/db.js';
import { type GroupRow, type ModelRow, type Resolved, isResolved, resolvePath } from '../../domain/paths.js';
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
  throw refuse('group', L(`group not found: ${given}`, `グループが見つかりません: ${given}`));
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
