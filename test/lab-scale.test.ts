// Scale out and in with counts, group distribution, reboot and replace on the lab of real
// peers (scripts/lab.sh, no sim driver), each checked on the peers: ipmitool on the BMCs, the
// HAProxy runtime API, ip inside the machines' namespaces, the BMCs' chassis control log, the
// switch ports in ovsdb-server (ovs-vsctl), the targets' ACLs in tgtd (tgtadm), and the traps
// the monitor forwards to the lab's snmptrapd.
// Seed 004: add /c L4345–4404, delete /c L4455–4516, deploygrp L4517–4574, reboot L4902–4939.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaries, run } from './support/cli.js';
import { Lab, labUsable, sh } from './support/lab.js';
import { queryAll } from './support/store.js';
import { petTrapArgs, snmptrap, startMonitor } from './support/monitor.js';

const ok = labUsable('lab scale out and in');

describe.runIf(ok)('the lab: add /c, deploygrp, reboot, delete /c (no sim driver)', () => {
  const lab = new Lab();
  /** The machines holding Web's host settings web01 and web02, in that order. */
  let active: string[] = [];

  beforeAll(() => {
    // Web also has standby-time software: the machine gives its host address up when it leaves.
    lab.up((yaml) => yaml
      .replace('software:\n', 'software:\n  - { name: GiveUp, kind: scenario, version: "1", date: "2026-01-01", source: "ip addr del $PVM_IP_ADDRESS_1_1/24 dev eth0" }\n')
      .replace('    software: { activation: [SetIP] }\n    driver_settings:\n', '    software: { activation: [SetIP], standby: [GiveUp] }\n    driver_settings:\n'));
    lab.standBy('m1', 'm2', 'm3');
  }, 180_000);
  let replacing: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    replacing?.kill('SIGKILL');
    lab.down();
  }, 90_000);

  /** Switch port tags and target ACLs say exactly which machines hold Web's host settings. */
  function expectVlanAndStorage(): void {
    const holders = ['web01', 'web02', 'web03'].map((h) => lab.holder(h));
    for (const m of ['m1', 'm2', 'm3']) expect(lab.vlanTag(m), `the switch port of ${m}`).toBe(holders.includes(m) ? '100' : '');
    holders.forEach((m, i) => expect(lab.acl(`lab-web0${i + 1}`), `the ACL of lab-web0${i + 1}`).toEqual(m ? [lab.initiator(m)] : []));
  }

  it('kanri monitor forwards a trap from a BMC to the lab\'s snmptrapd (dscli setTrapForward)', async () => {
    const mon = await startMonitor(lab.db);
    try {
      // A temperature PET (sensor type 01h, offset 07h) from m3's BMC: m3 stands by, no policy acts.
      const specific = String((0x01 << 16) | (0x6f << 8) | 0x07);
      expect(lab.traps()).not.toContain(specific);
      expect(snmptrap(petTrapArgs({ port: mon.port, guid: lab.uuidOf('m3'), sensorType: 0x01, offset: 0x07 })).code).toBe(0);
      for (const t0 = Date.now(); !lab.traps().includes(specific) && Date.now() - t0 < 20_000;) await new Promise((r) => setTimeout(r, 200));
      expect(lab.traps()).toContain(specific);
    } finally {
      await mon.stop();
    }
  }, 60_000);

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
    // Their switch ports joined VLAN 100, their volumes' targets allow them; the third's did not change.
    expectVlanAndStorage();
    expect(active.map((m) => lab.vlanTag(m))).toEqual(['100', '100']);
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

  it('pvmutl replace Web web01 (its BMC answers): the old machine is off and out of VLAN and ACL, the spare took all three', () => {
    const [old, kept] = active as [string, string];
    const spare = ['m1', 'm2', 'm3'].find((m) => !active.includes(m))!;
    const r = lab.pvmutl('replace', 'Web', 'web01');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(lab.holder('web01')).toBe(spare);
    expect(lab.bmc(old, 'chassis', 'power', 'status')).toBe('Chassis Power is off');
    expect(lab.link(old)).toBe('DOWN');
    expect(lab.answers(lab.addr(101))).toBe(lab.mac(spare));
    expect(lab.members()).toEqual([{ name: spare, addr: lab.addr(101) }, { name: kept, addr: lab.addr(102) }].sort((a, b) => a.name.localeCompare(b.name)));
    expect(lab.vlanTag(old)).toBe('');
    expect(lab.acl('lab-web01')).toEqual([lab.initiator(spare)]);
    // The standby-time software ran on the old machine before it was shut down: it gave the address up.
    expect(lab.addresses(old)).not.toContain(lab.addr(101));
    expectVlanAndStorage();
    active = [spare, kept];
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
    // Out of VLAN 100, and no target allows any machine.
    expectVlanAndStorage();
    expect(['m1', 'm2', 'm3'].map((m) => lab.vlanTag(m))).toEqual(['', '', '']);
    for (const [i, m] of active.entries()) expect(lab.addresses(m)).not.toContain(lab.addr(101 + i));
  }, 120_000);

  it('pvmutl replace of a dead machine (its BMC and its sshd gone): standby software cannot reach it, the job goes on to fencing, confirm-off, the spare takes over', async () => {
    // Seed 004 L2437: replacement recovers from a failed machine; L2950: standby-time software is
    // step 4, before the shutdown (step 5, fenced here); L1202: its installation is never recorded.
    for (const m of ['m1', 'm2', 'm3']) lab.bmc(m, 'chassis', 'power', 'on');
    const add = lab.pvmutl('add', 'Web');
    expect({ code: add.code, err: add.err }).toEqual({ code: 0, err: '' });
    const dead = lab.holder('web01')!;
    // The machine dies with its BMC: no controller, no sshd, no link.
    process.kill(lab.pidOf(`bmc-${dead}`), 'SIGKILL');
    process.kill(lab.pidOf(`sshd-${dead}`), 'SIGKILL');
    sh('ip', ['-n', lab.ns(dead), 'link', 'set', 'eth0', 'down']);
    const child = replacing = spawn(join(binaries(), 'pvmutl'), ['replace', 'Web', 'web01'], { env: { ...process.env, LANG: 'C', LC_ALL: '', KANRI_DB: lab.db }, stdio: 'ignore' });
    const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const waiting = (): boolean => new RegExp(`^${dead}\t.*\twaiting for fencing\t`, 'm').test(run('kanri', ['machine', 'list'], { db: lab.db }).out);
    for (const t0 = Date.now(); !waiting();) {
      if (Date.now() - t0 > 90_000) throw new Error('the replacement did not reach fencing');
      if (child.exitCode !== null) throw new Error(`the replacement ended with ${child.exitCode} before fencing`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // The standby-time software's failure is in the event log (2501), and nothing was taken over yet.
    expect(queryAll(lab.db, 'SELECT message FROM events WHERE event_id = 2501').map((e) => (e as { message: string }).message))
      .toEqual([expect.stringContaining(`GiveUp`)]);
    expect(lab.holder('web01')).toBe(dead);
    expect(run('kanri', ['machine', 'confirm-off', dead], { db: lab.db }).code).toBe(0);
    expect(await done).toBe(0);
    const spare = lab.holder('web01')!;
    expect(spare).not.toBe(dead);
    expect(lab.bmc(spare, 'chassis', 'power', 'status')).toBe('Chassis Power is on');
    expect(lab.answers(lab.addr(101))).toBe(lab.mac(spare));
    expect(lab.members()).toEqual([{ name: spare, addr: lab.addr(101) }]);
    expect(lab.vlanTag(spare)).toBe('100');
    expect(lab.acl('lab-web01')).toEqual([lab.initiator(spare)]);
    expect(lab.vlanTag(dead)).toBe('');
  }, 180_000);

  it('pvmutl add after that: the machine whose controller never answered is passed over (abnormal until kanri machine reset)', () => {
    // Seed 004 L2457, L2476: activation and replacement take a normal pool machine.
    const dead = queryAll<{ name: string }>(lab.db, "SELECT name FROM machines WHERE management_status = 'abnormal'").map((r) => r.name);
    expect(dead).toHaveLength(1);
    const spare = lab.holder('web01')!;
    const third = ['m1', 'm2', 'm3'].find((m) => m !== dead[0] && m !== spare)!;
    // (The dead machine is the first by name, the one plain selection would take.)
    expect(dead[0]! < third).toBe(true);
    const r = lab.pvmutl('add', 'Web');
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(lab.holder('web02')).toBe(third);
    expect(lab.answers(lab.addr(102))).toBe(lab.mac(third));
    expect(lab.members()).toEqual([{ name: spare, addr: lab.addr(101) }, { name: third, addr: lab.addr(102) }].sort((a, b) => a.name.localeCompare(b.name)));
    // Nothing else is left: one more add is refused and changes nothing.
    const more = lab.pvmutl('add', 'Web');
    expect(more.code).not.toBe(0);
    expect(lab.holder('web03')).toBeUndefined();
  }, 120_000);
});
