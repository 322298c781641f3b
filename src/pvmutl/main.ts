// pvmutl dialect: parse, check rights, open the store, run one subcommand.
// Order matters for schedulers: a format error is reported before anything
// else, and nothing touches the store before the command is known to be valid.
import { L, useLocaleOf } from '../cli/locale.js';
import { type Db } from '../store/db.js';
import { openStore } from '../open-store.js';
import { storeProblem } from '../store/errors.js';
import { defaultStorePath } from '../store/paths.js';
import { EngineError } from '../engine/errors.js';
import type { ChangeRequest } from '../engine/planners/index.js';
import { Exit, PvmError, fromEngine } from './exit-codes.js';
import { HELP, commandHelp } from './help.js';
import { versionLine } from '../cli/version.js';
import { type Io, processIo } from './io.js';
import { type Command, parse } from './parse.js';
import { isAdministrator, notAdministrator } from '../cli/privilege.js';
import { recordAudit } from '../store/audit.js';
// The listings are loaded with the dialect, not on demand as the other commands are: they
// are what scripts run most, and a chunk of their own was five more files to find, read
// and deserialise at each `pvmutl list` (scripts/build.mjs).
import { listGroup, listServer, listSoft } from './commands/list.js';

/** Takes `--db PATH` / `--db=PATH` out of argv, wherever it stands (as kanri and dscli accept it). */
export function splitGlobalOptions(args: string[]): { db?: string; rest: string[] } {
  const rest: string[] = [];
  let db: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--db') {
      if (args[i + 1] === undefined) throw new PvmError(Exit.FORMAT, L('--db needs a path', '--db にはパスが必要です'));
      db = args[++i];
    } else if (a.startsWith('--db=')) db = a.slice(5);
    else rest.push(a);
  }
  return db === undefined ? { rest } : { db, rest };
}

export async function runPvmutl(args: string[], io: Io = processIo(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let db: Db | undefined;
  let command: Command | undefined;
  let auditArgs = '';
  let code: number = Exit.OK;
  let rejected = false;
  let storePath: string | undefined;
  useLocaleOf(env);
  try {
    const { db: dbPath, rest } = splitGlobalOptions(args);
    command = parse(rest);
    auditArgs = rest.join(' ');
    if (command.cmd === 'help') {
      // No arguments: the help on stdout and exit 1 (spec/decisions.md); asked for: exit 0.
      io.out(command.topic ? commandHelp(command.topic)! : HELP);
      return rest.length === 0 ? Exit.FORMAT : Exit.OK;
    }
    if (command.cmd === 'version') {
      io.out(versionLine('pvmutl'));
      return Exit.OK;
    }
    if (!isAdministrator(env)) {
      const m = notAdministrator('pvmutl', env);
      throw new PvmError(Exit.PRIVILEGE, L(m.en, m.ja));
    }
    storePath = dbPath ?? defaultStorePath(env);
    db = openStore(storePath, onlyReads(command) ? { readonly: true, current: true } : {});
    code = await dispatch(db, command, io, rest.join(' '));
    return code;
  } catch (caught) {
    const err = caught instanceof EngineError ? fromEngine(caught) : caught;
    if (err instanceof PvmError) {
      code = err.code;
      rejected = true;
      io.err(`pvmutl: ${err.message}\n`);
      return code;
    }
    const problem = storeProblem(err, storePath ?? '');
    if (problem) {
      code = Exit.INTERNAL;
      io.err(`pvmutl: ${problem}\n`);
      return code;
    }
    throw err;
  } finally {
    // Audited: changes that were made or attempted as jobs (6, 7); a rejected command changed nothing.
    if (db && command && isChange(command) && !rejected) {
      recordAudit(db, 'pvmutl', command.cmd === 'changepassword' ? `changepassword ${command.user} *** ***` : auditArgs, code);
    }
    db?.close();
  }
}

/** Commands that never write (asjob does: it sweeps abandoned jobs). */
function onlyReads(c: Command): boolean {
  return c.cmd === 'list' || (c.cmd === 'policy' && c.action === 'show');
}

function isChange(c: Command): boolean {
  return c.cmd !== 'list' && c.cmd !== 'asjob' && c.cmd !== 'help' && c.cmd !== 'version' && !(c.cmd === 'policy' && c.action === 'show') && !(c.cmd === 'ascancel' && c.jobId === undefined);
}

async function dispatch(db: Db, c: Command, io: Io, argv: string): Promise<number> {
  const change = async (request: ChangeRequest): Promise<number> =>
    (await import('./change.js')).runCommandChange(db, io, request, `pvmutl ${argv}`);
  switch (c.cmd) {
    case 'add': return change({ ...c, action: 'add' });
    case 'addspecname': return change({ ...c, action: 'addspecname' });
    case 'delete': return change({ ...c, action: 'delete' });
    case 'replace': return change({ ...c, action: 'replace' });
    case 'move': return change({ ...c, action: 'move' });
    case 'vmadd': return change({ ...c, action: 'vmadd' });
    case 'vmdelete': return change({ ...c, action: 'vmdelete' });
    case 'shutdown':
    case 'reboot':
    case 'poweron':
      return change({ action: 'power', cmd: c.cmd, group: c.group, hosts: c.hosts });
    case 'vmmigrate':
    case 'vmmigrateandmove':
      return change({ ...c, action: 'vmmigrate' });
    case 'deploygrp':
      return change({ ...c, action: 'deploy-group' });
    case 'deploysrv':
      return change({ ...c, action: 'deploy-server' });
    case 'deploypsv':
      return change({ ...c, action: 'deploy-machine' });
    case 'asjob': {
      const { asjob } = await import('./commands/jobs.js');
      io.out(asjob(db, c.detail));
      return Exit.OK;
    }
    case 'ascancel': {
      const { ascancel } = await import('./commands/jobs.js');
      io.out(ascancel(db, c.jobId));
      return Exit.OK;
    }
    case 'list': {
      io.out(c.what === 'group' ? listGroup(db) : c.what === 'server' ? listServer(db, c.group) : listSoft(db, c.group));
      return Exit.OK;
    }
    case 'policy': {
      const { policySet, policyShow } = await import('./commands/policy.js');
      if (c.action === 'show') io.out(policyShow(db, c.group));
      else await policySet(db, c.group, c.policy, c.yes, io);
      return Exit.OK;
    }
    case 'maintenance': {
      const { maintenance } = await import('./commands/maintenance.js');
      maintenance(db, c.on, c.group, c.host);
      return Exit.OK;
    }
    case 'changepassword': {
      const { changePassword } = await import('./commands/changepassword.js');
      changePassword(db, c.user, c.oldPassword, c.newPassword);
      return Exit.OK;
    }
    case 'help':
    case 'version':
      return Exit.OK;
  }
}
