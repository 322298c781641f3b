// The UPS source against Network UPS Tools (Debian nut-server: upsd serving the dummy-ups
// driver, whose status the test rewrites): on battery, low battery and back on line become
// events of the groups the UPS feeds, each once; low battery shuts the groups down in order
// (VMs, then their VM servers, then physical machines) as engine jobs, and the return of the
// power starts them again in the reverse order; an upsd that goes away is raised once; the
// real kanri monitor raises on battery by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db } from '../src/store/db.js';
import { openStore } from '../src/open-store.js';
import { Engine } from '../src/engine/service.js';
import { Intake } from '../src/monitor/intake.js';
import { UPS_LOW_BATTERY, UPS_ONLINE, UPS_ON_BATTERY, UPS_UNANSWERED, UpsWatcher, upsStatus } from '../src/monitor/ups.js';
import { parseUpsList } from '../src/monitor/ups-syntax.js';
import { skipReason } from './support/peers.js';
import { type Nut, haveNut, startNut } from './support/nut.js';
import { fixtureStore, queryAll } from './support/store.js';
import { type RunningMonitor, eventDecided, lastEventId, startMonitor } from './support/monitor.js';

const SUITE = 'UPS (Network UPS Tools)';
const have = haveNut();
if (!have) skipReason(SUITE, 'nut-server (upsd, dummy-ups) or nut-client not installed (run scripts/peers.sh as root)');

const GROUPS = ['Shop/Web', 'Infra/VMHosts'];

describe('UPS status and monitor.ups', () => {
  it('reads ups.status flags and the list of UPSs', () => {
    expect(['OL', 'OL CHRG', 'OB DISCHRG', 'OB LB', 'LB', 'BYPASS'].map(upsStatus)).toEqual(['online', 'online', 'on-battery', 'low-battery', 'low-battery', undefined]);
    expect(parseUpsList('ups1@127.0.0.1:3500 Shop/Web, Infra/VMHosts')).toEqual([{ key: 'ups1@127.0.0.1:3500', name: 'ups1', host: '127.0.0.1', port: 3500, groups: ['Shop/Web', 'Infra/VMHosts'] }]);
    for (const bad of ['ups1 Shop/Web', 'ups1@h:70000 G', 'u p@h G']) expect(() => parseUpsList(bad), bad).toThrow();
  });
});

describe.runIf(have)(SUITE, () => {
  let nut: Nut;
  let path: string;
  let db: Db;
  let w: UpsWatcher;
  const logs: string[] = [];
  const events = (): Array<{ event: string; group: string }> =>
    queryAll(path, "SELECT e.event, coalesce(c.name || '/', '') || g.name AS \"group\" FROM monitor_events e JOIN groups g ON g.id = e.group_id LEFT JOIN categories c ON c.id = g.category_id ORDER BY e.id");
  const upsJobs = (): Array<{ command: string }> => queryAll(path, "SELECT command FROM jobs WHERE origin = 'ups' ORDER BY id");

  beforeAll(async () => {
    nut = await startNut('rack1', 'OL');
    path = fixtureStore();
    db = openStore(path);
    const set = db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)');
    set.run('sim.delay_ms', '0');
    set.run('monitor.ups', `rack1@127.0.0.1:${nut.port} ${GROUPS.join(',')}`);
    set.run('monitor.poll_failures', '2');
    w = new UpsWatcher({ db, engine: new Engine(db), intake: new Intake(db), log: (l) => logs.push(l) });
  }, 60_000);
  afterAll(async () => { db?.close(); await nut?.stop(); });

  it('on battery is raised once for every group the UPS feeds; nothing is shut down yet', async () => {
    await w.pollOnce();
    expect(events()).toEqual([]);
    await nut.setStatus('OB');
    await w.pollOnce();
    await w.pollOnce();
    expect(events()).toEqual(GROUPS.map((g) => ({ event: UPS_ON_BATTERY, group: g })));
    await w.settled();
    expect(upsJobs()).toEqual([]);
  }, 60_000);

  it('low battery shuts the groups down: VMs, then their VM servers, then physical machines', async () => {
    const on = (): string[] => queryAll<{ name: string }>(path, `SELECT m.name FROM machines m JOIN groups g ON g.id = m.group_id
      WHERE m.power_state = 'on' AND m.maintenance = 0 AND g.name IN ('Web', 'VMHosts', 'Desktops') ORDER BY m.name`).map((r) => r.name);
    expect(on().length).toBeGreaterThan(0);
    await nut.setStatus('OB LB');
    await w.pollOnce();
    await w.settled();
    expect(events().slice(GROUPS.length)).toEqual(GROUPS.map((g) => ({ event: UPS_LOW_BATTERY, group: g })));
    // Infra/Desktops is not listed: its VMs run on the VM servers of Infra/VMHosts, so they go first.
    const groupsInOrder = [...new Set(upsJobs().map((j) => /shutdown (\S+)$/.exec(j.command)?.[1]))];
    expect(groupsInOrder).toEqual(['Infra\\Desktops', 'Infra/VMHosts', 'Shop/Web']);
    expect(logs.join('\n')).toMatch(/shutdown: Infra\\Desktops too \(its VMs run on the UPS's VM servers\)/);
    expect(on()).toEqual([]);
    // Polled again at low battery: no second shutdown.
    const n = upsJobs().length;
    await w.pollOnce();
    await w.settled();
    expect(upsJobs()).toHaveLength(n);
  }, 120_000);

  it('power back: back on line is raised and the groups start again, physical first and VMs last', async () => {
    const n = upsJobs().length;
    await nut.setStatus('OL');
    await w.pollOnce();
    await w.settled();
    expect(events().slice(2 * GROUPS.length)).toEqual(GROUPS.map((g) => ({ event: UPS_ONLINE, group: g })));
    const groupsInOrder = [...new Set(upsJobs().slice(n).map((j) => /poweron (\S+)$/.exec(j.command)?.[1]))];
    expect(groupsInOrder).toEqual(['Shop/Web', 'Infra/VMHosts', 'Infra\\Desktops']);
    expect(queryAll(path, "SELECT shut_down, status FROM ups_state")).toEqual([{ shut_down: 0, status: 'online' }]);
  }, 120_000);

  it('the real monitor reads the UPS and raises on battery', async () => {
    const w2 = openStore(path);
    w2.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('monitor.listen', '127.0.0.1:0'), ('monitor.ups_poll_s', '1'), ('monitor.poll_s', '0')").run();
    w2.close();
    let mon: RunningMonitor | undefined;
    try {
      const from = lastEventId(path);
      mon = await startMonitor(path);
      await nut.setStatus('OB');
      await eventDecided(path, { origin: 'ups', source: 'SystemMonitorEvent', event: 'kanriUPS[0x80000001]' }, from, 20_000);
      await nut.setStatus('OL');
      await eventDecided(path, { origin: 'ups', source: 'SystemMonitorEvent', event: 'kanriUPS[0x40000003]' }, from, 20_000);
    } finally {
      await mon?.stop();
    }
  }, 90_000);

  it('an upsd that goes away is raised once after monitor.poll_failures polls', async () => {
    await nut.stop();
    const before = events().length;
    await w.pollOnce();
    await w.pollOnce();
    await w.pollOnce();
    expect(events().slice(before)).toEqual(GROUPS.map((g) => ({ event: UPS_UNANSWERED, group: g })));
    expect(logs.join('\n')).toMatch(/no status in 2 polls: upsd 127\.0\.0\.1:\d+: (connect ECONNREFUSED|.*closed)/);
  }, 30_000);
});
