// kanri monitor status --json: one object a script or a health check can read, with the
// same facts as the text form; running or not is the monitor's lock, not a guess.
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { type RunningMonitor, snmptrap, startMonitor } from './support/monitor.js';
import { requirePeer } from './support/peers.js';
import { dscli, secretFile } from './support/dscli.js';
import { fixtureStore, queryAll } from './support/store.js';
import { managerName } from '../src/store/manager-name.js';

interface Status {
  running: boolean; pid: number | null; host: string | null; events_waiting: number; chains: Record<string, number>; counters: Record<string, number>; recent_chains: unknown[];
  monitors: Array<{ manager: string; running: boolean; pid: number | null; polls: number; polled_machines: string[] }>;
}

const status = (db: string): Status => {
  const r = run('kanri', ['monitor', 'status', '--json'], { db });
  expect(r.code, r.err).toBe(0);
  expect(r.out.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.out) as Status;
};

describe('kanri monitor status --json', () => {
  const db = fixtureStore();
  let mon: RunningMonitor | undefined;
  afterAll(async () => { await mon?.stop(); });

  it('not running: one object with every field', () => {
    expect(status(db)).toEqual({ running: false, pid: null, host: null, events_waiting: 0, chains: {}, counters: expect.any(Object), recent_chains: [], waiting_for_fencing: [], monitors: [] });
  });

  it.runIf(requirePeer('snmptrap', 'monitor status --json'))('running: its pid, and counters that move with what it receives', async () => {
    for (const [k, v] of [['monitor.listen', '127.0.0.1:0'], ['monitor.poll_s', '0']]) {
      expect(run('kanri', ['settings', 'set', k!, v!], { db }).code).toBe(0);
    }
    // A secret setting: from standard input, never argv.
    expect(run('kanri', ['settings', 'set', 'monitor.communities'], { db, input: 'public\n' }).code).toBe(0);
    mon = await startMonitor(db);
    const s = status(db);
    expect(s).toMatchObject({ running: true, pid: mon.proc.pid });
    // The one monitor (of the manager 'default' on SQLite, of this host's on PostgreSQL) polls every machine with a controller.
    const polled = queryAll<{ name: string }>(db, 'SELECT name FROM machines WHERE mgmt_type IS NOT NULL ORDER BY id').map((m) => m.name);
    const manager = process.env.KANRI_TEST_STORE === 'postgresql' ? managerName() : 'default';
    expect(s.monitors).toEqual([expect.objectContaining({ manager, running: true, pid: mon.proc.pid, polls: polled.length, polled_machines: polled })]);
    const before = s.counters.wrong_community ?? 0;
    expect(snmptrap(['-v', '2c', '-c', 'nope', `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.8072.2.3.0.1']).code).toBe(0);
    const end = Date.now() + 20_000;
    while ((status(db).counters.wrong_community ?? 0) <= before && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(status(db).counters.wrong_community).toBe(before + 1);
    expect(await mon.stop()).toBe(0);
    mon = undefined;
    expect(status(db)).toMatchObject({ running: false, pid: null });
  }, 60_000);
});

describe('a monitor stopped while it polls', () => {
  it('leaves no "cancelled" status on the server it was asking', async () => {
    const db = fixtureStore();
    // A BMC that never answers: the poll is in flight from its first datagram until the monitor stops.
    const bmc = createSocket('udp4');
    const asked = new Promise<void>((res) => bmc.once('message', () => res()));
    await new Promise<void>((res) => bmc.bind(0, '127.0.0.1', () => res()));
    try {
      expect(dscli(db, ['createServer', 'px-r120-01', 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.address().port}`, 'user=admin', `password_file=${secretFile('Bmc-pass-9')}`]).code).toBe(0);
      for (const [k, v] of [['monitor.listen', '127.0.0.1:0'], ['monitor.poll_s', '1'], ['monitor.poll_timeout_s', '60']]) {
        expect(run('kanri', ['settings', 'set', k!, v!], { db }).code).toBe(0);
      }
      const mon = await startMonitor(db);
      await asked;
      expect(await mon.stop()).toBe(0);
      expect(queryAll(db, "SELECT last_status FROM machines WHERE name = 'px-r120-01'")).toEqual([{ last_status: null }]);
    } finally {
      bmc.close();
    }
  }, 90_000);
});
