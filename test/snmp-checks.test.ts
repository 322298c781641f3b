// Arbitrary MIB monitoring against a real net-snmp snmpd started by the test: a value the
// test changes (a pass_persist script reading a file under an enterprise OID) crosses its threshold
// → one kanriSnmpCheck[0xC0000001] for the machine; back past the clear value →
// kanriSnmpCheck[0x40000002]; snmpd stopped → kanriSnmpCheck[0x80000003] after
// monitor.poll_failures polls; the real kanri monitor raises the crossing by itself.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db } from '../src/store/db.js';
import { openStore } from '../src/open-store.js';
import { Intake } from '../src/monitor/intake.js';
import { SNMP_CROSSED, SNMP_RECOVERED, SNMP_UNANSWERED, SnmpChecker } from '../src/monitor/snmp-checks.js';
import { parseSnmpChecks } from '../src/monitor/snmp-check-syntax.js';
import { requirePeer } from './support/peers.js';
import { type Snmpd, startSnmpd } from './support/snmpd.js';
import { fixtureStore, queryAll, tempDir } from './support/store.js';
import { run } from './support/cli.js';
import { type RunningMonitor, eventDecided, lastEventId, startMonitor } from './support/monitor.js';

const OID = '.1.3.6.1.4.1.8072.9999.1.0';
const have = requirePeer('snmpd', 'SNMP checks');

const yaml = (checks: string): string => `
kanri: 1
settings:
  monitor.listen: "127.0.0.1:0"
  monitor.poll_s: "0"
  monitor.poll_failures: "2"
  monitor.snmp_check_s: "1"
  monitor.snmp_check_timeout_s: "0.3"
  monitor.snmp_checks: "${checks}"
groups:
  - name: Lab
    type: physical
    drivers: { power: sim, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings: [{ host: lab01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }]
    pool: [pc-1]
machines:
  - { name: pc-1, kind: physical, power: on, active: { group: Lab, model: M, host: lab01, from: group_pool } }
`;

describe('monitor.snmp_checks syntax', () => {
  it('reads entries and refuses what is not one', () => {
    expect(parseSnmpChecks('web01 1.3.6.1.4.1.2021.10.1.5.1 > 200 clear 150; db01@10.0.0.7:1161 .1.3.6.1.2.1.25.1.6.0 >= 400')).toMatchObject([
      { machine: 'web01', oid: '1.3.6.1.4.1.2021.10.1.5.1', op: '>', threshold: 200, clear: 150 },
      { machine: 'db01', agent: { host: '10.0.0.7', port: 1161 }, oid: '1.3.6.1.2.1.25.1.6.0', op: '>=', threshold: 400, clear: 400 },
    ]);
    for (const bad of ['web01 1.3.6 >', 'web01 sysUpTime > 1', 'web01@h:99999 1.3.6.1 > 1']) expect(() => parseSnmpChecks(bad), bad).toThrow();
    const dir = tempDir();
    const f = join(dir, 'dc.yaml');
    writeFileSync(f, yaml('pc-1 1.3.6.1 => 5'));
    expect(run('kanri', ['config', 'check', f])).toMatchObject({ code: 1, err: expect.stringMatching(/monitor\.snmp_checks/) });
  });
});

describe.runIf(have)('SNMP checks against snmpd', () => {
  let snmpd: Snmpd;
  let valueFile: string;
  let path: string;
  let db: Db;
  let checker: SnmpChecker;
  const logs: string[] = [];
  const events = (): Array<{ event: string; detail: string }> => queryAll(path, 'SELECT event, detail FROM monitor_events ORDER BY id');
  const write = (v: number): void => writeFileSync(valueFile, `${v}\n`);
  /** The new value is set once snmpget reads it from snmpd. */
  const set = async (v: number): Promise<void> => {
    write(v);
    const end = Date.now() + 15_000;
    while (snmpd.snmpget(OID)[0] !== String(v)) {
      if (Date.now() > end) throw new Error(`snmpd does not serve ${v}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    const dir = tempDir();
    valueFile = join(dir, 'value');
    write(50);
    const script = join(dir, 'pass.sh');
    // The pass_persist protocol of snmpd.conf(5): PING → PONG; get OID → the OID, its type and its value (read now), else NONE.
    writeFileSync(script, [
      '#!/bin/sh',
      'while read cmd; do',
      '  case "$cmd" in',
      '    PING) echo PONG ;;',
      `    get) read oid; if [ "$oid" = "${OID}" ]; then echo "$oid"; echo integer; cat "${valueFile}"; else echo NONE; fi ;;`,
      '    getnext) read oid; echo NONE ;;',
      '    set) read oid; read value; echo not-writable ;;',
      '    *) exit 0 ;;',
      '  esac',
      'done',
      '',
    ].join('\n'));
    chmodSync(script, 0o755);
    snmpd = await startSnmpd({ vlans: {}, pvid: {} }, [`pass_persist .1.3.6.1.4.1.8072.9999 /bin/sh ${script}`]);
    expect(snmpd.snmpget(OID)).toEqual(['50']);
    // The second check names its machine full-width: found as every name is (byName), on both back ends.
    path = fixtureStore(yaml(`pc-1@127.0.0.1:${snmpd.port} ${OID} > 80 clear 70; ｐｃ-１@127.0.0.1:${snmpd.port} 1.3.6.1.2.1.1.3.0 < 0`));
    db = openStore(path);
    checker = new SnmpChecker(db, new Intake(db), (l) => logs.push(l));
  }, 60_000);
  afterAll(async () => { db?.close(); await snmpd?.stop(); });

  it('a crossing and its recovery are each raised once, with hysteresis', async () => {
    await checker.pollOnce();
    expect(events()).toEqual([]);
    await set(90);
    await checker.pollOnce();
    await checker.pollOnce();
    expect(events()).toEqual([{ event: SNMP_CROSSED, detail: `1.3.6.1.4.1.8072.9999.1.0 > 80 (clear 70): value 90` }]);
    await set(75); // below the threshold, above the clear value: still crossed
    await checker.pollOnce();
    expect(events()).toHaveLength(1);
    await set(60);
    await checker.pollOnce();
    expect(events().map((e) => e.event)).toEqual([SNMP_CROSSED, SNMP_RECOVERED]);
    expect(queryAll(path, "SELECT crossed, value FROM snmp_check_state WHERE check_key LIKE '%8072%'")).toEqual([{ crossed: 0, value: '60' }]);
    // sysUpTime (TimeTicks) is read as a number and never below 0.
    expect(queryAll(path, "SELECT crossed, value FROM snmp_check_state WHERE check_key LIKE '%1.3.6.1.2.1.1.3.0%'")).toEqual([{ crossed: 0, value: expect.stringMatching(/^\d+$/) }]);
    expect(logs).toEqual([]);
  });

  it('the real monitor polls the checks and raises the crossing', async () => {
    await set(95);
    let mon: RunningMonitor | undefined;
    try {
      const from = lastEventId(path);
      mon = await startMonitor(path);
      await eventDecided(path, { origin: 'poll', source: 'SystemMonitorEvent', event: 'kanriSnmpCheck[0xC0000001]' }, from, 20_000);
    } finally {
      await mon?.stop();
    }
  }, 40_000);

  it('an agent that stops answering is raised once after monitor.poll_failures polls', async () => {
    await snmpd.stop();
    const before = events().length;
    await checker.pollOnce();
    expect(events()).toHaveLength(before);
    await checker.pollOnce();
    await checker.pollOnce();
    const added = events().slice(before);
    // Both checks of the agent: one event each.
    expect(added.map((e) => e.event)).toEqual([SNMP_UNANSWERED, SNMP_UNANSWERED]);
    expect(added[0]!.detail).toMatch(/no answer in 2 polls: agent 127\.0\.0\.1:\d+ did not answer/);
  }, 30_000);
});
