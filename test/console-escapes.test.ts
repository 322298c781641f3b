// The console's escapes, as ssh has them: only at the start of a line (or of the input),
// ~. leaves, ~B breaks, ~~ is one tilde, ~? lists them; anything else after ~ goes through.
import { describe, expect, it } from 'vitest';
import { EscapeReader } from '../src/dscli/console.js';

function run(...chunks: string[]): string[] {
  const seen: string[] = [];
  let left = false;
  const r = new EscapeReader({
    data: (b) => { if (!left) seen.push(`data:${b.toString('latin1')}`); },
    leave: () => { left = true; seen.push('leave'); },
    brk: () => seen.push('break'),
    help: () => seen.push('help'),
  });
  for (const c of chunks) if (!left) r.feed(Buffer.from(c, 'latin1'));
  return seen;
}

describe('console escapes', () => {
  it('at the start of the input and after a newline or carriage return only', () => {
    expect(run('~.')).toEqual(['leave']);
    expect(run('ls\r~.')).toEqual(['data:ls\r', 'leave']);
    expect(run('ls\n~Bls\n')).toEqual(['data:ls\n', 'break', 'data:ls\n']);
    expect(run('a~.b')).toEqual(['data:a~.b']);
  });
  it('~~ sends one tilde, ~? lists the escapes, ~x sends both characters', () => {
    expect(run('~~.')).toEqual(['data:~.']);
    expect(run('~?')).toEqual(['help']);
    expect(run('~x')).toEqual(['data:~x']);
  });
  it('an escape split across reads still counts; nothing after ~. is sent', () => {
    expect(run('echo\n~', '.rm -rf /\n')).toEqual(['data:echo\n', 'leave']);
    expect(run('~', 'B')).toEqual(['break']);
  });
});
