// Shell completion for pvmutl, dscli and kanri: `kanri completion bash|zsh` prints the
// script; the script asks `kanri __complete NAME WORDS…` for the candidates of the word
// being typed — subcommands, switches, and names from the store (groups, machines,
// servers), read without migrating or writing anything, so that a Tab press is quick.
// The store is opened as every command opens it (an SQLite file or a PostgreSQL URI).
import { defaultStorePath } from '../store/paths.js';
import { openStore } from '../open-store.js';
import type { Db } from '../store/db.js';

export function completionScript(shell: string): string | undefined {
  const fn = `_kanri_complete() {
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$(kanri __complete "\${COMP_WORDS[0]##*/}" "\${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}") )
}
complete -o default -F _kanri_complete pvmutl dscli kanri
`;
  if (shell === 'bash') return `# kanri completion for bash: eval "$(kanri completion bash)" or put it in /etc/bash_completion.d/kanri\n${fn}`;
  if (shell === 'zsh') return `# kanri completion for zsh: eval "$(kanri completion zsh)" in ~/.zshrc\nautoload -U +X bashcompinit && bashcompinit\n${fn}`;
  return undefined;
}

const DSCLI_SETTINGS = ['fanout=', 'timeout=', 'retries=', 'wait=', 'via='];
// Kept in step with kanri's commands by a test that compares it with `kanri help`.
const KANRI: Record<string, string[]> = {
  '': ['config', 'settings', 'store', 'user', 'register-master', 'vmserver', 'suspend', 'vm', 'pool', 'sim', 'ssh', 'redfish', 'driver', 'lb', 'software',
    'machine', 'events', 'monitor', 'schedule', 'alert', 'event', 'policy', 'job', 'manager', 'status', 'serve', 'token', 'completion', 'demo', 'pvmutl', 'dscli', 'help'],
  config: ['apply', 'check', 'export'], settings: ['list', 'get', 'set', 'unset'], store: ['copy', 'init', 'key', 'status'], user: ['add', 'list', 'disable', 'enable'],
  vmserver: ['list', 'collect', 'watch', 'failover', 'evacuate', 'balance', 'power-save'], vm: ['delete'], pool: ['add', 'remove'],
  sim: ['fail', 'clear', 'delay', 'show'], ssh: ['trust', 'forget', 'known'], redfish: ['trust', 'forget'],
  driver: ['list', 'show', 'secret'], lb: ['sync'], software: ['collect'], machine: ['list', 'reset', 'confirm-off'],
  monitor: ['run', 'status', 'user'], schedule: ['add', 'list', 'remove'], alert: ['command', 'destination', 'list'], event: ['raise'], policy: ['templates', 'events', 'explain'], job: ['list', 'show', 'watch'], manager: ['list'], completion: ['bash', 'zsh'],
  token: ['create', 'list', 'revoke'],
};
/** The drivers `kanri driver show` names: the registry's, loaded only for a Tab press that completes one. */
let drivers: readonly string[] = [];
const wantsDrivers = (name: string, words: string[]): boolean => name === 'kanri' && words[0] === 'driver' && words.length >= 2;

function openNames(env: NodeJS.ProcessEnv): Db | undefined {
  try {
    // A store that is not there, or busy, gives no names rather than a wait.
    return openStore(env.KANRI_DB || defaultStorePath(env), { readonly: true, busyTimeoutMs: 100 });
  } catch {
    return undefined;
  }
}

function names(db: Db | undefined, sql: string): string[] {
  try {
    return db ? (db.prepare(sql).all() as Array<{ n: string }>).map((r) => r.n) : [];
  } catch {
    return [];
  }
}

const GROUP_PATHS = `WITH RECURSIVE c(id, path) AS (SELECT id, name FROM categories WHERE parent_id IS NULL
  UNION ALL SELECT k.id, c.path || '/' || k.name FROM categories k JOIN c ON k.parent_id = c.id)
  SELECT path AS n FROM c UNION ALL SELECT coalesce(c.path || '/', '') || g.name FROM groups g LEFT JOIN c ON c.id = g.category_id`;

/** Candidates for the word after `words` (the words already typed after the command name). */
export function candidates(name: string, words: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const db = openNames(env);
  try {
    if (name === 'kanri' && (words[0] === 'pvmutl' || words[0] === 'dscli')) return candidates(words[0], words.slice(1), env);
    if (name === 'pvmutl') return pvmutl(db, words);
    if (name === 'dscli') return dscli(db, words);
    const sub = words[0] ?? '';
    if (words.length === 0) return KANRI['']!;
    if (words.length === 1 && KANRI[sub]) return KANRI[sub]!;
    if (sub === 'machine' && (words[1] === 'reset' || words[1] === 'confirm-off')) return names(db, 'SELECT name AS n FROM machines');
    if (sub === 'machine' && words[1] === 'list') return names(db, GROUP_PATHS);
    if (sub === 'job' && (words[1] === 'show' || words[1] === 'watch')) return ['last', ...names(db, "SELECT printf('%05d', id) AS n FROM jobs ORDER BY id DESC LIMIT 20")];
    if (sub === 'register-master') return words.length === 1 ? names(db, GROUP_PATHS) : names(db, 'SELECT name AS n FROM machines WHERE group_id IS NULL');
    if (sub === 'ssh' || sub === 'sim' || sub === 'vm') return names(db, 'SELECT name AS n FROM machines');
    if (sub === 'redfish') return names(db, "SELECT name AS n FROM machines WHERE mgmt_type = 'redfish'");
    if (sub === 'vmserver' && ['failover', 'evacuate', 'collect', 'watch'].includes(words[1]!)) return names(db, 'SELECT name AS n FROM machines');
    if ((sub === 'vmserver' && ['balance', 'power-save'].includes(words[1]!)) || sub === 'lb' || (sub === 'pool' && words.length === 2)) return names(db, GROUP_PATHS);
    if (sub === 'suspend' && words.length === 1) return names(db, GROUP_PATHS);
    if (sub === 'schedule' && words[1] === 'add') return words.length === 2 ? names(db, GROUP_PATHS) : words.length === 3 ? ['poweron', 'shutdown', 'reboot'] : ['--at', '--tz', '--run-late'];
    if (sub === 'alert' && (words[1] === 'command' || words[1] === 'destination') && words.length === 2) return words[1] === 'command' ? ['set', 'remove'] : ['add', 'remove'];
    if (sub === 'alert' && words[1] === 'command' && words.length === 3) return names(db, 'SELECT name AS n FROM policies');
    if (sub === 'alert' && words[1] === 'destination' && words[2] === 'remove') return names(db, 'SELECT name AS n FROM alert_destinations');
    if (sub === 'schedule' && words[1] === 'remove') return names(db, 'SELECT CAST(id AS TEXT) AS n FROM schedules ORDER BY id');
    if (sub === 'driver' && (words[1] === 'show' || (words[1] === 'secret' && words.length === 2))) return [...drivers];
    return [];
  } finally {
    db?.close();
  }
}

async function pvmutlSyntax(): Promise<{ SUBCOMMANDS: readonly string[]; switchesOf(c: string): string[] }> {
  return import('../pvmutl/parse.js');
}

let pv: Awaited<ReturnType<typeof pvmutlSyntax>> | undefined;
export async function preload(name = 'kanri', words: string[] = []): Promise<void> {
  pv = await pvmutlSyntax();
  if (wantsDrivers(name, words)) drivers = (await import('../adapters/registry.js')).KNOWN_DRIVERS;
}

function pvmutl(db: Db | undefined, words: string[]): string[] {
  if (!pv) return [];
  const cmd = (words[0] ?? '').toLowerCase();
  if (words.length === 0) return [...pv.SUBCOMMANDS, 'help'];
  if (cmd === 'list' && words.length === 1) return ['group', 'server', 'soft'];
  if (cmd === 'policy' && words.length === 1) return ['show', 'set'];
  if (cmd === 'maintenance' && words.length === 1) return ['On', 'Off'];
  if (cmd === 'help') return [...pv.SUBCOMMANDS];
  const groups = names(db, GROUP_PATHS);
  const switches = pv.switchesOf(cmd);
  if (cmd === 'deploypsv' || cmd === 'changepassword') return names(db, 'SELECT name AS n FROM machines');
  const hosts = names(db, 'SELECT host_name AS n FROM host_settings');
  const vmServers = ['vmmigrate', 'vmmigrateandmove'].includes(cmd) && words.length === 3 ? names(db, "SELECT name AS n FROM machines WHERE kind = 'vmserver'") : [];
  const positional = words.slice(1).filter((w) => !w.startsWith('/') && !w.startsWith('-'));
  const first = cmd === 'list' || cmd === 'maintenance' || cmd === 'policy' ? 1 : 0;
  return positional.length <= first ? [...groups, ...switches] : [...hosts, ...vmServers, ...switches];
}

function dscli(db: Db | undefined, words: string[]): string[] {
  if (words.length === 0) {
    return ['createServer', 'setServer', 'deleteServer', 'getServerList', 'checkConnection', 'createGroup', 'deleteGroup', 'addGroupServer',
      'removeGroupServer', 'getGroupList', 'powerOn', 'powerOff', 'powerCycle', 'reset', 'dump', 'shutdownOs', 'getPowerStatus', 'getSel',
      'clearSel', 'getSensorList', 'getHardwareInfo', 'identify', 'getWatchdog', 'setWatchdog', 'getPowerReading', 'setPowerLimit', 'getFirmwareList', 'updateFirmware', 'getBiosSettings', 'setBiosSettings',
      'getNicList', 'getStorageList', 'console', 'getBmcConfig', 'setBmcConfig', 'backupBmcConfig', 'restoreBmcConfig',
      'getAlertList', 'setTrapForward', 'getTrapForward', 'createUser', 'deleteUser', 'getUserList', 'help', '--json', '--yes'];
  }
  return [...names(db, 'SELECT name AS n FROM machines WHERE mgmt_type IS NOT NULL UNION SELECT name FROM dscli_groups'), ...DSCLI_SETTINGS, '--json', '--yes'];
}
