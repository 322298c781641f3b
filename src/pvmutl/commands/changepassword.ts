// changepassword UserName OldPassword NewPassword (spec/pvmutl.md §4.22,
// spec/decisions.md): 15 for unusable input or a wrong password, 14 for an
// unknown or disabled account.
import { L } from '../../cli/locale.js';
import type { Db } from '../../store/db.js';
import { hashPassword, verifyPassword } from '../../auth/password.js';
import { Exit, PvmError } from '../exit-codes.js';
import { byName } from '../../domain/names.js';

export const USER_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
export const PASSWORD = /^[\x21-\x7e]{1,32}$/;

export function changePassword(db: Db, user: string, oldPassword: string, newPassword: string): void {
  if (!USER_NAME.test(user)) {
    throw new PvmError(Exit.CREDENTIALS, L(
      'user name must be 1-32 characters of A-Z a-z 0-9 _ . -',
      'ユーザ名は A-Z a-z 0-9 _ . - の 1～32 文字で指定してください',
    ));
  }
  for (const pw of [oldPassword, newPassword]) {
    if (!PASSWORD.test(pw)) {
      throw new PvmError(Exit.CREDENTIALS, L(
        'passwords must be 1-32 printable ASCII characters without spaces',
        'パスワードは空白を含まない印字可能な ASCII 文字 1～32 文字で指定してください',
      ));
    }
  }
  const row = byName(db, 'SELECT id, password_hash, disabled FROM users WHERE {name}', 'name', user) as
    { id: number; password_hash: string; disabled: number } | undefined;
  if (!row) throw new PvmError(Exit.ACCOUNT, L(`user account not found: ${user}`, `ユーザアカウントが見つかりません: ${user}`));
  if (row.disabled) throw new PvmError(Exit.ACCOUNT, L(`user account is disabled: ${user}`, `ユーザアカウントは無効です: ${user}`));
  if (!verifyPassword(oldPassword, row.password_hash)) {
    throw new PvmError(Exit.CREDENTIALS, L('the user name or the password is wrong', 'ユーザ名またはパスワードが正しくありません'));
  }
  db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?').run(hashPassword(newPassword), new Date().toISOString(), row.id);
}
