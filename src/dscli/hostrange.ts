// Host ranges in the manner of pdsh/xCAT/FreeIPMI: `web[01-24]`, `web[01-03,07]`,
// `rack[1-2]n[01-16]` (several bracket groups, left one outermost), comma lists outside
// brackets. Zero padding follows the range start (`[001-200]` → 001 … 200).
import { formatError } from './errors.js';

export const MAX_EXPANSION = 10_000;

/** Splits a word on commas that are not inside brackets. */
export function splitTopLevel(word: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of word) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (depth < 0) throw formatError(`unbalanced ']' in ${word}`);
    if (ch === ',' && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw formatError(`unbalanced '[' in ${word}`);
  if (cur) out.push(cur);
  return out;
}

/** Numbers in a range have at most this many digits, so that they stay exact integers. */
const MAX_DIGITS = 9;

interface Span { from: number; to: number; width: number }

/** The parts of a bracket body, checked, and how many names they make, before anything is expanded. */
function spans(body: string, word: string): { parts: Span[]; size: number } {
  const parts: Span[] = [];
  let size = 0;
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw formatError(`bad host range [${body.length > 40 ? body.slice(0, 40) + '…' : body}] in ${shorten(word)}: use [01-24] or [1,3,5-7]`);
    const a = m[1]!, b = m[2] ?? m[1]!;
    if (a.length > MAX_DIGITS || b.length > MAX_DIGITS) throw formatError(`host range ${shorten(word)} is too large (numbers have at most ${MAX_DIGITS} digits)`);
    const from = Number(a), to = Number(b);
    if (to < from) throw formatError(`bad host range ${a}-${b} in ${shorten(word)}: the end is below the start`);
    size += to - from + 1;
    if (size > MAX_EXPANSION) throw formatError(`host range ${shorten(word)} is too large (more than ${MAX_EXPANSION} names)`);
    parts.push({ from, to, width: a.length });
  }
  return { parts, size };
}

function shorten(word: string): string {
  return word.length > 80 ? `${word.slice(0, 80)}…` : word;
}

/** How many names a word without top-level commas expands to; throws "too large" past the limit. */
export function expansionSize(word: string): number {
  let total = 1;
  let rest = word;
  for (;;) {
    const m = /^([^[\]]*)\[([^[\]]*)\](.*)$/.exec(rest);
    if (!m) {
      if (/[[\]]/.test(rest)) throw formatError(`bad host range ${shorten(word)}`);
      return total;
    }
    total *= spans(m[2]!, word).size;
    if (total > MAX_EXPANSION) throw formatError(`host range ${shorten(word)} is too large (more than ${MAX_EXPANSION} names)`);
    rest = m[3]!;
  }
}

/** Expands one target word without top-level commas (its size is checked first). */
export function expandRange(word: string): string[] {
  expansionSize(word);
  return expand(word, word);
}

function expand(rest: string, word: string): string[] {
  const m = /^([^[\]]*)\[([^[\]]*)\](.*)$/.exec(rest);
  if (!m) return [rest];
  const [, prefix, body, tail] = m;
  const tails = expand(tail!, word);
  const out: string[] = [];
  for (const { from, to, width } of spans(body!, word).parts) {
    for (let i = from; i <= to; i++) {
      const v = String(i).padStart(width, '0');
      for (const t of tails) out.push(`${prefix}${v}${t}`);
    }
  }
  return out;
}

export function isRange(word: string): boolean {
  return word.includes('[');
}
