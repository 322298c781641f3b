// `kanri monitor`'s life on a store: one monitor per store through the lease row (also from
// another network namespace), take-over of a dead holder's lease, a lost lease stops the
// monitor; a chain interrupted in an action that is safe to repeat goes on after a restart;
// SIGTERM bounded by monitor.drain_s while a mail server never answers, a second signal
// during the drain ignored. The SMTP server that never answers is written here.
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { binaries, run } from './support/cli.js';
import { fixtureStore, queryAll, tempDir } from './support/store.js';
import { freeUdpPorts } from './support/ipmi-sim.js';
import { writeFileSync } from 'node:fs';
import { havePeer, skipReason } from './support/peers.js';
import { chainEnded, counter, eventDecided, startMonitor, monitorGroup } from './support/monitor.js';

const YAML = (settings = ''): string => `
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0", monitor.lease_s: "3"${settings} }
${monitorGroup(['m1'])}machines:
  - { name: m1, kind: physical, power: on, active: { group: G, model: M, host: h01, from: group_pool } }
`;

const servers: Server[] = [];
const held: Socket[] = [];
afterAll(() => {
  for (const s of held) s.destroy();
  for (const s of servers) s.close();
});

/** An SMTP server that accepts and never says a word. */
async function silentSmtp(): Promise<number> {
  const srv = createServer((c) => { held.push(c); c.on('error', () => undefined); });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as { port: number }).port;
}

const chain = (db: string): { status: string; next_action: number } | undefined =>
  queryAll<{ status: string; next_action: number }>(db, 'SELECT status, next_action FROM monitor_chains ORDER BY id DESC LIMIT 1')[0];
const raiseCpu = (db: string): void => {
  const r = run('kanri', ['event', 'raise', 'SystemMonitorEvent', 'BMC[0x00076F00]', '--machine', 'm1'], { db });
  expect(r.code, r.err).toBe(0);
};
const mail = (port: number, timeout = 60): string => `, mail.smtp_host: "127.0.0.1", mail.smtp_port: "${port}", mail.to: "ops@example.com", mail.timeout_s: "${timeout}"`;

describe('kanri monitor: lease, restart and drain', () => {
  it('one monitor per store, also from another network namespace; a dead holder is taken over at once; a lost lease stops the monitor', async () => {
    const db = fixtureStore(YAML());
    const mon = await startMonitor(db);
    expect(queryAll<{ holder: string }>(db, 'SELECT holder FROM monitor_lease')[0]!.holder).toMatch(new RegExp(`pid=${mon.proc.pid} `));
    expect(run('kanri', ['monitor', 'status'], { db }).out).toMatch(new RegExp(`^monitor: running \\(pid ${mon.proc.pid} on `));
    const second = run('kanri', ['monitor'], { db, timeout: 10_000 });
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/another monitor \(pid \d+\) already runs on /);
    if (havePeer('unshare') && spawnSync('unshare', ['-n', 'true']).status === 0) {
      // Another network namespace: an abstract socket would not be seen there; the lease is.
      const ns = spawnSync('unshare', ['-n', join(binaries(), 'kanri'), 'monitor'], { env: { ...process.env, KANRI_DB: db, LANG: 'C' }, encoding: 'utf8', timeout: 10_000 });
      expect(ns.status).toBe(1);
      expect(ns.stderr).toMatch(/another monitor \(pid \d+\) already runs/);
    } else skipReason('monitor lease across network namespaces', 'unshare -n is not allowed here');
    // SIGKILL: the next monitor takes the dead holder's lease without waiting for it to expire.
    expect(await mon.stop('SIGKILL')).toBe('SIGKILL');
    const t0 = Date.now();
    const next = await startMonitor(db);
    expect(Date.now() - t0).toBeLessThan(3000 + 5000);
    // Another manager's monitor (another host) takes the lease over: this one stops, exit 1.
    const other = openStore(db);
    other.prepare("UPDATE monitor_lease SET holder = 'host=elsewhere pid=1 ns=1 boot=x token=y', expires_at = ?").run(new Date(Date.now() + 60_000).toISOString());
    other.close();
    const code = await new Promise<number | null>((r) => {
      if (next.proc.exitCode !== null) return r(next.proc.exitCode);
      const t = setTimeout(() => r(null), 15_000);
      next.proc.once('exit', (c) => { clearTimeout(t); r(c); });
    });
    expect(code).toBe(1);
    // Its lease unexpired, the other holder keeps the store: a new monitor does not start.
    const third = run('kanri', ['monitor'], { db, timeout: 10_000 });
    expect(third.code).toBe(1);
    expect(third.err).toMatch(/already runs on [^\n]*host elsewhere/);
  }, 60_000);

  it('SIGKILL during a notification: after the restart the chain goes on with it (safe to repeat), not abandoned', async () => {
    const port = await silentSmtp();
    const db = fixtureStore(YAML(mail(port)));
    const mon = await startMonitor(db);
    raiseCpu(db);
    expect((await eventDecided(db, { event: 'BMC[0x00076F00]' })).decision).toMatch(/^chain 1: policy 標準ポリシー rule 2 CPU障害: notify, status-faulted/);
    const deadline = Date.now() + 10_000;
    while (queryAll(db, "SELECT 1 FROM monitor_chain_actions WHERE chain_id = 1 AND idx = 0 AND status = 'running'").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await mon.stop('SIGKILL')).toBe('SIGKILL');
    expect(chain(db)).toMatchObject({ status: 'running', next_action: 0 });
    // Mail off for the restart: the repeated notification completes at once.
    const w = openStore(db);
    w.prepare("UPDATE settings SET value = '' WHERE key = 'mail.smtp_host'").run();
    w.close();
    const again = await startMonitor(db);
    expect(await chainEnded(db, 1)).toMatchObject({ status: 'completed', error: null });
    expect(chain(db)).toMatchObject({ status: 'completed', next_action: 2 });
    expect(queryAll(db, 'SELECT idx, action, status FROM monitor_chain_actions WHERE chain_id = 1 ORDER BY idx')).toEqual([
      { idx: 0, action: 'notify', status: 'completed' }, { idx: 1, action: 'status-faulted', status: 'completed' },
    ]);
    expect(queryAll<{ h: string }>(db, "SELECT hardware_status AS h FROM machines WHERE name = 'm1'")[0]!.h).toBe('faulted');
    expect(await again.stop()).toBe(0);
  }, 60_000);

  it('SIGTERM is bounded by monitor.drain_s while a mail server never answers; a second SIGTERM or SIGINT during the drain is ignored', async () => {
    const port = await silentSmtp();
    const db = fixtureStore(YAML(`${mail(port, 120)}, monitor.drain_s: "2"`));
    const mon = await startMonitor(db);
    raiseCpu(db);
    expect((await eventDecided(db, { event: 'BMC[0x00076F00]' })).chain_id).toBe(1);
    const deadline = Date.now() + 10_000;
    while (queryAll(db, "SELECT 1 FROM monitor_chain_actions WHERE chain_id = 1 AND status = 'running'").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const stopped = mon.stop('SIGTERM', 30_000);
    // The daemon's word that it has the first signal (nothing in the store says so before the drain ends).
    await mon.waitFor(/SIGTERM: stopping intake/);
    mon.proc.kill('SIGTERM');
    mon.proc.kill('SIGINT');
    expect(await stopped).toBe(0);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(2000 + 3000 + 2000);
    expect(mon.log()).toMatch(/SIGTERM during the drain: ignored/);
    expect(mon.log()).toMatch(/SIGINT during the drain: ignored/);
    expect(mon.log()).toMatch(/chain 1: cut off at the drain bound in action 1 notify \(safe to repeat\)/);
    // Nothing left running: the chain waits, at its notification, for the next start.
    expect(chain(db)).toMatchObject({ status: 'pending', next_action: 0 });
    expect(queryAll(db, "SELECT 1 FROM monitor_chain_actions WHERE status = 'running'")).toEqual([]);
    expect(queryAll(db, 'SELECT 1 FROM monitor_lease')).toEqual([]);
  }, 60_000);

  it('a burst of SIGHUPs re-reads one at a time: polling is not multiplied', async () => {
    const db = fixtureStore(YAML(', monitor.poll_s: "1", monitor.poll_timeout_s: "0.3", monitor.poll_failures: "100"').replace('monitor.poll_s: "0", ', ''));
    // A controller nobody answers for (a UDP port nobody listens on): every poll is one failure.
    const [port] = await freeUdpPorts(1) as [number];
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, 'secret\n', { mode: 0o600 });
    const c = run('dscli', ['createServer', 'ctl1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`], { db });
    expect(c.code, c.out + c.err).toBe(0);
    const failures = (): number => queryAll<{ n: number }>(db, 'SELECT coalesce(sum(failures), 0) AS n FROM monitor_poll_state')[0]!.n;
    const mon = await startMonitor(db);
    const deadline = Date.now() + 15_000;
    while (failures() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (let k = 0; k < 30; k++) mon.proc.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1500));
    const f0 = failures();
    await new Promise((r) => setTimeout(r, 5000));
    // One poll a second: about 5 more failures; several pollers would make that a multiple.
    expect(failures() - f0).toBeGreaterThanOrEqual(2);
    expect(failures() - f0).toBeLessThanOrEqual(7);
    expect(await mon.stop()).toBe(0);
    // thirty signals, one re-read (and one more for those that came during it)
    expect([1, 2]).toContain(counter(db, 'reloads'));
  }, 60_000);
});
