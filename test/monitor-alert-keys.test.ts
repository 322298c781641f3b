// The alert list's deduplication keys (monitor_alert_keys: an alert received by several
// managers' monitors is listed once) are kept for a day by the store's clock, written and
// pruned in SQL: a monitor whose host's clock runs days ahead prunes what the store's clock
// says is a day old, never the keys the other monitors wrote a moment ago. The process's
// clock is moved with vitest's fake Date (the store's clock is not the process's).
import { afterEach, expect, it, vi } from 'vitest';
import { openStore } from '../src/open-store.js';
import { Alerts } from '../src/monitor/alerts.js';
import { exec, fixtureStore, queryAll } from './support/store.js';

afterEach(() => { vi.useRealTimers(); });

it('a monitor whose clock runs two days ahead prunes the keys a day old by the store\'s clock, not the fresh ones', () => {
  const path = fixtureStore();
  const DAY = 86_400_000;
  exec(path, 'INSERT INTO monitor_alert_keys (dedup_key, seen_at) VALUES (?, ?)', 'old', new Date(Date.now() - 2 * DAY).toISOString());
  const db = openStore(path);
  try {
    const alerts = new Alerts(db, () => 100_000);
    // A key another monitor wrote a moment ago.
    exec(path, 'INSERT INTO monitor_alert_keys (dedup_key, seen_at) VALUES (?, ?)', 'fresh', new Date().toISOString());
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * DAY);
    // The prune comes with every thousandth alert written.
    for (let i = 0; i < 1000; i++) alerts.add({ machineId: null, source: '127.0.0.1', kind: 'snmp', severity: 'information', event: 'test', message: `alert ${i}`, dedupKey: `key ${i}` });
    alerts.flush();
    const keys = queryAll<{ dedup_key: string }>(path, "SELECT dedup_key FROM monitor_alert_keys WHERE dedup_key IN ('old', 'fresh')").map((r) => r.dedup_key);
    expect(keys).toEqual(['fresh']);
    // The keys this monitor wrote carry the store's time, not its own two days ahead: kept too.
    expect(Number(queryAll<{ n: number }>(path, 'SELECT count(*) AS n FROM monitor_alert_keys')[0]!.n)).toBe(1001);
    alerts.close();
  } finally {
    db.close();
  }
});
