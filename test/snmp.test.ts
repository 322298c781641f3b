// The snmp vlan driver against a real snmpd (net-snmp) serving the Q-BRIDGE-MIB tables
// through pass_persist, checked with snmpget: port-based (access) and tagged (trunk)
// membership, SNMP v2c and v3 with sealed keys, a VLAN found by its name, a half-applied
// SET put back, the event-log entries, refusals before the first step.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { putDriverSecret } from '../src/adapters/settings.js';
import { openStore } from '../src/open-store.js';
import { run } from './support/cli.js';
import { requirePeer } from './support/peers.js';
import { type Snmpd, type SwitchState, portList, startSnmpd } from './support/snmpd.js';
import { fixtureStore, pvmutl, queryAll as q, storeBytes, storeDigest } from './support/store.js';

const have = requirePeer('snmpd', 'snmp driver') && requirePeer('snmpget', 'snmp driver');

const ALL = Array.from({ length: 16 }, (_, i) => i + 1);
const initial = (): SwitchState => ({
  vlans: {
    1: { name: 'default', egress: portList(ALL), untagged: portList(ALL) },
    100: { name: 'web', egress: portList([]), untagged: portList([]) },
    200: { name: 'app', egress: portList([1]), untagged: portList([1]) },
  },
  pvid: Object.fromEntries(ALL.map((p) => [String(p), 1])),
});

/** The ports of a PortList as snmpget -Oqv prints it ("20 00 00 00" or a quoted string). */
function ports(printed: string): number[] {
  const hex = printed.replace(/"/g, '').trim();
  const bytes = /^[0-9A-Fa-f]{2}( [0-9A-Fa-f]{2})*$/.test(hex) ? Buffer.from(hex.replace(/ /g, ''), 'hex') : Buffer.from(hex, 'latin1');
  const out: number[] = [];
  for (let p = 1; p <= bytes.length * 8; p++) if (bytes[Math.floor((p - 1) / 8)]! & (0x80 >> ((p - 1) % 8))) out.push(p);
  return out;
}

const EGRESS = (v: number): string => `1.3.6.1.2.1.17.7.1.4.3.1.2.${v}`;
const UNTAGGED = (v: number): string => `1.3.6.1.2.1.17.7.1.4.3.1.4.${v}`;
const PVID = (p: number): string => `1.3.6.1.2.1.17.7.1.4.5.1.1.${p}`;

function dc(s: Snmpd): string {
  const g = (name: string, vlan: string, settings: string, pool: string): string => `
  - name: ${name}
    type: physical
    vlan: ${vlan}
    drivers: { power: sim, deploy: sim, monitor: sim, vlan: snmp }
    driver_settings: { snmp: { switch: "${s.address}"${settings} } }
    models: [{ name: std }]
    host_settings: [{ host: ${name.toLowerCase()}1 }]
    pool: [${pool}]`;
  const m = (name: string, port: number): string => `  - { name: ${name}, kind: physical, driver_settings: { snmp: { nic1.port: ${port} } } }`;
  return `
kanri: 1
settings: { sim.delay_ms: "0", snmp.timeout_s: "1", snmp.retries: "1" }
groups:${g('Web', 'web', '', 'm1')}${g('V3', 'app', `, version: "3", user: ${s.user.name}, auth_protocol: sha, priv_protocol: aes`, 'm3')}${g('Trunk', 'tagged', ', vid: 100, mode: trunk', 'm4')}${g('Missing', 'nosuch-vlan', '', 'm6')}${g('Fail', 'web', '', 'm5')}${g('NoCommunity', 'web', '', 'm7')}
machines:
${m('m1', 3)}
${m('m3', 7)}
${m('m4', 9)}
${m('m5', 11)}
${m('m6', 13)}
${m('m7', 15)}
`;
}

/** Seals a group's snmp secret in-process (the first test does it with kanri driver secret, as an administrator would). */
function secret(db: string, group: string, key: string, value: string): void {
  const d = openStore(db);
  try {
    const g = d.prepare('SELECT id FROM groups WHERE name = ?').get(group) as { id: number };
    putDriverSecret(d, { groupId: g.id }, 'snmp', key, value);
  } finally {
    d.close();
  }
}

describe.skipIf(!have)('snmp driver', () => {
  let s: Snmpd;
  beforeAll(async () => { s = await startSnmpd(initial()); });
  afterAll(async () => { await s?.stop(); });
  beforeEach(() => s.setState(initial()));

  function store(): string {
    const db = fixtureStore(dc(s));
    for (const g of ['Web', 'Trunk', 'Missing', 'Fail']) secret(db, g, 'community', s.community);
    secret(db, 'V3', 'auth_key', s.user.auth);
    secret(db, 'V3', 'priv_key', s.user.priv);
    return db;
  }

  it('v2c: add makes the port an untagged member with its PVID (the VLAN found by name); delete returns it to VLAN 1', async () => {
    const db = store();
    expect(run('kanri', ['driver', 'secret', 'snmp', 'community', '--group', 'Web'], { db, input: s.community })).toMatchObject({ code: 0, out: '' });
    expect((await pvmutl(db, ['add', 'Web', 'm1'])).code).toBe(0);
    const [e100, u100, pvid, e1, u1] = s.snmpget(EGRESS(100), UNTAGGED(100), PVID(3), EGRESS(1), UNTAGGED(1));
    expect([ports(e100!), ports(u100!), pvid, ports(e1!).includes(3), ports(u1!).includes(3)]).toEqual([[3], [3], '100', false, false]);
    expect((await pvmutl(db, ['delete', 'Web', 'web1'])).code).toBe(0);
    const after = s.snmpget(EGRESS(100), UNTAGGED(100), PVID(3), UNTAGGED(1));
    expect([ports(after[0]!), ports(after[1]!), after[2], ports(after[3]!)]).toEqual([[], [], '1', ALL]);
    expect(q(db, 'SELECT event_id, message FROM events WHERE event_id >= 2600 ORDER BY id')).toEqual([
      { event_id: 2670, message: `(3) was registered to VLAN (web) of Switch (${s.address}).` },
      { event_id: 2671, message: `(3) was removed from VLAN (web) of Switch (${s.address}).` },
    ]);
    // The community is sealed in the store, never in clear.
    expect(storeBytes(db).includes(s.community)).toBe(false);
  });

  it('v3 (SHA, AES) with sealed keys; the port leaves the VLAN it was in', async () => {
    const db = store();
    const st = initial();
    st.pvid['7'] = 200;
    st.vlans['200']!.egress = portList([1, 7]);
    st.vlans['200']!.untagged = portList([1, 7]);
    st.vlans['1']!.egress = portList(ALL.filter((p) => p !== 7));
    st.vlans['1']!.untagged = portList(ALL.filter((p) => p !== 7));
    s.setState(st);
    expect((await pvmutl(db, ['add', 'V3', 'm3'])).code).toBe(0);
    expect(s.snmpget(PVID(7))).toEqual(['200']);
    expect((await pvmutl(db, ['delete', 'V3', 'v31'])).code).toBe(0);
    const [e200, u200, pvid, u1] = s.snmpget(EGRESS(200), UNTAGGED(200), PVID(7), UNTAGGED(1));
    expect([ports(e200!), ports(u200!), pvid, ports(u1!).includes(7)]).toEqual([[1], [1], '1', true]);
    expect(storeBytes(db).includes(s.user.auth)).toBe(false);
  });

  it('trunk mode: a tagged member; its PVID and untagged VLAN stay', async () => {
    const db = store();
    expect((await pvmutl(db, ['add', 'Trunk', 'm4'])).code).toBe(0);
    const [e, u, pvid, u1] = s.snmpget(EGRESS(100), UNTAGGED(100), PVID(9), UNTAGGED(1));
    expect([ports(e!), ports(u!), pvid, ports(u1!).includes(9)]).toEqual([[9], [], '1', true]);
    expect((await pvmutl(db, ['delete', 'Trunk', 'trunk1'])).code).toBe(0);
    expect(ports(s.snmpget(EGRESS(100))[0]!)).toEqual([]);
  });

  it('a VLAN the switch does not have: exit 7, events 2667 and 2658, nothing set', async () => {
    const db = store();
    const before = s.state();
    const r = await pvmutl(db, ['add', 'Missing', 'm6']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`switch ${s.address} has no VLAN named nosuch-vlan`);
    expect(s.state()).toEqual(before);
    expect(q(db, 'SELECT event_id FROM events WHERE event_id >= 2600 ORDER BY id')).toEqual([{ event_id: 2667 }, { event_id: 2658 }]);
  });

  it('a SET the agent applies only in part is SET back: the switch is as it was, exit 7', async () => {
    const db = store();
    const st = initial();
    st.fail_set = [`.${PVID(11)}`];
    s.setState(st);
    const r = await pvmutl(db, ['add', 'Fail', 'm5']);
    expect(r.code).toBe(7);
    expect(r.err).toContain('the switch was SET back to the values read before');
    const now = s.state();
    delete now.fail_set;
    expect(now).toEqual(initial());
  });

  it('no write community: refused before the first step (exit 6), the store unchanged', async () => {
    const db = store();
    const before = storeDigest(db);
    const r = await pvmutl(db, ['add', 'NoCommunity', 'm7']);
    expect(r.code).toBe(6);
    expect(r.err).toContain("SNMP v2c needs the switch's write community: kanri driver secret --group GROUP snmp community");
    expect(storeDigest(db)).toBe(before);
  });

  it('a wrong community: the agent does not answer; exit 7 after the bounded retries', async () => {
    const db = store();
    secret(db, 'Web', 'community', 'not-the-community');
    const t0 = Date.now();
    const r = await pvmutl(db, ['add', 'Web', 'm1']);
    expect(r.code).toBe(7);
    expect(r.err).toContain(`switch ${s.address} did not answer`);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
