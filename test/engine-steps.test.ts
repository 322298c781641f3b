// For every action sequence, the journalled step order is the §9 table of
// spec/provisioning-model.md, with the optional steps present only when the group,
// model or machine is configured for them. The expected lists are written out
// from the spec here, independently of src/engine/steps.ts.
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { runCommandChange } from '../src/pvmutl/change.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { fixtureStore, pvmutl } from './support/store.js';

function lastJob(db: string): { sequence: string; steps: string[]; statuses: string[] } {
  const d = openStore(db, { readonly: true });
  const job = d.prepare('SELECT id, sequence FROM jobs ORDER BY id DESC LIMIT 1').get() as { id: number; sequence: string };
  const steps = d.prepare('SELECT name, status FROM job_steps WHERE job_id = ? ORDER BY seq').all(job.id) as Array<{ name: string; status: string }>;
  d.close();
  return { sequence: job.sequence, steps: steps.map((s) => s.name), statuses: steps.map((s) => s.status) };
}

async function ok(db: string, args: string[]): Promise<void> {
  const r = await pvmutl(db, args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
}

async function registerMaster(db: string, group: string, machine: string, netInfo: string): Promise<number> {
  const d = openStore(db);
  try {
    return await runCommandChange(d, { out: () => {}, err: () => {}, ask: async () => undefined }, { action: 'register-master', group, machine, netInfo }, 'test');
  } finally {
    d.close();
  }
}

async function sim(db: string, machine: string, operation: string): Promise<void> {
  const d = openStore(db);
  d.prepare('INSERT INTO sim_faults (machine, operation, remaining) VALUES (?, ?, 1)').run(machine, operation);
  d.close();
}

const ACT = 'Assign host setting';
const STORAGE_ON = 'Connect storage (disk volume)';
const STORAGE_OFF = 'Disconnect storage (disk volume)';
const DIST_ON = 'Distribute activation-time software';
const DIST_OFF = 'Distribute standby-time software';
const ESM_ON = 'Register to ESMPRO/ServerManager';
const ESM_OFF = 'Delete from ESMPRO/ServerManager';
const INFO = 'Get and update machine information';
const UPDATE = 'Update configuration information';
const LB_ON = 'Register to load-balancing group';
const LB_OFF = 'Unregister from load-balancing group';
const VLAN = 'VLAN setting';

describe('§9.1 activation (MoveFromPoolToGroup, physical)', () => {
  it('runs all nine steps with storage, VLAN, LB and a management network', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Full', 'pf1']);
    expect(lastJob(db)).toEqual({
      sequence: 'MoveFromPoolToGroup',
      steps: [ACT, STORAGE_ON, DIST_ON, 'Start machine', ESM_ON, INFO, UPDATE, LB_ON, VLAN],
      statuses: Array(9).fill('completed'),
    });
  });

  it('runs only the standard steps without them', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Bare', 'pb1']);
    expect(lastJob(db).steps).toEqual([ACT, DIST_ON, 'Start machine', INFO, UPDATE]);
  });
});

describe('§9.2 master machine registration (physical)', () => {
  it('full', async () => {
    const db = fixtureStore(ENGINE_DC);
    expect(await registerMaster(db, 'Full', 'cp1', 'f2')).toBe(0);
    // cp1 has no management address: the [mgmt NW] step is left out.
    expect(lastJob(db)).toMatchObject({ sequence: 'MoveMasterMachineToGroup', steps: [ACT, STORAGE_ON, 'Start machine', INFO, UPDATE, LB_ON, VLAN] });
  });

  it('bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    expect(await registerMaster(db, 'Bare', 'cp2', 'b2')).toBe(0);
    expect(lastJob(db).steps).toEqual([ACT, 'Start machine', INFO, UPDATE]);
  });
});

describe('§9.3 deletion (physical)', () => {
  it('full', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Full', 'pf1']);
    await ok(db, ['delete', 'Full', 'f1']);
    expect(lastJob(db)).toEqual({
      sequence: 'MoveFromGroupToPool',
      steps: [LB_OFF, VLAN, ESM_OFF, DIST_OFF, 'Shut down machine', STORAGE_OFF, 'Release host setting', UPDATE],
      statuses: Array(8).fill('completed'),
    });
  });

  it('bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Bare', 'pb1']);
    await ok(db, ['delete', 'Bare', 'b1']);
    expect(lastJob(db).steps).toEqual([DIST_OFF, 'Shut down machine', 'Release host setting', UPDATE]);
  });
});

describe('§9.4 replacement (TakeOverMachine)', () => {
  it('full', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Full', 'pf1']);
    await ok(db, ['replace', 'Full', 'f1']);
    expect(lastJob(db)).toMatchObject({
      sequence: 'TakeOverMachine',
      steps: [LB_OFF, VLAN, ESM_OFF, DIST_OFF, 'Shut down source machine', STORAGE_OFF, 'Replace machine', STORAGE_ON, DIST_ON,
        'Start destination machine', ESM_ON, INFO, UPDATE, LB_ON, VLAN],
    });
  });

  it('bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Bare', 'pb1']);
    await ok(db, ['replace', 'Bare', 'b1']);
    expect(lastJob(db).steps).toEqual([DIST_OFF, 'Shut down source machine', 'Replace machine', DIST_ON, 'Start destination machine', INFO, UPDATE]);
  });
});

describe('§9.5 move (ChangeServerGroup)', () => {
  it('full', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Full', 'pf1']);
    await ok(db, ['move', 'Full2', 'Full', 'f1']);
    expect(lastJob(db)).toMatchObject({
      sequence: 'ChangeServerGroup',
      steps: ['Decide machine to move', LB_OFF, VLAN, ESM_OFF, DIST_OFF, 'Shut down machine', STORAGE_OFF, 'Release host setting',
        ACT, STORAGE_ON, DIST_ON, 'Start machine', ESM_ON, INFO, UPDATE, LB_ON, VLAN],
    });
  });

  it('bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Bare', 'pb1']);
    await ok(db, ['move', 'Bare2', 'Bare']);
    expect(lastJob(db).steps).toEqual(['Decide machine to move', DIST_OFF, 'Shut down machine', 'Release host setting', ACT, DIST_ON, 'Start machine', INFO, UPDATE]);
  });
});

describe('§9.6 new resource assignment (CreateMachineToGroup)', () => {
  it('full: DPM registration and distribution with [Register to DPM when VM is created], LB', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VFull', 'new1']);
    expect(lastJob(db)).toMatchObject({
      sequence: 'CreateMachineToGroup',
      steps: [ACT, 'Create virtual machine', INFO, UPDATE, 'Register machine to DPM', DIST_ON, 'Start machine', LB_ON],
    });
  });

  it('bare: no DPM, no distribution, no LB', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VBare', 'new1']);
    expect(lastJob(db).steps).toEqual([ACT, 'Create virtual machine', INFO, UPDATE, 'Start machine']);
  });
});

describe('§9.7 resource assignment (MoveFromManagedToGroup, virtual)', () => {
  it('variant A (no machine information) full', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VFull', 'vm-a', '/a']);
    expect(lastJob(db)).toMatchObject({
      sequence: 'MoveFromManagedToGroup',
      steps: [ACT, 'Personality reflection', 'Register machine to DPM', DIST_ON, 'Start machine', LB_ON],
    });
  });

  it('variant B (machine information given) bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VBare', 'vm-a', '/NETINFO', 'w3', '/a']);
    expect(lastJob(db).steps).toEqual([ACT, 'Personality reflection', 'Start machine']);
    const d = openStore(db, { readonly: true });
    expect(d.prepare("SELECT h.host_name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE m.name = 'vm-a'").get()).toEqual({ host_name: 'w3' });
    d.close();
  });
});

describe('§9.8 master machine registration (virtual)', () => {
  it('full', async () => {
    const db = fixtureStore(ENGINE_DC);
    expect(await registerMaster(db, 'VFull', 'vm-b', 'v2')).toBe(0);
    expect(lastJob(db)).toMatchObject({ sequence: 'MoveMasterMachineToGroup', steps: [ACT, 'Network setting', 'Register machine to DPM', 'Start machine', LB_ON] });
  });

  it('bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    expect(await registerMaster(db, 'VBare', 'vm-b', 'w2')).toBe(0);
    expect(lastJob(db).steps).toEqual([ACT, 'Network setting', 'Start machine']);
  });
});

describe('§9.9 VM deletion', () => {
  it('variant A (/d, remove from group) full', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VFull', 'new1']);
    await ok(db, ['vmdelete', 'VFull', 'v1', '/d']);
    expect(lastJob(db)).toMatchObject({
      sequence: 'MoveFromGroupToManaged',
      steps: [LB_OFF, DIST_OFF, 'Shut down machine', 'Release host setting', 'Delete machine registration from DPM', UPDATE],
    });
  });

  it('variant B (delete the VM) full and bare', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VFull', 'new1']);
    await ok(db, ['vmdelete', 'VFull', 'new1']);
    expect(lastJob(db)).toMatchObject({
      sequence: 'DeleteVirtualMachine',
      steps: [LB_OFF, DIST_OFF, 'Shut down machine', 'Release host setting', 'Delete machine registration from DPM', UPDATE, 'Delete virtual machine'],
    });
    await ok(db, ['vmadd', 'VBare', 'new2']);
    await ok(db, ['vmdelete', 'VBare']);
    expect(lastJob(db).steps).toEqual([DIST_OFF, 'Shut down machine', 'Release host setting', UPDATE, 'Delete virtual machine']);
  });
});

describe('§9.10 VM move (MoveMachine)', () => {
  it('vmmigrate runs step 1 only', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VBare', 'vm-a', '/a']);
    await ok(db, ['vmmigrate', 'VBare', 'w1', 'vms2']);
    expect(lastJob(db)).toEqual({ sequence: 'MoveMachine', steps: ['HotMigrate/ColdMigrate'], statuses: ['completed'] });
  });

  it('vmmigrateandmove falls back to steps 2–4 and 6–7 when migration fails', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VBare', 'vm-c', '/a']);
    // vm-c is on local storage: migration is impossible, Move works.
    await ok(db, ['vmmigrateandmove', 'VBare', 'w1', 'vms2']);
    expect(lastJob(db)).toEqual({
      sequence: 'MoveMachine',
      steps: ['HotMigrate/ColdMigrate', 'Check power state', 'Shut down', 'Move', 'Check power state', 'Start'],
      statuses: ['failed', 'completed', 'completed', 'completed', 'completed', 'completed'],
    });
  });

  it('vmmigrateandmove deletes and re-creates the VM when Move fails too', async () => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['vmadd', 'VBare', 'vm-c', '/a']);
    await sim(db, 'vm-c', 'move');
    await ok(db, ['vmmigrateandmove', 'VBare', 'w1', 'vms2']);
    expect(lastJob(db)).toEqual({
      sequence: 'MoveMachine',
      steps: ['HotMigrate/ColdMigrate', 'Check power state', 'Shut down', 'Move', 'Delete and re-create virtual machine', 'Start'],
      statuses: ['failed', 'completed', 'completed', 'failed', 'completed', 'completed'],
    });
  });
});

describe('power sequences', () => {
  it.each([
    ['shutdown', 'ShutdownMachine', 'Shut down machine'],
    ['reboot', 'RebootMachine', 'Reboot machine'],
    ['poweron', 'StartupMachine', 'Start machine'],
  ])('%s runs %s with one step', async (cmd, sequence, step) => {
    const db = fixtureStore(ENGINE_DC);
    await ok(db, ['add', 'Bare', 'pb1']);
    await ok(db, [cmd, 'Bare', 'b1']);
    expect(lastJob(db)).toEqual({ sequence, steps: [step], statuses: ['completed'] });
  });
});
