// The pvmutl argument parser: Windows-style switches matched case-insensitively,
// dash options for asjob, software lists in any quoting the original accepted.
// It only looks at argv; every malformed command is a PvmError with exit code 1.
import { L } from '../cli/locale.js';
import { Exit, PvmError } from './exit-codes.js';
import { didYouMean } from '../util/nearest.js';
import { vmNameProblem } from '../domain/names.js';

export type Command =
  | { cmd: 'help'; topic?: string }
  | { cmd: 'version' }
  | { cmd: 'move'; dest: string; src: string; host?: string; count?: number }
  | { cmd: 'replace'; group: string; host: string }
  | { cmd: 'add'; group: string; machine?: string; count?: number }
  | { cmd: 'addspecname'; group: string; netInfo: string; machine?: string }
  | { cmd: 'delete'; group: string; host?: string; count?: number }
  | { cmd: 'deploygrp'; group: string; full: boolean; software?: string[]; sequential: boolean }
  | { cmd: 'deploysrv'; group: string; host?: string; full: boolean; registered?: string[]; software?: string[] }
  | { cmd: 'deploypsv'; machine: string; software: string[] }
  | { cmd: 'maintenance'; on: boolean; group: string; host?: string }
  | { cmd: 'list'; what: 'group' }
  | { cmd: 'list'; what: 'server' | 'soft'; group: string }
  | { cmd: 'shutdown' | 'reboot' | 'poweron'; group: string; hosts: string[] }
  | { cmd: 'vmadd'; group: string; vm: string; vmServer?: string; datastore?: string; netInfo?: string; existing: boolean }
  | { cmd: 'vmdelete'; group: string; host?: string; removeOnly: boolean }
  | { cmd: 'vmmigrate' | 'vmmigrateandmove'; group: string; host: string; vmServer: string }
  | { cmd: 'asjob'; detail: 'main' | 'all' | 'phase' | 'params' }
  | { cmd: 'ascancel'; jobId?: number }
  | { cmd: 'changepassword'; user: string; oldPassword: string; newPassword: string }
  | { cmd: 'policy'; action: 'show'; group?: string }
  | { cmd: 'policy'; action: 'set'; group: string; policy?: string; yes: boolean };

export type CommandName = Command['cmd'];

type SwitchKind = 'flag' | 'value' | 'list';

interface Syntax {
  /** Switches with their kind; names are upper-case here and matched case-insensitively. */
  switches: Record<string, SwitchKind>;
  /** Switches whose leading character is '-' instead of '/'. */
  dash?: boolean;
  min: number;
  max: number;
  /** Groups of switches of which at most one may be given. */
  exclusive?: string[][];
}

const SYNTAX: Record<Exclude<CommandName, 'help' | 'version'>, Syntax> = {
  move: { switches: { C: 'value' }, min: 2, max: 3 },
  replace: { switches: {}, min: 2, max: 2 },
  add: { switches: { C: 'value' }, min: 1, max: 2 },
  addspecname: { switches: {}, min: 2, max: 3 },
  delete: { switches: { C: 'value' }, min: 1, max: 2 },
  deploygrp: { switches: { F: 'flag', P: 'list', SEQ: 'flag' }, min: 1, max: 1, exclusive: [['F', 'P']] },
  deploysrv: { switches: { A: 'list', F: 'flag', P: 'list' }, min: 1, max: 2, exclusive: [['A', 'F', 'P']] },
  deploypsv: { switches: {}, min: 2, max: Infinity },
  maintenance: { switches: {}, min: 2, max: 3 },
  list: { switches: {}, min: 1, max: 2 },
  shutdown: { switches: {}, min: 1, max: Infinity },
  reboot: { switches: {}, min: 1, max: Infinity },
  poweron: { switches: {}, min: 1, max: Infinity },
  vmadd: { switches: { VMS: 'value', DATASTORE: 'value', VMFS: 'value', NETINFO: 'value', A: 'flag' }, min: 2, max: 2 },
  vmdelete: { switches: { D: 'flag' }, min: 1, max: 2 },
  vmmigrate: { switches: {}, min: 3, max: 3 },
  vmmigrateandmove: { switches: {}, min: 3, max: 3 },
  asjob: { switches: { A: 'flag', S: 'flag', D: 'flag' }, dash: true, min: 0, max: 0, exclusive: [['A', 'S', 'D']] },
  ascancel: { switches: {}, min: 0, max: 1 },
  changepassword: { switches: {}, min: 3, max: 3 },
  policy: { switches: { Y: 'flag' }, min: 1, max: 3 },
};

export const SUBCOMMANDS = Object.keys(SYNTAX) as Array<Exclude<CommandName, 'help' | 'version'>>;

/** The switches a subcommand takes, as typed (/c, -a): for completion. */
export function switchesOf(cmd: string): string[] {
  const s = Object.hasOwn(SYNTAX, cmd) ? SYNTAX[cmd as keyof typeof SYNTAX] : undefined;
  return s ? Object.keys(s.switches).map((k) => (s.dash ? '-' : '/') + k.toLowerCase()) : [];
}

function formatError(en: string, ja: string): PvmError {
  return new PvmError(Exit.FORMAT, L(en, ja));
}

interface Tokens {
  positional: string[];
  switches: Map<string, string | string[] | true>;
}

// Quotes the shell did not strip: straight, typographic and Japanese corner brackets.
const QUOTES = /^["'\u201c\u201d\u2018\u2019\u300c\u300d]+|["'\u201c\u201d\u2018\u2019\u300c\u300d]+$/g;

/** `"a","b"`, `a,b`, `“a”, “b”` and `a, b` (split by the shell) all give [a, b]. */
export function parseSoftwareList(words: string[]): string[] {
  const items: string[] = [];
  for (const word of words) {
    const pieces = word.split(',').map((s) => s.trim().replace(QUOTES, '').trim());
    // A comma at either edge of a word joins it to its neighbour ("a," "b");
    // an empty piece inside a word ("a,,b") is a typo.
    pieces.forEach((piece, i) => {
      if (piece.length > 0) items.push(piece);
      else if (i > 0 && i < pieces.length - 1) throw formatError('empty software name in list', 'ソフトウェア名の指定が空です');
    });
  }
  if (items.length === 0) throw formatError('empty software name in list', 'ソフトウェア名の指定が空です');
  return items;
}

function isSwitchToken(tok: string, syntax: Syntax): string | undefined {
  const lead = syntax.dash ? '-' : '/';
  if (!tok.startsWith(lead) || tok.length < 2) return undefined;
  const body = tok.slice(1);
  // `/Category/Group` is a path typed with Linux separators, not a switch.
  if (!syntax.dash && /[\\\u00a5/]/.test(body)) return undefined;
  return body.toUpperCase();
}

function tokenize(cmd: string, args: string[], syntax: Syntax): Tokens {
  const positional: string[] = [];
  const switches = new Map<string, string | string[] | true>();
  for (let i = 0; i < args.length; i++) {
    const tok = args[i]!;
    const name = isSwitchToken(tok, syntax);
    // A Linux-style option (--foo) is a mistake, not a machine or host named "--foo".
    if (name === undefined && !syntax.dash && /^--?[A-Za-z]/.test(tok)) {
      const own = Object.keys(syntax.switches).map((k) => `/${k.toLowerCase()}`);
      const hint = didYouMean(`/${tok.replace(/^-+/, '')}`, own);
      const known = own.length ? own.join(' ') : 'none';
      throw formatError(`${cmd}: unknown option ${tok}${hint}; pvmutl's options start with / (${cmd}: ${known})`, `${cmd}: 不明なオプションです: ${tok}${hint} (pvmutl のオプションは / で始まります。${cmd}: ${known})`);
    }
    if (name === undefined) {
      positional.push(tok);
      continue;
    }
    const kind = syntax.switches[name];
    if (!kind) {
      const lead = syntax.dash ? '-' : '/';
      const hint = didYouMean(name, Object.keys(syntax.switches)).replace(/mean (\S+)\?/, (_m, w: string) => `mean ${lead}${w.toLowerCase()}?`);
      throw formatError(`${cmd}: unknown option ${tok}${hint}`, `${cmd}: 不明なオプションです: ${tok}${hint}`);
    }
    if (switches.has(name)) throw formatError(`${cmd}: option ${tok} given twice`, `${cmd}: オプション ${tok} が重複しています`);
    if (kind === 'flag') {
      switches.set(name, true);
      continue;
    }
    const value = args[i + 1];
    if (value === undefined || isSwitchToken(value, syntax) !== undefined) {
      throw formatError(`${cmd}: option ${tok} needs a value`, `${cmd}: オプション ${tok} に値が必要です`);
    }
    i++;
    if (kind === 'value') {
      switches.set(name, value);
      continue;
    }
    // A list continues while a word ends or the next one starts with a comma:
    // `/p "a", "b"` reaches us as ["a,", "b"].
    const words = [value];
    while (i + 1 < args.length && (words[words.length - 1]!.trimEnd().endsWith(',') || args[i + 1]!.trimStart().startsWith(','))) {
      words.push(args[++i]!);
    }
    switches.set(name, parseSoftwareList(words));
  }
  for (const group of syntax.exclusive ?? []) {
    const given = group.filter((s) => switches.has(s));
    if (given.length > 1) {
      const lead = syntax.dash ? '-' : '/';
      const names = given.map((s) => lead + s.toLowerCase()).join(' and ');
      throw formatError(`${cmd}: ${names} cannot be given together`, `${cmd}: ${names} は同時に指定できません`);
    }
  }
  return { positional, switches };
}

function parseCount(cmd: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw formatError(`${cmd}: /c needs an integer of 1 or more, not '${raw}'`, `${cmd}: /c には 1 以上の整数を指定してください: '${raw}'`);
  }
  return Number(raw);
}

function requireNotBoth(cmd: string, a: unknown, b: unknown, aName: string, bName: string): void {
  if (a !== undefined && b !== undefined) {
    throw formatError(`${cmd}: ${aName} and ${bName} cannot be given together`, `${cmd}: ${aName} と ${bName} は同時に指定できません`);
  }
}

function nonEmpty(cmd: string, what: string, v: string): string {
  if (v.trim().length === 0) throw formatError(`${cmd}: ${what} is empty`, `${cmd}: ${what} が空です`);
  return v;
}

const HELP_WORDS = new Set(['help', '-h', '--help', '/?', '-?', '/h', '/help']);

function helpTopic(word: string): Command {
  const topic = word.toLowerCase();
  if (!Object.hasOwn(SYNTAX, topic)) {
    throw formatError(`no help for '${word}'${didYouMean(word, SUBCOMMANDS)}; run 'pvmutl help'`, `'${word}' のヘルプはありません${didYouMean(word, SUBCOMMANDS)} ('pvmutl help' を参照)`);
  }
  return { cmd: 'help', topic };
}

export function isHelpRequest(args: string[]): boolean {
  return args.length === 1 && HELP_WORDS.has(args[0]!.toLowerCase());
}

const VERSION_WORDS = new Set(['--version', '-v', 'version']);

export function parse(args: string[]): Command {
  if (args.length === 0 || isHelpRequest(args)) return { cmd: 'help' };
  if (args.length === 1 && VERSION_WORDS.has(args[0]!.toLowerCase())) return { cmd: 'version' };
  // `pvmutl help add`, `pvmutl add --help`: the help of one subcommand.
  if (HELP_WORDS.has(args[0]!.toLowerCase()) && args.length === 2) return helpTopic(args[1]!);
  if (args.length > 1 && args.slice(1).some((a) => ['--help', '-h', '/?'].includes(a.toLowerCase()))) return helpTopic(args[0]!);
  const cmd = args[0]!.toLowerCase() as Exclude<CommandName, 'help' | 'version'>;
  const syntax = SYNTAX[cmd];
  if (!syntax || !Object.hasOwn(SYNTAX, cmd)) {
    const hint = didYouMean(args[0]!, SUBCOMMANDS);
    throw formatError(`unknown subcommand '${args[0]}'${hint}; run 'pvmutl help'`, `不明なサブコマンドです: '${args[0]}'${hint} ('pvmutl help' を参照)`);
  }
  const { positional: p, switches: s } = tokenize(cmd, args.slice(1), syntax);
  if (p.length < syntax.min) {
    throw formatError(`${cmd}: missing argument (see 'pvmutl help')`, `${cmd}: 引数が不足しています ('pvmutl help' を参照)`);
  }
  if (p.length > syntax.max) {
    throw formatError(`${cmd}: unexpected argument '${p[syntax.max]}'`, `${cmd}: 余分な引数があります: '${p[syntax.max]}'`);
  }
  for (const [i, v] of p.entries()) nonEmpty(cmd, `argument ${i + 1}`, v);
  const str = (k: string): string | undefined => s.get(k) as string | undefined;
  const list = (k: string): string[] | undefined => s.get(k) as string[] | undefined;

  switch (cmd) {
    case 'move': {
      const count = parseCount(cmd, str('C'));
      requireNotBoth(cmd, p[2], count, 'HostNameSrc', '/c');
      return { cmd, dest: p[0]!, src: p[1]!, host: p[2], count: p[2] === undefined ? (count ?? 1) : undefined };
    }
    case 'replace':
      return { cmd, group: p[0]!, host: p[1]! };
    case 'add': {
      const count = parseCount(cmd, str('C'));
      requireNotBoth(cmd, p[1], count, 'MachineName', '/c');
      return { cmd, group: p[0]!, machine: p[1], count: p[1] === undefined ? (count ?? 1) : undefined };
    }
    case 'addspecname':
      return { cmd, group: p[0]!, netInfo: p[1]!, machine: p[2] };
    case 'delete': {
      const count = parseCount(cmd, str('C'));
      requireNotBoth(cmd, p[1], count, 'HostName', '/c');
      return { cmd, group: p[0]!, host: p[1], count: p[1] === undefined ? (count ?? 1) : undefined };
    }
    case 'deploygrp':
      return { cmd, group: p[0]!, full: s.has('F'), software: list('P'), sequential: s.has('SEQ') };
    case 'deploysrv':
      return { cmd, group: p[0]!, host: p[1], full: s.has('F'), registered: list('A'), software: list('P') };
    case 'deploypsv':
      return { cmd, machine: p[0]!, software: parseSoftwareList(p.slice(1)) };
    case 'maintenance': {
      const mode = p[0]!.toLowerCase();
      if (mode !== 'on' && mode !== 'off') {
        throw formatError(`maintenance: the first argument must be On or Off, not '${p[0]}'`, `maintenance: 第1引数には On または Off を指定してください: '${p[0]}'`);
      }
      return { cmd, on: mode === 'on', group: p[1]!, host: p[2] };
    }
    case 'list': {
      const what = p[0]!.toLowerCase();
      if (what === 'group') {
        if (p.length !== 1) throw formatError(`list group: unexpected argument '${p[1]}'`, `list group: 余分な引数があります: '${p[1]}'`);
        return { cmd, what };
      }
      if (what === 'server' || what === 'soft') {
        if (p.length !== 2) throw formatError(`list ${what}: missing GroupName`, `list ${what}: GroupName を指定してください`);
        return { cmd, what, group: p[1]! };
      }
      throw formatError(`list: expected group, server or soft, not '${p[0]}'`, `list: group、server、soft のいずれかを指定してください: '${p[0]}'`);
    }
    case 'shutdown':
    case 'reboot':
    case 'poweron':
      return { cmd, group: p[0]!, hosts: p.slice(1) };
    case 'vmadd': {
      const datastore = str('DATASTORE') ?? str('VMFS');
      if (datastore !== undefined && str('VMS') === undefined) {
        throw formatError('vmadd: /DATASTORE (or /VMFS) needs /VMS', 'vmadd: /DATASTORE (/VMFS) には /VMS の指定が必要です');
      }
      // A VM kanri creates takes a name the hypervisors accept (exit 15, seed 004 L4192–4193);
      // /A registers a VM made elsewhere under the name it already has.
      const bad = s.has('A') ? undefined : vmNameProblem(p[1]!);
      if (bad) throw new PvmError(Exit.CREDENTIALS, L(`vmadd: the VM name ${bad}`, `vmadd: 仮想マシン名は 80 文字以下の英数字、"-"、"_" で指定してください`));
      return { cmd, group: p[0]!, vm: p[1]!, vmServer: str('VMS'), datastore, netInfo: str('NETINFO'), existing: s.has('A') };
    }
    case 'vmdelete':
      return { cmd, group: p[0]!, host: p[1], removeOnly: s.has('D') };
    case 'vmmigrate':
    case 'vmmigrateandmove':
      return { cmd, group: p[0]!, host: p[1]!, vmServer: p[2]! };
    case 'asjob':
      return { cmd, detail: s.has('A') ? 'all' : s.has('S') ? 'phase' : s.has('D') ? 'params' : 'main' };
    case 'ascancel': {
      if (p[0] === undefined) return { cmd };
      if (!/^\d{1,9}$/.test(p[0])) throw formatError(`ascancel: JobID must be a number, not '${p[0]}'`, `ascancel: JobID は数値で指定してください: '${p[0]}'`);
      return { cmd, jobId: Number(p[0]) };
    }
    case 'changepassword':
      return { cmd, user: p[0]!, oldPassword: p[1]!, newPassword: p[2]! };
    case 'policy': {
      const action = p[0]!.toLowerCase();
      if (action === 'show') {
        if (s.has('Y')) throw formatError('policy show: unknown option /y', 'policy show: 不明なオプションです: /y');
        if (p.length > 2) throw formatError(`policy show: unexpected argument '${p[2]}'`, `policy show: 余分な引数があります: '${p[2]}'`);
        return { cmd, action, group: p[1] };
      }
      if (action === 'set') {
        if (p.length < 2) throw formatError('policy set: missing GroupName', 'policy set: GroupName を指定してください');
        return { cmd, action, group: p[1]!, policy: p[2], yes: s.has('Y') };
      }
      throw formatError(`policy: expected show or set, not '${p[0]}'`, `policy: show または set を指定してください: '${p[0]}'`);
    }
  }
}
