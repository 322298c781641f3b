// Selection rules, where a machine goes afterwards (spec §8.3), the common-pool
// conditions (§8.2), the exit codes of the configuration commands, failure
// injection (6 and 7), the event log and the abnormal mark a failed job leaves.
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { runCommandChange } from '../src/pvmutl/change.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { exec, fixtureStore, pvmutl, queryAll as q, storeDigest } from './support/store.js';


const pools = (db: string, machine: string): string[] =>
  q<{ name: string }>(db, 'SELECT g.name FROM pool_members p JOIN groups g ON g.id = p.group_id JOIN machines m ON m.id = p.machine_id WHERE m.name = ? ORDER BY g.name', machine).map((r) => r.name);

const placement = (db: string, machine: string): { group: string | null; host: string | null; from: string | null } =>
  q<{ group: string | null; host: string | null; from: string | null }>(db,
    `SELECT g.name AS "group", h.host_name AS host, m.activated_from AS "from" FROM machines m
       LEFT JOIN groups g ON g.id = m.group_id LEFT JOIN host_settings h ON h.id = m.host_setting_id WHERE m.name = ?`, machine)[0]!;

async function master(db: string, group: string, machine: string, host: string): Promise<number> {
  const d = openStore(db);
  try {
    return await runCommandChange(d, { out: () => {}, err: () => {}, ask: async () => undefined }, { action: 'register-master', group, machine, netInfo: host }, 'test');
  } finally {
    d.close();
  }
}

describe('automatic selection', () => {
  it('add takes the first unused host setting and a pool machine registered in fewer pools first', async () => {
    const db = fixtureStore();
    // Web pool: px-r120-03 (1 pool), px-r120-04 and px-spare-01 (2 pools each).
    expect((await pvmutl(db, ['add', 'Shop\\Web'])).code).toBe(0);
    expect(placement(db, 'px-r120-03')).toEqual({ group: 'Web', host: 'web04', from: 'group_pool' });
    expect((await pvmutl(db, ['add', 'Shop\\Web', '/c', '2'])).code).toBe(0);
    expect(placement(db, 'px-r120-04').host).toBe('web05');
    expect(placement(db, 'px-spare-01').host).toBe('web06');
  });

  it('a category chooses the highest-priority group to add to and the lowest-priority group to delete from', async () => {
    const db = fixtureStore();
    expect((await pvmutl(db, ['add', 'Shop'])).code).toBe(0);
    expect(placement(db, 'px-r120-03').group).toBe('Web');
    expect((await pvmutl(db, ['delete', 'Shop'])).code).toBe(0);
    // Nightly (in Batch, priority 3) is the lowest-priority group under Shop.
    expect(placement(db, 'px-batch-01').group).toBeNull();
  });

  it('delete takes the most recently activated machine of the lowest-priority model', async () => {
    const db = fixtureStore();
    expect((await pvmutl(db, ['delete', 'Shop\\Web'])).code).toBe(0);
    // R110j (priority 2) is lower than R120h: its only machine goes first.
    expect(placement(db, 'px-r110-01').group).toBeNull();
    expect((await pvmutl(db, ['delete', 'Shop\\Web'])).code).toBe(0);
    // Then the R120h machine activated last (web02 at 09:05).
    expect(placement(db, 'px-r120-02').group).toBeNull();
    expect(placement(db, 'px-r120-01').group).toBe('Web');
  });

  it('skips machines in maintenance and machines with a faulted or abnormal status', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "UPDATE machines SET maintenance = 1 WHERE name = 'pb1'");
    exec(db, "UPDATE machines SET hardware_status = 'faulted' WHERE name = 'pb2'");
    expect((await pvmutl(db, ['add', 'Bare'])).code).toBe(0);
    expect(placement(db, 'pb3').group).toBe('Bare');
    exec(db, "UPDATE machines SET management_status = 'abnormal' WHERE name = 'pb3'");
    const r = await pvmutl(db, ['add', 'Bare2']);
    expect(r).toMatchObject({ code: 2, err: 'pvmutl: not enough usable pool machines for Bare2: 1 needed, 0 available\n' });
  });
});

describe('where a machine goes afterwards (spec §8.3)', () => {
  it('deletion: group pool → that pool; common pool → common pool; master registration → common pool', async () => {
    const db = fixtureStore(ENGINE_DC);
    await pvmutl(db, ['add', 'Full', 'pf1']);
    await pvmutl(db, ['delete', 'Full', 'f1']);
    expect(placement(db, 'pf1').group).toBeNull();
    expect(pools(db, 'pf1')).toEqual(['Full', 'Full2']);

    // Full's pool is empty of usable machines once pf1..pf3 are taken: the common pool serves.
    await pvmutl(db, ['add', 'Full', '/c', '3']);
    expect((await pvmutl(db, ['add', 'Full'])).code).toBe(4);
    exec(db, "INSERT INTO host_settings (group_id, position, host_name) VALUES ((SELECT id FROM groups WHERE name = 'Full'), 4, 'f4')");
    expect((await pvmutl(db, ['add', 'Full'])).code).toBe(0);
    expect(placement(db, 'cp1')).toEqual({ group: 'Full', host: 'f4', from: 'common_pool' });
    await pvmutl(db, ['delete', 'Full', 'f4']);
    expect(placement(db, 'cp1').group).toBeNull();
    expect(pools(db, 'cp1')).toEqual([]);

    expect(await master(db, 'Bare', 'cp2', 'b1')).toBe(0);
    exec(db, "INSERT INTO pool_members (group_id, machine_id) VALUES ((SELECT id FROM groups WHERE name = 'Bare'), (SELECT id FROM machines WHERE name = 'cp2'))");
    await pvmutl(db, ['delete', 'Bare', 'b1']);
    expect(pools(db, 'cp2')).toEqual([]);
  });

  it('replacement: the source returns to the group pool, or to the common pool when it came from there', async () => {
    const db = fixtureStore();
    expect((await pvmutl(db, ['replace', 'Shop\\Web', 'web01'])).code).toBe(0);
    expect(placement(db, 'px-r120-01').group).toBeNull();
    expect(pools(db, 'px-r120-01')).toEqual(['Web']);
    expect(placement(db, 'px-r120-03')).toEqual({ group: 'Web', host: 'web01', from: 'group_pool' });

    // px-ap-04 was registered as a master machine: it goes to the common pool.
    exec(db, "INSERT INTO pool_members (group_id, machine_id) VALUES ((SELECT id FROM groups WHERE name = 'AP'), (SELECT id FROM machines WHERE name = 'px-ap-04'))");
    expect((await pvmutl(db, ['replace', 'Shop\\AP', 'ap03'])).code).toBe(0);
    expect(placement(db, 'px-ap-04').group).toBeNull();
    expect(pools(db, 'px-ap-04')).toEqual([]);
  });

  it('replacement: a source machine that came from the common pool returns there', async () => {
    const db = fixtureStore();
    // px-batch-01 was activated in Nightly from the common pool.
    expect((await pvmutl(db, ['replace', 'Shop\\Batch\\Nightly', 'batch01'])).code).toBe(0);
    expect(placement(db, 'px-batch-01').group).toBeNull();
    expect(pools(db, 'px-batch-01')).toEqual([]);
    expect(placement(db, 'px-batch-02')).toEqual({ group: 'Nightly', host: 'batch01', from: 'group_pool' });
  });

  it('move: a machine activated from the common pool or by master registration leaves the source group for the common pool', async () => {
    const db = fixtureStore();
    exec(db, "INSERT INTO pool_members (group_id, machine_id) VALUES ((SELECT id FROM groups WHERE name = 'Web'), (SELECT id FROM machines WHERE name = 'px-ap-04'))");
    exec(db, "INSERT INTO pool_members (group_id, machine_id) VALUES ((SELECT id FROM groups WHERE name = 'AP'), (SELECT id FROM machines WHERE name = 'px-ap-04'))");
    expect((await pvmutl(db, ['move', 'Shop\\Web', 'Shop\\AP', 'ap03'])).code).toBe(0);
    expect(placement(db, 'px-ap-04')).toEqual({ group: 'Web', host: 'web04', from: 'group_pool' });
    // Its AP pool registration is gone: from AP it returns to the common pool, never to AP's pool.
    expect(pools(db, 'px-ap-04')).toEqual(['Web']);
  });

  it('move: the machine stays in the source pool when it came from there, and needs the destination pool', async () => {
    const db = fixtureStore(ENGINE_DC);
    await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect((await pvmutl(db, ['move', 'Bare2', 'Bare', 'b1'])).code).toBe(0);
    expect(placement(db, 'pb1')).toEqual({ group: 'Bare2', host: 'c1', from: 'group_pool' });
    expect(pools(db, 'pb1')).toEqual(['Bare', 'Bare2']);
    expect((await pvmutl(db, ['list', 'server', 'Bare'])).out).toContain('Pool\n===========\npb1\n');
  });
});

describe('common-pool conditions (spec §8.2)', () => {
  async function fullWithoutPool(): Promise<string> {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "DELETE FROM pool_members WHERE group_id = (SELECT id FROM groups WHERE name = 'Full')");
    return db;
  }

  it('uses a registered machine of the same hardware model when the group allows it', async () => {
    const db = await fullWithoutPool();
    expect((await pvmutl(db, ['add', 'Full'])).code).toBe(0);
    expect(placement(db, 'cp1').from).toBe('common_pool');
  });

  it('not when the group does not allow the common pool', async () => {
    const db = await fullWithoutPool();
    exec(db, "UPDATE groups SET allow_common_pool = 0 WHERE name = 'Full'");
    expect((await pvmutl(db, ['add', 'Full'])).code).toBe(2);
  });

  it('not while the group pool has a usable machine', async () => {
    const db = fixtureStore(ENGINE_DC);
    expect((await pvmutl(db, ['add', 'Full', '/c', '3'])).code).toBe(0);
    expect(placement(db, 'cp1').group).toBeNull();
  });

  it('only machines whose hardware model matches the active ones, and registered with the deployment server', async () => {
    const db = await fullWithoutPool();
    expect(await master(db, 'Full', 'cp1', 'f1')).toBe(0);
    // cp2 is R999 (no match), cp3 is R120h but not registered with DPM.
    const r = await pvmutl(db, ['add', 'Full']);
    expect(r.code).toBe(2);
    exec(db, "UPDATE machines SET dpm_registered = 1 WHERE name = 'cp3'");
    expect((await pvmutl(db, ['add', 'Full'])).code).toBe(0);
    expect(placement(db, 'cp3').from).toBe('common_pool');
    expect(placement(db, 'cp2').group).toBeNull();
  });

  it('a common-pool machine cannot be named', async () => {
    const db = fixtureStore(ENGINE_DC);
    const r = await pvmutl(db, ['add', 'Full', 'cp1']);
    expect(r).toMatchObject({ code: 2, err: 'pvmutl: cp1 is not in the pool of Full (common-pool machines cannot be given)\n' });
  });
});

describe('exit codes of the configuration commands', () => {
  const cases: Array<[string, string[], number, string]> = [
    ['add: unknown group', ['add', 'Nope'], 3, 'pvmutl: group not found: Nope\n'],
    ['add: host settings exhausted', ['add', 'Bare2', '/c', '3'], 4, 'pvmutl: host settings of Bare2 are insufficient: 3 needed, 2 unused\n'],
    ['add: more than the pool holds', ['add', 'Bare', '/c', '4'], 2, 'pvmutl: not enough usable pool machines for Bare: 4 needed, 3 available\n'],
    ['add: unknown machine', ['add', 'Bare', 'nobody'], 2, 'pvmutl: machine not found: nobody\n'],
    ['add: VM already active', ['add', 'VFull', 'vms1'], 11, 'pvmutl: vms1 is already active in a group\n'],
    ['addspecname: undefined host', ['addspecname', 'Bare', '10.9.9.9'], 4, 'pvmutl: no host setting named or addressed 10.9.9.9 in Bare\n'],
    ['addspecname: category without a group defining it', ['addspecname', 'Hosts', 'b1'], 4, 'pvmutl: no host setting named or addressed b1 in Hosts (did you mean h1?)\n'],
    ['delete: host not active', ['delete', 'Bare', 'b1'], 2, 'pvmutl: b1 is not active in Bare\n'],
    ['delete: more than are active', ['delete', 'Hosts', '/c', '3'], 2, 'pvmutl: active machines of Hosts are insufficient: 3 to delete, 2 can be\n'],
    ['replace: host not active', ['replace', 'Bare', 'b1'], 2, 'pvmutl: b1 is not active in Bare\n'],
    ['replace: virtual machines', ['replace', 'VFull', 'v1'], 3, 'pvmutl: replace is not usable for virtual machines (VFull)\n'],
    ['move: same group', ['move', 'Bare', 'Bare'], 3, 'pvmutl: the source and destination groups are the same\n'],
    ['move: no machine to move', ['move', 'Bare2', 'Bare'], 5, 'pvmutl: machines to move are insufficient: 1 needed, 0 active in Bare and in the pool of Bare2\n'],
    ['move: host not active', ['move', 'Bare2', 'Bare', 'b1'], 5, 'pvmutl: no machine is active on host b1 in Bare\n'],
    ['move: virtual machines', ['move', 'VFull', 'VBare'], 3, 'pvmutl: move is not usable for virtual machines\n'],
    ['vmadd: name exists', ['vmadd', 'VFull', 'vm-a'], 10, 'pvmutl: a machine named vm-a already exists\n'],
    ['vmadd: not a VM group', ['vmadd', 'Bare', 'x'], 3, 'pvmutl: vmadd needs a group of virtual machines; Bare holds physical machines\n'],
    ['vmadd: unknown VM server', ['vmadd', 'VFull', 'x', '/VMS', 'nope'], 2, 'pvmutl: VM server not found: nope\n'],
    ['vmadd: unknown datastore', ['vmadd', 'VFull', 'x', '/VMS', 'vms1', '/DATASTORE', 'ds9'], 2, 'pvmutl: datastore ds9 not found on vms1\n'],
    ['vmadd: host in use', ['vmadd', 'VFull', 'x', '/NETINFO', 'v1'], 0, ''],
    ['vmadd /a: not a VM', ['vmadd', 'VFull', 'pf1', '/a'], 2, 'pvmutl: pf1 is not a virtual machine\n'],
    ['vmadd /a: already active', ['vmadd', 'VFull', 'vms1', '/a'], 2, 'pvmutl: vms1 is not a virtual machine\n'],
    ['vmdelete: no VM group under a path', ['vmdelete', 'Bare'], 3, 'pvmutl: no group of virtual machines under Bare\n'],
    ['vmmigrate: not active', ['vmmigrate', 'VFull', 'v9', 'vms2'], 2, 'pvmutl: v9 is not active in VFull\n'],
    ['shutdown: pool machine named', ['shutdown', 'Bare', 'pb1'], 2, 'pvmutl: pb1 is not active in Bare (pool machines cannot be given)\n'],
    ['poweron: empty group', ['poweron', 'Bare'], 2, 'pvmutl: no active machine in Bare\n'],
    ['ascancel: unknown job', ['ascancel', '42'], 2, 'pvmutl: job 00042 is not running\n'],
  ];

  it.each(cases)('%s', async (_label, args, code, err) => {
    const db = fixtureStore(ENGINE_DC);
    const before = storeDigest(db);
    const r = await pvmutl(db, args);
    expect(r).toEqual({ code, out: '', err });
    if (code !== 0) expect(storeDigest(db)).toBe(before);
  });

  it('vmadd: a host setting in use is 4; a missing template is 8; a full VM server is 2', async () => {
    const db = fixtureStore(ENGINE_DC);
    expect((await pvmutl(db, ['vmadd', 'VFull', 'x', '/NETINFO', '10.2.0.1'])).code).toBe(0);
    expect(await pvmutl(db, ['vmadd', 'VFull', 'y', '/NETINFO', 'v1'])).toEqual({ code: 4, out: '', err: 'pvmutl: host setting v1 is in use\n' });
    exec(db, "UPDATE machines SET power_state = 'on', cost = 50 WHERE name IN ('vm-a', 'vm-b')");
    expect(await pvmutl(db, ['vmadd', 'VFull', 'y', '/VMS', 'vms1'])).toEqual({ code: 2, out: '', err: 'pvmutl: VM server vms1 has no free capacity: cost 10 needed, 0 of 100 free\n' });
    exec(db, "UPDATE groups SET template_id = NULL WHERE name = 'VFull'");
    expect(await pvmutl(db, ['vmadd', 'VFull', 'z'])).toEqual({ code: 8, out: '', err: 'pvmutl: no template is registered on VFull\n' });
  });

  it('vmmigrate: same VM server is 2, and capacity is checked for a running VM', async () => {
    const db = fixtureStore(ENGINE_DC);
    await pvmutl(db, ['vmadd', 'VFull', 'vm-a', '/a']);
    expect(await pvmutl(db, ['vmmigrate', 'VFull', 'v1', 'vms1'])).toEqual({ code: 2, out: '', err: 'pvmutl: vm-a is already on vms1; give another VM server\n' });
    exec(db, "UPDATE machines SET capacity = 5 WHERE name = 'vms2'");
    expect((await pvmutl(db, ['vmmigrate', 'VFull', 'v1', 'vms2'])).code).toBe(2);
  });
});

describe('failures inside a job', () => {
  it('a failing step ends the job: exit 7, the journal stops there, the machine is marked abnormal, events 2033 and 2035', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "INSERT INTO sim_faults (machine, operation, remaining, message) VALUES ('pb1', 'power-on', 1, 'BMC did not answer')");
    const r = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(r.code).toBe(7);
    expect(r.err).toBe("pvmutl: job 00001 (MoveFromPoolToGroup, pb1) failed at 'Start machine': sim: power-on on pb1: BMC did not answer\n");
    expect(q(db, 'SELECT name, status FROM job_steps ORDER BY seq')).toEqual([
      { name: 'Assign host setting', status: 'completed' },
      { name: 'Distribute activation-time software', status: 'completed' },
      { name: 'Start machine', status: 'failed' },
    ]);
    expect(q(db, "SELECT management_status FROM machines WHERE name = 'pb1'")).toEqual([{ management_status: 'abnormal' }]);
    expect(q(db, 'SELECT status, exit_code FROM jobs')).toEqual([{ status: 'failed', exit_code: 7 }]);
    expect(q(db, 'SELECT event_id, type FROM events ORDER BY id')).toEqual([
      { event_id: 2033, type: 'information' },
      { event_id: 2035, type: 'warning' },
    ]);
    expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
  });

  it('the audit trail records changes made or attempted, not rejected commands', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "INSERT INTO sim_faults (machine, operation, remaining) VALUES ('pb2', 'power-on', 1)");
    await pvmutl(db, ['add', 'Bare', 'pb1']);
    await pvmutl(db, ['add', 'Bare', 'pb2']);
    await pvmutl(db, ['add', 'Nope']);
    expect(q(db, 'SELECT command, exit_code FROM audit ORDER BY id')).toEqual([
      { command: 'pvmutl add Bare pb1', exit_code: 0 },
      { command: 'pvmutl add Bare pb2', exit_code: 7 },
    ]);
  });

  it('a driver that refuses to start the job is exit 6 and changes no machine', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "INSERT INTO sim_faults (machine, operation, remaining) VALUES ('*', 'start', 1)");
    const r = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(r.code).toBe(6);
    expect(placement(db, 'pb1').group).toBeNull();
    expect(q(db, 'SELECT count(*) AS n FROM job_steps')).toEqual([{ n: 0 }]);
  });

  it('a missing driver is exit 6 before anything is reserved', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "DELETE FROM group_drivers WHERE interface = 'power' AND group_id = (SELECT id FROM groups WHERE name = 'Bare')");
    const before = storeDigest(db);
    const r = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(r).toEqual({ code: 6, out: '', err: "pvmutl: MoveFromPoolToGroup cannot start: no power driver is configured for pb1 (step 'Start machine')\n" });
    expect(storeDigest(db)).toBe(before);
  });

  it('one failing machine of several makes the command exit 7; the others complete', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "INSERT INTO sim_faults (machine, operation) VALUES ('pb2', 'power-on')");
    const r = await pvmutl(db, ['add', 'Bare', '/c', '3']);
    expect(r.code).toBe(7);
    expect(q(db, 'SELECT status FROM jobs ORDER BY id').map((x) => (x as { status: string }).status).sort()).toEqual(['completed', 'completed', 'failed']);
  });

  it('distribution history records the activation software in §4.5 order; the sim keeps what it installed', async () => {
    const db = fixtureStore(ENGINE_DC);
    await pvmutl(db, ['add', 'Full', 'pf1']);
    expect(q(db, "SELECT software_name FROM distribution_history WHERE machine_id = (SELECT id FROM machines WHERE name = 'pf1') ORDER BY seq").map((r) => (r as { software_name: string }).software_name)).toEqual(['OS', 'App']);
    await pvmutl(db, ['delete', 'Full', 'f1']);
    // Standby software (Wipe, then the DHCP reset) is installed but not recorded.
    expect(q(db, "SELECT software FROM sim_installed WHERE machine_id = (SELECT id FROM machines WHERE name = 'pf1') ORDER BY seq").map((r) => (r as { software: string }).software)).toEqual(['OS', 'App', 'Wipe', 'SetDHCP']);
    expect(q(db, "SELECT count(*) AS n FROM distribution_history WHERE machine_id = (SELECT id FROM machines WHERE name = 'pf1')")).toEqual([{ n: 2 }]);
  });

  it('the sim keeps load-balancer, VLAN and storage state across commands', async () => {
    const db = fixtureStore(ENGINE_DC);
    await pvmutl(db, ['add', 'Full', 'pf1']);
    expect(q(db, 'SELECT lb_group, address FROM sim_lb_members')).toEqual([{ lb_group: 'LB-full', address: '10.1.0.1' }]);
    expect(q(db, 'SELECT vlan FROM sim_vlan_ports')).toEqual([{ vlan: 'V-full' }]);
    expect(q(db, 'SELECT volume FROM sim_volumes')).toEqual([{ volume: 'LD1' }]);
    await pvmutl(db, ['delete', 'Full', 'f1']);
    expect(q(db, 'SELECT count(*) AS n FROM sim_lb_members UNION ALL SELECT count(*) FROM sim_vlan_ports UNION ALL SELECT count(*) FROM sim_volumes')).toEqual([{ n: 0 }, { n: 0 }, { n: 0 }]);
  });
});
