// ServerList commands on a controller's platform functions: the watchdog timer (stall
// monitoring and automatic restart). Each runs through the controller's info driver, as
// the other hardware commands do (info.ts onServers); one line per server.
import type { Db } from '../store/db.js';
import type { WatchdogAction, WatchdogInfo } from '../adapters/types.js';
import { formatError } from './errors.js';
import { listAndSettings, onServers } from './info.js';
import type { Out } from './ops.js';
import { parseSettings } from './registry.js';

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
