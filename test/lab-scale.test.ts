// Scale out and in with counts, group distribution and reboot on the lab of real peers
// (scripts/lab.sh, no sim driver), each checked on the peers: ipmitool on the BMCs, the
// HAProxy runtime API, ip inside the machines' namespaces, the BMCs' chassis control log.
// Seed 004: add /c L4345–4404, delete /c L4455–4516, deploygrp L4517–4574, reboot L4902–4939.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, labUsable, sh } from './support/lab.js';

const ok = labUsable('lab scale out and in');

describe.runIf(ok)('the lab: add /c, deploygrp, reboot, delete /c (no sim driver)', () => {
  const lab = new Lab();
  /** The machines holding Web's host settings web01 and web02, in that order. */
  let active: string[] = [];

  beforeAll(() => {
    lab.up();
    lab.standBy('m1', 'm2', 'm3');
  }, 180_000);
  afterAll(() => lab.down(), 90_000);

  it('pvmutl add Web /c 2: two machines powered on through their BMCs, each answering on its host address, both in HAProxy', () => {
    expect(lab.answers(lab.addr(101))).toBeUndefined();
    expect(lab.answers(lab.addr(102))).toBeUndefined();
    const r = lab.pvmutl('add', 'Web', '/c', '2');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    active = [lab.holder('web01')!, lab.holder('web02')!];
    expect(new Set(active).size).toBe(2);
    expect(['m1', 'm2', 'm3']).toEqual(expect.arrayContaining(active));
    for (const [i, m] of active.entries()) {
      expect(lab.bmc(m, 'chassis', 'power', 'status')).toBe('Chassis Power is on');
      expect(lab.answers(lab.addr(101 + i))).toBe(lab.mac(m));
    }
    expect(lab.members()).toEqual(active.map((m, i) => ({ name: m, addr: lab.addr(101 + i) })).sort((a, b) => a.name.localeCompare(b.name)));
    // The third host setting is unused: nobody answers on it.
    expect(lab.holder('web03')).toBeUndefined();
    expect(lab.answers(lab.addr(103))).toBeUndefined();
  }, 120_000);

  it('pvmutl deploygrp Web /f over SSH: the group\'s scenario runs again inside every active machine', () => {
    // The machines lose their host addresses (as after a rebuild); deploygrp gives them back.
    for (const [i, m] of active.entries()) {
      expect(lab.addresses(m)).toContain(lab.addr(101 + i));
      sh('ip', ['-n', lab.ns(m), 'addr', 'del', `${lab.addr(101 + i)}/24`, 'dev', 'eth0']);
      expect(lab.addresses(m)).not.toContain(lab.addr(101 + i));
    }
    const r = lab.pvmutl('deploygrp', 'Web', '/f');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    for (const [i, m] of active.entries()) {
      expect(lab.addresses(m)).toContain(lab.addr(101 + i));
      expect(lab.answers(lab.addr(101 + i))).toBe(lab.mac(m));
    }
  }, 120_000);

  it('pvmutl reboot Web web01: the BMC is told power off then on (its control log), the machine runs and answers again', () => {
    const m = active[0]!;
    const before = lab.controlLog(m).length;
    const r = lab.pvmutl('reboot', 'Web', 'web01');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    // A power cycle: the chassis program powered the interface down, then up.
    expect(lab.controlLog(m).slice(before)).toEqual(['power 0', 'power 1']);
    expect(lab.bmc(m, 'chassis', 'power', 'status')).toBe('Chassis Power is on');
    expect(lab.link(m)).not.toBe('DOWN');
    expect(lab.answers(lab.addr(101))).toBe(lab.mac(m));
    // The other machine was not touched.
    expect(lab.controlLog(active[1]!).slice(-1)).toEqual(['power 1']);
  }, 120_000);

  it('pvmutl delete Web /c 2: both machines leave HAProxy, are shut down through their BMCs, and stop answering', () => {
    const r = lab.pvmutl('delete', 'Web', '/c', '2');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(lab.members()).toEqual([]);
    for (const m of active) {
      expect(lab.bmc(m, 'chassis', 'power', 'status')).toBe('Chassis Power is off');
      expect(lab.link(m)).toBe('DOWN');
    }
    expect([lab.holder('web01'), lab.holder('web02')]).toEqual([undefined, undefined]);
    expect(lab.answers(lab.addr(101))).toBeUndefined();
    expect(lab.answers(lab.addr(102))).toBeUndefined();
  }, 120_000);
});
