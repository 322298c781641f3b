// dscli end to end against OpenIPMI ipmi_sim BMCs on 127.0.0.1, cross-checked with
// ipmitool; pvmutl driving the same BMC through the ipmi power driver.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackHole, startSims, type SimBmc, type SimRack } from './support/ipmi-sim.js';
import { requirePeer } from './support/peers.js';
import { onTerminal, run } from './support/cli.js';
import { exec, fixtureStore, queryAll, storeBytes, tempDir } from './support/store.js';
import { dscli, lines } from './support/dscli.js';

const havePeers = requirePeer('ipmi_sim', 'dscli against ipmi_sim') && requirePeer('ipmitool', 'dscli cross-check with ipmitool');

const YAML = `
kanri: 1
settings: { sim.delay_ms: "0", ipmi.on_wait_s: "10", ipmi.soft_off_wait_s: "10" }
groups:
  - name: G
    type: physical
    drivers: { power: ipmi, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings:
      - { host: h01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }
    pool: [m1]
machines:
  - { name: m1, kind: physical, power: off, active: { group: G, model: M, host: h01, from: group_pool, since: "2026-10-01T09:00:00.000Z" } }
`;

const SECRETS = ['adminpass', 'operpass', 'viewerpass', 'wrongpass9'];

describe.runIf(havePeers)('dscli against ipmi_sim', () => {
  let rack: SimRack;
  let a: SimBmc, b: SimBmc, c: SimBmc;
  let hole: Awaited<ReturnType<typeof blackHole>>;
  let db: string;
  const outputs: string[] = [];
  const d = (args: string[], o: { input?: string } = {}) => {
    const r = dscli(db, args, o);
    outputs.push(r.out, r.err);
    return r;
  };
  const reg = (name: string, s: SimBmc | { port: number }, extra: string[] = [], input?: string) => {
    const r = d(['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${s.port}`, ...extra], input !== undefined ? { input } : {});
    expect(r.code, r.err).toBe(0);
  };

  beforeAll(async () => {
    rack = await startSims(3, { console: true, power: 'off' });
    [a, b, c] = rack.bmcs as [SimBmc, SimBmc, SimBmc];
    hole = await blackHole();
    db = fixtureStore(YAML);
    reg('a1', a, ['user=admin', `password_file=${a.passwordFile('admin')}`]);
    reg('badpw', b, ['user=admin', 'password=-'], 'wrongpass9\n');
    reg('dead', hole, ['user=admin', `password_file=${a.passwordFile('admin')}`]);
    // m1 comes from the pvmutl configuration: createServer attaches to it.
    reg('m1', c, ['user=oper', `password_file=${c.passwordFile('oper')}`]);
  }, 90_000);
  afterAll(async () => {
    await rack?.stop();
    await hole?.close();
  });

  it('checkConnection: ok, wrong password (4), black hole (5)', () => {
    let r = d(['checkConnection', 'a1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^a1 ok \(IPMI 2\.0, firmware .*cipher suite 3\)\n$/);
    r = d(['checkConnection', 'badpw']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/^badpw failed authentication: /);
    const t0 = Date.now();
    r = d(['checkConnection', 'dead', 'timeout=1']);
    expect(r.code).toBe(5);
    expect(r.out).toMatch(/^dead failed network: /);
    expect(Date.now() - t0).toBeLessThan(1000 + 3000);
    expect(queryAll(db, "SELECT last_status FROM machines WHERE name = 'a1'")).toEqual([{ last_status: 'ok' }]);
  });

  it('cipher=auto probes the BMC once and keeps the probe in the registry', () => {
    expect(d(['setServer', 'a1', 'cipher=auto']).code).toBe(0);
    try {
      const r = d(['checkConnection', 'a1']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/cipher suite (17|3)\)/);
      const [row] = queryAll<{ bmc_probe: string | null; cipher_suite: number | null }>(db, "SELECT bmc_probe, cipher_suite FROM machines WHERE name = 'a1'");
      expect(row!.cipher_suite).toBeNull();
      expect(JSON.parse(row!.bmc_probe!)).toMatchObject({ host: '127.0.0.1', port: a.port, ipmi20: true });
      expect(d(['getPowerStatus', 'a1']).code).toBe(0);
    } finally {
      expect(d(['setServer', 'a1', 'cipher=3']).code).toBe(0);
    }
  });

  it('power on / off / cycle / reset, state read back and cross-checked with ipmitool', async () => {
    a.writePower('off');
    let r = d(['powerOn', 'a1']);
    expect(r).toMatchObject({ code: 0, out: 'a1 ok off->on\n' });
    expect(a.readPower()).toBe('on');
    expect((await a.ipmitool(['chassis', 'power', 'status'])).stdout).toContain('Chassis Power is on');
    expect(d(['getPowerStatus', 'a1']).out).toBe('a1 on\n');
    const n = a.controlLog().length;
    expect(d(['powerOn', 'a1']).out).toBe('a1 ok on (no change)\n');
    expect(a.controlLog().length).toBe(n);
    r = d(['powerCycle', 'a1']);
    expect(r).toMatchObject({ code: 0, out: 'a1 ok on->on (cycle sent)\n' });
    expect(a.controlLog().slice(-2)).toEqual(['power 0', 'power 1']);
    r = d(['reset', 'a1']);
    expect(r).toMatchObject({ code: 0, out: 'a1 ok on->on (reset sent)\n' });
    expect(a.controlLog().at(-1)).toMatch(/^reset/);
    r = d(['powerOff', 'a1']);
    expect(r).toMatchObject({ code: 0, out: 'a1 ok on->off\n' });
    expect((await a.ipmitool(['chassis', 'power', 'status'])).stdout).toContain('Chassis Power is off');
    await a.ipmitool(['chassis', 'power', 'on']);
    expect(d(['getPowerStatus', 'a1']).out).toBe('a1 on\n');
    r = d(['shutdownOs', 'a1']);
    expect(r.code).toBe(0);
    expect(a.controlLog().at(-1)).toMatch(/^shutdown/);
    expect((await a.ipmitool(['chassis', 'power', 'status'])).stdout).toContain('Chassis Power is off');
    expect(queryAll(db, "SELECT last_power, power_state FROM machines WHERE name = 'a1'")).toEqual([{ last_power: 'off', power_state: 'off' }]);
    r = d(['powerOn', 'a1', '--json']);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ target: 'a1', operation: 'powerOn', before: 'off', after: 'on', status: 'ok', layer: null, attempts: 1 });
    expect(typeof j.elapsed_ms).toBe('number');
  });

  it('a ServerList of healthy, wrong-password and black-holed BMCs: 7, one line each, one deadline', () => {
    const t0 = Date.now();
    const r = d(['getPowerStatus', 'a1,badpw', 'dead', 'timeout=2']);
    const ms = Date.now() - t0;
    expect(r.code).toBe(7);
    const l = lines(r.out);
    expect(l).toHaveLength(3);
    expect(l[0]).toMatch(/^a1 (on|off)$/);
    expect(l[1]).toMatch(/^badpw unknown \(authentication: /);
    expect(l[2]).toMatch(/^dead unknown \(network: /);
    // one deadline (2 s) plus process start-up, not the sum of the failures
    expect(ms).toBeLessThan(2000 + 2500);
    const js = d(['powerOn', 'a1,badpw,dead', 'timeout=2', '--json']);
    expect(js.code).toBe(7);
    const objs = lines(js.out).map((x) => JSON.parse(x));
    expect(objs.map((o) => [o.target, o.status, o.layer])).toEqual([['a1', 'ok', null], ['badpw', 'failed', 'authentication'], ['dead', 'failed', 'network']]);
    expect(d(['powerOn', 'dead', 'timeout=1']).code).toBe(5);
    expect(d(['powerOn', 'badpw']).code).toBe(4);
  });

  it('fan-out: dead BMCs cost one deadline together, fanout=1 serialises them', async () => {
    const h2 = await blackHole();
    try {
      reg('dead2', h2, ['user=admin', `password_file=${a.passwordFile('admin')}`]);
      let t0 = Date.now();
      let r = d(['getPowerStatus', 'dead,dead2,a1', 'timeout=1.5']);
      const parallel = Date.now() - t0;
      expect(r.code).toBe(7);
      expect(lines(r.out).map((x) => x.split(' ')[0])).toEqual(['dead', 'dead2', 'a1']);
      t0 = Date.now();
      r = d(['getPowerStatus', 'dead,dead2', 'timeout=1.5', 'fanout=1']);
      const serial = Date.now() - t0;
      expect(r.code).toBe(5);
      expect(parallel).toBeLessThan(1500 + 2500);
      expect(serial).toBeGreaterThanOrEqual(2 * 1500 - 200);
      expect(d(['deleteServer', 'dead2']).code).toBe(0);
    } finally {
      await h2.close();
    }
  });

  it('an account below operator gets 4 for power, still reads status', () => {
    expect(d(['setServer', 'a1', 'user=viewer', `password_file=${a.passwordFile('viewer')}`]).code).toBe(0);
    try {
      expect(d(['getPowerStatus', 'a1']).code).toBe(0);
      const r = d(['powerOff', 'a1']);
      expect(r.code).toBe(4);
      expect(r.out).toMatch(/^a1 failed privilege: /);
    } finally {
      expect(d(['setServer', 'a1', 'user=admin', `password_file=${a.passwordFile('admin')}`]).code).toBe(0);
    }
  });

  it('a BMC that accepts the request but does not change state: 8 (verify)', () => {
    const prog = join(a.dir, 'chassis.sh');
    const orig = readFileSync(prog, 'utf8');
    a.writePower('off');
    writeFileSync(prog, orig.replace('power) echo "$v" > "$d/power";', 'power) true;'));
    try {
      const r = d(['powerOn', 'a1', 'wait=1']);
      expect(r.code).toBe(8);
      expect(r.out).toMatch(/^a1 failed verify: on sent; still off after 1 s\n$/);
    } finally {
      writeFileSync(prog, orig);
    }
  });

  it('dump refused by the BMC with CCh: 8 (another controller error) with the completion code', () => {
    a.writePower('on');
    const r = d(['dump', 'a1']);
    expect(r.code).toBe(8);
    expect(r.out).toMatch(/^a1 failed completion-code: .*0xcc/);
  });

  it('getSel decodes entries injected through the simulator; clearSel clears them', async () => {
    await a.emu('sel_add 0x20 0x02 0x00 0x10 0x00 0x00 0x20 0x00 0x04 0x01 0x01 0x01 0x57 0x90 0x75');
    await a.emu('sel_add 0x20 0x02 0x00 0x20 0x00 0x00 0x20 0x00 0x04 0x08 0x05 0x6f 0x01 0xff 0xff');
    let r = d(['getSel', 'a1']);
    expect(r.code).toBe(0);
    const l = lines(r.out);
    expect(l.length).toBeGreaterThanOrEqual(2);
    expect(l.at(-2)).toMatch(/^0x[0-9a-f]{4} \| \S+ \| Temperature #0x01 \| threshold \| Upper Non-critical going high$/);
    expect(l.at(-1)).toMatch(/^0x[0-9a-f]{4} \| \S+ \| Power Supply #0x05 \| sensor-specific \| Power Supply Failure detected$/);
    expect(lines(d(['getSel', 'a1', '1']).out)).toEqual([l.at(-1)]);
    const ipmitoolSel = (await a.ipmitool(['sel', 'list'])).stdout;
    expect(lines(ipmitoolSel)).toHaveLength(l.length);
    r = d(['getSel', 'a1', '--json']);
    expect(JSON.parse(lines(r.out).at(-1)!)).toMatchObject({ sensor_type: 'Power Supply', event_type: 'sensor-specific', description: 'Power Supply Failure detected', direction: 'assertion' });
    r = d(['clearSel', 'a1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^a1 ok cleared \(\d+ entries read before clearing\)\n$/);
    const after = lines(d(['getSel', 'a1']).out);
    expect(after.some((x) => /Power Supply Failure/.test(x))).toBe(false);
    expect(lines((await a.ipmitool(['sel', 'list'])).stdout).filter((x) => /Power Supply/.test(x))).toHaveLength(0);
  });

  it('getSensorList: readings with units, threshold status and the thresholds in force, as ipmitool reads them', async () => {
    const r = d(['getSensorList', 'a1']);
    expect(r.code).toBe(0);
    const l = lines(r.out);
    expect(l).toContain('CPU Temp | Temperature | 56 degrees C | ok | lnr=0 lcr=8 lnc=16 unc=72 ucr=104 unr=120');
    // The BMC's 12V lower thresholds differ from the SDR's initial values; FAN1 reports no upper ones.
    expect(l).toContain('12V | Voltage | 12 Volts | ok | lnr=11.4 lcr=11.1 lnc=10.8 unc=12.6 ucr=12.9 unr=13.2');
    expect(l).toContain('FAN1 | Fan | 5000 RPM | ok | lnr=500 lcr=1000 lnc=1500 unc=na ucr=na unr=na');
    expect(l.some((x) => /^DIMM0 Presence \| Entity Presence \| states 0 \| ok$/.test(x))).toBe(true);
    const LABELS: Record<string, string> = {
      'Lower Non-Recoverable': 'lnr', 'Lower Critical': 'lcr', 'Lower Non-Critical': 'lnc',
      'Upper Non-Critical': 'unc', 'Upper Critical': 'ucr', 'Upper Non-Recoverable': 'unr',
    };
    for (const sensor of ['CPU Temp', '12V', 'FAN1']) {
      const got = (await a.ipmitool(['sensor', 'get', sensor])).stdout;
      const theirs = lines(got).flatMap((x) => {
        const m = /^\s*(Lower|Upper) ([A-Za-z-]+(?: [A-Za-z-]+)?)\s*:\s*(\S+)/.exec(x);
        const k = m && LABELS[`${m[1]} ${m[2]}`];
        return k ? [`${k}=${m![3] === 'na' ? 'na' : String(Number(m![3]))}`] : [];
      }).join(' ');
      expect(l.find((x) => x.startsWith(`${sensor} |`))!.split(' | ')[4], got).toBe(theirs);
    }
    const fan = lines(d(['getSensorList', 'a1', '--json']).out).map((x) => JSON.parse(x)).find((x) => x.sensor === 'FAN1');
    expect(fan.thresholds).toEqual({ lnr: 500, lcr: 1000, lnc: 1500, unc: null, ucr: null, unr: null });
  });

  it('getSensorList shows a threshold crossing', async () => {
    await a.emu('sensor_set_value 0x20 0 1 0x78 0');
    try {
      const l = lines(d(['getSensorList', 'a1']).out);
      expect(l.find((x) => x.startsWith('CPU Temp'))).toMatch(/^CPU Temp \| Temperature \| 80 degrees C \| unc \|/);
    } finally {
      await a.emu('sensor_set_value 0x20 0 1 0x60 0');
    }
  });

  it('getHardwareInfo: FRU and device ID', () => {
    const r = d(['getHardwareInfo', 'a1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('ipmi_version: 2.0\n');
    expect(r.out).toContain('product_name: Express5800/R120h\n');
    expect(r.out).toContain('product_serial: SN1000\n');
    expect(r.out).toContain('board_manufacturer: NEC\n');
    expect(r.out).toContain('chassis_type: Rack Mount Chassis\n');
    expect(r.out).toMatch(/^guid: [0-9a-f-]{36}$/m);
    const j = JSON.parse(d(['getHardwareInfo', 'a1', '--json']).out);
    expect(j).toMatchObject({ target: 'a1', product_name: 'Express5800/R120h' });
  });

  it('identify reaches the chassis', () => {
    expect(d(['identify', 'a1', '5']).out).toBe('a1 ok identify 5 s\n');
    expect(a.controlLog().at(-1)).toBe('identify 5 0');
    expect(d(['identify', 'a1', 'off']).code).toBe(0);
    expect(d(['identify', 'a1', 'often']).code).toBe(1);
  });

  it('the info commands take a ServerList: one block per server under its header, input order on a pipe, one deadline', () => {
    const single = d(['getHardwareInfo', 'a1']).out;
    const t0 = Date.now();
    const r = d(['getHardwareInfo', 'dead,a1', 'm1', 'timeout=2']);
    expect(Date.now() - t0).toBeLessThan(2000 + 2500);
    expect(r.code).toBe(7);
    const blocks = r.out.split('\n\n');
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(/^==> dead <==\ndead failed network: [^\n]+$/);
    expect(blocks[1] + '\n').toBe(`==> a1 <==\n${single}`);
    expect(blocks[2]).toMatch(/^==> m1 <==\n(.+\n)*product_name: Express5800\/R120h\n/);
    // the SEL and the sensors the same way; --json: every record names its server, a failed one is one record
    const sensors = d(['getSensorList', 'a[1-1],m1']);
    expect(sensors.code).toBe(0);
    expect(sensors.out).toMatch(/^==> a1 <==\n(.+\n)+\n==> m1 <==\n(.+\n)+$/);
    expect(sensors.out).toContain('\nCPU Temp | Temperature | ');
    const js = d(['getSel', 'a1,dead', 'timeout=2', '--json']);
    expect(js.code).toBe(7);
    const recs = lines(js.out).map((x) => JSON.parse(x));
    expect(recs.at(-1)).toMatchObject({ target: 'dead', operation: 'getSel', status: 'failed', layer: 'network', code: 5 });
    expect(recs.slice(0, -1).every((x) => x.target === 'a1' && typeof x.record_id === 'number')).toBe(true);
    // identify: one result line per server, like the power commands
    expect(d(['identify', 'a1,m1', '3'])).toMatchObject({ code: 0, out: 'a1 ok identify 3 s\nm1 ok identify 3 s\n' });
    expect(a.controlLog().at(-1)).toBe('identify 3 0');
    // an unknown name is an error, never dropped
    const bad = d(['getSel', 'a1,nosuch']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('nosuch');
    expect(bad.out).toBe('');
  });

  it('on a terminal the blocks appear as servers finish: a dead BMC does not hold back the others', () => {
    const shown = onTerminal(`dscli getHardwareInfo dead,a1 timeout=2`, { KANRI_DB: db, LANG: 'C', LC_ALL: '' });
    expect(shown.indexOf('==> a1 <==')).toBeGreaterThanOrEqual(0);
    expect(shown.indexOf('==> dead <==')).toBeGreaterThan(shown.indexOf('==> a1 <=='));
    expect(shown).toMatch(/==> dead <==\ndead failed network: /);
  });

  it('backupBmcConfig / restoreBmcConfig round trip; a bad backup writes nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'a1.json');
    const before = d(['getBmcConfig', 'a1']).out;
    expect(before).toMatch(/^user\.2=admin administrator/m);
    expect(d(['backupBmcConfig', 'a1', file]).code).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc).toMatchObject({ format: 'kanri-dscli-bmc-config', version: 1, server: 'a1' });
    expect(JSON.stringify(doc)).not.toMatch(/pass/i);
    expect(d(['setBmcConfig', 'a1', 'ip_address=192.0.2.77', 'netmask=255.255.255.0', 'gateway=192.0.2.1', 'vlan=12']).code).toBe(0);
    const changed = d(['getBmcConfig', 'a1']).out;
    expect(changed).toContain('ip_address=192.0.2.77\n');
    expect(changed).toContain('vlan=12\n');
    expect((await a.ipmitool(['lan', 'print', '1'])).stdout).toMatch(/IP Address\s*:\s*192\.0\.2\.77/);
    // invalid documents are refused before anything is written
    const bad = join(dir, 'bad.json');
    for (const mutate of [
      (x: any) => { x.version = 9; },
      (x: any) => { x.lan.ip_address = '300.1.1.1'; },
      (x: any) => { x.users[0].privilege = 'god'; },
      (x: any) => { x.users.push({ id: 2, name: 'dup', privilege: 'user' }); },
      (x: any) => { x.users.push({ id: 0, name: 'zero', privilege: 'user' }); },
      (x: any) => { x.users.push({ id: 9, name: 'this-name-is-too-long', privilege: 'user' }); },
      (x: any) => { x.lan.colour = 'red'; },
      (x: any) => { x.users[0].password = 'x'; },
    ]) {
      const copy = JSON.parse(JSON.stringify(doc));
      mutate(copy);
      writeFileSync(bad, JSON.stringify(copy));
      const r = d(['restoreBmcConfig', 'a1', bad]);
      expect(r.code, r.err).toBe(1);
      expect(d(['getBmcConfig', 'a1']).out).toBe(changed);
    }
    writeFileSync(bad, '{ not json');
    expect(d(['restoreBmcConfig', 'a1', bad]).code).toBe(1);
    expect(d(['restoreBmcConfig', 'a1', join(dir, 'missing.json')]).code).toBe(2);
    const r = d(['restoreBmcConfig', 'a1', file]);
    expect(r.code, r.err).toBe(0);
    expect(d(['getBmcConfig', 'a1']).out).toBe(before);
  });

  it('clearSel is guarded like power changes', () => {
    exec(db, "INSERT OR REPLACE INTO settings (key, value) VALUES ('dscli.confirm_above', '1')");
    try {
      const r = d(['clearSel', 'a1,m1']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/--yes/);
    } finally {
      exec(db, "DELETE FROM settings WHERE key = 'dscli.confirm_above'");
    }
  });

  it('pvmutl poweron / shutdown drive the same BMC through the ipmi power driver', async () => {
    expect(queryAll(db, "SELECT d.driver FROM machine_drivers d JOIN machines m ON m.id = d.machine_id WHERE m.name = 'm1' AND d.interface = 'power'")).toEqual([{ driver: 'ipmi' }]);
    c.writePower('off');
    let r = run('pvmutl', ['poweron', 'G', 'h01'], { db, timeout: 60_000 });
    outputs.push(r.out, r.err);
    expect(r.code, r.err + r.out).toBe(0);
    expect(c.readPower()).toBe('on');
    expect((await c.ipmitool(['chassis', 'power', 'status'])).stdout).toContain('Chassis Power is on');
    expect(d(['getPowerStatus', 'm1']).out).toBe('m1 on\n');
    r = run('pvmutl', ['shutdown', 'G', 'h01'], { db, timeout: 60_000 });
    outputs.push(r.out, r.err);
    expect(r.code, r.err + r.out).toBe(0);
    expect(c.readPower()).toBe('off');
    expect(c.controlLog().at(-1)).toMatch(/^shutdown/);
    // reboot = power cycle; a machine that is off is powered on
    r = run('pvmutl', ['reboot', 'G', 'h01'], { db, timeout: 60_000 });
    outputs.push(r.out, r.err);
    expect(r.code, r.err + r.out).toBe(0);
    expect(c.readPower()).toBe('on');
    r = run('pvmutl', ['reboot', 'G', 'h01'], { db, timeout: 60_000 });
    expect(r.code, r.err + r.out).toBe(0);
    expect(c.controlLog().slice(-2)).toEqual(['power 0', 'power 1']);
    // a dead BMC fails the job with the layer named
    const hole2 = await blackHole();
    expect(d(['setServer', 'm1', `port=${hole2.port}`]).code).toBe(0);
    exec(db, "INSERT OR REPLACE INTO settings (key, value) VALUES ('ipmi.deadline_s', '2')");
    r = run('pvmutl', ['poweron', 'G', 'h01'], { db, timeout: 60_000 });
    outputs.push(r.out, r.err);
    expect(r.code).not.toBe(0);
    const steps = queryAll<{ output: string }>(db, "SELECT output FROM job_steps WHERE status = 'failed' ORDER BY job_id DESC, seq DESC LIMIT 1");
    expect(steps[0]?.output ?? '').toMatch(/network/);
    expect(d(['setServer', 'm1', `port=${c.port}`]).code).toBe(0);
    await hole2.close();
  }, 120_000);

  it('no password in any output, the store or the audit trail', () => {
    const all = outputs.join('\n');
    for (const s of SECRETS) expect(all).not.toContain(s);
    const raw = storeBytes(db);
    for (const s of SECRETS) expect(raw.includes(s)).toBe(false);
    const audit = queryAll<{ command: string }>(db, "SELECT command FROM audit WHERE command LIKE 'dscli%'");
    expect(audit.length).toBeGreaterThan(0);
    for (const s of SECRETS) expect(audit.some((x) => x.command.includes(s))).toBe(false);
  });
});
