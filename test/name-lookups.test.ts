// A name the user types (or a sender sends, or a setting holds) finds its row the same way
// on both back ends: byName() (src/domain/names.ts), the exact spelling first, then folded.
// Typed full-width, a name is found on PostgreSQL by its column's ICU collation, on SQLite
// only by the folded step: each family of lookups below missed on SQLite before it went
// through byName(). KANRI_TEST_STORE=postgresql runs the file on PostgreSQL.
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import type { Db } from '../src/store/db.js';
import { createServer, listServers, serverRow } from '../src/dscli/servers.js';
import { addGroupServers, createGroup } from '../src/dscli/groups.js';
import { resolveServerList } from '../src/dscli/serverlist.js';
import { createUser, deleteUser } from '../src/dscli/users.js';
import { controllerByName } from '../src/adapters/controller.js';
import { userSetDisabled } from '../src/kanri/users.js';
import { alertCommandRemove, alertCommandSet } from '../src/kanri/alerts.js';
import { simFail } from '../src/kanri/sim.js';
import { policyExplain } from '../src/kanri/monitor-cli.js';
import { createToken, listTokens, revokeToken } from '../src/serve/tokens.js';
import { checkEvent } from '../src/monitor/intake.js';
import { ACTIONS } from '../src/monitor/actions.js';
import { freeHosts } from '../src/engine/select.js';
import { standbyList } from '../src/domain/distribution.js';
import { planVmMigrate } from '../src/engine/planners/vm.js';
import { fixtureStore, queryAll } from './support/store.js';

/** A name in full-width letters and digits (what NFKC folds back): ｗｅｂ０１ for web01. */
const wide = (s: string): string => s.replace(/[!-~]/g, (c) => (/[A-Za-z0-9]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c));

function withDb<T>(location: string, fn: (db: Db) => T): T {
  const db = openStore(location);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const noPassword = { stdin: () => '', warn: () => {} };

describe('names as typed find the same row on both back ends', () => {
  it('dscli: servers, dscli groups, ServerLists and users', () => {
    const at = fixtureStore();
    withDb(at, (db) => {
      createServer(db, 'bmc01', ['mgmt=sim'], noPassword);
      expect(serverRow(db, wide('BMC01'))?.name).toBe('bmc01');
      expect(controllerByName(db, wide('Bmc01'))?.name).toBe('bmc01');
      expect(resolveServerList(db, [wide('bmc01')]).map((r) => r.name)).toEqual(['bmc01']);
      // createServer of a machine the store spells otherwise registers that machine, on both
      expect(() => createServer(db, 'BMC01', ['mgmt=sim'], noPassword)).toThrow(/server already registered: BMC01/);
      createGroup(db, 'rack1');
      addGroupServers(db, wide('RACK1'), [wide('bmc01')]);
      expect(listServers(db, wide('Rack1')).map((r) => r.name)).toEqual(['bmc01']);
      expect(resolveServerList(db, [`${wide('rack1')}@bmc01`]).map((r) => r.name)).toEqual(['bmc01']);
      createUser(db, 'op1', 'secret1');
      deleteUser(db, wide('OP1'));
      expect(db.prepare("SELECT count(*) AS n FROM users WHERE name = 'op1'").get()).toEqual({ n: 0 });
    });
  }, 60_000);

  it('kanri: users, API tokens, alert commands, simulated faults, policy explain', () => {
    const at = fixtureStore();
    expect(userSetDisabled(at, wide('ADMIN'), true)).toBe(0);
    expect(queryAll(at, "SELECT disabled FROM users WHERE name = 'admin'")).toEqual([{ disabled: 1 }]);
    withDb(at, (db) => {
      createToken(db, 'ci', 'operator');
      revokeToken(db, wide('CI'));
      expect(listTokens(db)).toEqual([]);
    });
    // the command is kept under the policy's stored spelling, and removed by the typed one
    expect(alertCommandSet(at, wide('web-n+1'), 'CPU障害', ['/bin/true'], { timeout: '5' })).toBe(0);
    expect(queryAll(at, 'SELECT policy, rule_event FROM alert_commands')).toEqual([{ policy: 'Web-N+1', rule_event: 'CPU障害' }]);
    expect(alertCommandRemove(at, wide('WEB-N+1'), 'CPU障害')).toBe(0);
    expect(queryAll(at, 'SELECT policy FROM alert_commands')).toEqual([]);
    // a fault is kept under the stored spelling, which the sim driver is asked about
    expect(simFail(at, wide('PX-R120-01'), 'power-on', {})).toBe(0);
    expect(queryAll(at, 'SELECT machine FROM sim_faults')).toEqual([{ machine: 'px-r120-01' }]);
    let explained = '';
    expect(policyExplain(at, 'Shop\\Web', 'SystemMonitorPerf', '10000001', { machine: wide('px-r120-01') }, (s) => { explained += s; })).toBe(0);
    expect(explained).not.toBe('');
  }, 60_000);

  it('the monitor: an event\'s machine as its sender spells it; a new VM\'s name is taken when one folds alike', () => {
    const at = fixtureStore();
    withDb(at, (db) => {
      const { id } = db.prepare("SELECT id FROM machines WHERE name = 'px-r120-01'").get() as { id: number };
      expect(checkEvent(db, { source: 'SystemMonitorPerf', event: '10000001', machine: wide('PX-R120-01') }).machineId).toBe(id);
      const g = db.prepare("SELECT id, machine_type AS type FROM groups WHERE name = 'Web'").get() as { id: number; type: string };
      const host = freeHosts(db, g.id)[0]!.host_name;
      db.prepare("INSERT INTO machines (name, kind, power_state) VALUES (?, 'virtual', 'off')").run(wide(host.toUpperCase()));
      const action = ACTIONS['group-create-add']!;
      if (action.kind !== 'engine') throw new Error('group-create-add is an engine action');
      expect(action.request({ db, machine: null, group: { id: g.id, path: 'Shop\\Web', type: g.type } })).toMatchObject({ vm: `${host}_1`, netInfo: host });
    });
  }, 60_000);

  it('the engine: a VM moved keeps its datastore where the target server spells it otherwise', () => {
    const at = fixtureStore();
    withDb(at, (db) => {
      // vdi-vm04 is on [local-vms02] of vms02; vms01 holds the same datastore, spelt full-width
      const { id } = db.prepare("SELECT id FROM machines WHERE name = 'vms01'").get() as { id: number };
      db.prepare('INSERT INTO datastores (vm_server_id, name, capacity_gb, shared) VALUES (?, ?, 500, 0)').run(id, wide('[LOCAL-VMS02]'));
      const [plan] = planVmMigrate(db, { cmd: 'vmmigrate', group: 'Infra\\Desktops', host: 'vdi04', vmServer: 'vms01' });
      expect(plan!.moveTo?.datastore).toBe(wide('[LOCAL-VMS02]'));
    });
  }, 60_000);

  it('software: the standby DHCP scenario a setting names', () => {
    const at = fixtureStore();
    withDb(at, (db) => {
      const { id } = db.prepare("SELECT id FROM software WHERE name = 'SetDHCP'").get() as { id: number };
      const owners = { machineId: null, hostId: null, modelId: null, groupId: null };
      expect(standbyList(db, owners).map((e) => e.softwareId)).toContain(id);
      db.prepare("UPDATE settings SET value = ? WHERE key = 'standby_dhcp_scenario'").run(wide('SETDHCP'));
      expect(standbyList(db, owners).map((e) => e.softwareId)).toContain(id);
    });
  }, 60_000);
});
