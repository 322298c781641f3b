// The driver against OpenIPMI ipmi_sim BMCs on loopback, cross-checked with ipmitool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOfLayer } from '../../src/dscli/errors.js';
import * as ipmi from '../../src/ipmi/index.js';
import { withSession, type BmcTarget } from '../../src/ipmi/session.js';
import { blackHole, startSims, type SimBmc, type SimRack } from '../support/ipmi-sim.js';
import { requirePeer } from '../support/peers.js';

const havePeers = requirePeer('ipmi_sim', 'ipmi driver against ipmi_sim') && requirePeer('ipmitool', 'ipmi driver cross-check with ipmitool');

const SEL_PRELOAD = [
  [0x02, 0x00, 0x10, 0x00, 0x00, 0x20, 0x00, 0x04, 0x01, 0x01, 0x01, 0x57, 0x90, 0x75], // temperature UNC going high
  [0x02, 0x00, 0x20, 0x00, 0x00, 0x20, 0x00, 0x04, 0x08, 0x05, 0x6f, 0x01, 0xff, 0xff], // power supply failure
];

const fast = { timeoutMs: 500, retries: 2, deadlineMs: 5000 };

describe.runIf(havePeers)('IPMI 2.0 driver against ipmi_sim', () => {
  let rack: SimRack;
  let a: SimBmc, b: SimBmc;
  const admin = (s: SimBmc, extra: Partial<BmcTarget> = {}): BmcTarget => ({ host: s.host, port: s.port, user: 'admin', password: 'adminpass', cipherSuite: 3, ...extra });

  beforeAll(async () => {
    rack = await startSims(2, { console: true, power: 'off', sel: SEL_PRELOAD });
    [a, b] = rack.bmcs as [SimBmc, SimBmc];
    b.writePower('on');
  });
  afterAll(async () => {
    await rack?.stop();
  });

  it('reads power state like ipmitool does', async () => {
    for (const s of [a, b]) {
      const mine = await ipmi.getPowerStatus(admin(s), fast);
      const theirs = await s.ipmitool(['chassis', 'power', 'status']);
      expect(theirs.stdout).toContain(`Chassis Power is ${mine.before}`);
      expect(mine.changed).toBe(false);
    }
  });

  it('powers on idempotently: second "on" sends nothing and reports no change', async () => {
    a.writePower('off');
    const first = await ipmi.power(admin(a), 'on', { ...fast, wait: { deadlineMs: 5000, intervalMs: 200 } });
    expect(first).toMatchObject({ before: 'off', after: 'on', changed: true, sent: 'on', verified: true, attempts: 1 });
    expect((await a.ipmitool(['chassis', 'power', 'status'])).stdout).toContain('Chassis Power is on');
    const logBefore = a.controlLog().length;
    const second = await ipmi.power(admin(a), 'on', fast);
    expect(second).toMatchObject({ before: 'on', after: 'on', changed: false, attempts: 0 });
    expect(a.controlLog().length).toBe(logBefore);
    expect(second.elapsedMs).toBeGreaterThanOrEqual(0);
    // off through ipmitool, seen by the driver
    await a.ipmitool(['chassis', 'power', 'off']);
    expect((await ipmi.getPowerStatus(admin(a), fast)).before).toBe('off');
  });

  it('cycle waits until the machine is back on; reset, soft-off and diag', async () => {
    b.writePower('on');
    const cyc = await ipmi.power(admin(b), 'cycle', { ...fast, wait: { deadlineMs: 8000, intervalMs: 200 } });
    expect(cyc).toMatchObject({ sent: 'cycle', after: 'on', verified: true });
    expect(b.controlLog().slice(-2)).toEqual(['power 0', 'power 1']);
    const rst = await ipmi.power(admin(b), 'reset', fast);
    expect(rst).toMatchObject({ sent: 'reset', changed: true });
    expect(b.controlLog().at(-1)).toBe('reset 1');
    // ipmi_sim answers Chassis Control "pulse diagnostic interrupt" with CCh
    const diag = await ipmi.power(admin(b), 'diag', fast).catch((e) => e);
    expect(diag).toBeInstanceOf(ipmi.IpmiError);
    expect(diag).toMatchObject({ layer: 'completion-code', code: 0xcc, step: 'diag interrupt' });
    // refused by the controller (CCh), not unsupported by dscli: 8 (spec/dscli.md, issue 15 item 9)
    expect(codeOfLayer(diag.layer, diag.code)).toBe(8);
    const soft = await ipmi.power(admin(b), 'soft', { ...fast, wait: { deadlineMs: 3000, intervalMs: 200 } });
    expect(soft).toMatchObject({ before: 'on', after: 'off', sent: 'soft', verified: true });
    // cycle of a machine that is off: nothing unless onIfOff
    const noop = await ipmi.power(admin(b), 'cycle', fast);
    expect(noop).toMatchObject({ changed: false, before: 'off' });
    const on = await ipmi.power(admin(b), 'cycle', { ...fast, onIfOff: true });
    expect(on).toMatchObject({ changed: true, sent: 'on', after: 'on' });
  });

  it('SEL: count and contents match ipmitool; read-and-clear keeps an event that arrives in between', async () => {
    const { info, entries } = await ipmi.getSel(admin(a), fast);
    const list = (await a.ipmitool(['sel', 'list'])).stdout.trim().split('\n');
    expect(info.entries).toBe(list.length);
    expect(entries.length).toBe(list.length);
    for (const [i, e] of entries.entries()) {
      const cols = list[i]!.split('|').map((c) => c.trim());
      expect(parseInt(cols[0]!, 16)).toBe(e.recordId);
      expect(cols[3]).toBe(`${e.sensorTypeName} #0x${e.sensorNumber!.toString(16).padStart(2, '0')}`);
      expect(e.text).toContain(cols[4]!);
    }

    let injected = false;
    const cleared = await ipmi.clearSel(admin(a), {
      ...fast,
      afterRead: async () => {
        if (injected) return;
        injected = true;
        await a.emu('sel_add 0x20 0x02 0x00 0x30 0x00 0x00 0x20 0x00 0x04 0x07 0x05 0x6f 0x01 0xff 0xff');
        // A BMC cancels the reservation when its SEL changes; ipmi_sim only does so on a
        // new reservation, so take one from another client, as a second tool would.
        await a.ipmitool(['raw', '0x0a', '0x42']);
      },
    });
    expect(cleared.restarts).toBe(1);
    expect(cleared.entries.length).toBe(entries.length + 1);
    expect(cleared.entries.at(-1)?.text).toContain('Processor');
    expect((await a.ipmitool(['sel', 'info'])).stdout).toMatch(/Entries\s*:\s*0/);
  });

  it('SDR walk: names, readings and threshold status match ipmitool', async () => {
    const sensors = await ipmi.getSensors(admin(a), fast);
    const theirs = (await a.ipmitool(['sdr', 'list'])).stdout.trim().split('\n').map((l) => l.split('|').map((c) => c.trim()));
    expect(sensors.map((s) => s.record.name)).toEqual(theirs.map((c) => c[0]));
    const byName = Object.fromEntries(sensors.map((s) => [s.record.name, s]));
    expect(byName['CPU Temp']).toMatchObject({ value: 56, unit: 'degrees C', status: 'ok' });
    expect(byName['12V']).toMatchObject({ value: 12, unit: 'Volts' });
    expect(byName['FAN1']).toMatchObject({ value: 5000, unit: 'RPM' });
    expect(byName['DIMM0 Presence']?.states).toEqual([0]);
    // Push the temperature over upper non-critical (raw 0x78 → 80 °C > 72 °C)
    await a.emu('sensor_set_value 0x20 0 1 0x78 0');
    const hot = (await ipmi.getSensors(admin(a), fast)).find((s) => s.record.name === 'CPU Temp')!;
    expect(hot).toMatchObject({ value: 80, status: 'unc' });
    const line = (await a.ipmitool(['sensor', 'get', 'CPU Temp'])).stdout;
    expect(line).toMatch(/Sensor Reading\s*:\s*80/);
    expect(line).toMatch(/Status\s*:\s*Upper Non-Critical/);
    const t = (byName['CPU Temp']!.record as ipmi.sdr.FullSensorRecord).thresholds;
    expect(t).toEqual({ lnr: 0, lcr: 8, lnc: 16, unc: 72, ucr: 104, unr: 120 });
  });

  it('FRU and controller info match ipmitool', async () => {
    const fru = await ipmi.getFru(admin(a), fast);
    const out = (await a.ipmitool(['fru', 'print', '0'])).stdout;
    const field = (n: string) => out.match(new RegExp(`${n}\\s*:\\s*(.*)`))?.[1]?.trim();
    expect(fru.chassis?.serialNumber).toBe(field('Chassis Serial'));
    expect(fru.board?.product).toBe(field('Board Product'));
    expect(fru.product?.name).toBe(field('Product Name'));
    expect(fru.product?.assetTag).toBe(field('Product Asset Tag'));
    const info = await ipmi.getControllerInfo(admin(a), fast);
    const mc = (await a.ipmitool(['mc', 'info'])).stdout;
    expect(mc).toMatch(new RegExp(`Firmware Revision\\s*:\\s*${info.device.firmware.replace('.', '\\.')}`));
    expect(mc).toMatch(new RegExp(`Manufacturer ID\\s*:\\s*${info.device.manufacturerId}`));
    expect(mc).toMatch(new RegExp(`IPMI Version\\s*:\\s*${info.device.ipmiVersion}`));
  });

  it('LAN parameters and users read; a new operator account can be created and used', async () => {
    const lan = await ipmi.getLanConfig(admin(a), fast);
    const lp = (await a.ipmitool(['lan', 'print', '1'])).stdout;
    expect(lp).toMatch(new RegExp(`IP Address\\s*:\\s*${lan.ipAddress!.replace(/\./g, '\\.')}`));
    expect(lp).toMatch(new RegExp(`MAC Address\\s*:\\s*${lan.macAddress}`));
    await ipmi.setUser(admin(a), 6, { name: 'night', password: Buffer.from('n1ghtshift'), access: { privilege: 'operator' }, enabled: true }, fast);
    const users = await ipmi.listUsers(admin(a), fast);
    expect(users.map((u) => [u.name, u.privilegeName])).toEqual(expect.arrayContaining([['admin', 'ADMINISTRATOR'], ['oper', 'OPERATOR'], ['viewer', 'USER'], ['night', 'OPERATOR']]));
    const r = await ipmi.power(admin(a, { user: 'night', password: 'n1ghtshift' }), 'status', fast);
    expect(r.before).toMatch(/on|off/);
    const ul = (await a.ipmitool(['user', 'list', '1'])).stdout;
    expect(ul).toMatch(/6\s+night/);
  });

  it('chassis identify reaches the chassis-control program', async () => {
    await ipmi.identify(admin(a), 20, fast);
    expect(a.controlLog().at(-1)).toBe('identify 20 0');
    await ipmi.identify(admin(a), 'force', fast);
    expect(a.controlLog().at(-1)).toBe('identify 0 1');
    await expect(ipmi.identify(admin(a, { user: 'viewer', password: 'viewerpass' }), 5, fast)).rejects.toMatchObject({ layer: 'privilege' });
  });

  it('LAN parameter write: set in progress, writes, commit, set complete; ipmitool reads it back', async () => {
    await ipmi.setLanConfig(admin(a), { ipAddress: '192.0.2.10', subnetMask: '255.255.255.0', defaultGateway: '192.0.2.1' }, fast);
    const lan = await ipmi.getLanConfig(admin(a), fast);
    expect(lan).toMatchObject({ ipAddress: '192.0.2.10', subnetMask: '255.255.255.0', defaultGateway: '192.0.2.1' });
    const lp = (await a.ipmitool(['lan', 'print', '1'])).stdout;
    expect(lp).toMatch(/IP Address\s*:\s*192\.0\.2\.10/);
    expect(lp).toMatch(/Set in Progress\s*:\s*Set Complete/);
  });

  describe('distinct errors within the deadline', () => {
    const deadlineMs = 3000;
    const o = { timeoutMs: 300, retries: 3, deadlineMs };
    const timed = async (p: Promise<unknown>) => {
      const t0 = Date.now();
      const e = await p.then(() => undefined, (x) => x);
      return { e: e as ipmi.IpmiError, ms: Date.now() - t0 };
    };

    it('wrong password → authentication, password not in the message', async () => {
      const { e, ms } = await timed(ipmi.getPowerStatus(admin(a, { password: 'Secret-Wrong-1' }), o));
      expect(e).toMatchObject({ layer: 'authentication', step: 'RAKP 2' });
      expect(e.message).not.toContain('Secret-Wrong-1');
      expect(JSON.stringify(e)).not.toContain('Secret-Wrong-1');
      expect(ms).toBeLessThan(deadlineMs);
    });
    it('wrong user → authentication (unauthorized name)', async () => {
      const { e, ms } = await timed(ipmi.getPowerStatus(admin(a, { user: 'mallory' }), o));
      expect(e).toMatchObject({ layer: 'authentication', code: 0x0d });
      expect(ms).toBeLessThan(deadlineMs);
    });
    it('USER account asking for chassis control → privilege', async () => {
      const before = a.controlLog().length;
      const { e, ms } = await timed(ipmi.power(admin(a, { user: 'viewer', password: 'viewerpass' }), 'on', o));
      expect(e).toMatchObject({ layer: 'privilege' });
      expect(e.message).toMatch(/limited to USER.*OPERATOR is needed/);
      expect(codeOfLayer(e.layer, e.code)).toBe(4);
      expect(ms).toBeLessThan(deadlineMs);
      expect(a.controlLog().length).toBe(before); // nothing was sent
    });
    it('cipher suite 17 on a BMC that lacks it → cipher, naming what it offers', async () => {
      const { e, ms } = await timed(ipmi.getPowerStatus(admin(a, { cipherSuite: 17 }), o));
      expect(e).toMatchObject({ layer: 'cipher' });
      expect(e.offeredSuites).toContain(3);
      expect(e.offeredSuites).not.toContain(17);
      expect(e.message).toMatch(/BMC offers 0, 1, 2, 3/);
      expect(ms).toBeLessThan(deadlineMs);
    });
    it('black-holed port → network, within the deadline', async () => {
      const hole = await blackHole();
      try {
        const { e, ms } = await timed(ipmi.getPowerStatus({ host: '127.0.0.1', port: hole.port, user: 'admin', password: 'adminpass', cipherSuite: 3 }, { timeoutMs: 300, retries: 100, deadlineMs: 1200 }));
        expect(e).toMatchObject({ layer: 'network' });
        expect(ms).toBeGreaterThanOrEqual(1100);
        expect(ms).toBeLessThan(2200); // deadline plus scheduling slack on a loaded machine
        expect(hole.received()).toBeGreaterThanOrEqual(3); // retransmitted
        expect(codeOfLayer(e.layer, e.code)).toBe(5);
      } finally {
        await hole.close();
      }
    });
  });

  it('auto cipher selection probes once and remembers the result', async () => {
    ipmi.forgetProbes();
    const r = await ipmi.checkConnection(admin(b, { cipherSuite: 'auto' }), fast);
    expect(r.ipmiVersion).toBe('2.0');
    expect(ipmi.rememberedProbe(b.host, b.port)).toMatchObject({ ipmi20: true, chosen: 3 });
    const p = await ipmi.probe({ host: b.host, port: b.port }, { ...fast, cipherPreference: [17, 3] });
    expect(p.offeredSuites).toEqual([...Array(15).keys()]);
  });

  it('sessions are always closed: after errors, cancels and normal use only our own is active', async () => {
    const t = admin(b);
    for (let i = 0; i < 5; i++) await ipmi.getPowerStatus(t, fast);
    await ipmi.power(admin(b, { user: 'viewer', password: 'viewerpass' }), 'off', fast).catch(() => undefined);
    // cancel in the middle of a session: Close Session must still go out
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const e = await withSession(t, { ...fast, signal: ctl.signal }, async (s) => {
      for (;;) {
        await s.request(0x00, 0x01);
        await new Promise((r) => setTimeout(r, 30));
      }
    }).then(() => undefined, (x) => x);
    expect(e).toMatchObject({ layer: 'network', aborted: true });
    const active = await withSession(t, fast, async (s) => (await s.request(0x06, 0x3d, Buffer.from([0]))).data.readUInt8(2));
    expect(active).toBe(1);
  });
});

describe.runIf(havePeers)('fan-out over one socket', () => {
  let rack: SimRack;
  beforeAll(async () => {
    rack = await startSims(8, { rich: false, power: 'off' });
    rack.bmcs.forEach((s, i) => s.writePower(i % 2 ? 'on' : 'off'));
  });
  afterAll(async () => {
    await rack?.stop();
  });

  it('reports in input order, streams in completion order; dead BMCs cost one deadline and block nobody', async () => {
    const holes = await Promise.all([blackHole(), blackHole()]);
    try {
      const targets: BmcTarget[] = rack.bmcs.map((s) => ({ host: s.host, port: s.port, user: 'oper', password: 'operpass', cipherSuite: 3, name: `bmc${s.port}` }));
      targets.splice(2, 0, { host: '127.0.0.1', port: holes[0]!.port, user: 'oper', password: 'x', cipherSuite: 3 });
      targets.push({ host: '127.0.0.1', port: holes[1]!.port, user: 'oper', password: 'x', cipherSuite: 3 });
      targets.push({ ...targets[0]! }); // the same BMC twice: serialised, both succeed
      const deadlineMs = 1500;
      const t0 = Date.now();
      const order: number[] = [];
      const all: ipmi.FanOutResult<ipmi.PowerResult>[] = [];
      for await (const r of ipmi.fanOut(targets, (t, _i, signal) => ipmi.power(t, 'on', { timeoutMs: 300, retries: 10, deadlineMs, signal }), { concurrency: 4 })) {
        order.push(r.index);
        all[r.index] = r;
      }
      const elapsed = Date.now() - t0;
      // the two dead ones finish last and cost about one deadline in total, not two
      expect(order.slice(-2).sort()).toEqual([2, 9].sort());
      expect(elapsed).toBeLessThan(2 * deadlineMs);
      expect(all[2]!.error?.layer).toBe('network');
      expect(all[9]!.error?.layer).toBe('network');
      const ok = all.filter((r) => r.ok);
      expect(ok.length).toBe(9);
      for (const s of rack.bmcs) expect(s.readPower()).toBe('on');
      // each BMC: changed only if it was off
      const first = all[0]!.value!, dup = all[10]!.value!;
      expect([first.changed, dup.changed].sort()).toEqual([false, true]);

      const ordered = await ipmi.powerAll(targets.slice(0, 2), 'status', { concurrency: 2, ...fast });
      expect(ordered.map((r) => r.index)).toEqual([0, 1]);
      // results are safe to print: no password in them
      expect(JSON.stringify(all)).not.toContain('operpass');
      expect(all[0]!.target).toMatchObject({ host: '127.0.0.1', user: 'oper' });
    } finally {
      await Promise.all(holes.map((h) => h.close()));
    }
  });

  it('cancelling a fan-out stops everything promptly', async () => {
    const hole = await blackHole();
    try {
      const targets = Array.from({ length: 20 }, () => ({ host: '127.0.0.1', port: hole.port, user: 'a', password: 'b', cipherSuite: 3 }));
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 300);
      const t0 = Date.now();
      const res = await ipmi.fanOutAll(targets, (t, _i, signal) => ipmi.getPowerStatus(t, { timeoutMs: 1000, deadlineMs: 30_000, signal }), { concurrency: 5, signal: ctl.signal });
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(res.every((r) => !r.ok && r.error?.layer === 'network')).toBe(true);
    } finally {
      await hole.close();
    }
  });
});
