// policy show | policy set (spec/pvmutl.md §4.23–4.24, spec/decisions.md "Semantics").
import { L } from '../../cli/locale.js';
import type { Db } from '../../store/db.js';
import { type GroupRow, groupsUnder, sortNodes } from '../../domain/paths.js';
import { Exit, PvmError } from '../exit-codes.js';
import { formatPolicyLine } from '../format.js';
import { resolveGroup, resolveOrFail } from '../../engine/planners/targets.js';
import type { Io } from '../io.js';
import { byName, closestName } from '../../domain/names.js';

function policyName(db: Db, id: number | null): string | null {
  if (id === null) return null;
  return (db.prepare('SELECT name FROM policies WHERE id = ?').get(id) as { name: string } | undefined)?.name ?? null;
}

function groupBlock(db: Db, group: GroupRow): string {
  const models = db.prepare('SELECT name, priority, policy_id FROM models WHERE group_id = ?').all(group.id) as Array<{ name: string; priority: number; policy_id: number | null }>;
  return formatPolicyLine(group.name, policyName(db, group.policy_id)) +
    sortNodes(models).map((m) => formatPolicyLine(m.name, policyName(db, m.policy_id))).join('');
}

export function policyShow(db: Db, given: string | undefined): string {
  if (given === undefined) {
    const all = db.prepare('SELECT name, description FROM policies ORDER BY name COLLATE NOCASE').all() as Array<{ name: string; description: string }>;
    return all.map((p) => formatPolicyLine(p.name, p.description)).join('');
  }
  const r = resolveOrFail(db, given);
  if (r.kind === 'category') return groupsUnder(db, r.category.id).map((g) => groupBlock(db, g)).join('');
  if (r.kind === 'model') return formatPolicyLine(r.model.name, policyName(db, r.model.policy_id));
  return groupBlock(db, r.group);
}

export async function policySet(db: Db, given: string, policy: string | undefined, yes: boolean, io: Io): Promise<void> {
  const { group, model } = resolveGroup(db, given);
  let policyId: number | null = null;
  let shown: string | undefined;
  if (policy !== undefined) {
    const row = byName<{ id: number; name: string }>(db, 'SELECT id, name FROM policies WHERE {name}', 'name', policy);
    if (!row) {
      const hint = closestName(db, 'SELECT name FROM policies', policy);
      throw new PvmError(Exit.POLICY, L(`policy not found: ${policy}${hint}`, `ポリシーが見つかりません: ${policy}${hint}`));
    }
    policyId = row.id;
    shown = row.name;
  }
  const target = model ? model.name : group.name;
  if (!yes) {
    const question = shown === undefined
      ? L(`Remove the policy from ${target}? (y/n)`, `${target} のポリシー設定を解除しますか? (y/n)`)
      : L(`Change the policy of ${target} to ${shown}? (y/n)`, `${target} のポリシーを ${shown} に変更しますか? (y/n)`);
    const answer = await io.ask(question);
    if (answer === undefined || !/^y(es)?$/i.test(answer.trim())) {
      throw new PvmError(Exit.FORMAT, L(
        'policy not changed (not confirmed; /y skips the question)',
        'ポリシーは変更されていません (確認されませんでした。/y で確認を省略できます)',
      ));
    }
  }
  if (model) db.prepare('UPDATE models SET policy_id = ? WHERE id = ?').run(policyId, model.id);
  else db.prepare('UPDATE groups SET policy_id = ? WHERE id = ?').run(policyId, group.id);
}
