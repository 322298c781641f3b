// dscli groups: dscli's own bulk-operation lists of registered servers (createGroup,
// addGroupServer, …), resolved like any ServerList.
import type { Db } from '../store/db.js';
import { exists, formatError, notFound } from './errors.js';
import { resolveServerList } from './serverlist.js';
import { dscliGroupId, SERVER_NAME, serverRow } from './servers.js';

const now = () => new Date().toISOString();

export function createGroup(db: Db, name: string): void {
  if (!SERVER_NAME.test(name)) throw formatError(`bad group name '${name}': letters, digits, _ . - (at most 63)`);
  if (dscliGroupId(db, name) !== undefined) throw exists(`group already exists: ${name}`);
  if (serverRow(db, name)) throw exists(`a server is already named ${name}; a group name must differ from server names`);
  db.prepare('INSERT INTO dscli_groups (name, created_at) VALUES (?, ?)').run(name, now());
}

function needGroup(db: Db, name: string): number {
  const g = dscliGroupId(db, name);
  if (g === undefined) throw notFound(`group not found: ${name}`);
  return g;
}

export function deleteGroup(db: Db, name: string): void {
  const id = needGroup(db, name);
  db.prepare('DELETE FROM dscli_groups WHERE id = ?').run(id);
}

export function addGroupServers(db: Db, group: string, list: string[]): void {
  const gid = needGroup(db, group);
  const rows = resolveServerList(db, list);
  db.transaction(() => {
    let pos = (db.prepare('SELECT coalesce(max(position), 0) AS p FROM dscli_group_members WHERE group_id = ?').get(gid) as { p: number }).p;
    const ins = db.prepare('INSERT OR IGNORE INTO dscli_group_members (group_id, machine_id, position) VALUES (?, ?, ?)');
    for (const r of rows) if (ins.run(gid, r.id, pos + 1).changes) pos++;
  })();
}

export function removeGroupServers(db: Db, group: string, list: string[]): void {
  const gid = needGroup(db, group);
  const rows = resolveServerList(db, list);
  const missing = rows.filter((r) => !db.prepare('SELECT 1 FROM dscli_group_members WHERE group_id = ? AND machine_id = ?').get(gid, r.id));
  if (missing.length) throw notFound(`not in group ${group}: ${missing.map((r) => r.name).join(', ')}`);
  db.transaction(() => {
    for (const r of rows) db.prepare('DELETE FROM dscli_group_members WHERE group_id = ? AND machine_id = ?').run(gid, r.id);
  })();
}

export function listGroups(db: Db): Array<{ name: string; members: string[] }> {
  const gs = db.prepare('SELECT id, name FROM dscli_groups ORDER BY name COLLATE NOCASE').all() as Array<{ id: number; name: string }>;
  return gs.map((g) => ({
    name: g.name,
    members: (db.prepare('SELECT m.name FROM dscli_group_members gm JOIN machines m ON m.id = gm.machine_id WHERE gm.group_id = ? ORDER BY gm.position').all(g.id) as Array<{ name: string }>).map((r) => r.name),
  }));
}
