// Out-of-band operations through kanri serve against OpenIPMI ipmi_sim BMCs on 127.0.0.1:
// per-target records as dscli --json gives them, power changes for administrators only,
// warm sessions (the BMC shows the API's session still open after a power status), and
// controller reachability in /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackHole, startSims, type SimBmc, type SimRack } from './support/ipmi-sim.js';
import { requirePeer } from './support/peers.js';
import { dscli } from './support/dscli.js';
import { fixtureStore } from './support/store.js';
import { call, putSettings, responseSchema, startServe, token, validate, type Served } from './support/serve.js';
import { daemon, freeUdpPort, waitFor } from './support/daemon.js';
import { binaries } from './support/cli.js';
import { join } from 'node:path';

const havePeers = requirePeer('ipmi_sim', 'kanri serve out-of-band against ipmi_sim') && requirePeer('ipmitool', 'kanri serve: sessions seen by ipmitool');

const YAML = `
kanri: 1
settings: { sim.delay_ms: "0", ipmi.on_wait_s: "10" }
groups:
  - name: G
    type: physical
    drivers: { power: sim, deploy: sim, monitor: sim }
    models: [{ name: M }]
machines:
  - { name: spare, kind: physical, power: off }
`;

describe.runIf(havePeers)('kanri serve: out-of-band operations on ipmi_sim', () => {
  let rack: SimRack;
  let a: SimBmc, b: SimBmc;
  let hole: Awaited<ReturnType<typeof blackHole>>;
  let db: string;
  let srv: Served;
  let admin: string, oper: string;

  beforeAll(async () => {
    rack = await startSims(2, { power: 'off' });
    [a, b] = rack.bmcs as [SimBmc, SimBmc];
    hole = await blackHole();
    db = fixtureStore(YAML);
    for (const [name, s] of [['a1', a], ['b1', b], ['dead', hole]] as const) {
      const r = dscli(db, ['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${s.port}`, 'user=admin', `password_file=${a.passwordFile('admin')}`]);
      expect(r.code, r.err).toBe(0);
    }
    expect(dscli(db, ['createGroup', 'rack1']).code).toBe(0);
    expect(dscli(db, ['addGroupServer', 'rack1', 'a1', 'b1']).code).toBe(0);
    admin = token(db, 'alice', 'administrator');
    oper = token(db, 'otto', 'operator');
    srv = await startServe(db);
  }, 120_000);
  afterAll(async () => {
    await srv?.stop();
    await rack?.stop();
    await hole?.close();
  });

  const strip = (r: Record<string, unknown>) => { const { elapsed_ms: _e, attempts: _a, ...rest } = r; return rest; };

  it('answers power status per target as dscli --json does, a dead controller included', async () => {
    a.writePower('on');
    const r = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'getPowerStatus', targets: ['rack1', 'dead'], settings: ['timeout=1', 'retries=0'] } });
    expect(r.status, r.text).toBe(200);
    const cli = dscli(db, ['--json', 'getPowerStatus', 'rack1', 'dead', 'timeout=1', 'retries=0']);
    const want = cli.out.trim().split('\n').map((l) => strip(JSON.parse(l)));
    expect(r.json.results.map(strip)).toEqual(want);
    expect(r.json.code).toBe(cli.code);
    const doc = (await call(srv.url, 'GET', '/openapi.json')).json;
    expect(validate(doc, responseSchema(doc, '/api/v1/oob', 'POST', 200)!, r.json)).toEqual([]);
    expect(r.json.results.map((x: { target: string; after: string }) => [x.target, x.after])).toEqual([['a1', 'on'], ['b1', 'off'], ['dead', 'unknown']]);
  }, 60_000);

  it('keeps the session of a power status warm: the BMC still holds it after the answer', async () => {
    const r = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'getPowerStatus', targets: ['b1'] } });
    expect(r.status).toBe(200);
    expect(r.json.results[0].after).toBe('off');
    // ipmitool's own session is one; the API's kept session makes it two.
    const info = await b.ipmitool(['session', 'info', 'all']);
    const active = /active sessions\s*:\s*(\d+)/i.exec(info.stdout)?.[1];
    expect(Number(active), info.stdout + info.stderr).toBeGreaterThanOrEqual(2);
    // A second status runs in the warm session and still reads the BMC.
    b.writePower('on');
    const again = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'getPowerStatus', targets: ['b1'] } });
    expect(again.json.results[0].after).toBe('on');
    expect(again.json.results[0].attempts).toBe(1);
  }, 60_000);

  it('changes power for an administrator only', async () => {
    a.writePower('off');
    const refused = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'powerOn', targets: ['a1'] } });
    expect(refused.status).toBe(403);
    expect(a.readPower()).toBe('off');
    const r = await call(srv.url, 'POST', '/api/v1/oob', { token: admin, body: { operation: 'powerOn', targets: ['a1'] } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.results[0]).toMatchObject({ target: 'a1', operation: 'powerOn', before: 'off', after: 'on', status: 'ok' });
    await waitFor(() => a.readPower() === 'on', 10_000, () => 'the BMC is not on');
  }, 60_000);

  it('reads sensors and hardware information per target', async () => {
    const s = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'getSensorList', targets: ['a1'] } });
    expect(s.status, s.text).toBe(200);
    expect(s.json.code).toBe(0);
    expect(s.json.results.length).toBeGreaterThan(0);
    const h = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'getHardwareInfo', targets: ['a1'] } });
    expect(h.status, h.text).toBe(200);
    expect(h.json.code).toBe(0);
    const unknown = await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'getPowerStatus', targets: ['nosuch'] } });
    expect(unknown.status).toBe(404);
  }, 60_000);

  it("shows the monitor's polling in /metrics: controllers polled, their latency", async () => {
    putSettings(db, { 'monitor.listen': `127.0.0.1:${await freeUdpPort()}`, 'monitor.poll_s': '1', 'monitor.poll_timeout_s': '1' });
    const mon = daemon(join(binaries(), 'kanri'), ['monitor'], { env: { ...process.env, KANRI_DB: db, LANG: 'C' } });
    try {
      const value = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await call(srv.url, 'GET', '/metrics', { token: oper })).text)?.[1] ?? NaN);
      await waitFor(async () => (await value('kanri_monitor_poll_latency_seconds_count')) >= 2, 60_000, () => `no polls counted: ${mon.log()}`);
      // The dead controller is recorded once its poll's deadline passed.
      await waitFor(async () => (await value('kanri_monitor_polled_controllers')) === 3, 30_000, () => 'not every controller polled');
      expect(await value('kanri_monitor_poll_latency_seconds_sum')).toBeGreaterThan(0);
    } finally {
      await mon.stop();
    }
  }, 90_000);

  it('reports controller reachability in /metrics', async () => {
    const r = await call(srv.url, 'GET', '/metrics', { token: oper });
    expect(r.text).toContain('kanri_controller_up{machine="a1",type="ipmi"} 1');
    expect(r.text).toContain('kanri_controller_up{machine="dead",type="ipmi"} 0');
    expect(r.text).toMatch(/kanri_controller_call_duration_seconds_count\{operation="getPowerStatus"\} \d+/);
  });
});
