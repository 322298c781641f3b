// The manager's own accounts, exactly as documented (spec/dscli.md): createUser
// UserName Password (level always operator; name ≤ 16 and new; password 6–16; at most 30
// users), deleteUser UserName, getUserList (`<name> <level>`, no header). Stored in the
// shared `users` table as scrypt hashes.
import { hashPassword } from '../auth/password.js';
import type { Db } from '../store/db.js';
import { byName } from '../domain/names.js';
import { DscliError, exists, formatError, notFound, RC } from './errors.js';

export const MAX_USERS = 30;
export const USER_NAME = /^[A-Za-z0-9_.-]{1,16}$/;
export const PASSWORD = /^[\x21-\x7e]{6,16}$/;

export function checkUserName(name: string): void {
  if (!USER_NAME.test(name)) throw formatError('UserName must be 1-16 characters of A-Z a-z 0-9 _ . -');
}

export function checkPassword(pw: string): void {
  if (!PASSWORD.test(pw)) throw formatError('Password must be 6-16 printable ASCII characters without spaces');
}

export function createUser(db: Db, name: string, password: string): void {
  checkUserName(name);
  checkPassword(password);
  db.transaction(() => {
    if (byName(db, 'SELECT 1 AS y FROM users WHERE {name}', 'name', name)) throw exists(`user already exists: ${name}`);
    const n = (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
    if (n >= MAX_USERS) throw new DscliError(RC.EXISTS, `at most ${MAX_USERS} users can be registered`);
    db.prepare("INSERT INTO users (name, password_hash, level, updated_at) VALUES (?, ?, 'operator', ?)").run(name, hashPassword(password), new Date().toISOString());
  }).immediate();
}

export function deleteUser(db: Db, name: string): void {
  db.transaction(() => {
    const u = byName<{ id: number }>(db, 'SELECT id FROM users WHERE {name}', 'name', name);
    if (!u) throw notFound(`user not found: ${name}`);
    db.prepare('DELETE FROM users WHERE id = ?').run(u.id);
  }).immediate();
}

export function userList(db: Db): string[] {
  const rows = db.prepare('SELECT name, level FROM users ORDER BY id').all() as Array<{ name: string; level: string }>;
  return rows.map((r) => `${r.name} ${r.level === 'administrator' ? 'Administrator' : 'Operator'}`);
}
