// Cron expressions as crontab(5) writes them: five fields (minute, hour, day of month,
// month, day of week) of numbers, names (jan…dec, sun…sat), ranges, lists and steps, or
// one of @hourly, @daily, @weekly, @monthly, @yearly. As in cron, a day matches when the
// day of month or the day of week matches if both are restricted. Times are read, to the
// minute, in an IANA time zone (a schedule records its own: schedule-schema.ts V3), or in the
// process's local zone when none is given — never by the process's local Date methods, so
// that every monitor finds the same instants whatever its TZ.
//
// Across a daylight-saving change, as RFC 5545 (3.3.5) reads a local time in a zone (and
// JavaScript's Temporal with disambiguation 'compatible'):
//   - a local time that does not exist (the clocks spring forward over it) runs once, shifted
//     by the gap: 02:30 on a day Europe/Berlin skips 02:00-03:00 runs at 03:30 CEST (it falls
//     on 03:30 itself when that matches too: one run, not two);
//   - a local time that occurs twice (the clocks fall back over it) runs once, at its first
//     occurrence — unless the hour field is '*' (every hour), which, as cron(8)'s wildcard
//     jobs, runs by elapsed time: at both occurrences, so '*/15 * * * *' keeps its pace.

export interface Cron {
  /** The expression as given. */
  text: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  dayRestricted: boolean;
  weekdayRestricted: boolean;
  /** The hour field is '*' (every hour): a repeated local hour runs twice (cron(8)'s wildcard jobs). */
  hourEvery: boolean;
}

export class CronError extends Error {}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MACROS: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *' };

function field(text: string, name: string, min: number, max: number, names: string[] = [], nameBase = 0): Set<number> {
  const out = new Set<number>();
  const value = (s: string): number => {
    const i = names.indexOf(s.toLowerCase());
    if (i >= 0) return i + nameBase;
    if (!/^\d{1,2}$/.test(s)) throw new CronError(`${name}: '${s}' is not a number${names.length ? ' or a name' : ''}`);
    const n = Number(s);
    if (n < min || n > max) throw new CronError(`${name}: ${n} is outside ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) throw new CronError(`${name}: '${part}' is not a value, a range or a step`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new CronError(`${name}: a step must be 1 or more`);
    let lo: number;
    let hi: number;
    if (m[1] === '*') [lo, hi] = [min, max];
    else if (m[1]!.includes('-')) {
      const [a, b] = m[1]!.split('-') as [string, string];
      [lo, hi] = [value(a), value(b)];
      if (lo > hi) throw new CronError(`${name}: the range ${m[1]} runs backwards`);
    } else {
      lo = value(m[1]!);
      hi = m[2] === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(text: string): Cron {
  const t = text.trim();
  const expanded = MACROS[t.toLowerCase()] ?? t;
  const f = expanded.split(/\s+/);
  if (f.length !== 5) throw new CronError(`'${text}' needs five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly`);
  const weekdays = field(f[4]!, 'day of week', 0, 7, DAYS);
  // 7 is Sunday too.
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    text: t,
    minutes: field(f[0]!, 'minute', 0, 59),
    hours: field(f[1]!, 'hour', 0, 23),
    days: field(f[2]!, 'day of month', 1, 31),
    months: field(f[3]!, 'month', 1, 12, MONTHS, 1),
    weekdays,
    dayRestricted: !f[2]!.startsWith('*'),
    weekdayRestricted: !f[4]!.startsWith('*'),
    hourEvery: f[1]!.startsWith('*'),
  };
}

/** A day of the zone's calendar, as a UTC Date at its midnight (for calendar arithmetic only). */
function dayMatches(c: Cron, d: Date): boolean {
  if (!c.months.has(d.getUTCMonth() + 1)) return false;
  const dom = c.days.has(d.getUTCDate());
  const dow = c.weekdays.has(d.getUTCDay());
  if (c.dayRestricted && c.weekdayRestricted) return dom || dow;
  return dom && dow;
}

/** Days searched ahead: an expression that matches nothing in 8 years (31 February) has no next time. */
const HORIZON_DAYS = 8 * 366;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** More than any daylight-saving shift: how far an instant can lie from its wall time read as UTC, beyond the offset. */
const SHIFT_BOUND = 3 * HOUR;

/** A cache key: the local zone is the one TZ names now (Node follows a change of process.env.TZ). */
const zoneKey = (zone: string | undefined): string => zone ?? `local:${process.env.TZ ?? ''}`;

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string | undefined): Intl.DateTimeFormat {
  const key = zoneKey(zone);
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(key, f);
  }
  return f;
}

/** The wall clock of `t` in the zone, as if it were UTC (ms), to the second. */
function wall(t: number, zone: string | undefined): number {
  const p: Record<string, number> = {};
  for (const { type, value } of format(zone).formatToParts(t)) if (type !== 'literal') p[type] = Number(value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
}

/** The zone's offset (wall minus UTC, ms) at `t`. */
function offset(t: number, zone: string | undefined): number {
  const s = Math.floor(t / 1000) * 1000;
  return wall(s, zone) - s;
}

/**
 * The offset about a day from a wall time: a probe needs no precision (any instant of the hour
 * is as good), so it is kept per hour and a long scan asks Intl once an hour, not once a minute.
 */
const probes = new Map<string, Map<number, number>>();
function probe(t: number, zone: string | undefined): number {
  const hour = Math.floor(t / HOUR);
  let byHour = probes.get(zoneKey(zone));
  if (!byHour || byHour.size > 100_000) probes.set(zoneKey(zone), (byHour = new Map()));
  let o = byHour.get(hour);
  if (o === undefined) {
    o = offset(hour * HOUR, zone);
    byHour.set(hour, o);
  }
  return o;
}

/**
 * The instants at which the wall time `w` (read as UTC, ms) occurs in the zone: one; two when
 * the clocks fall back over it (earlier first); none when they spring forward over it.
 */
function occurrences(w: number, zone: string | undefined): { at: number[]; gapShifted?: number } {
  const before = probe(w - DAY, zone);
  const after = probe(w + DAY, zone);
  if (before === after) return { at: [w - before] };
  const at = [...new Set([w - before, w - after])].filter((t) => wall(t, zone) === w).sort((a, b) => a - b);
  // In a gap: read with the offset before it, which lands past the gap by its length.
  return at.length ? { at } : { at, gapShifted: w - before };
}

/** The instants a matching wall time runs at (the DST rules above). */
function runsAt(c: Cron, w: number, zone: string | undefined): number[] {
  const o = occurrences(w, zone);
  if (o.gapShifted !== undefined) return [o.gapShifted];
  return c.hourEvery ? o.at : o.at.slice(0, 1);
}

/** The first matching minute strictly after `after`, in `zone` (default: the process's local zone), or undefined when there is none. */
export function nextRun(c: Cron, after: Date, zone?: string): Date | undefined {
  const t0 = after.getTime();
  const [before, after_] = [probe(t0 - DAY, zone), probe(t0 + DAY, zone)];
  const w0 = before === after_ ? t0 + before : wall(t0, zone);
  // A run at wall time w is at w minus an offset in force near it: a w not past t0 plus the
  // least of those offsets cannot come after t0.
  const low = t0 + Math.min(w0 - t0, before, after_);
  const hours = [...c.hours].sort((a, b) => a - b);
  const minutes = [...c.minutes].sort((a, b) => a - b);
  let best: number | undefined;
  let bestWall = Infinity;
  // From the day before: a time shifted past a gap can come after a later wall time's day began.
  const first = Date.UTC(new Date(w0).getUTCFullYear(), new Date(w0).getUTCMonth(), new Date(w0).getUTCDate()) - DAY;
  for (let i = 0, day = first; i < HORIZON_DAYS; i++, day += DAY) {
    if (day > bestWall + SHIFT_BOUND) break;
    if (day + DAY <= low || !dayMatches(c, new Date(day))) continue;
    for (const h of hours) {
      if (day + (h + 1) * HOUR <= low) continue;
      for (const m of minutes) {
        const w = day + h * HOUR + m * MINUTE;
        if (w <= low) continue;
        if (w > bestWall + SHIFT_BOUND) break;
        // No change of offset within a day of w: the runs are in wall-time order from here on.
        if (best === undefined && probe(w - DAY, zone) === probe(w + DAY, zone) && w - probe(w, zone) > t0) return new Date(w - probe(w, zone));
        for (const t of runsAt(c, w, zone)) {
          if (t > t0 && (best === undefined || t < best)) {
            best = t;
            bestWall = Math.min(bestWall, w);
          }
        }
      }
    }
  }
  return best === undefined ? undefined : new Date(best);
}

/** The matching minutes in (from, to], at most `limit` of them (the earliest), in `zone` (default: the process's local zone). */
export function runsBetween(c: Cron, from: Date, to: Date, limit: number, zone?: string): Date[] {
  const out: Date[] = [];
  let t = nextRun(c, from, zone);
  while (t && t.getTime() <= to.getTime() && out.length < limit) {
    out.push(t);
    t = nextRun(c, t, zone);
  }
  return out;
}

/** The canonical IANA name of a time zone Intl knows, or undefined. */
export function canonicalZone(name: string): string | undefined {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** This process's local time zone (its TZ, or the host's /etc/localtime). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
