// dscli getPowerReading / setPowerLimit. Redfish against DMTF's mockup server: its
// public-rackmount1 chassis has EnvironmentMetrics and a power Control (the newer form) and
// the older Power/PowerControl; a copy without the newer resources serves the older path.
// IPMI DCMI: OpenIPMI's ipmi_sim has no DCMI (it answers C1h), and Debian and npm have no
// BMC simulator that does, so the IPMI side is tested for its "not supported" answer only.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dscli } from './support/dscli.js';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer, skipReason } from './support/peers.js';
import { type Certs, makeCerts, MOCKUP_DIR, type Peer, redfishJson, redfishPeersMissing, startMockup } from './support/redfish.js';
import { fixtureStore, tempDir } from './support/store.js';

const SUITE = 'dscli power reading and capping';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('redfishtool', SUITE) && requirePeer('openssl', SUITE) && requirePeer('ipmi_sim', SUITE);

const PW = 'Mockup-Pass-93';

describe.runIf(havePeers)(SUITE, () => {
  let certs: Certs;
  let mockup: Peer, legacy: Peer;
  let rack: SimRack;
  let db: string;
  const get = (port: number, path: string) => redfishJson(port, 'admin', PW, path);

  beforeAll(async () => {
    certs = makeCerts();
    // The older form only: no Controls, no EnvironmentMetrics.
    const old = join(tempDir(), 'legacy-rackmount');
    cpSync(join(MOCKUP_DIR, 'public-rackmount1'), old, { recursive: true });
    rmSync(join(old, 'Chassis', '1U', 'Controls'), { recursive: true });
    rmSync(join(old, 'Chassis', '1U', 'EnvironmentMetrics'), { recursive: true });
    const chassis = join(old, 'Chassis', '1U', 'index.json');
    const c = JSON.parse(readFileSync(chassis, 'utf8'));
    delete c.Controls;
    delete c.EnvironmentMetrics;
    writeFileSync(chassis, JSON.stringify(c));
    [mockup, legacy, rack] = await Promise.all([
      startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key }),
      startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key, mockup: old }),
      startSims(1, { rich: false }),
    ]);
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, PW + '\n', { mode: 0o600 });
    db = fixtureStore('kanri: 1\n');
    for (const [name, port] of [['new1', mockup.port], ['old1', legacy.port]] as const) {
      expect(dscli(db, ['createServer', name, 'mgmt=redfish', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`, `ca_file=${certs.caCert}`]).code).toBe(0);
    }
    const b = rack.bmcs[0]!;
    expect(dscli(db, ['createServer', 'bmc1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${b.port}`, 'user=admin', `password_file=${b.passwordFile('admin')}`]).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([mockup?.stop(), legacy?.stop(), rack?.stop()]);
  });

  it('reads consumption and the limit: metrics and the power Control, else PowerControl', async () => {
    const r = dscli(db, ['getPowerReading', 'new1,old1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe([
      'new1 reading=374W average=319W minimum=271W maximum=489W interval=30min limit=500W',
      'old1 reading=344W average=319W minimum=271W maximum=489W interval=30min limit=500W',
      '',
    ].join('\n'));
    const j = JSON.parse(dscli(db, ['getPowerReading', 'new1', '--json']).out);
    expect(j).toMatchObject({ target: 'new1', watts: 374, limit_watts: 500, limit_min: 150, limit_max: 1000, source: 'redfish-control' });
    const em = await get(mockup.port, '/redfish/v1/Chassis/1U/EnvironmentMetrics');
    expect((em.PowerWatts as { Reading: number }).Reading).toBe(374);
  });

  it('sets the limit on the power Control, checks the allowed range first, turns it off; read back by redfishtool', async () => {
    let r = dscli(db, ['setPowerLimit', 'new1', 'watts=400']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'new1 ok power limit 400 W\n' });
    let ctl = await get(mockup.port, '/redfish/v1/Chassis/1U/Controls/PowerLimit');
    expect(ctl).toMatchObject({ SetPoint: 400, ControlMode: 'Automatic' });

    r = dscli(db, ['setPowerLimit', 'new1', 'watts=2000']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/outside what the controller accepts \(150-1000 W\); nothing was changed/);
    expect((await get(mockup.port, '/redfish/v1/Chassis/1U/Controls/PowerLimit')).SetPoint).toBe(400);

    r = dscli(db, ['setPowerLimit', 'new1', 'watts=off']);
    expect(r).toMatchObject({ code: 0, out: 'new1 ok power limit off\n' });
    ctl = await get(mockup.port, '/redfish/v1/Chassis/1U/Controls/PowerLimit');
    expect(ctl.ControlMode).toBe('Disabled');
    expect(dscli(db, ['getPowerReading', 'new1']).out).toMatch(/ limit=off\n$/);

    for (const bad of ['watts=0', 'watts=12.5', 'watts=lots']) expect(dscli(db, ['setPowerLimit', 'new1', bad]).code).toBe(1);
    expect(dscli(db, ['setPowerLimit', 'new1']).code).toBe(1);
  });

  it('sets the limit in PowerControl where there is no Control (the mockup replaces the whole array, so only the limit remains)', async () => {
    const r = dscli(db, ['setPowerLimit', 'old1', 'watts=450']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'old1 ok power limit 450 W\n' });
    const p = await get(legacy.port, '/redfish/v1/Chassis/1U/Power');
    expect((p.PowerControl as Array<{ PowerLimit: { LimitInWatts: number } }>)[0]!.PowerLimit.LimitInWatts).toBe(450);
    expect(dscli(db, ['getPowerReading', 'old1']).out).toBe('old1 reading=unknown limit=450W\n');
  });

  it('a BMC without DCMI: not supported (6), said per server in a mixed ServerList (7)', () => {
    let r = dscli(db, ['getPowerReading', 'bmc1']);
    expect(r.code, r.err).toBe(6);
    expect(r.err).toMatch(/DCMI Get Power Reading: completion code 0xc1 \(the BMC does not implement DCMI power management\)/);
    r = dscli(db, ['setPowerLimit', 'bmc1', 'watts=300']);
    expect(r.code).toBe(6);
    r = dscli(db, ['getPowerReading', 'new1', 'bmc1']);
    expect(r.code).toBe(7);
    expect(r.out).toMatch(/^new1 reading=374W .*\nbmc1 failed completion-code: DCMI Get Power Reading: completion code 0xc1 \(the BMC does not implement DCMI power management\)\n$/);
  });
});
