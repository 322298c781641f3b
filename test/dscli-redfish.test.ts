// dscli and pvmutl against real Redfish services on 127.0.0.1 over HTTPS: the sushy-tools
// emulator (libvirt test driver; power and indicator change and stay; basic auth) and
// DMTF's mockup server with public-rackmount1 (sessions, LogServices, Sensors), with
// throw-away certificates trusted by pinned fingerprint or CA file; results cross-checked
// with redfishtool. ipmi_sim stands in for the BMC servers of a mixed ServerList.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { dscli, lines, secretFile } from './support/dscli.js';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer, skipReason } from './support/peers.js';
import {
  type Certs, libvirtNode, makeCerts, type Peer, redfishPeersMissing, redfishtool, startMockup, startSushy, tcpBlackHole,
} from './support/redfish.js';
import { exec, fixtureStore, queryAll, storeBytes, tempDir } from './support/store.js';

const SUITE = 'dscli against Redfish peers';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('redfishtool', SUITE) && requirePeer('openssl', SUITE) && requirePeer('ipmi_sim', SUITE);

const SUSHY_PW = 'Sushy-Pass-41';
const WRONG_PW = 'Wrong-Pass-77';
const MOCK_PW = 'Mockup-Pass-93';
/** The mockup server's fixed session token: it must never appear in an output or the store. */
const MOCK_TOKEN = '1234567890ABCDEF';

describe.runIf(havePeers)(SUITE, () => {
  let certs: Certs;
  let sushy: Peer, multi: Peer, mockup: Peer;
  let hole: Awaited<ReturnType<typeof tcpBlackHole>>;
  let rack: SimRack;
  let db: string;
  let sushyPw: string, wrongPw: string, mockPw: string;
  const outputs: string[] = [];
  const d = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const r = dscli(db, args, o);
    outputs.push(r.out, r.err);
    return r;
  };
  const kanri = (args: string[]) => {
    const r = run('kanri', args, { db });
    outputs.push(r.out, r.err);
    return r;
  };
  const sushyState = async (): Promise<string> => {
    const r = await redfishtool(sushy.port, 'admin', SUSHY_PW, ['Systems', '-F', 'get', '-P', 'PowerState']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).PowerState as string;
  };

  beforeAll(async () => {
    certs = makeCerts();
    const dir = tempDir();
    [sushy, multi, mockup, hole, rack] = await Promise.all([
      startSushy({ cert: certs.selfSigned.cert, key: certs.selfSigned.key, users: { admin: SUSHY_PW } }),
      startSushy({ cert: certs.caSigned.cert, key: certs.caSigned.key, users: { admin: SUSHY_PW }, libvirt: libvirtNode(dir, ['sysA', 'sysB']) }),
      startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key }),
      tcpBlackHole(),
      startSims(1, { power: 'on', rich: false }),
    ]);
    sushyPw = secretFile(SUSHY_PW);
    wrongPw = join(tempDir(), 'wrong');
    writeFileSync(wrongPw, WRONG_PW + '\n', { mode: 0o600 });
    mockPw = join(tempDir(), 'mock');
    writeFileSync(mockPw, MOCK_PW + '\n', { mode: 0o600 });
    db = fixtureStore(`
kanri: 1
settings: { sim.delay_ms: "0", redfish.on_wait_s: "20", redfish.soft_off_wait_s: "20" }
groups:
  - name: G
    type: physical
    drivers: { power: redfish, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings:
      - { host: h01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }
    pool: [m1]
machines:
  - name: m1
    kind: physical
    power: off
    bmc: { type: redfish, address: 127.0.0.1, port: ${sushy.port}, user: admin }
    driver_settings: { redfish: { auth: basic } }
    active: { group: G, model: M, host: h01, from: group_pool, since: "2026-10-01T09:00:00.000Z" }
`);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([sushy?.stop(), multi?.stop(), mockup?.stop(), hole?.close(), rack?.stop()]);
  });

  it('an unknown certificate is refused with its fingerprint named (4); trust is explicit', () => {
    // m1 comes from the description (bmc: type redfish): the password is set with dscli
    let r = d(['setServer', 'm1', `password_file=${sushyPw}`]);
    expect(r).toMatchObject({ code: 0, out: '', err: '' });
    r = d(['getPowerStatus', 'm1']);
    expect(r.code).toBe(4);
    expect(r.out).toContain(`m1 unknown (certificate: the certificate of 127.0.0.1:${sushy.port} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)`);
    expect(r.out).toContain(`its fingerprint is ${certs.selfSigned.fingerprint}`);
    // kanri redfish trust: without --fingerprint or --yes nothing is accepted
    r = kanri(['redfish', 'trust', 'm1']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(certs.selfSigned.fingerprint);
    expect(r.err).toMatch(/not accepted/);
    r = kanri(['redfish', 'trust', 'm1', '--fingerprint', certs.caSigned.fingerprint]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not .*: not accepted/);
    expect(d(['getPowerStatus', 'm1']).code).toBe(4);
    // openssl's own form of the fingerprint is accepted
    const openssl = `sha256 Fingerprint=${certs.selfSigned.fingerprint.slice('SHA256:'.length)}`;
    r = kanri(['redfish', 'trust', 'm1', '--fingerprint', openssl]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/accepted for m1/);
    r = d(['getPowerStatus', 'm1']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/^m1 (on|off)\n$/);
    // a pin that does not match (the certificate was replaced) is refused, naming both
    expect(d(['setServer', 'm1', `fingerprint=${certs.caSigned.fingerprint}`]).code).toBe(0);
    r = d(['checkConnection', 'm1']);
    expect(r.code).toBe(4);
    expect(r.out).toContain(`has fingerprint ${certs.selfSigned.fingerprint}, not the pinned ${certs.caSigned.fingerprint}`);
    expect(d(['setServer', 'm1', 'fingerprint=not-a-fingerprint']).code).toBe(1);
    expect(kanri(['redfish', 'trust', 'm1', '--yes']).code).toBe(0);
    expect(queryAll(db, "SELECT value FROM driver_settings WHERE driver = 'redfish' AND key = 'fingerprint' AND machine_id = (SELECT id FROM machines WHERE name = 'm1')"))
      .toEqual([{ value: certs.selfSigned.fingerprint }]);
    expect(d(['checkConnection', 'm1']).code).toBe(0);
  }, 60_000);

  it('a CA file: the controller\'s certificate must be signed by it; verify=off only explicitly and warned', () => {
    let r = d(['createServer', 'mock1', 'mgmt=redfish', 'address=127.0.0.1', `port=${mockup.port}`, 'user=admin', `password_file=${mockPw}`, `ca_file=${certs.otherCa}`]);
    expect(r.code).toBe(0);
    r = d(['checkConnection', 'mock1']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/^mock1 failed certificate: .*not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE with .*other-ca\.pem\); its fingerprint is SHA256:/);
    expect(d(['setServer', 'mock1', `ca_file=${certs.caCert}`]).code).toBe(0);
    r = d(['checkConnection', 'mock1']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^mock1 ok \(Redfish 1\.\d+\.\d+, Contoso 3500, system 437XR1138R2 On, session login, certificate signed by .*ca\.pem\)\n$/);
    // verify=off: warned when set, said in checkConnection
    r = d(['createServer', 'lab1', 'mgmt=redfish', 'address=127.0.0.1', `port=${multi.port}`, 'user=admin', `password_file=${sushyPw}`, 'system=sysB', 'verify=off']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: verify=off: the controller's certificate is not checked/);
    r = d(['checkConnection', 'lab1']);
    expect(r.out).toMatch(/certificate NOT verified \(verify=off\)\)\n$/);
    expect(d(['deleteServer', 'lab1']).code).toBe(0);
  });

  it('wrong password: 4; a controller that accepts TCP and never answers: 5 within the deadline', async () => {
    expect(d(['setServer', 'm1', `password_file=${wrongPw}`]).code).toBe(0);
    let r = d(['checkConnection', 'm1']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/^m1 failed authentication: the controller refused the login \(GET \/redfish\/v1\/Systems\/[^:]+: HTTP 401/);
    expect(d(['powerOn', 'm1']).code).toBe(4);
    expect(d(['setServer', 'm1', `password_file=${sushyPw}`]).code).toBe(0);
    expect(d(['createServer', 'hung', 'mgmt=redfish', 'address=127.0.0.1', `port=${hole.port}`, 'user=admin', `password_file=${sushyPw}`]).code).toBe(0);
    for (const cmd of ['getPowerStatus', 'powerOff', 'checkConnection']) {
      const t0 = Date.now();
      r = d([cmd, 'hung', 'timeout=1.5']);
      const ms = Date.now() - t0;
      expect(r.code, `${cmd}: ${r.out}`).toBe(5);
      expect(r.out).toMatch(/^hung (unknown \(network|failed network): no answer from 127\.0\.0\.1:\d+ within the deadline/);
      // one deadline plus the process start, never more
      expect(ms).toBeLessThan(1500 + 2500);
    }
    // (the test's own event loop takes the connections the kernel queued meanwhile)
    await new Promise((r) => setTimeout(r, 200));
    expect(hole.accepted()).toBeGreaterThan(0);
  }, 60_000);

  it('power: on, off, cycle, reset, dump, shutdownOs, read back and cross-checked with redfishtool', async () => {
    let r = d(['powerOff', 'm1']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^m1 ok (on->off|off \(no change\))\n$/);
    expect(await sushyState()).toBe('Off');
    expect(d(['getPowerStatus', 'm1']).out).toBe('m1 off\n');
    expect(d(['powerCycle', 'm1']).out).toBe('m1 ok off (no change)\n');
    r = d(['powerOn', 'm1']);
    expect(r).toMatchObject({ code: 0, out: 'm1 ok off->on\n' });
    expect(await sushyState()).toBe('On');
    expect(d(['powerOn', 'm1']).out).toBe('m1 ok on (no change)\n');
    // the test driver offers no PowerCycle: a hard restart, as the service allows
    expect(d(['powerCycle', 'm1'])).toMatchObject({ code: 0, out: 'm1 ok on->on (ForceRestart sent)\n' });
    expect(d(['reset', 'm1'])).toMatchObject({ code: 0, out: 'm1 ok on->on (ForceRestart sent)\n' });
    expect(d(['dump', 'm1'])).toMatchObject({ code: 0, out: 'm1 ok on->on (Nmi sent)\n' });
    r = d(['shutdownOs', 'm1', 'wait=10']);
    expect(r).toMatchObject({ code: 0, out: 'm1 ok on->off\n' });
    expect(await sushyState()).toBe('Off');
    r = d(['powerOn', 'm1', '--json']);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ target: 'm1', operation: 'powerOn', before: 'off', after: 'on', status: 'ok', layer: null, code: 0 });
    expect(queryAll(db, "SELECT last_power, power_state, last_status FROM machines WHERE name = 'm1'")).toEqual([{ last_power: 'on', power_state: 'on', last_status: 'ok' }]);
    // every ResetType sent was one the service lists
    const allowed = JSON.parse((await redfishtool(sushy.port, 'admin', SUSHY_PW, ['Systems', '-F', 'get'])).stdout).Actions['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues'] as string[];
    const sent = [...sushy.log().matchAll(/"POST \/redfish\/v1\/Systems\/[^/]+\/Actions\/ComputerSystem\.Reset/g)].length;
    expect(sent).toBeGreaterThanOrEqual(6);
    expect(allowed).toEqual(expect.arrayContaining(['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'Nmi']));
  }, 90_000);

  it('a service with several systems: system=ID names one; none named is refused with the list', async () => {
    let r = d(['createServer', 'sysA', 'mgmt=redfish', 'address=127.0.0.1', `port=${multi.port}`, 'user=admin', `password_file=${sushyPw}`, `ca_file=${certs.caCert}`]);
    expect(r.code).toBe(0);
    r = d(['getPowerStatus', 'sysA']);
    expect(r.code).toBe(8);
    expect(r.out).toMatch(/^sysA unknown \(configuration: the Redfish service has 2 systems \(.*\): name one with dscli setServer sysA system=ID\)/);
    const ids = JSON.parse((await redfishtool(multi.port, 'admin', SUSHY_PW, ['Systems', 'list'])).stdout).Members.map((m: { Id: string }) => m.Id) as string[];
    expect(ids).toHaveLength(2);
    expect(d(['setServer', 'sysA', `system=${ids[0]}`]).code).toBe(0);
    r = d(['checkConnection', 'sysA']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain(`system ${ids[0]} On`);
    expect(ids).toContain('00000000-0000-4000-8000-000000000002');
    // by Name too (the emulator's Ids are UUIDs); one controller address is one registration
    expect(d(['setServer', 'sysA', 'system=sysB']).code).toBe(0);
    expect(d(['checkConnection', 'sysA']).out).toContain('system 00000000-0000-4000-8000-000000000002 On');
    r = d(['createServer', 'sysA2', 'mgmt=redfish', 'address=127.0.0.1', `port=${multi.port}`, 'user=admin', `password_file=${sushyPw}`, `system=${ids[0]}`]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/already registered as sysA/);
    expect(d(['setServer', 'sysA', 'system=nosuch']).code).toBe(0);
    r = d(['getPowerStatus', 'sysA']);
    expect(r.out).toMatch(new RegExp(`the service has no system 'nosuch' \\(its systems: ${ids.join(', ')}\\)`));
    expect(d(['setServer', 'sysA', `system=${ids[0]}`]).code).toBe(0);
  }, 60_000);

  it('getSel, clearSel, getSensorList, getHardwareInfo, identify on the mockup (sessions), cross-checked', async () => {
    let r = d(['getSel', 'mock1']);
    expect(r.code, r.err).toBe(0);
    // the system log (Log1) and the manager's (Log), oldest first; the mockup's nextLink, which repeats the page, ends the walk
    expect(lines(r.out)).toEqual([
      'Log1/1 | 2012-03-07T14:44:00Z | Temperature #0x01 | Upper Critical - going high | Critical: Temperature threshold exceeded [0x592A28]',
      'Log/1 | 2012-03-07T14:44:00Z | - | - | Critical: System May be Melting [Event.1.0.TempWayTooHot]',
      'Log1/2 | 2012-03-07T14:45:00Z | Temperature #0x02 | Upper Critical - going high | Critical: Temperature threshold exceeded [0x592E28]',
    ]);
    const tool = await redfishtool(mockup.port, 'admin', MOCK_PW, ['raw', 'GET', '/redfish/v1/Systems/437XR1138R2/LogServices/Log1/Entries']);
    const toolEntries = JSON.parse(tool.stdout).Members as Array<{ Id: string; Message: string }>;
    expect(toolEntries.map((e) => e.Message)).toEqual(['Temperature threshold exceeded', 'Temperature threshold exceeded']);
    r = d(['getSel', 'mock1', '1', '--json']);
    expect(JSON.parse(r.out)).toMatchObject({ target: 'mock1', record_id: '2', sensor_type: 'Temperature', sensor_number: 2, time: '2012-03-07T14:45:00Z' });
    r = d(['clearSel', 'mock1']);
    expect(r).toMatchObject({ code: 0, out: 'mock1 ok cleared (3 entries read before clearing)\n' });
    expect(mockup.log()).toMatch(/POST \/redfish\/v1\/Systems\/437XR1138R2\/LogServices\/Log1\/Actions\/LogService\.ClearLog HTTP\/1\.\d" 204/);

    r = d(['getSensorList', 'mock1']);
    expect(r.code).toBe(0);
    const sensors = JSON.parse((await redfishtool(mockup.port, 'admin', MOCK_PW, ['raw', 'GET', '/redfish/v1/Chassis/1U/Sensors'])).stdout);
    expect(lines(r.out)).toHaveLength(sensors['Members@odata.count']);
    expect(r.out).toContain('Ambient Temperature | Temperature | 22.5 degrees C | ok\n');
    expect(r.out).toContain('Power Supply #1 Input Voltage | Voltage | 119.27 Volts | ok | lnr=na lcr=115 lnc=118 unc=122 ucr=125 unr=na\n');
    // an older service: Thermal (sushy)
    r = d(['getSensorList', 'm1']);
    expect(r.out).toContain('CPU Temp | Temperature | 41 degrees C | ok | lnr=na lcr=na lnc=na unc=42 ucr=45 unr=48\n');
    expect(r.out).toContain('BaseBoard System Fan | Fan | 2100 RPM | ok | lnr=0 lcr=na lnc=na unc=na ucr=na unr=na\n');

    r = d(['getHardwareInfo', 'mock1', '--json']);
    const hw = JSON.parse(r.out);
    const sys = JSON.parse((await redfishtool(mockup.port, 'admin', MOCK_PW, ['Systems', '-F', 'get'])).stdout);
    const mgr = JSON.parse((await redfishtool(mockup.port, 'admin', MOCK_PW, ['Managers', '-F', 'get'])).stdout);
    expect(hw).toMatchObject({ target: 'mock1', model: sys.Model, serial: sys.SerialNumber, uuid: sys.UUID, manufacturer: sys.Manufacturer, firmware: mgr.FirmwareVersion, chassis_type: 'RackMount' });

    // identify: IndicatorLED of the system, persisted (PATCH) and read back by redfishtool
    expect(d(['identify', 'mock1', 'on'])).toMatchObject({ code: 0, out: 'mock1 ok identify on (until turned off)\n' });
    expect(JSON.parse((await redfishtool(mockup.port, 'admin', MOCK_PW, ['Systems', '-F', 'get', '-P', 'IndicatorLED'])).stdout).IndicatorLED).toBe('Lit');
    expect(d(['identify', 'mock1', 'off']).code).toBe(0);
    expect(JSON.parse((await redfishtool(mockup.port, 'admin', MOCK_PW, ['Systems', '-F', 'get', '-P', 'IndicatorLED'])).stdout).IndicatorLED).toBe('Off');
    const t0 = Date.now();
    expect(d(['identify', 'm1', '1'])).toMatchObject({ code: 0, out: 'm1 ok identify 1 s\n' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(JSON.parse((await redfishtool(sushy.port, 'admin', SUSHY_PW, ['Systems', '-F', 'get', '-P', 'IndicatorLED'])).stdout).IndicatorLED).toBe('Off');
    // a power change on the static mockup is accepted but not seen: 8, verify
    r = d(['powerOff', 'mock1', 'wait=1']);
    expect(r).toMatchObject({ code: 8 });
    expect(r.out).toBe('mock1 failed verify: ForceOff sent; still on after 1 s\n');
    // every session was deleted again
    const made = [...mockup.log().matchAll(/"POST \/redfish\/v1\/SessionService\/Sessions HTTP\/1\.\d" 204/g)].length;
    const deleted = [...mockup.log().matchAll(/"DELETE \/redfish\/v1\/SessionService\/Sessions\/\S+ HTTP\/1\.\d" 204/g)].length;
    expect(made).toBeGreaterThan(5);
    expect(deleted).toBe(made);
  }, 90_000);

  it('BMC-only commands are 6 on Redfish servers; getServerList shows them', () => {
    for (const c of [['getBmcConfig', 'm1'], ['backupBmcConfig', 'm1', join(tempDir(), 'x.json')], ['setBmcConfig', 'm1', 'vlan=3'], ['restoreBmcConfig', 'm1', '/nonexistent.json']]) {
      const r = d(c);
      expect(r.code, c.join(' ')).toBe(6);
      expect(r.err).toMatch(/is for BMC \(IPMI\) servers only; m1 is mgmt=redfish/);
    }
    const r = d(['getServerList']);
    expect(r.out).toContain(`m1 redfish 127.0.0.1:${sushy.port} on ok\n`);
    expect(d(['getAlertList', 'm1']).code).toBe(0);
  });

  it('a mixed ServerList of IPMI and Redfish servers in one call: one line each, 7', () => {
    const bmc = rack.bmcs[0]!;
    expect(d(['createServer', 'bmc1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.port}`, 'user=admin', `password_file=${bmc.passwordFile('admin')}`]).code).toBe(0);
    let r = d(['getPowerStatus', 'bmc1,m1,mock1,sysA']);
    expect(r).toMatchObject({ code: 0, out: 'bmc1 on\nm1 on\nmock1 on\nsysA on\n' });
    expect(d(['setServer', 'sysA', `password_file=${wrongPw}`]).code).toBe(0);
    const t0 = Date.now();
    r = d(['getPowerStatus', 'bmc1', 'm1', 'sysA', 'hung', 'timeout=2']);
    expect(Date.now() - t0).toBeLessThan(2000 + 2500);
    expect(r.code).toBe(7);
    const l = lines(r.out);
    expect(l[0]).toBe('bmc1 on');
    expect(l[1]).toBe('m1 on');
    expect(l[2]).toMatch(/^sysA unknown \(authentication: /);
    expect(l[3]).toMatch(/^hung unknown \(network: /);
    expect(d(['setServer', 'sysA', `password_file=${sushyPw}`]).code).toBe(0);
    r = d(['checkConnection', 'bmc1,m1', '--json']);
    expect(lines(r.out).map((x) => JSON.parse(x)).map((o) => [o.target, o.status])).toEqual([['bmc1', 'ok'], ['m1', 'ok']]);
  }, 60_000);

  it('pvmutl poweron / shutdown / reboot drive the emulator through the redfish power driver', async () => {
    // the group's power driver is redfish (the description); the machine is m1, trusted and with its password from above
    expect(queryAll(db, "SELECT driver FROM group_drivers WHERE interface = 'power'")).toEqual([{ driver: 'redfish' }]);
    expect(d(['powerOff', 'm1']).code).toBe(0);
    expect(await sushyState()).toBe('Off');
    let r = run('pvmutl', ['poweron', 'G', 'h01'], { db, timeout: 60_000 });
    outputs.push(r.out, r.err);
    expect(r.code, r.err + r.out).toBe(0);
    expect(await sushyState()).toBe('On');
    r = run('pvmutl', ['shutdown', 'G', 'h01'], { db, timeout: 60_000 });
    outputs.push(r.out, r.err);
    expect(r.code, r.err + r.out).toBe(0);
    expect(await sushyState()).toBe('Off');
    // reboot of a machine that is off powers it on; of one that is on, restarts it
    r = run('pvmutl', ['reboot', 'G', 'h01'], { db, timeout: 60_000 });
    expect(r.code, r.err + r.out).toBe(0);
    expect(await sushyState()).toBe('On');
    const before = [...sushy.log().matchAll(/"POST \/redfish\/v1\/Systems\/[^/]+\/Actions\/ComputerSystem\.Reset/g)].length;
    r = run('pvmutl', ['reboot', 'G', 'h01'], { db, timeout: 60_000 });
    expect(r.code, r.err + r.out).toBe(0);
    expect([...sushy.log().matchAll(/"POST \/redfish\/v1\/Systems\/[^/]+\/Actions\/ComputerSystem\.Reset/g)].length).toBe(before + 1);
    const steps = queryAll<{ output: string }>(db, "SELECT s.output FROM job_steps s WHERE s.output LIKE '%ForceRestart%' ORDER BY s.job_id DESC, s.seq DESC LIMIT 1");
    expect(steps[0]?.output).toMatch(/m1: on->on \(ForceRestart\)/);
    // a hung controller fails the job with the layer named, within the deadline
    exec(db, "INSERT OR REPLACE INTO settings (key, value) VALUES ('redfish.deadline_s', '2')");
    const hole2 = await tcpBlackHole();
    try {
      expect(d(['setServer', 'm1', `port=${hole2.port}`]).code).toBe(0);
      const t0 = Date.now();
      r = run('pvmutl', ['poweron', 'G', 'h01'], { db, timeout: 60_000 });
      expect(Date.now() - t0).toBeLessThan(2000 + 5000);
      expect(r.code).not.toBe(0);
      const failed = queryAll<{ output: string }>(db, "SELECT output FROM job_steps WHERE status = 'failed' ORDER BY job_id DESC, seq DESC LIMIT 1");
      expect(failed[0]?.output ?? '').toMatch(/network error: no answer from 127\.0\.0\.1:\d+ within the deadline/);
      expect(d(['setServer', 'm1', `port=${sushy.port}`]).code).toBe(0);
    } finally {
      await hole2.close();
    }
    exec(db, "DELETE FROM settings WHERE key = 'redfish.deadline_s'");
  }, 180_000);

  it('no password or session token in any output, log or the store in clear', () => {
    const all = outputs.join('\n') + sushy.log() + multi.log();
    for (const s of [SUSHY_PW, WRONG_PW, MOCK_PW, MOCK_TOKEN]) expect(all).not.toContain(s);
    const raw = storeBytes(db);
    for (const s of [SUSHY_PW, WRONG_PW, MOCK_PW, MOCK_TOKEN]) expect(raw.includes(s)).toBe(false);
    const audit = queryAll<{ detail: string }>(db, 'SELECT * FROM audit').map((x) => JSON.stringify(x)).join('\n');
    for (const s of [SUSHY_PW, WRONG_PW, MOCK_PW]) expect(audit).not.toContain(s);
  });
});
