// The driver contract: what config check/apply accept, what a job checks before its
// first step (exit 6 with the store unchanged), driver settings of machines and groups,
// and the registry as the one place that resolves drivers.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_DRIVERS, driverProblems, driverSpec, driversServing, DRIVER_SPECS } from '../src/adapters/registry.js';

// The lists messages name, from the registry: a new driver changes no assertion here.
const KNOWN = KNOWN_DRIVERS.join(', ');
const POWER = driversServing('power').join(', ');
import { deleteDriverSetting, putDriverSecret, putDriverSetting } from '../src/adapters/settings.js';
import { SettingReader } from '../src/adapters/setting-reader.js';
import { INTERFACES, type SettingSpec } from '../src/adapters/types.js';
import { openStore } from '../src/open-store.js';
import { run } from './support/cli.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { exec, FIXTURE, fixtureStore, pvmutl, queryAll as q, storeBytes, storeDigest, tempDir } from './support/store.js';

const fixtureText = readFileSync(FIXTURE, 'utf8');
const write = (text: string): string => {
  const f = join(tempDir(), 'dc.yaml');
  writeFileSync(f, text);
  return f;
};
/** The fixture with the first group's power driver replaced. */
const withWebPower = (driver: string): string => fixtureText.replace('power: sim, deploy: sim, vm: sim', `power: ${driver}, deploy: sim, vm: sim`);

describe('config check and apply know the drivers', () => {
  it('an unknown driver is exit 1, naming the group and the setting; nothing is written', () => {
    const f = write(withWebPower('libvrt'));
    const r = run('kanri', ['config', 'check', f]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${f}: group Shop\\Web: drivers.power: unknown driver 'libvrt' (did you mean libvirt?) (known: ${KNOWN})\n`);
    const db = fixtureStore();
    const before = storeDigest(db);
    expect(run('kanri', ['config', 'apply', f], { db }).code).toBe(1);
    expect(storeDigest(db)).toBe(before);
  });

  it('a deploy-only driver on the power interface is exit 1, naming the group and what it serves', () => {
    const r = run('kanri', ['config', 'check', write(withWebPower('local'))]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`group Shop\\Web: drivers.power: the local driver does not serve the power interface (it serves deploy; power is served by ${POWER})\n`);
  });

  it('a machine\'s own driver is checked the same way, with a near name suggested', () => {
    const text = fixtureText.replace('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-02, drivers: { power: ipmj, deploy: sim }, kind: physical,');
    const r = run('kanri', ['config', 'check', write(text)]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("machine px-r120-02: drivers.power: unknown driver 'ipmj' (did you mean ipmi?)");
  });

  it('settings: an unknown key or a bad value of a declared one is exit 1', () => {
    const text = fixtureText.replace('settings:\n', 'settings:\n  ipmi.deadlin_s: "5"\n  ipmi.on_wait_s: soon\n  sim.delay_ms.power-on: "-1"\n');
    const r = run('kanri', ['config', 'check', write(text)]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('settings.ipmi.deadlin_s: unknown setting (did you mean ipmi.deadline_s?)');
    expect(r.err).toContain("settings.ipmi.on_wait_s: must be a number of at least 0.001, not 'soon'");
    expect(r.err).toContain("settings.sim.delay_ms.power-on: must be an integer of at least 0, not '-1'");
  });

  it('driver settings of a machine: validated, stored, exported and applied back unchanged', () => {
    const bad = fixtureText.replace('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-02, driver_settings: { sim: { delay_ms: slow, colour: red } }, kind: physical,');
    const r = run('kanri', ['config', 'check', write(bad)]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("machines[1].driver_settings.sim.delay_ms: must be an integer of at least 0, not 'slow'");
    expect(r.err).toContain('machines[1].driver_settings.sim.colour: unknown key (expected one of: delay_ms)');
    const good = fixtureText.replace('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-02, driver_settings: { sim: { delay_ms: 250 } }, kind: physical,');
    const db = fixtureStore(good);
    expect(q(db, "SELECT driver, key, value, sealed FROM driver_settings")).toEqual([{ driver: 'sim', key: 'delay_ms', value: '250', sealed: 0 }]);
    const exported = run('kanri', ['config', 'export'], { db }).out;
    expect(exported).toContain('    driver_settings:\n      sim: { delay_ms: "250" }\n');
    expect(run('kanri', ['config', 'apply', write(exported)], { db }).out).toMatch(/^no changes/);
  });
});

describe('a job checks every driver it will use before its first step', () => {
  it('a driver that does not serve the step: exit 6, the store byte-for-byte unchanged', async () => {
    const db = fixtureStore(ENGINE_DC);
    // config apply refuses this; a store edited by hand (or an older kanri) can hold it
    exec(db, "UPDATE group_drivers SET driver = 'local' WHERE interface = 'power' AND group_id = (SELECT id FROM groups WHERE name = 'Bare')");
    const before = storeDigest(db);
    const r = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(r).toEqual({
      code: 6, out: '',
      err: `pvmutl: MoveFromPoolToGroup cannot start: the local driver does not serve the power interface (it serves deploy; power is served by ${POWER}) (step 'Start machine' for pb1)\n`,
    });
    expect(storeDigest(db)).toBe(before);
  });

  it('an unknown driver: exit 6, unchanged', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "UPDATE group_drivers SET driver = 'libvrt' WHERE interface = 'power' AND group_id = (SELECT id FROM groups WHERE name = 'Bare')");
    const before = storeDigest(db);
    const r = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(r.code).toBe(6);
    expect(r.err).toBe(`pvmutl: MoveFromPoolToGroup cannot start: unknown power driver 'libvrt' (known: ${KNOWN}) for pb1\n`);
    expect(storeDigest(db)).toBe(before);
  });

  it('the ipmi driver on a machine without a BMC registration: exit 6 naming what to do, unchanged', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "UPDATE group_drivers SET driver = 'ipmi' WHERE interface = 'power' AND group_id = (SELECT id FROM groups WHERE name = 'Bare')");
    const before = storeDigest(db);
    const add = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(add.code).toBe(6);
    expect(add.err).toBe("pvmutl: MoveFromPoolToGroup cannot start: pb1: no IPMI BMC registered for this machine (dscli createServer pb1 mgmt=ipmi address=… user=… password_file=…) (step 'Start machine' for pb1)\n");
    expect(storeDigest(db)).toBe(before);
    expect(q(db, 'SELECT count(*) AS n FROM jobs')).toEqual([{ n: 0 }]);
  });

  it('a registration without its password is named the same way', async () => {
    const db = fixtureStore(ENGINE_DC);
    exec(db, "UPDATE group_drivers SET driver = 'ipmi' WHERE interface = 'power' AND group_id = (SELECT id FROM groups WHERE name = 'Bare')");
    exec(db, "UPDATE machines SET mgmt_type = 'ipmi', bmc_address = '127.0.0.1', bmc_port = 9999, bmc_user = 'admin' WHERE name = 'pb1'");
    const before = storeDigest(db);
    const r = await pvmutl(db, ['add', 'Bare', 'pb1']);
    expect(r.code).toBe(6);
    expect(r.err).toContain('pb1: no IPMI BMC password stored (dscli setServer pb1 password_file=…)');
    expect(storeDigest(db)).toBe(before);
  });
});

describe('driver declarations', () => {
  it('every driver declares what it serves and settings with a type and a description', () => {
    for (const d of DRIVER_SPECS) {
      expect(d.description.length, d.name).toBeGreaterThan(10);
      for (const s of d.settings) {
        expect(s.description.length, `${d.name} ${s.key}`).toBeGreaterThan(5);
      }
    }
    expect(driverSpec('sim')!.interfaces).toEqual([...INTERFACES, 'info']);
    expect(driverSpec('ipmi')!.interfaces).toEqual(['power', 'info']);
  });

  it('the registry answers what keeps a driver from serving, without loading it', () => {
    const d = openStore(':memory:');
    try {
      expect(driverProblems(d, 'local', 'power', null)).toEqual([{ kind: 'not-serving', message: `the local driver does not serve the power interface (it serves deploy; power is served by ${POWER})` }]);
      expect(driverProblems(d, 'nope', 'vm', null)[0]!.kind).toBe('unknown');
      expect(driverProblems(d, 'sim', 'vm', null)).toEqual([]);
    } finally {
      d.close();
    }
  });

  it("the ipmi driver's info interface, loaded on first use, has every method of the module it loads", async () => {
    const { createIpmiDriver, INFO_METHODS } = await import('../src/adapters/ipmi/index.js');
    const { ipmiInfo } = await import('../src/adapters/ipmi/info.js');
    expect([...INFO_METHODS].sort()).toEqual(Object.keys(ipmiInfo).sort());
    expect(Object.keys(createIpmiDriver().interfaces.info!).sort()).toEqual(Object.keys(ipmiInfo).sort());
  });

  it('kanri driver list and show print the declarations; an unknown one is 2 with a suggestion', () => {
    const l = run('kanri', ['driver', 'list']);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/^sim\tpower,deploy,vm,storage,vlan,lb,monitor,info\t/);
    expect(l.out).toMatch(/^ipmi\tpower,info\t/m);
    const s = run('kanri', ['driver', 'show', 'ipmi']);
    expect(s.out).toMatch(/^ {2}ipmi\.deadline_s +global +number +default 10 +/m);
    const u = run('kanri', ['driver', 'show', 'ipmj']);
    expect(u).toMatchObject({ code: 2, err: `kanri: unknown driver 'ipmj' (did you mean ipmi?) (known: ${KNOWN})\n` });
  });
});

describe('driver settings of machines and groups', () => {
  it('resolve machine, then group, then the global setting, then the default; secrets only sealed', () => {
    const path = join(tempDir(), 'kanri.db');
    const db = openStore(path, { create: true });
    // The file's own key; on PostgreSQL the other stores of this file keep theirs (test/support/store.ts).
    const otherKey = process.env.KANRI_KEY_FILE;
    process.env.KANRI_KEY_FILE = join(tempDir(), 'kanri.key');
    try {
      db.prepare("INSERT INTO groups (name, machine_type) VALUES ('G', 'physical')").run();
      db.prepare("INSERT INTO machines (name, kind) VALUES ('m', 'physical')").run();
      const spec = { key: 'delay_ms', scope: 'machine' as const, type: 'integer' as const, default: 5, description: 'test' };
      const scope = { machineId: 1, groupId: 1 };
      // a fresh reader each time: one reader keeps what it read
      const resolved = (d: string, s: SettingSpec, sc: typeof scope | { machineId: number }): string | undefined => new SettingReader(db, d, [s], sc).raw(s.key);
      expect(resolved('sim', spec, scope)).toBe('5');
      db.prepare("INSERT INTO settings (key, value) VALUES ('sim.delay_ms', '7')").run();
      expect(resolved('sim', spec, scope)).toBe('7');
      putDriverSetting(db, { groupId: 1 }, 'sim', 'delay_ms', '8');
      expect(resolved('sim', spec, scope)).toBe('8');
      putDriverSetting(db, { machineId: 1 }, 'sim', 'delay_ms', '9');
      expect(resolved('sim', spec, scope)).toBe('9');
      putDriverSecret(db, { machineId: 1 }, 'sim', 'token', 'Sealed-Token-77');
      expect(resolved('sim', { ...spec, key: 'token', type: 'secret' }, scope)).toBe('Sealed-Token-77');
      // sealed for its owner: copied to another machine it does not open
      db.prepare("INSERT INTO machines (name, kind) VALUES ('n', 'physical')").run();
      db.prepare("INSERT INTO driver_settings (machine_id, driver, key, value, sealed) SELECT 2, driver, key, value, 1 FROM driver_settings WHERE key = 'token'").run();
      expect(() => resolved('sim', { ...spec, key: 'token', type: 'secret' }, { machineId: 2 })).toThrow(/cannot be decrypted/);
      expect(deleteDriverSetting(db, { machineId: 1 }, 'sim', 'token')).toBe(true);
    } finally {
      db.close();
      if (otherKey === undefined) delete process.env.KANRI_KEY_FILE;
      else process.env.KANRI_KEY_FILE = otherKey;
    }
    expect(storeBytes(path).includes('Sealed-Token-77')).toBe(false);
  });

  it('a machine\'s own sim delay slows only that machine', async () => {
    const db = fixtureStore(ENGINE_DC.replace('  - { name: pb1, kind: physical, hw_model: R110j }', '  - { name: pb1, kind: physical, hw_model: R110j, driver_settings: { sim: { delay_ms: 300 } } }'));
    let t0 = Date.now();
    expect((await pvmutl(db, ['add', 'Bare', 'pb2'])).code).toBe(0);
    const fast = Date.now() - t0;
    t0 = Date.now();
    expect((await pvmutl(db, ['add', 'Bare', 'pb1'])).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(fast + 500);
  });
});
