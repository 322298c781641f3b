// The user-facing messages of a set of source files: the message argument of the calls
// that raise or print them, with every ${…} replaced by a sample word, so that a test can
// check each one has a translation. A small scanner rather than a parser: the messages
// are string and template literals, and that is all it needs to read.
import { readFileSync } from 'node:fs';

export interface SourceMessage { at: string; text: string }

/** Calls whose argument at this index is a message shown to the user. */
export const MESSAGE_CALLS: Record<string, number> = {
  formatError: 0, notFound: 0, exists: 0, unsupported: 0, UsageError: 0, DscliError: 1, StoreError: 0, complain: 1, localize: 0, warn: 0,
};

class Scanner {
  constructor(readonly s: string, public i: number) {}
  skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  /** A quoted string starting at i; returns its text. */
  quoted(): string {
    const q = this.s[this.i++]!;
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\') { out += this.escape(); continue; }
      out += this.s[this.i++];
    }
    this.i++;
    return out;
  }
  escape(): string {
    const c = this.s[this.i + 1]!;
    this.i += 2;
    return c === 'n' ? '\n' : c === 't' ? '\t' : c;
  }
  /** A template literal starting at i; each ${…} becomes `word`. */
  template(word: string): string {
    this.i++;
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== '`') {
      if (this.s[this.i] === '\\') { out += this.escape(); continue; }
      if (this.s[this.i] === '$' && this.s[this.i + 1] === '{') {
        this.i += 2;
        this.expression('}');
        this.i++;
        out += word;
        continue;
      }
      out += this.s[this.i++];
    }
    this.i++;
    return out;
  }
  /** Skips an expression up to (not past) a closing character at depth 0. */
  expression(...ends: string[]): void {
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (depth === 0 && ends.includes(c)) return;
      if (c === "'" || c === '"') { this.quoted(); continue; }
      if (c === '`') { this.template('X'); continue; }
      if ('([{'.includes(c)) depth++;
      if (')]}'.includes(c)) depth--;
      this.i++;
    }
  }
  /** A message argument: literals joined by +, other operands as `word`; undefined when no literal. */
  message(word: string): string | undefined {
    let out = '';
    let literal = false;
    for (;;) {
      this.skipSpace();
      const c = this.s[this.i];
      if (c === "'" || c === '"') { out += this.quoted(); literal = true; }
      else if (c === '`') { out += this.template(word); literal = true; }
      else { this.expression(',', ')', '+'); out += word; }
      this.skipSpace();
      if (this.s[this.i] !== '+') break;
      this.i++;
    }
    this.skipSpace();
    return literal && (this.s[this.i] === ')' || this.s[this.i] === ',') ? out : undefined;
  }
}

export function sourceMessages(files: string[], word = 'X'): SourceMessage[] {
  const out: SourceMessage[] = [];
  const call = new RegExp(`(?<![\\w.$])(?:new\\s+)?(${Object.keys(MESSAGE_CALLS).join('|')})\\(`, 'g');
  for (const file of files) {
    const s = readFileSync(file, 'utf8');
    for (const m of s.matchAll(call)) {
      const sc = new Scanner(s, m.index + m[0].length);
      for (let k = 0; k < MESSAGE_CALLS[m[1]!]!; k++) {
        sc.expression(',', ')');
        sc.i++;
      }
      const text = sc.message(word);
      if (text !== undefined) out.push({ at: `${file}:${s.slice(0, m.index).split('\n').length}`, text });
    }
  }
  return out;
}
