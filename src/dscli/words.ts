// The two kinds of word on a dscli command line: key=value settings, and everything else
// (server names, ServerLists, counts).

export function isSetting(w: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);
}
