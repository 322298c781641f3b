// dscli dialect: parse, check rights, open the store, run one command, map every
// failure to a documented return code (spec/dscli.md). A format error is reported before
// the rights check and before the store is touched.
// Help, version and format errors load neither the store (SQLite) nor crypto.
import { readFileSync, readSync } from 'node:fs';
import { isSetting } from './words.js';
import { recordAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { unusableStore } from '../store/errors.js';
import { defaultStorePath } from '../store/paths.js';
import { isAdministrator, notAdministrator } from '../cli/privilege.js';
import { L } from '../cli/locale.js';
import { writeErr, writeOut } from '../cli/output.js';
import { requireModule } from '../util/require.js';
import { DriverError } from '../adapters/types.js';
import { describeFailure, DscliError, formatError, RC } from './errors.js';
import { commandHelpText, helpText } from './help.js';
import { versionLine } from '../cli/version.js';
import { didYouMean } from '../util/nearest.js';
import { localize } from '../cli/messages.js';
import type { Out } from './ops.js';

export interface DscliIo {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input (password=-, createUser … -). */
  stdin(): string;
  /** On a terminal: prompts on stderr and reads one line without echo. */
  readSecret?(prompt: string): string;
  /** A yes/no question on a terminal; undefined when there is no terminal. */
  confirm?(question: string): Promise<boolean>;
  isTTY: boolean;
  /** Standard output is a terminal. */
  outIsTTY?: boolean;
}

export function processDscliIo(): DscliIo {
  return {
    out: writeOut,
    err: writeErr,
    stdin: () => {
      try {
        return readFileSync(0, 'utf8');
      } catch {
        return '';
      }
    },
    // Asked only by a command that may prompt: touching process.stdin builds a stream.
    get isTTY() { return !!process.stdin.isTTY; },
    // Asked only when a ServerList runs; node:tty loads node:net, which help does not need.
    get outIsTTY() { return (requireModule('node:tty') as typeof import('node:tty')).isatty(1); },
    readSecret: (prompt) => {
      process.stderr.write(prompt);
      const { spawnSync } = requireModule('node:child_process') as typeof import('node:child_process');
      const stty = (arg: string) => spawnSync('stty', [arg], { stdio: ['inherit', 'ignore', 'ignore'] }).status === 0;
      const echoOff = stty('-echo');
      try {
        const bytes: number[] = [];
        const b = Buffer.alloc(1);
        for (;;) {
          const n = readSync(0, b, 0, 1, null);
          if (n === 0 || b[0] === 0x0a) break;
          bytes.push(b[0]!);
        }
        return Buffer.from(bytes).toString('utf8').replace(/\r$/, '');
      } finally {
        if (echoOff) stty('echo');
        process.stderr.write('\n');
      }
    },
    confirm: async (q) => {
      const { createInterface } = await import('node:readline');
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      const answer = await new Promise<string>((r) => rl.question(`${q} [y/N] `, r));
      rl.close();
      return /^y(es)?$/i.test(answer.trim());
    },
  };
}

/** The console's terminal: this process's standard input and output. */
function processTerminal(io: DscliIo): import('./console.js').ConsoleTerminal {
  const stdin = process.stdin;
  return {
    input: stdin,
    output: (b) => process.stdout.write(b),
    // In raw mode the terminal does not turn \n into a new line by itself.
    note: (t) => io.err(stdin.isTTY ? `\r\n${t}\r\n` : `${t}\n`),
    ...(stdin.isTTY ? { setRaw: (on: boolean) => stdin.setRawMode(on) } : {}),
    onSignal: (fn) => {
      for (const s of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.on(s, fn);
      return () => { for (const s of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.off(s, fn); };
    },
  };
}

interface Global { db?: string; json: boolean; yes: boolean; help: boolean; version: boolean; rest: string[] }

function globals(args: string[]): Global {
  const g: Global = { json: false, yes: false, help: false, version: false, rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--db') {
      const v = args[++i];
      if (v === undefined) throw formatError('--db needs a path');
      g.db = v;
    } else if (a.startsWith('--db=')) g.db = a.slice(5);
    else if (a === '--json') g.json = true;
    else if (a === '--yes' || a === '-y') g.yes = true;
    else if (a === '--help' || a === '-h') g.help = true;
    else if (a === '--version') g.version = true;
    else if (a.startsWith('--')) throw formatError(`unknown option ${a}${didYouMean(a, ['--db', '--json', '--yes', '--help', '--version'])}`);
    else g.rest.push(a);
  }
  return g;
}

/** " (did you mean X?)": a command differing in case only, else the nearest by spelling. */
function suggestCommand(word: string): string {
  const exact = Object.keys(COMMANDS).find((c) => c.toLowerCase() === word.toLowerCase());
  return exact ? ` (did you mean ${exact}?)` : didYouMean(word, Object.keys(COMMANDS));
}

type Arity = [min: number, max: number];
const INF = Number.POSITIVE_INFINITY;
// Positional words (key=value settings not counted) each command takes.
const COMMANDS: Record<string, { arity: Arity; change: boolean; settings: boolean }> = {
  createServer: { arity: [1, 1], change: true, settings: true },
  setServer: { arity: [1, 1], change: true, settings: true },
  deleteServer: { arity: [1, 1], change: true, settings: false },
  getServerList: { arity: [0, 1], change: false, settings: false },
  checkConnection: { arity: [1, INF], change: false, settings: true },
  createGroup: { arity: [1, 1], change: true, settings: false },
  deleteGroup: { arity: [1, 1], change: true, settings: false },
  addGroupServer: { arity: [2, INF], change: true, settings: false },
  removeGroupServer: { arity: [2, INF], change: true, settings: false },
  getGroupList: { arity: [0, 0], change: false, settings: false },
  powerOn: { arity: [1, INF], change: true, settings: true },
  powerOff: { arity: [1, INF], change: true, settings: true },
  powerCycle: { arity: [1, INF], change: true, settings: true },
  reset: { arity: [1, INF], change: true, settings: true },
  dump: { arity: [1, INF], change: true, settings: true },
  shutdownOs: { arity: [1, INF], change: true, settings: true },
  getPowerStatus: { arity: [1, INF], change: false, settings: true },
  getSel: { arity: [1, 2], change: false, settings: true },
  clearSel: { arity: [1, INF], change: true, settings: true },
  getSensorList: { arity: [1, INF], change: false, settings: true },
  getHardwareInfo: { arity: [1, INF], change: false, settings: true },
  identify: { arity: [1, 2], change: true, settings: true },
  console: { arity: [1, 1], change: true, settings: true },
  getWatchdog: { arity: [1, INF], change: false, settings: true },
  setWatchdog: { arity: [1, INF], change: true, settings: true },
  getPowerReading: { arity: [1, INF], change: false, settings: true },
  setPowerLimit: { arity: [1, INF], change: true, settings: true },
  getFirmwareList: { arity: [1, INF], change: false, settings: true },
  updateFirmware: { arity: [1, 1], change: true, settings: true },
  getBiosSettings: { arity: [1, 1], change: false, settings: true },
  setBiosSettings: { arity: [1, 1], change: true, settings: true },
  getNicList: { arity: [1, INF], change: false, settings: true },
  getStorageList: { arity: [1, INF], change: false, settings: true },
  getBmcConfig: { arity: [1, 1], change: false, settings: true },
  setBmcConfig: { arity: [1, 1], change: true, settings: true },
  backupBmcConfig: { arity: [2, 2], change: false, settings: true },
  restoreBmcConfig: { arity: [2, 2], change: true, settings: true },
  getAlertList: { arity: [0, 2], change: false, settings: false },
  setTrapForward: { arity: [2, 2], change: true, settings: true },
  getTrapForward: { arity: [0, 0], change: false, settings: false },
  createUser: { arity: [2, 2], change: true, settings: false },
  deleteUser: { arity: [1, 1], change: true, settings: false },
  getUserList: { arity: [0, 0], change: false, settings: false },
};

const GUARDED = new Set(['powerOn', 'powerOff', 'powerCycle', 'reset', 'dump', 'shutdownOs', 'clearSel', 'setWatchdog', 'setPowerLimit']);


/** The audit text of a command: password values never stored. */
function redact(cmd: string, rest: string[]): string {
  if (cmd === 'createUser') return `createUser ${rest[0] ?? ''} ***`;
  return [cmd, ...rest.map((w) => (/^password=/i.test(w) && w !== 'password=-' ? 'password=***' : w))].join(' ');
}

export async function runDscli(args: string[], io: DscliIo = processDscliIo(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let db: Db | undefined;
  let cmd = '';
  let rest: string[] = [];
  let code: number = RC.OK;
  let storePath = '';
  try {
    const g = globals(args);
    if (g.version && g.rest.length === 0) {
      io.out(versionLine('dscli'));
      return RC.OK;
    }
    if (g.rest.length === 0) {
      if (g.help) {
        io.out(helpText());
        return RC.OK;
      }
      io.err(helpText());
      return RC.FORMAT;
    }
    cmd = g.rest[0]!;
    rest = g.rest.slice(1);
    // `dscli help getSel`, `dscli getSel --help`: the help of one command.
    const topic = cmd === 'help' ? rest[0] : g.help ? cmd : undefined;
    if (cmd === 'help' && topic === undefined) {
      io.out(helpText());
      return RC.OK;
    }
    if (topic !== undefined) {
      const text = commandHelpText(topic);
      if (!text) throw formatError(`no help for ${topic}${suggestCommand(topic)}; see dscli help`);
      io.out(text);
      return RC.OK;
    }
    const spec = COMMANDS[cmd];
    if (!spec) throw formatError(`unknown command ${cmd}${suggestCommand(cmd)}; see dscli help`);
    const positional = spec.settings ? rest.filter((w) => !isSetting(w)) : rest;
    if (cmd === 'createServer' || cmd === 'setServer') {
      if (rest.filter(isSetting).length === 0) throw formatError(`${cmd} needs key=value settings`);
    }
    if (positional.length < spec.arity[0] || positional.length > spec.arity[1]) {
      throw formatError(`wrong number of arguments for ${cmd}; see dscli help`);
    }
    if (!isAdministrator(env)) {
      { const m = notAdministrator('dscli', env); throw new DscliError(RC.PRIVILEGE, L(m.en, m.ja)); }
    }
    storePath = g.db ?? defaultStorePath(env);
    db = (await import('../open-store.js')).openStore(storePath);
    // Whether stdout is a terminal is asked only by a ServerList operation (see outIsTTY).
    const out: Out = { out: io.out, err: io.err, json: g.json, get tty() { return !!io.outIsTTY; } };
    code = await dispatch(db, cmd, rest, out, io, g.yes);
    return code;
  } catch (e) {
    code = report(e, io, cmd, rest, storePath);
    return code;
  } finally {
    if (db && cmd && COMMANDS[cmd]?.change && code !== RC.FORMAT) recordAudit(db, 'dscli', redact(cmd, rest), code);
    db?.close();
  }
}

/** A password given where something else belongs is never echoed back. */
const redactMessage = (m: string): string => m.replace(/\bpassword=(?!-(\s|$))\S*/gi, 'password=***');

function report(e: unknown, io: DscliIo, cmd: string, rest: string[], storePath: string): number {
  if (e instanceof DscliError) {
    io.err(`dscli: ${localize(redactMessage(e.message))}\n`);
    return e.code;
  }
  if (e instanceof DriverError) {
    const f = describeFailure(e);
    io.err(`dscli: ${localize(`${rest[0] ?? cmd} failed ${f.layer}: ${f.message}`)}\n`);
    return f.code;
  }
  const problem = unusableStore(e, storePath);
  if (problem) {
    io.err(`dscli: ${localize(problem)}\n`);
    return RC.CONTROLLER;
  }
  if (e instanceof RangeError) {
    io.err(`dscli: ${localize(e.message)}\n`);
    return RC.FORMAT;
  }
  io.err(`dscli: ${localize(`internal error: ${(e as Error)?.message ?? String(e)}`)}\n`);
  return RC.CONTROLLER;
}

async function guard(db: Db, cmd: string, count: number, io: DscliIo, yes: boolean): Promise<void> {
  if (!GUARDED.has(cmd) || yes) return;
  const { dscliNumber } = await import('./settings.js');
  const limit = dscliNumber(db, 'dscli.confirm_above');
  if (count <= limit) return;
  const q = `dscli: ${localize(`${cmd} acts on ${count} servers (more than ${limit}). Continue?`)}`;
  if (io.isTTY && io.confirm) {
    if (await io.confirm(q)) return;
    throw formatError(`${cmd} not confirmed; nothing was done`);
  }
  throw formatError(`${cmd} would act on ${count} servers (more than ${limit}); confirm with --yes (input is not a terminal, nothing was done)`);
}

function stdinLine(io: DscliIo, prompt = 'Password: '): string {
  if (io.isTTY && io.readSecret) {
    const pw = io.readSecret(prompt);
    if (!pw) throw formatError('no password given');
    return pw;
  }
  const text = io.stdin();
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw formatError('expected a password on standard input');
  return line;
}

async function dispatch(db: Db, cmd: string, rest: string[], out: Out, io: DscliIo, yes: boolean): Promise<number> {
  const servers = await import('./servers.js');
  const settings = rest.filter(isSetting);
  const positional = rest.filter((w) => !isSetting(w));
  const pwSource = { stdin: () => stdinLine(io), warn: (t: string) => io.err(`dscli: ${localize(t)}\n`) };
  switch (cmd) {
    case 'createServer':
    case 'setServer': {
      const r = (cmd === 'createServer' ? servers.createServer : servers.setServer)(db, positional[0]!, settings, pwSource);
      if (r.events === undefined) return RC.OK;
      return (await import('./ops.js')).registerEvents(db, servers.needServer(db, positional[0]!), r.events, out);
    }
    case 'deleteServer':
      servers.deleteServers(db, rest[0]!);
      return RC.OK;
    case 'getServerList': {
      for (const r of servers.listServers(db, rest[0])) {
        const host = r.bmc_address?.includes(':') ? `[${r.bmc_address}]` : r.bmc_address;
        const addr = !host ? '-' : r.bmc_port ? `${host}:${r.bmc_port}` : host;
        if (out.json) {
          out.out(JSON.stringify({
            name: r.name, mgmt: r.mgmt_type, address: r.bmc_address, port: r.bmc_port, user: r.bmc_user, cipher: r.cipher_suite ?? 'auto',
            power: r.last_power, status: r.last_status, os_address: r.os_address, model: r.hw_model_name,
          }) + '\n');
        } else out.out(`${r.name} ${r.mgmt_type} ${addr} ${r.last_power ?? '-'} ${r.last_status ?? '-'}\n`);
      }
      return RC.OK;
    }
    case 'createGroup':
      (await import('./groups.js')).createGroup(db, rest[0]!);
      return RC.OK;
    case 'deleteGroup':
      (await import('./groups.js')).deleteGroup(db, rest[0]!);
      return RC.OK;
    case 'addGroupServer':
      (await import('./groups.js')).addGroupServers(db, rest[0]!, rest.slice(1));
      return RC.OK;
    case 'removeGroupServer':
      (await import('./groups.js')).removeGroupServers(db, rest[0]!, rest.slice(1));
      return RC.OK;
    case 'getGroupList':
      for (const g of (await import('./groups.js')).listGroups(db)) out.out(out.json ? JSON.stringify(g) + '\n' : `${g.name} ${g.members.length}${g.members.length ? ' ' + g.members.join(',') : ''}\n`);
      return RC.OK;
    case 'powerOn': case 'powerOff': case 'powerCycle': case 'reset': case 'dump': case 'shutdownOs': case 'getPowerStatus':
    case 'checkConnection': case 'clearSel': {
      const ops = await import('./ops.js');
      const waitDefault = cmd === 'shutdownOs' || cmd === 'dump' ? 0 : 10;
      const rs = ops.runSettings(db, settings, waitDefault);
      if (rs.via === 'ssh' && cmd !== 'shutdownOs') throw formatError(`via=ssh is for shutdownOs only, not ${cmd}`);
      const rows = (await import('./serverlist.js')).resolveServerList(db, positional);
      await guard(db, cmd, rows.length, io, yes);
      const handler = cmd === 'checkConnection' ? ops.checkHandler() : cmd === 'clearSel' ? ops.clearSelHandler() : ops.powerHandler(ops.POWER_COMMANDS[cmd]!);
      return ops.runOnServers(db, rows, cmd, rs, out, handler);
    }
    case 'getSel': return (await import('./info.js')).getSelCmd(db, rest, out);
    case 'getSensorList': return (await import('./info.js')).getSensorListCmd(db, rest, out);
    case 'getHardwareInfo': return (await import('./info.js')).getHardwareInfoCmd(db, rest, out);
    case 'identify': return (await import('./info.js')).identifyCmd(db, rest, out);
    case 'getBmcConfig': return (await import('./info.js')).getBmcConfigCmd(db, rest, out);
    case 'setBmcConfig': return (await import('./info.js')).setBmcConfigCmd(db, rest, out);
    case 'backupBmcConfig': return (await import('./info.js')).backupBmcConfigCmd(db, rest, out);
    case 'restoreBmcConfig': return (await import('./info.js')).restoreBmcConfigCmd(db, rest, out);
    case 'console': return (await import('./console.js')).consoleCmd(db, rest, processTerminal(io));
    case 'getWatchdog': return (await import('./platform.js')).getWatchdogCmd(db, rest, out);
    case 'getPowerReading': return (await import('./platform.js')).getPowerReadingCmd(db, rest, out);
    case 'setWatchdog': case 'setPowerLimit': {
      const platform = await import('./platform.js');
      const [check, run] = cmd === 'setWatchdog' ? [platform.watchdogSettings, platform.setWatchdogCmd] : [platform.limitSetting, platform.setPowerLimitCmd];
      // Their own settings are checked before the confirmation question.
      check(settings);
      await guard(db, cmd, (await import('./serverlist.js')).resolveServerList(db, positional).length, io, yes);
      return run(db, rest, out);
    }
    case 'getFirmwareList': return (await import('./inventory.js')).getFirmwareListCmd(db, rest, out);
    case 'updateFirmware': return (await import('./inventory.js')).updateFirmwareCmd(db, rest, out);
    case 'getBiosSettings': return (await import('./inventory.js')).getBiosSettingsCmd(db, rest, out);
    case 'setBiosSettings': return (await import('./inventory.js')).setBiosSettingsCmd(db, rest, out);
    case 'getNicList': return (await import('./inventory.js')).getNicListCmd(db, rest, out);
    case 'getStorageList': return (await import('./inventory.js')).getStorageListCmd(db, rest, out);
    case 'getAlertList': return (await import('./events.js')).getAlertListCmd(db, rest, out);
    case 'setTrapForward': return (await import('./events.js')).setTrapForwardCmd(db, rest);
    case 'getTrapForward': return (await import('./events.js')).getTrapForwardCmd(db, rest, out);
    case 'createUser': {
      const users = await import('./users.js');
      let pw = rest[1]!;
      // Validate the name before reading stdin, so a bad call never waits for input.
      users.checkUserName(rest[0]!);
      if (pw === '-') pw = stdinLine(io);
      else io.err(`dscli: ${localize('warning: a password on the command line is visible to other users (ps, shell history); give - to read it from standard input')}\n`);
      users.createUser(db, rest[0]!, pw);
      return RC.OK;
    }
    case 'deleteUser':
      (await import('./users.js')).deleteUser(db, rest[0]!);
      return RC.OK;
    case 'getUserList':
      for (const l of (await import('./users.js')).userList(db)) out.out(out.json ? JSON.stringify({ name: l.split(' ')[0], level: l.split(' ')[1] }) + '\n' : l + '\n');
      return RC.OK;
  }
  throw formatError(`unknown command ${cmd}`);
}
