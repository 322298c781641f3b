// SNMPv3 timeliness for the trap receiver (RFC 3414 §2.2.3 and §3.2 step 7, as a receiver of
// notifications from authoritative engines): per sending engine the boots and time it last
// sent are kept (in monitor_snmp_engines, so a restart does not reopen the window); a trap
// whose boots went back, or whose time is more than 150 s behind what that engine's clock
// must read now, is refused, and so is a datagram received already (a replay within the
// window). Only authenticated traps get here (net-snmp checked the user's digest), so a sender
// without the key cannot move an engine's clock.
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import { withBusyTimeout } from '../store/busy.js';

const WINDOW_S = 150;
const MAX_BOOTS = 2147483647;
const MAX_SEEN = 100_000;

/** Reads one BER TLV at `at`: tag, the value's start and end. */
function tlv(b: Buffer, at: number): { tag: number; start: number; end: number } {
  if (at + 2 > b.length) throw new Error('truncated');
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) throw new Error('bad length');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + b[start + k]!;
    start += n;
  }
  if (start + len > b.length) throw new Error('truncated');
  return { tag, start, end: start + len };
}

function int(b: Buffer, t: { tag: number; start: number; end: number }): number {
  if (t.tag !== 0x02 || t.end - t.start > 5 || t.end === t.start) throw new Error('not an INTEGER');
  let v = b[t.start]! & 0x80 ? -1 : 0;
  for (let k = t.start; k < t.end; k++) v = v * 256 + b[k]!;
  return v;
}

/**
 * The authoritative engine's ID, boots and time of an SNMPv3 message (its USM security
 * parameters) and the message's msgID: together they name one message of that engine.
 */
export function usmTimeliness(raw: Buffer): { engineId: string; boots: number; time: number; msgId: number } {
  const msg = tlv(raw, 0);
  if (msg.tag !== 0x30) throw new Error('not a SEQUENCE');
  const version = tlv(raw, msg.start);
  if (int(raw, version) !== 3) throw new Error('not SNMPv3');
  const global = tlv(raw, version.end);
  if (global.tag !== 0x30) throw new Error('bad header data');
  const msgId = int(raw, tlv(raw, global.start));
  const sec = tlv(raw, global.end);
  if (sec.tag !== 0x04) throw new Error('no security parameters');
  const usm = tlv(raw, sec.start);
  if (usm.tag !== 0x30) throw new Error('bad security parameters');
  const id = tlv(raw, usm.start);
  if (id.tag !== 0x04) throw new Error('bad engine ID');
  const boots = tlv(raw, id.end);
  const time = tlv(raw, boots.end);
  return { engineId: raw.subarray(id.start, id.end).toString('hex'), boots: int(raw, boots), time: int(raw, time), msgId };
}

interface Known { boots: number; time: number; at: number }

export class ReplayGuard {
  private readonly engines = new Map<string, Known | null>();
  private readonly seen = new Map<string, number>();

  constructor(private readonly db: Db) {}

  private known(engineId: string): Known | null {
    if (!this.engines.has(engineId)) {
      const r = prepared(this.db, 'SELECT boots, time, seen_at AS seenAt FROM monitor_snmp_engines WHERE engine_id = ?').get(engineId) as { boots: number; time: number; seenAt: string } | undefined;
      this.engines.set(engineId, r ? { boots: r.boots, time: r.time, at: Date.parse(r.seenAt) } : null);
    }
    return this.engines.get(engineId) ?? null;
  }

  /** Why an authenticated v3 trap is refused (outside the time window, seen already), or undefined when it is taken. */
  check(raw: Buffer, now = Date.now()): string | undefined {
    let t: { engineId: string; boots: number; time: number };
    try {
      t = usmTimeliness(raw);
    } catch (e) {
      return `no engine boots and time: ${(e as Error).message}`;
    }
    if (t.boots < 0 || t.boots >= MAX_BOOTS || t.time < 0) return `engine boots ${t.boots} time ${t.time} out of range`;
    const digest = createHash('sha256').update(raw).digest('base64');
    const until = this.seen.get(digest);
    if (until !== undefined && until > now) return 'the same datagram was received already (a replay)';
    const k = this.known(t.engineId);
    if (k) {
      const expected = k.time + Math.floor((now - k.at) / 1000);
      if (t.boots < k.boots) return `engine ${t.engineId} boots ${t.boots} is behind ${k.boots} (a replay)`;
      if (t.boots === k.boots && t.time < expected - WINDOW_S) return `engine ${t.engineId} time ${t.time} is more than ${WINDOW_S} s behind ${expected} (a replay)`;
    }
    if (this.seen.size >= MAX_SEEN) {
      for (const [d, u] of this.seen) if (u <= now || this.seen.size >= MAX_SEEN) this.seen.delete(d);
    }
    this.seen.set(digest, now + 2 * WINDOW_S * 1000);
    const expected = k ? k.time + Math.floor((now - k.at) / 1000) : -1;
    if (!k || t.boots > k.boots || t.time > expected) {
      const next = { boots: t.boots, time: t.time, at: now };
      this.engines.set(t.engineId, next);
      try {
        withBusyTimeout(this.db, 20, () => prepared(this.db,
          `INSERT INTO monitor_snmp_engines (engine_id, boots, time, seen_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (engine_id) DO UPDATE SET boots = excluded.boots, time = excluded.time, seen_at = excluded.seen_at`,
        ).run(t.engineId, t.boots, t.time, new Date(now).toISOString()));
      } catch {
        // The store is busy: the clock is kept in memory and written with the next trap of that engine.
      }
    }
    return undefined;
  }
}
