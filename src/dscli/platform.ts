// ServerList commands on a controller's platform functions: the watchdog timer (stall
// monitoring and automatic restart), power reading and capping. Each runs through the controller's info driver, as
// the other hardware commands do (info.ts onServers); one line per server.
import type { Db } from '../store/db.js';
import type { PowerUsage, WatchdogAction, WatchdogInfo } from '../adapters/types.js';
import { formatError } from './errors.js';
import { listAndSettings, onServers } from './info.js';
import type { Out } from './ops.js';
import { parseSettings } from './words.js';

const fmt = (n: number): string => String(Number(n.toFixed(1)));

function watchdogLine(name: string, w: WatchdogInfo): string {
  const left = w.remainingS === undefined ? 'unknown' : fmt(w.remainingS);
  const state = w.running ? `running action=${w.action} timeout=${fmt(w.timeoutS)} remaining=${left}` : `stopped action=${w.action} timeout=${fmt(w.timeoutS)}`;
  return `${name} ${state} use=${w.use} expired=${w.expired.length ? w.expired.join(',') : '-'}`;
}

const watchdogRecord = (name: string, w: WatchdogInfo): object => ({
  target: name, running: w.running, action: w.action, timeout_s: w.timeoutS, remaining_s: w.running ? w.remainingS ?? null : null, use: w.use, expired: w.expired, logging: w.logging,
});

export async function getWatchdogCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getWatchdog ServerList');
  return onServers(db, list, words, out, 'getWatchdog', 'watchdog', async (c, o) => {
    const w = await c.info.watchdog!(c.ctx, c.machine, o);
    return { lines: [watchdogLine(c.row.name, w)], records: [watchdogRecord(c.row.name, w)] };
  }, false);
}

const ACTIONS: readonly WatchdogAction[] = ['reset', 'off', 'cycle', 'none'];

/** timeout= and action= of setWatchdog; the other words are the usual ServerList settings. */
export function watchdogSettings(words: string[]): { timeoutS: number; action: WatchdogAction; rest: string[] } {
  const mine = words.filter((w) => /^(timeout|action)=/i.test(w));
  const s = parseSettings(mine, ['timeout', 'action']);
  const action = (s.get('action') ?? '').toLowerCase();
  if (!(ACTIONS as readonly string[]).includes(action)) throw formatError(`setWatchdog needs action=reset|off|cycle|none, not '${s.get('action') ?? ''}'`);
  const t = s.get('timeout');
  if (t === undefined && action !== 'none') throw formatError('setWatchdog needs timeout=SECONDS (1-6553)');
  const timeoutS = t === undefined ? 1 : Number(t);
  if (!/^\d+(\.\d)?$/.test(t ?? '1') || timeoutS < 1 || timeoutS > 6553) throw formatError(`timeout must be 1-6553 seconds, not '${t}'`);
  return { timeoutS, action: action as WatchdogAction, rest: words.filter((w) => !mine.includes(w)) };
}

export async function setWatchdogCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: setWatchdog ServerList timeout=SECONDS action=reset|off|cycle|none');
  const { timeoutS, action, rest } = watchdogSettings(words);
  return onServers(db, list, rest, out, 'setWatchdog', 'setWatchdog', async (c, o) => {
    const w = await c.info.setWatchdog!(c.ctx, c.machine, timeoutS, action, o);
    const what = action === 'none' ? 'watchdog stopped' : `watchdog ${action} after ${fmt(w.timeoutS)} s, running`;
    return { lines: [`${c.row.name} ok ${what}`], records: [{ ...watchdogRecord(c.row.name, w), operation: 'setWatchdog', status: 'ok', message: what }] };
  }, false);
}

// ---- power reading and capping ------------------------------------------------------------

function usageLine(name: string, p: PowerUsage): string {
  const w = (v: number | undefined | null): string | undefined => (v === undefined || v === null ? undefined : `${fmt(v)}W`);
  const parts = [`reading=${w(p.watts) ?? 'unknown'}`];
  if (p.averageWatts !== undefined) parts.push(`average=${w(p.averageWatts)}`);
  if (p.minWatts !== undefined) parts.push(`minimum=${w(p.minWatts)}`);
  if (p.maxWatts !== undefined) parts.push(`maximum=${w(p.maxWatts)}`);
  if (p.intervalMin !== undefined) parts.push(`interval=${fmt(p.intervalMin)}min`);
  parts.push(`limit=${w(p.limitWatts) ?? 'off'}`);
  return `${name} ${parts.join(' ')}`;
}

const usageRecord = (name: string, p: PowerUsage): object => ({
  target: name, watts: p.watts, average_watts: p.averageWatts ?? null, min_watts: p.minWatts ?? null, max_watts: p.maxWatts ?? null,
  interval_min: p.intervalMin ?? null, limit_watts: p.limitWatts, limit_min: p.limitMin ?? null, limit_max: p.limitMax ?? null, source: p.source,
});

export async function getPowerReadingCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: getPowerReading ServerList');
  return onServers(db, list, words, out, 'getPowerReading', 'powerReading', async (c, o) => {
    const p = await c.info.powerReading!(c.ctx, c.machine, o);
    return { lines: [usageLine(c.row.name, p)], records: [usageRecord(c.row.name, p)] };
  }, false);
}

/** watts= of setPowerLimit: a whole number of watts (1-65535), or off. */
export function limitSetting(words: string[]): { watts: number | null; rest: string[] } {
  const mine = words.filter((w) => /^watts=/i.test(w));
  const v = parseSettings(mine, ['watts']).get('watts');
  if (v === undefined) throw formatError('setPowerLimit needs watts=N or watts=off');
  if (v.toLowerCase() === 'off') return { watts: null, rest: words.filter((w) => !mine.includes(w)) };
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw formatError(`watts must be a whole number from 1 to 65535, or off, not '${v}'`);
  return { watts: Number(v), rest: words.filter((w) => !mine.includes(w)) };
}

export async function setPowerLimitCmd(db: Db, args: string[], out: Out): Promise<number> {
  const { list, words } = listAndSettings(args);
  if (!list.length) throw formatError('usage: setPowerLimit ServerList watts=N|off');
  const { watts, rest } = limitSetting(words);
  return onServers(db, list, rest, out, 'setPowerLimit', 'setPowerLimit', async (c, o) => {
    const p = await c.info.setPowerLimit!(c.ctx, c.machine, watts, o);
    const what = p.limitWatts === null ? 'power limit off' : `power limit ${fmt(p.limitWatts)} W`;
    return { lines: [`${c.row.name} ok ${what}`], records: [{ ...usageRecord(c.row.name, p), operation: 'setPowerLimit', status: 'ok', message: what }] };
  }, false);
}
