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

function expandSet(body: string, word: string): string[] {
  const out: string[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw formatError(`bad host range [${body}] in ${word}: use [01-24] or [1,3,5-7]`);
    const a = m[1]!, b = m[2] ?? m[1]!;
    const from = Number(a), to = Number(b);
    if (to < from) throw formatError(`bad host range ${a}-${b} in ${word}: the end is below the start`);
    if (to - from + 1 > MAX_EXPANSION) throw formatError(`host range ${word} is too large (more than ${MAX_EXPANSION} names)`);
    const width = a.length;
    for (let i = from; i <= to; i++) out.push(String(i).padStart(width, '0'));
  }
  return out;
}

/** Expands one target word without top-level commas. */
export function expandRange(word: string): string[] {
  const m = /^([^[\]]*)\[([^[\]]*)\](.*)$/.exec(word);
  if (!m) {
    if (/[[\]]/.test(word)) throw formatError(`bad host range ${word}`);
    return [word];
  }
  const [, prefix, body, rest] = m;
  const tails = expandRange(rest!);
  const out: string[] = [];
  for (const v of expandSet(body!, word)) {
    for (const t of tails) {
      out.push(`${prefix}${v}${t}`);
      if (out.length > MAX_EXPANSION) throw formatError(`host range ${word} is too large (more than ${MAX_EXPANSION} names)`);
    }
  }
  return out;
}

export function isRange(word: string): boolean {
  return word.includes('[');
}
