// kanri user add | list | enable | disable. Passwords come from standard input
// (or a no-echo prompt on a terminal), never from argv.
import { EXIT } from './exit-codes.js';
import { hashPassword } from '../auth/password.js';
import { withStore } from '../open-store.js';
import { type Column, listingMode, renderListing } from '../cli/listing.js';
import { readSecret } from '../cli/secret-input.js';
import { PASSWORD, USER_NAME } from '../pvmutl/commands/changepassword.js';
import { complain } from '../cli/messages.js';
import { byName, closestName } from '../domain/names.js';

export async function userAdd(dbPath: string, name: string, level: string): Promise<number> {
  if (!USER_NAME.test(name)) {
    complain('kanri', 'user name must be 1-32 characters of A-Z a-z 0-9 _ . -');
    return EXIT.USAGE;
  }
  if (level !== 'administrator' && level !== 'operator') {
    complain('kanri', `--level must be administrator or operator, not '${level}'`);
    return EXIT.USAGE;
  }
  const password = await readSecret('Password: ');
  if (!PASSWORD.test(password)) {
    complain('kanri', 'the password must be 1-32 printable ASCII characters without spaces');
    return EXIT.USAGE;
  }
  return withStore(dbPath, (db) => {
    if (byName(db, 'SELECT 1 AS y FROM users WHERE {name}', 'name', name)) {
      complain('kanri', `user already exists: ${name}`);
      return EXIT.USAGE;
    }
    db.prepare('INSERT INTO users (name, password_hash, level, updated_at) VALUES (?, ?, ?, ?)').run(name, hashPassword(password), level, new Date().toISOString());
    return EXIT.OK;
  });
}

interface UserLine { name: string; level: string; disabled: number; updated_at: string }

const USER_COLUMNS: Array<Column<UserLine>> = [
  { header: 'USER', key: 'name', value: (u) => u.name },
  { header: 'LEVEL', key: 'level', value: (u) => u.level },
  { header: 'STATE', key: 'state', value: (u) => (u.disabled ? 'disabled' : 'enabled'), status: true },
  { header: 'CHANGED', key: 'updated_at', value: (u) => u.updated_at, time: true },
];

export function userList(dbPath: string, json = false): number {
  return withStore(dbPath, (db) => {
    const rows = db.prepare('SELECT name, level, disabled, updated_at FROM users ORDER BY name COLLATE NOCASE').all() as UserLine[];
    process.stdout.write(renderListing(rows, USER_COLUMNS, listingMode(json)));
    return EXIT.OK;
  });
}

export function userSetDisabled(dbPath: string, name: string, disabled: boolean): number {
  return withStore(dbPath, (db) => db.transaction(() => {
    const u = byName<{ id: number }>(db, 'SELECT id FROM users WHERE {name}', 'name', name);
    if (!u) {
      complain('kanri', `user not found: ${name}${closestName(db, 'SELECT name FROM users', name)}`);
      return EXIT.NOT_FOUND;
    }
    db.prepare('UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?').run(disabled ? 1 : 0, new Date().toISOString(), u.id);
    return EXIT.OK;
  }).immediate());
}
