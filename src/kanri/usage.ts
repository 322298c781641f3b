// kanri's usage mistakes as one line, in the shape of pvmutl's: what is wrong, the
// closest name when one is close, and where the help is —
//   kanri: machine list: unknown option '--jsn' (did you mean --json?); run 'kanri machine list --help'
import type { Command } from 'commander';
import { localize } from '../cli/messages.js';
import { didYouMean } from '../util/nearest.js';

/** The subcommands args name, in order, before the first word that is not one. */
export function commandPath(program: Command, args: string[]): string[] {
  const path: string[] = [];
  let cmd = program;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (a === '--db' && cmd === program) i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    path.push(sub.name());
    cmd = sub;
  }
  return path;
}

/** commander's "error: …\n(Did you mean X?)" as kanri's one line (without the "kanri: "). */
export function usageLine(commanderMessage: string, path: string[]): string {
  const [first = '', ...rest] = commanderMessage.replace(/^error: /, '').split('\n');
  const hint = /\(Did you mean (.+)\?\)/.exec(rest.join(' '));
  const core = first.trim().replace(/\.$/, '') + (hint ? ` (did you mean ${hint[1]}?)` : '');
  const where = path.length ? `${path.join(' ')}: ` : '';
  const help = path.length ? `kanri ${path.join(' ')} --help` : 'kanri help';
  return `${where}${localize(core)}; ${localize(`run '${help}'`)}`;
}

/** `kanri help X Y` as `kanri X Y --help` (commander's help command shows X's help only). */
export function helpAsOption(args: string[]): string[] {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += args[i] === '--db' ? 2 : 1;
  if (args[i] !== 'help' || i + 1 >= args.length) return args;
  return [...args.slice(0, i), ...args.slice(i + 1), '--help'];
}

/** `kanri help X Y`: the reason when X Y is not a command (commander would print the overview and succeed). */
export function helpTopicProblem(program: Command, args: string[]): string | undefined {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) i += args[i] === '--db' ? 2 : 1;
  if (args[i] !== 'help') return undefined;
  let cmd = program;
  for (const word of args.slice(i + 1)) {
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) {
      const names = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
      const topic = [...commandPath(program, args.slice(i + 1)), word].join(' ');
      return `${localize(`no help for '${topic}'${didYouMean(word, names)}`)}; ${localize(`run '${cmd === program ? 'kanri help' : `kanri help ${commandPath(program, args.slice(i + 1)).join(' ')}`}'`)}`;
    }
    cmd = sub;
  }
  return undefined;
}
