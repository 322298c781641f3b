// The ovsdb vlan driver against a real ovsdb-server with the Open vSwitch schema, checked
// with ovs-vsctl: access tag and trunk list, one conditioned transaction per switch, a
// second switch's failure putting the first back, the VLAN event-log entries, refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ovsdb, startOvsdb } from './support/ovsdb.js';
import { requirePeer } from './support/peers.js';
import { fixtureStore, pvmutl, queryAll as q, storeDigest } from './support/store.js';

const have = requirePeer('ovsdb-server', 'ovsdb driver') && requirePeer('ovs-vsctl', 'ovsdb driver');

function dc(a: Ovsdb, b: Ovsdb): string {
  const group = (name: string, vlan: string, settings: string, pool: string[], hosts: number): string => `
  - name: ${name}
    type: physical
    vlan: "${vlan}"
    drivers: { power: sim, deploy: sim, monitor: sim, vlan: ovsdb }
    driver_settings: { ovsdb: { switch: "${a.remote}"${settings} } }
    models: [{ name: std }]
    host_settings: [${Array.from({ length: hosts }, (_, i) => `{ host: ${name.toLowerCase()}${i + 1} }`).join(', ')}]
    pool: [${pool.join(', ')}]`;
  const m = (name: string, ports: Record<string, string>): string => `  - { name: ${name}, kind: physical, driver_settings: { ovsdb: { ${Object.entries(ports).map(([k, v]) => `${k}: "${v}"`).join(', ')} } } }`;
  return `
kanri: 1
settings: { sim.delay_ms: "0" }
groups:${group('Web', 'VLAN-web', ', vid: 100', ['m1', 'm2'], 2)}${group('Trunk', 'VLAN-t', ', vid: 200, mode: trunk', ['m3'], 1)}${group('Numbered', '300', '', ['m4'], 1)}${group('Two', 'VLAN-2', ', vid: 400, nics: "1,2"', ['m5', 'm6'], 2)}${group('NoVid', 'VLAN-x', '', ['m7'], 1)}
machines:
${m('m1', { 'nic1.port': 'p1' })}
${m('m2', { 'nic1.port': 'p2' })}
${m('m3', { 'nic1.port': 'p3' })}
${m('m4', { 'nic1.port': 'p4' })}
${m('m5', { 'nic1.port': 'p5', 'nic2.port': 'nosuch' })}
${m('m6', { 'nic1.port': 'p6', 'nic2.port': 'b6', 'nic2.switch': b.remote })}
${m('m7', { 'nic1.port': 'p7' })}
  - { name: m8, kind: physical }
`;
}

const events = (db: string): Array<{ event_id: number; type: string; message: string }> => q(db, 'SELECT event_id, type, message FROM events WHERE event_id BETWEEN 2600 AND 2699 ORDER BY id');

describe.skipIf(!have)('ovsdb driver', () => {
  let a: Ovsdb;
  let b: Ovsdb;
  beforeAll(async () => {
    [a, b] = await Promise.all([startOvsdb(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']), startOvsdb(['b5'])]);
  });
  afterAll(async () => { await Promise.all([a?.stop(), b?.stop()]); });

  it('add sets the access tag in one transaction and writes 2670; delete clears it and writes 2671', async () => {
    const db = fixtureStore(dc(a, b));
    expect((await pvmutl(db, ['add', 'Web', 'm1'])).code).toBe(0);
    expect(a.vlans('p1')).toEqual({ tag: '100', trunks: '[]' });
    expect(a.vlans('p2')).toEqual({ tag: '', trunks: '[]' });
    expect((await pvmutl(db, ['delete', 'Web', 'web1'])).code).toBe(0);
    expect(a.vlans('p1')).toEqual({ tag: '', trunks: '[]' });
    expect(events(db)).toEqual([
      { event_id: 2670, type: 'information', message: `(p1) was registered to VLAN (VLAN-web) of Switch (${a.remote}).` },
      { event_id: 2671, type: 'information', message: `(p1) was removed from VLAN (VLAN-web) of Switch (${a.remote}).` },
    ]);
    // The transaction says who made it (ovsdb-server logs its comment).
    expect(q<{ output: string }>(db, "SELECT output FROM job_steps WHERE name = 'VLAN setting' ORDER BY job_id")[0]!.output).toBe(`${a.remote}: p1: tag [], trunks [] -> tag 100, trunks []\n`);
  });

  it('trunk mode adds the VLAN to the trunk list and removes only it', async () => {
    const db = fixtureStore(dc(a, b));
    a.vsctl('set', 'port', 'p3', 'trunks=10,20');
    expect((await pvmutl(db, ['add', 'Trunk', 'm3'])).code).toBe(0);
    expect(a.vlans('p3')).toEqual({ tag: '', trunks: '[10, 20, 200]' });
    expect((await pvmutl(db, ['delete', 'Trunk', 'trunk1'])).code).toBe(0);
    expect(a.vlans('p3')).toEqual({ tag: '', trunks: '[10, 20]' });
  });

  it('a VLAN named by its number needs no vid; a port already as wanted is left alone (a retry converges)', async () => {
    const db = fixtureStore(dc(a, b));
    a.vsctl('set', 'port', 'p4', 'tag=300');
    expect((await pvmutl(db, ['add', 'Numbered', 'm4'])).code).toBe(0);
    expect(a.vlans('p4').tag).toBe('300');
    expect(q<{ output: string }>(db, "SELECT output FROM job_steps WHERE name = 'VLAN setting'")[0]!.output).toBe(`${a.remote}: p4 (tag 300, trunks []): nothing to change\n`);
    a.vsctl('clear', 'port', 'p4', 'tag');
    expect((await pvmutl(db, ['delete', 'Numbered', 'numbered1'])).code).toBe(0);
    expect(a.vlans('p4').tag).toBe('');
  });

  it('one missing port of a machine: nothing changes on the switch, exit 7, event 2658', async () => {
    const db = fixtureStore(dc(a, b));
    const r = await pvmutl(db, ['add', 'Two', 'm5']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`switch ${a.remote} has no port nosuch`);
    expect(a.vlans('p5')).toEqual({ tag: '', trunks: '[]' });
    expect(events(db)).toEqual([{ event_id: 2658, type: 'error', message: `Registering port (p5,nosuch) to VLAN (VLAN-2) of Switch (${a.remote}) failed.` }]);
  });

  it('a second switch that fails: the first is put back as it was', async () => {
    const db = fixtureStore(dc(a, b));
    // m6's NIC 2 is port b6 on switch b, which has only b5.
    const r = await pvmutl(db, ['add', 'Two', 'm6']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`switch ${b.remote} has no port b6; the switches changed before it were put back`);
    expect(a.vlans('p6')).toEqual({ tag: '', trunks: '[]' });
    const out = q<{ output: string }>(db, "SELECT output FROM job_steps WHERE name = 'VLAN setting'")[0]!.output;
    expect(out).toContain(`${a.remote}: p6: tag [], trunks [] -> tag 400, trunks []`);
    expect(out).toContain(`${a.remote}: p6: tag 400, trunks [] -> tag [], trunks []`);
    expect(events(db).map((e) => e.event_id)).toEqual([2658]);
  });

  it('incomplete settings are refused before the first step (exit 6), the store unchanged', async () => {
    const db = fixtureStore(dc(a, b).replace('pool: [m1, m2]', 'pool: [m8, m1]'));
    const before = storeDigest(db);
    const noPort = await pvmutl(db, ['add', 'Web', 'm8']);
    expect(noPort.code).toBe(6);
    expect(noPort.err).toContain('m8: the switch port of NIC 1 is not set (driver_settings: { ovsdb: { nic1.port: … } } of the machine)');
    const noVid = await pvmutl(db, ['add', 'NoVid', 'm7']);
    expect(noVid.code).toBe(6);
    expect(noVid.err).toContain("no VLAN ID for VLAN 'VLAN-x': set the group's ovsdb setting vid (1-4094)");
    expect(storeDigest(db)).toBe(before);
  });
});
