// The seed's flows on the lab of real peers (scripts/lab.sh): network namespaces whose
// interface an ipmi_sim BMC powers, sshd inside them, libvirtd VM servers, HAProxy, ovsdb-server,
// tgtd, snmptrapd and an SMTP server; the lab's data centre names no sim driver. Each flow is
// checked on the peers themselves (ip in the namespace, ipmitool, the HAProxy runtime API, virsh),
// not only in the store. The lab is started and stopped by the test and leaves nothing behind.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaries, run } from './support/cli.js';
import { Lab, labUsable, sh as shell } from './support/lab.js';
import { type RunningMonitor, chainEnded, eventDecided, lastEventId, petTrapArgs, snmptrap, startMonitor } from './support/monitor.js';
import { queryAll } from './support/store.js';

const ok = labUsable('lab end to end');

describe.runIf(ok)('the seed\'s flows on the lab (scripts/lab.sh, no sim driver)', () => {
  const lab = new Lab();
  const { dir, db } = lab;
  let env: Record<string, string> = {};
  const link = (m: string): string => lab.link(m);
  const bmc = (m: string, ...args: string[]): string => lab.bmc(m, ...args);
  const members = (): Array<{ name: string; addr: string }> => lab.members();
  const virsh = (i: number, ...args: string[]): string => lab.virsh(i, ...args);
  const holder = (host: string): string | undefined => lab.holder(host);

  beforeAll(() => {
    lab.up();
    env = lab.env;
    lab.standBy('m1', 'm2', 'm3');
  }, 180_000);

  let mon: RunningMonitor | undefined;
  let revived: ReturnType<typeof spawn> | undefined;

  afterAll(async () => {
    await mon?.stop();
    revived?.kill('SIGKILL');
    lab.down();
  }, 90_000);

  it('the data centre names no sim driver, and kanri config check accepts it', () => {
    const yaml = readFileSync(join(dir, 'lab.yaml'), 'utf8');
    expect(yaml).not.toMatch(/\bsim\b/);
    expect(run('kanri', ['config', 'check', join(dir, 'lab.yaml')]).code).toBe(0);
  });

  const ns = (m: string): string => lab.ns(m);
  const answers = (addr: string): string | undefined => lab.answers(addr);
  const mac = (m: string): string => lab.mac(m);
  const sh = (cmd: string, args: string[]): string => shell(cmd, args);

  it('pvmutl add: the activation scenario runs over SSH (the machine answers on its host address), HAProxy serves it', () => {
    const addr = `${env.KANRI_LAB_NET}.101`;
    expect(answers(addr)).toBeUndefined();
    const r = run('pvmutl', ['add', 'Web'], { db });
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(holder('web01')).toBe('m1');
    expect(bmc('m1', 'chassis', 'power', 'status')).toBe('Chassis Power is on');
    expect(answers(addr)).toBe(mac('m1'));
    expect(members()).toEqual([{ name: 'm1', addr }]);
  }, 120_000);

  it('pvmutl deploysrv /p over SSH: the scenario runs on the machine again', () => {
    const addr = `${env.KANRI_LAB_NET}.101`;
    sh('ip', ['-n', ns('m1'), 'addr', 'del', `${addr}/24`, 'dev', 'eth0']);
    expect(answers(addr)).toBeUndefined();
    const r = run('pvmutl', ['deploysrv', 'Web', 'web01', '/p', 'SetIP'], { db });
    expect(r.code, r.err).toBe(0);
    expect(answers(addr)).toBe(mac('m1'));
  }, 120_000);

  it('pvmutl poweron / shutdown: the BMC obeys ACPI soft-off (the interface goes down) and powers on again', () => {
    expect(run('pvmutl', ['shutdown', 'Web', 'web01'], { db }).code).toBe(0);
    expect(bmc('m1', 'chassis', 'power', 'status')).toBe('Chassis Power is off');
    expect(link('m1')).toBe('DOWN');
    expect(readFileSync(join(dir, 'm1', 'control.log'), 'utf8')).toMatch(/soft-off/);
    expect(run('pvmutl', ['poweron', 'Web', 'web01'], { db }).code).toBe(0);
    expect(bmc('m1', 'chassis', 'power', 'status')).toBe('Chassis Power is on');
    expect(link('m1')).not.toBe('DOWN');
  }, 120_000);

  it('replace after the BMC dies: the takeover waits for fencing, confirm-off lets it go on; HAProxy serves the new machine', async () => {
    // The BMC of m1 stops: its ipmi_sim is killed (the lab recorded its pid).
    const pid = readFileSync(join(dir, 'pids'), 'utf8').split('\n').find((l) => l.endsWith(' bmc-m1'))!.split(' ')[0]!;
    process.kill(Number(pid), 'SIGKILL');
    const child = spawn(join(binaries(), 'pvmutl'), ['replace', 'Web', 'web01'], { env: { ...process.env, LANG: 'C', LC_ALL: '', KANRI_DB: db }, stdio: 'ignore' });
    const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const t0 = Date.now();
    while (!run('kanri', ['machine', 'list'], { db }).out.match(/^m1\t.*\twaiting for fencing\t/m)) {
      if (Date.now() - t0 > 60_000) throw new Error('the takeover did not wait for fencing');
      await new Promise((r) => setTimeout(r, 300));
    }
    // Nothing was taken over yet: the host setting is m1's, and m1 still answers on its address.
    const addr = `${env.KANRI_LAB_NET}.101`;
    expect(holder('web01')).toBe('m1');
    expect(answers(addr)).toBe(mac('m1'));
    // The operator cuts m1 off (here: its link), then confirms it.
    sh('ip', ['-n', ns('m1'), 'link', 'set', 'eth0', 'down']);
    expect(run('kanri', ['machine', 'confirm-off', 'm1'], { db }).code).toBe(0);
    expect(await done).toBe(0);
    expect(holder('web01')).toBe('m2');
    expect(bmc('m2', 'chassis', 'power', 'status')).toBe('Chassis Power is on');
    // The host setting's address answers on the new machine.
    expect(answers(addr)).toBe(mac('m2'));
    expect(members()).toEqual([{ name: 'm2', addr }]);
    expect(queryAll(db, "SELECT event_id FROM events WHERE source = 'kanri' AND event_id = 9103")).toHaveLength(1);
  }, 180_000);

  it('pvmutl delete: the machine leaves HAProxy and is shut down through its BMC', () => {
    const r = run('pvmutl', ['delete', 'Web', 'web01'], { db });
    expect(r.code, r.err).toBe(0);
    expect(members()).toEqual([]);
    expect(bmc('m2', 'chassis', 'power', 'status')).toBe('Chassis Power is off');
    expect(link('m2')).toBe('DOWN');
  }, 120_000);

  it('addspecname, maintenance on/off and move: each host address answers on the machine that took it', () => {
    const spec = run('pvmutl', ['addspecname', 'Web', 'web02', 'm3'], { db });
    expect(spec.code, spec.err).toBe(0);
    expect(holder('web02')).toBe('m3');
    expect(answers(`${env.KANRI_LAB_NET}.102`)).toBe(mac('m3'));
    // m2 was shut down when it was deleted: a standby machine runs again before its SSH deploy.
    bmc('m2', 'chassis', 'power', 'on');
    // (m1, whose BMC is dead, went back to the pool after its replacement: m2 is named.)
    const add = run('pvmutl', ['addspecname', 'Web', 'web01', 'm2'], { db });
    expect(add.code, add.err).toBe(0);
    expect(holder('web01')).toBe('m2');
    expect(members().sort((a, b) => a.name.localeCompare(b.name))).toEqual([{ name: 'm2', addr: `${env.KANRI_LAB_NET}.101` }, { name: 'm3', addr: `${env.KANRI_LAB_NET}.102` }]);
    expect(run('pvmutl', ['maintenance', 'On', 'Web', 'web02'], { db }).code).toBe(0);
    expect(queryAll(db, "SELECT maintenance FROM machines WHERE name = 'm3'")).toEqual([{ maintenance: 1 }]);
    expect(run('pvmutl', ['maintenance', 'Off', 'Web', 'web02'], { db }).code).toBe(0);
    expect(queryAll(db, "SELECT maintenance FROM machines WHERE name = 'm3'")).toEqual([{ maintenance: 0 }]);
    // m3 moves to AP: it leaves HAProxy and answers on AP's address.
    const mv = run('pvmutl', ['move', 'AP', 'Web', 'web02'], { db });
    expect(mv.code, mv.err).toBe(0);
    expect(holder('ap01')).toBe('m3');
    expect(answers(`${env.KANRI_LAB_NET}.121`)).toBe(mac('m3'));
    expect(members()).toEqual([{ name: 'm2', addr: `${env.KANRI_LAB_NET}.101` }]);
  }, 180_000);

  it('vmadd / vmmigrate / vmmigrateandmove / vmdelete on the libvirt VM servers: virsh sees the domain run, move, then go', () => {
    const r = run('pvmutl', ['vmadd', 'VMs', 'labvm1', '/VMS', 'vs1'], { db });
    expect(r.code, r.err).toBe(0);
    const where = (): number[] => [1, 2].filter((i) => virsh(i, 'list', '--name').split('\n').includes('labvm1'));
    expect(where()).toEqual([1]);
    // The test driver has no live migration: vmmigrate fails (7) and the VM stays where it runs.
    expect(run('pvmutl', ['vmmigrate', 'VMs', 'v1', 'vs2'], { db }).code).toBe(7);
    expect(where()).toEqual([1]);
    // vmmigrateandmove falls back to a cold move: it runs on vs2 only.
    const mm = run('pvmutl', ['vmmigrateandmove', 'VMs', 'v1', 'vs2'], { db });
    expect(mm.code, mm.err).toBe(0);
    expect(where()).toEqual([2]);
    expect(virsh(1, 'list', '--all', '--name').split('\n')).not.toContain('labvm1');
    expect(run('pvmutl', ['vmdelete', 'VMs', 'v1'], { db }).code).toBe(0);
    expect([1, 2].filter((i) => virsh(i, 'list', '--all', '--name').split('\n').includes('labvm1'))).toEqual([]);
  }, 120_000);

  const pidOf = (name: string): number => lab.pidOf(name);
  const uuidOf = (m: string): string => lab.uuidOf(m);

  it('kanri monitor: a PET from a BMC (CPU fault) replaces the machine with no command typed: powered off, the spare takes the address, mail sent', async () => {
    // m1's BMC comes back (the replacement test killed it) and m1 runs again, standing by.
    revived = spawn('ipmi_sim', ['-c', join(dir, 'm1', 'lan.conf'), '-f', join(dir, 'm1', 'sim.emu'), '-s', join(dir, 'm1'), '-n'], { stdio: 'ignore' });
    const t0 = Date.now();
    for (;;) {
      try { bmc('m1', 'chassis', 'power', 'on'); break; } catch (e) { if (Date.now() - t0 > 20_000) throw e; await new Promise((r) => setTimeout(r, 300)); }
    }
    expect(run('kanri', ['machine', 'reset', 'm1'], { db }).code).toBe(0);
    expect(holder('web01')).toBe('m2');
    const from = lastEventId(db);
    mon = await startMonitor(db);
    // Processor IERR (sensor type 07h, offset 0), as m2's BMC would send it.
    expect(snmptrap(petTrapArgs({ port: mon.port, guid: uuidOf('m2'), sensorType: 0x07, offset: 0x00 })).code).toBe(0);
    const fault = await eventDecided(db, { origin: 'trap', event: 'BMC[0x00076F00]', machine: 'm2' }, from, 30_000);
    expect(await chainEnded(db, fault.chain_id!, 120_000)).toMatchObject({ status: 'completed' });
    // m2 was shut down through its BMC; m1 took web01 and answers on its address; HAProxy serves m1.
    expect(bmc('m2', 'chassis', 'power', 'status')).toBe('Chassis Power is off');
    expect(link('m2')).toBe('DOWN');
    expect(holder('web01')).toBe('m1');
    expect(answers(`${env.KANRI_LAB_NET}.101`)).toBe(mac('m1'));
    expect(members()).toEqual([{ name: 'm1', addr: `${env.KANRI_LAB_NET}.101` }]);
    expect(queryAll(db, "SELECT hardware_status FROM machines WHERE name = 'm2'")).toEqual([{ hardware_status: 'faulted' }]);
    // The notification reached the lab's SMTP server (its Maildir).
    const mails = (): string => execFileSync('sh', ['-c', `cat ${join(dir, 'mail')}/new/* ${join(dir, 'mail')}/cur/* 2>/dev/null || true`], { encoding: 'utf8' });
    for (const t1 = Date.now(); !/^Subject:/m.test(mails()) && Date.now() - t1 < 30_000;) await new Promise((r) => setTimeout(r, 300));
    expect(mails()).toMatch(/^Subject:/m);
    expect(mails()).toMatch(/^To: ops@lab\.test/m);
  }, 180_000);

  it('kanri monitor: a VM server whose libvirtd stops answering has its running VMs moved (virsh on the other server)', async () => {
    for (const vm of ['labvm2', 'labvm3']) {
      const r = run('pvmutl', ['vmadd', 'VMs', vm, '/VMS', 'vs1'], { db });
      expect(r.code, r.err).toBe(0);
    }
    expect(virsh(1, 'list', '--name').split('\n').sort()).toEqual(['labvm2', 'labvm3']);
    const from = lastEventId(db);
    process.kill(pidOf('libvirt-hold-vs1'), 'SIGKILL');
    process.kill(pidOf('libvirtd-vs1'), 'SIGKILL');
    const lost = await eventDecided(db, { origin: 'libvirt', source: 'VMwareProvider', event: 'Alarm Host connection state on VMS changed from green to red' }, from, 60_000);
    expect(lost.chain_id).not.toBe(null);
    expect(await chainEnded(db, lost.chain_id!, 120_000)).toMatchObject({ status: 'completed' });
    expect(virsh(2, 'list', '--name').split('\n').sort()).toEqual(['labvm2', 'labvm3']);
    expect(queryAll(db, "SELECT v.name, s.name AS server FROM machines v JOIN machines s ON s.id = v.vm_server_id WHERE v.name LIKE 'labvm%' ORDER BY v.name"))
      .toEqual([{ name: 'labvm2', server: 'vs2' }, { name: 'labvm3', server: 'vs2' }]);
  }, 180_000);
});
