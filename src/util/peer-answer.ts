// Bounds on what a peer answers (a Redfish service, HAProxy, virsh, ovsdb-server): a size per
// answer, a JSON nesting depth, and a total of bytes buffered from peers by the whole process,
// so that a controller that sends 10 MB of nested brackets, or four that send at once, cost a
// bounded amount of memory (a parsed deep document costs tens of times its size).
export const MAX_JSON_DEPTH = 64;

export class PeerAnswerTooLarge extends Error {}

/** The deepest nesting of a JSON text, counted without parsing it (strings skipped); stops past limit. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** JSON.parse of a peer's answer, refused when it nests deeper than maxDepth. */
export function parsePeerJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new PeerAnswerTooLarge(`JSON nested deeper than ${maxDepth} levels`);
  return JSON.parse(text);
}

/**
 * Bytes buffered from peers by this process, at most `limit` at once: a reader takes what it
 * buffers and gives it back when it is done; one that cannot take fails its answer.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inUse(): number {
    return this.used;
  }
}

/** The process's budget for peer answers being read (256 MiB). */
export const PEER_BYTES = new ByteBudget(256 << 20);
