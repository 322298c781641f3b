// kanri user add | list | enable | disable. Passwords come from standard input
// (or a no-echo prompt on a terminal), never from argv.
import { hashPassword } from '../auth/password.js';
import { withStore } from '../store/db.js';
import { readSecret } from '../cli/secret-input.js';
import { PASSWORD, USER_NAME } from '../pvmutl/commands/changepassword.js';

export async function userAdd(dbPath: string, name: string, level: string): Promise<number> {
  if (!USER_NAME.test(name)) {
    process.stderr.write('kanri: user name must be 1-32 characters of A-Z a-z 0-9 _ . -\n');
    return 1;
  }
  if (level !== 'administrator' && level !== 'operator') {
    process.stderr.write(`kanri: --level must be administrator or operator, not '${level}'\n`);
    return 1;
  }
  const password = await readSecret('Password: ');
  if (!PASSWORD.test(password)) {
    process.stderr.write('kanri: the password must be 1-32 printable ASCII characters without spaces\n');
    return 1;
  }
  return withStore(dbPath, (db) => {
    if (db.prepare('SELECT 1 FROM users WHERE name = ?').get(name)) {
      process.stderr.write(`kanri: user already exists: ${name}\n`);
      return 1;
    }
    db.prepare('INSERT INTO users (name, password_hash, level, updated_at) VALUES (?, ?, ?, ?)').run(name, hashPassword(password), level, new Date().toISOString());
    return 0;
  });
}

export function userList(dbPath: string): number {
  return withStore(dbPath, (db) => {
    for (const u of db.prepare('SELECT name, level, disabled FROM users ORDER BY name').all() as Array<{ name: string; level: string; disabled: number }>) {
      process.stdout.write(`${u.name} ${u.level}${u.disabled ? ' disabled' : ''}\n`);
    }
    return 0;
  });
}

export function userSetDisabled(dbPath: string, name: string, disabled: boolean): number {
  return withStore(dbPath, (db) => {
    const r = db.prepare('UPDATE users SET disabled = ?, updated_at = ? WHERE name = ?').run(disabled ? 1 : 0, new Date().toISOString(), name);
    if (r.changes === 0) {
      process.stderr.write(`kanri: user not found: ${name}\n`);
      return 2;
    }
    return 0;
  });
}
