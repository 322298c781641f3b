// Cron expressions as crontab(5) writes them: five fields (minute, hour, day of month,
// month, day of week) of numbers, names (jan…dec, sun…sat), ranges, lists and steps, or
// one of @hourly, @daily, @weekly, @monthly, @yearly. As in cron, a day matches when the
// day of month or the day of week matches if both are restricted. Times are the server's
// local time, to the minute.

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
  };
}

function dayMatches(c: Cron, d: Date): boolean {
  if (!c.months.has(d.getMonth() + 1)) return false;
  const dom = c.days.has(d.getDate());
  const dow = c.weekdays.has(d.getDay());
  if (c.dayRestricted && c.weekdayRestricted) return dom || dow;
  return dom && dow;
}

/** Days searched ahead: an expression that matches nothing in 8 years (31 February) has no next time. */
const HORIZON_DAYS = 8 * 366;

/** The first matching minute strictly after `after`, or undefined when there is none. */
export function nextRun(c: Cron, after: Date): Date | undefined {
  const start = new Date(after.getTime());
  start.setSeconds(0, 0);
  start.setMinutes(start.getMinutes() + 1);
  const day = new Date(start.getFullYear(), start.getMonth(), start.getDate());
  for (let i = 0; i < HORIZON_DAYS; i++, day.setDate(day.getDate() + 1)) {
    if (!dayMatches(c, day)) continue;
    const sameDay = i === 0;
    for (const h of [...c.hours].sort((a, b) => a - b)) {
      if (sameDay && h < start.getHours()) continue;
      for (const m of [...c.minutes].sort((a, b) => a - b)) {
        if (sameDay && h === start.getHours() && m < start.getMinutes()) continue;
        const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m);
        // A local time that does not exist (the hour clocks skip) is not a run.
        if (t.getHours() !== h || t.getMinutes() !== m || t.getTime() <= after.getTime()) continue;
        return t;
      }
    }
  }
  return undefined;
}

/** The matching minutes in (from, to], at most `limit` of them (the earliest), and how many there were in all up to `count`. */
export function runsBetween(c: Cron, from: Date, to: Date, limit: number): Date[] {
  const out: Date[] = [];
  let t = nextRun(c, from);
  while (t && t.getTime() <= to.getTime() && out.length < limit) {
    out.push(t);
    t = nextRun(c, t);
  }
  return out;
}
