// dscli getWatchdog / setWatchdog against ipmi_sim's watchdog timer, cross-checked with
// ipmitool; an expiry the BMC logs in its SEL becomes the catalogue's stall event in the
// monitor (polling reads the SEL).
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, startSims, type SimBmc, type SimRack } from './support/ipmi-sim.js';
import { requirePeer } from './support/peers.js';
import { startMonitor, type RunningMonitor } from './support/monitor.js';
import { until } from './support/until.js';
import { fixtureStore, queryAll } from './support/store.js';
import { dscli } from './support/dscli.js';

const havePeers = requirePeer('ipmi_sim', 'dscli watchdog against ipmi_sim') && requirePeer('ipmitool', 'dscli watchdog cross-check with ipmitool');

const YAML = `
kanri: 1
settings:
  monitor.listen: "127.0.0.1:0"
  monitor.poll_s: "1"
  monitor.poll_timeout_s: "2"
machines:
  - { name: other, kind: physical }
`;

/**
 * The host end of the BMC's system interface, as qemu would be: it tells the BMC it can be
 * powered and reset, and keeps the commands the BMC sends it (VM codec: command byte, A1h).
 */
async function host(port: number): Promise<{ received: () => Buffer; sock: Socket }> {
  const got: Buffer[] = [];
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  sock.on('data', (d: Buffer) => got.push(d));
  sock.write(Buffer.from([0x08, 0x03, 0xa1]));
  return { received: () => Buffer.concat(got), sock };
}

describe.runIf(havePeers)('dscli watchdog with ipmi_sim', () => {
  const racks: SimRack[] = [];
  const hosts: Socket[] = [];
  let a: SimBmc, b: SimBmc;
  let hostC: Awaited<ReturnType<typeof host>>;
  let db: string;
  let mon: RunningMonitor | undefined;

  beforeAll(async () => {
    // ipmi_sim arms its timer once: a timer changed while it runs still expires at the first
    // arming's time. The expiry is therefore watched on a third BMC whose timer never ran.
    for (let i = 0; i < 3; i++) {
      const hostPort = await freeTcpPort();
      racks.push(await startSims(1, { rich: false, watchdog: true, power: 'on', hostPort }));
      const h = await host(hostPort);
      hosts.push(h.sock);
      if (i === 2) hostC = h;
    }
    const [, , c] = racks.map((r) => r.bmcs[0]!) as [SimBmc, SimBmc, SimBmc];
    [a, b] = racks.map((r) => r.bmcs[0]!) as [SimBmc, SimBmc];
    db = fixtureStore(YAML);
    for (const [name, s] of [['w1', a], ['w2', b], ['w3', c]] as const) {
      expect(dscli(db, ['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${s.port}`, 'user=oper', `password_file=${s.passwordFile('oper')}`]).code).toBe(0);
    }
    expect(dscli(db, ['createServer', 'simbox', 'mgmt=sim']).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await mon?.stop();
    for (const h of hosts) h.destroy();
    for (const r of racks) await r.stop();
  });

  it('getWatchdog reads the stopped timer; setWatchdog sets and starts it, as ipmitool sees', async () => {
    let r = dscli(db, ['getWatchdog', 'w1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^w1 stopped action=none timeout=0 use=\S+ expired=-\n$/);

    r = dscli(db, ['setWatchdog', 'w1,w2', 'timeout=600', 'action=cycle']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('w1 ok watchdog cycle after 600 s, running\nw2 ok watchdog cycle after 600 s, running\n');
    const t = await a.ipmitool(['mc', 'watchdog', 'get']);
    expect(t.stdout).toMatch(/Watchdog Timer Use:\s+SMS\/OS/);
    expect(t.stdout).toMatch(/Watchdog Timer Is:\s+Started\/Running/);
    expect(t.stdout).toMatch(/Watchdog Timer Action:\s+Power Cycle/);
    expect(t.stdout).toMatch(/Initial Countdown:\s+600(\.0)? sec/);

    r = dscli(db, ['getWatchdog', 'w1', '--json']);
    const rec = JSON.parse(r.out);
    // ipmi_sim's answer stops before the present countdown: unknown, not made up.
    expect(rec).toMatchObject({ target: 'w1', running: true, action: 'cycle', timeout_s: 600, remaining_s: null, use: 'sms-os', expired: [] });
    expect(dscli(db, ['getWatchdog', 'w1']).out).toBe('w1 running action=cycle timeout=600 remaining=unknown use=sms-os expired=-\n');

    // action=none stops it.
    r = dscli(db, ['setWatchdog', 'w2', 'action=none']);
    expect(r).toMatchObject({ code: 0, out: 'w2 ok watchdog stopped\n' });
    expect((await b.ipmitool(['mc', 'watchdog', 'get'])).stdout).toMatch(/Watchdog Timer Is:\s+Stopped/);
  }, 60_000);

  it('rejects bad settings before any BMC is touched; a controller without a watchdog is not supported', async () => {
    expect(dscli(db, ['setWatchdog', 'w1', 'timeout=0', 'action=reset']).code).toBe(1);
    expect(dscli(db, ['setWatchdog', 'w1', 'timeout=7000', 'action=reset']).code).toBe(1);
    expect(dscli(db, ['setWatchdog', 'w1', 'timeout=30', 'action=explode']).code).toBe(1);
    expect(dscli(db, ['setWatchdog', 'w1', 'action=reset']).code).toBe(1);
    expect((await a.ipmitool(['mc', 'watchdog', 'get'])).stdout).toMatch(/Watchdog Timer Action:\s+Power Cycle/);
    expect(dscli(db, ['getWatchdog', 'simbox']).code).toBe(6);
    const r = dscli(db, ['getWatchdog', 'w1', 'simbox']);
    expect(r.code).toBe(7);
    expect(r.out).toMatch(/^w1 running action=cycle .*\nsimbox failed not-supported: getWatchdog is not supported for mgmt=sim\n$/);
  });

  it('an expiry the BMC logs becomes the stall event in the monitor, once', async () => {
    mon = await startMonitor(db);
    // Polling takes its baseline of the SEL first.
    await until('a first poll', () => queryAll(db, "SELECT 1 FROM monitor_poll_state p JOIN machines m ON m.id = p.machine_id WHERE m.name = 'w3' AND p.sel_seen IS NOT NULL").length > 0);
    const r = dscli(db, ['setWatchdog', 'w3', 'timeout=1', 'action=reset']);
    expect(r.code, r.err).toBe(0);
    // The BMC really reset the host (VM codec: RESET 04h, A1h), and says the timer expired.
    await until('the reset', () => hostC.received().includes(Buffer.from([0x04, 0xa1])), 20_000);
    const ev = await until('the stall event', () => queryAll<{ event: string; category: string; detail: string }>(db,
      "SELECT e.event, e.category, e.detail FROM monitor_events e JOIN machines m ON m.id = e.machine_id WHERE m.name = 'w3' AND e.category = 'ストール障害'")[0], 30_000);
    expect(ev.event).toBe('BMC[0x00236F01]');
    expect(ev.detail).toMatch(/Watchdog 2.*Hard Reset/);
    const g = dscli(db, ['getWatchdog', 'w3']);
    expect(g.out).toMatch(/expired=sms-os\n$/);
    expect(dscli(db, ['getSel', 'w3']).out).toMatch(/Watchdog 2 #0x00 \| sensor-specific \| Hard Reset/);
    // Further polls do not raise it again.
    const polled = queryAll<{ polled_at: string }>(db, "SELECT polled_at FROM monitor_poll_state p JOIN machines m ON m.id = p.machine_id WHERE m.name = 'w3'")[0]!.polled_at;
    await until('two more polls', () => queryAll<{ polled_at: string }>(db, "SELECT polled_at FROM monitor_poll_state p JOIN machines m ON m.id = p.machine_id WHERE m.name = 'w3'")[0]!.polled_at > polled && Date.now() > Date.parse(polled) + 2500);
    expect(queryAll(db, "SELECT count(*) AS n FROM monitor_events WHERE event = 'BMC[0x00236F01]'")).toEqual([{ n: 1 }]);
  }, 90_000);
});
