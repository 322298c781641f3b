// Messages are English unless the POSIX locale asks for Japanese (LC_ALL, then
// LC_MESSAGES, then LANG — the usual precedence).
let env: NodeJS.ProcessEnv = process.env;

/** Selects the environment whose locale variables decide the language. */
export function useLocaleOf(e: NodeJS.ProcessEnv): void {
  env = e;
}

export function isJapanese(): boolean {
  const tag = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  // ja, ja_JP, ja_JP.UTF-8, ja.UTF-8 — not jav_ID (Javanese).
  return /^ja(?:$|[_.@])/i.test(tag);
}

/**
 * Picks the message in the caller's language. util/nearest.ts's English hint inside the
 * Japanese form becomes the Japanese hint, as cli/messages.ts writes it for dscli and kanri,
 * so that pvmutl's "did you mean" is Japanese under ja as well (one rule for all three).
 */
export function L(en: string, ja: string): string {
  return isJapanese() ? ja.replace(/ \(did you mean ([^)]*)\?\)/, '（もしかして $1?）') : en;
}
