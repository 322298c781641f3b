// Every kanri command, found by walking `kanri help` from the top, has a help that ends
// with an example and the exit codes it can give, each code described as the one table
// (src/kanri/exit-codes.ts) describes it; mistakes are one line, non-zero.
import { describe, expect, it } from 'vitest';
import { EXIT_TEXT } from '../src/kanri/exit-codes.js';
import { run } from './support/cli.js';

/** The subcommand names a help lists under "Commands:" (without help). */
function subcommands(helpText: string): string[] {
  const at = helpText.indexOf('\nCommands:\n');
  if (at < 0) return [];
  const names: string[] = [];
  for (const line of helpText.slice(at + 11).split('\n')) {
    if (!line.trim()) break;
    const m = /^ {2}(\S+)/.exec(line);
    if (m && m[1] !== 'help') names.push(m[1]!);
  }
  return names;
}

describe('kanri help', () => {
  it('every command has an example and its exit codes, from the one table', () => {
    const leaves: string[] = [];
    const walk = (path: string[]): void => {
      const r = run('kanri', [...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      const subs = subcommands(r.out);
      if (path.length && !subs.length) {
        leaves.push(path.join(' '));
        const name = path.join(' ');
        expect(r.out, name).toMatch(new RegExp(`\\nExample:\\n {2}.*\\bkanri (--db \\S+ )?${path[0]}\\b`));
        const codes = /\nExit codes: (.*)\.\n+$/.exec(r.out);
        expect(codes, name).not.toBeNull();
        const listed = codes![1]!.split('; ').map((c) => /^(\d+) (.*)$/.exec(c)!);
        expect(listed[0]![1], name).toBe('0');
        for (const [, n, text] of listed) expect(EXIT_TEXT[Number(n) as keyof typeof EXIT_TEXT], `${name}: ${n}`).toBe(text);
      }
      for (const s of subs) walk([...path, s]);
    };
    walk([]);
    expect(leaves.length).toBeGreaterThanOrEqual(49);
    expect(leaves).toContain('events');
    expect(leaves).toContain('policy explain');
  }, 300_000);

  it('a mistake is one line naming the closest command or option, exit 1; help on nothing known is 1', () => {
    expect(run('kanri', ['mahcine', 'list'])).toMatchObject({ code: 1, out: '', err: "kanri: unknown command 'mahcine' (did you mean machine?); run 'kanri help'\n" });
    expect(run('kanri', ['machine', 'lst'])).toMatchObject({ code: 1, out: '', err: "kanri: machine: unknown command 'lst' (did you mean list?); run 'kanri machine --help'\n" });
    expect(run('kanri', ['machine', 'list', '--jsn'])).toMatchObject({ code: 1, out: '', err: "kanri: machine list: unknown option '--jsn' (did you mean --json?); run 'kanri machine list --help'\n" });
    expect(run('kanri', ['machine', 'reset'])).toMatchObject({ code: 1, out: '', err: "kanri: machine reset: missing required argument 'name'; run 'kanri machine reset --help'\n" });
    expect(run('kanri', ['help', 'nosuch'])).toMatchObject({ code: 1, out: '', err: "kanri: no help for 'nosuch'; run 'kanri help'\n" });
    expect(run('kanri', ['help', 'evnets'])).toMatchObject({ code: 1, out: '', err: "kanri: no help for 'evnets' (did you mean events?); run 'kanri help'\n" });
    expect(run('kanri', ['help', 'job', 'shwo'])).toMatchObject({ code: 1, out: '', err: "kanri: no help for 'job shwo' (did you mean show?); run 'kanri help job'\n" });
    expect(run('kanri', ['help', 'job', 'show'])).toMatchObject({ code: 0, out: run('kanri', ['job', 'show', '--help']).out });
    expect(run('kanri', ['jbo'], { env: { LANG: 'ja_JP.UTF-8' } }).err).toBe("kanri: 不明なコマンドです: 'jbo'（もしかして job?）; 'kanri help' を参照してください\n");
  }, 120_000);
});
