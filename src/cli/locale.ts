// Messages are English unless the POSIX locale asks for Japanese (LC_ALL, then
// LC_MESSAGES, then LANG — the usual precedence).
let japanese: boolean | undefined;

export function isJapanese(env: NodeJS.ProcessEnv = process.env): boolean {
  if (japanese === undefined) {
    const tag = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
    japanese = tag.toLowerCase().startsWith('ja');
  }
  return japanese;
}

/** Picks the message in the caller's language. */
export function L(en: string, ja: string): string {
  return isJapanese() ? ja : en;
}
