// What a listener allows one peer: a bounded number of connections per source address, an
// idle deadline on each, and log lines about it that are throttled and say who. A peer that
// opens hundreds of idle connections (or fails hundreds of TLS handshakes) takes its own
// share and nobody else's, and costs one log line per source per interval.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

export interface PeerGateOptions {
  /** Connections one source address may hold at once (default 16). */
  perSource?: number;
  /** A connection that sends nothing for this long is closed (default 15 s). */
  idleMs?: number;
  /** One log line per source and kind in this interval (default 10 s). */
  logEveryMs?: number;
}

const plain = (a: string | undefined): string => (a ?? '?').replace(/^::ffff:/, '');
/** Peer-supplied text as one printable line: control bytes (ESC, newlines) never reach a log. */
export const printable = (s: string, n = 200): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?').slice(0, n);

/** A log line as one line of text: what a peer put in it (ESC sequences, newlines, other control bytes) shown escaped. */
export const printableLine = (s: string): string => s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

/** Peer-supplied text of several lines (a script's output): line breaks and tabs kept, every other control byte shown escaped. */
export const printableText = (s: string): string => s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => (c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));

export class PeerGate {
  private readonly open = new Map<string, number>();
  private readonly quiet = new Map<string, { until: number; suppressed: number }>();
  /** Connections refused because their source had too many. */
  refused = 0;

  constructor(private readonly name: string, private readonly log: (line: string) => void, private readonly o: PeerGateOptions = {}) {}

  /** Logs a line about a peer at most once per interval per (source, kind), with how many were held back. */
  peerLog(source: string, kind: string, line: string): void {
    const key = `${source}\0${kind}`;
    const now = Date.now();
    const q = this.quiet.get(key);
    if (q && q.until > now) { q.suppressed++; return; }
    if (this.quiet.size > 10_000) this.quiet.clear();
    this.quiet.set(key, { until: now + (this.o.logEveryMs ?? 10_000), suppressed: 0 });
    this.log(`${this.name}: ${source}: ${printable(line)}${q?.suppressed ? ` (${q.suppressed} more like it held back)` : ''}`);
  }

  /** Counts, limits and times out the server's connections (a TLS server: before its handshake). */
  attach(server: Server): void {
    const limit = this.o.perSource ?? 16;
    const idle = this.o.idleMs ?? 15_000;
    server.on('connection', (s: Socket) => {
      const from = plain(s.remoteAddress);
      const n = (this.open.get(from) ?? 0) + 1;
      if (n > limit) {
        this.refused++;
        this.peerLog(from, 'limit', `more than ${limit} connections at once: refused`);
        s.destroy();
        return;
      }
      this.open.set(from, n);
      s.setTimeout(idle, () => s.destroy());
      s.once('close', () => {
        const left = (this.open.get(from) ?? 1) - 1;
        if (left <= 0) this.open.delete(from);
        else this.open.set(from, left);
      });
    });
  }
}
