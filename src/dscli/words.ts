// The two kinds of word on a dscli command line: key=value settings, and everything else
// (server names, ServerLists, counts).
import { formatError } from './errors.js';

export function isSetting(w: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);
}

/** `key=value` words; values may have been quoted by the shell. Repeated keys are an error. */
export function parseSettings(words: string[], allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw formatError(`expected key=value, got '${redactWord(w)}'`);
    const k = w.slice(0, eq).toLowerCase();
    if (!allowed.includes(k)) throw formatError(`unknown setting '${k}' (allowed: ${allowed.join(', ')})`);
    if (out.has(k)) throw formatError(`setting '${k}' given twice`);
    out.set(k, w.slice(eq + 1));
  }
  return out;
}

/** A word as it may be printed: a password value is never echoed. */
export function redactWord(w: string): string {
  return /^password=/i.test(w) && !/^password=-$/i.test(w) ? 'password=***' : w;
}
