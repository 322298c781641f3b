// Messages on standard error in the caller's language. The sources say them in English;
// under a Japanese locale this one table gives the Japanese form. An English message
// with no entry stays English (a test walks the dscli and kanri sources so that none is
// forgotten). Standard output is never translated: scripts parse it.
import { isJapanese } from './locale.js';
import { japaneseMessages } from './messages-ja.js';

interface Rule { re: RegExp; ja: string }

let rules: Rule[] | undefined;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** 'server not found: {1}' → /^server not found: (.+?)$/ ; {n} matches any non-empty text. */
function compile(): Rule[] {
  return japaneseMessages().map(([en, ja]) => ({
    re: new RegExp('^' + en.split(/\{\d\}/).map(escape).join('(.+?)') + '$', 's'),
    ja,
  }));
}

// util/nearest.ts's hint, wherever a message puts it: translated once, at the end.
const SUGGESTION = / \(did you mean ([^)]*)\?\)/;

/** The Japanese form of an English message, or undefined when the table has none. */
export function japaneseOf(message: string): string | undefined {
  rules ??= compile();
  const hint = SUGGESTION.exec(message);
  const core = hint ? message.slice(0, hint.index) + message.slice(hint.index + hint[0].length) : message;
  for (const { re, ja } of rules) {
    const m = re.exec(core);
    if (!m) continue;
    const out = ja.replace(/\{(\d)\}/g, (_, n: string) => m[Number(n)] ?? '');
    return hint ? `${out}（もしかして ${hint[1]}?）` : out;
  }
  return undefined;
}

/** The message in the caller's language. */
export function localize(message: string): string {
  return isJapanese() ? japaneseOf(message) ?? message : message;
}

/** One line on standard error: `who: message`, in the caller's language. */
export function complain(who: string, message: string): void {
  process.stderr.write(`${who}: ${localize(message)}\n`);
}
