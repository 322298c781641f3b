// The administrator rule of all three names (spec/pvmutl.md §1.2, exit 9): root, or a
// member of the admin group (KANRI_ADMIN_GROUP, default "kanri"). pvmutl and dscli ask
// it of every command, kanri of every command that changes the store; the store's 0600
// mode is what protects the data itself.
import { readFileSync } from 'node:fs';

export function adminGroupName(env: NodeJS.ProcessEnv = process.env): string {
  return env.KANRI_ADMIN_GROUP || 'kanri';
}

function groupId(name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export function isAdministrator(env: NodeJS.ProcessEnv = process.env): boolean {
  if (typeof process.getuid !== 'function') return true;
  if (process.getuid() === 0) return true;
  const gid = groupId(adminGroupName(env));
  if (gid === undefined) return false;
  return process.getgid?.() === gid || (process.getgroups?.() ?? []).includes(gid);
}

/**
 * What the exit-9 message says: the group by name, and how to join it — or create it, when
 * no such group exists yet (nothing creates it: which users administer kanri is the site's choice).
 */
export function notAdministrator(who: string, env: NodeJS.ProcessEnv = process.env): { en: string; ja: string } {
  const g = adminGroupName(env);
  return groupId(g) === undefined
    ? {
      en: `${who} needs administrator rights: root, or a member of the group ${g} (KANRI_ADMIN_GROUP), which does not exist yet; as root: groupadd ${g} && usermod -aG ${g} USER, then log in again`,
      ja: `${who} には管理者権限が必要です: root またはグループ ${g} (KANRI_ADMIN_GROUP) のメンバー。このグループはまだありません。root で groupadd ${g} && usermod -aG ${g} USER を実行し、ログインし直してください`,
    }
    : {
      en: `${who} needs administrator rights: root, or a member of the group ${g} (KANRI_ADMIN_GROUP); as root: usermod -aG ${g} USER, then log in again`,
      ja: `${who} には管理者権限が必要です: root またはグループ ${g} (KANRI_ADMIN_GROUP) のメンバー。root で usermod -aG ${g} USER を実行し、ログインし直してください`,
    };
}
