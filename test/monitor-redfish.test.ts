// Redfish events in kanri monitor: DMTF's mockup server delivers what
// EventService.SubmitTestEvent is given to the monitor's HTTPS listener (the controller
// subscribed by dscli … events=on); a processor failure becomes the BMC event a PET of the
// same fault would be, and the group's standard policy runs on it; an event the catalogue
// cannot place is an unclassified alert, counted; a restart repeats nothing.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedfishEvent } from '../src/adapters/redfish/events.js';
import { catalogueEventOf } from '../src/monitor/redfish.js';
import { freeTcpPort } from './support/daemon.js';
import { dscli, secretFile } from './support/dscli.js';
import { type RunningMonitor, chainEnded, counterReaches, eventDecided, lastEventId, startMonitor, monitorGroup } from './support/monitor.js';
import { requirePeer, skipReason } from './support/peers.js';
import { type Certs, httpsRequest, makeCerts, type Peer, redfishPeersMissing, startMockup } from './support/redfish.js';
import { fixtureStore, queryAll } from './support/store.js';

const record = (o: Partial<RedfishEvent> & { raw?: Record<string, unknown> }): RedfishEvent => ({
  machineId: 1, machine: 'm1', eventId: null, messageId: null, severity: null, time: null, origin: null, message: null, eventType: 'Alert', source: '127.0.0.1', raw: {}, ...o,
});

describe('Redfish events as catalogue events', () => {
  it('the component from OriginOfCondition (else the MessageId), the fault from the severity', () => {
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Processors/CPU1', severity: 'Critical' }))).toBe('BMC[0x00076F00]');
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Memory/DIMM3', severity: 'Critical' }))).toBe('BMC[0x000C6F01]');
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Memory/DIMM3', severity: 'Warning' }))).toBe('BMC[0x000C6F00]');
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Storage/1/Drives/0', severity: 'Critical' }))).toBe('BMC[0x000D6F01]');
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Chassis/1U/Thermal', severity: 'Critical' }))).toBe('BMC[0x00010109]');
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Chassis/1U/Thermal#/Fans/0', severity: 'Warning' }))).toBe('BMC[0x00040100]');
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Chassis/1U/Power/PowerSupplies/0', severity: 'Critical' }))).toBe('BMC[0x00086F01]');
    // recovery: the deassertion of the failure
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Processors/CPU1', severity: 'OK' }))).toBe('BMC[0x00076F80]');
    // MessageSeverity wins over the deprecated Severity
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Processors/CPU1', severity: 'OK', raw: { MessageSeverity: 'Critical' } }))).toBe('BMC[0x00076F00]');
    expect(catalogueEventOf(record({ messageId: 'iLOEvents.2.1.CPUFailure', severity: 'Critical' }))).toBe('BMC[0x00076F00]');
    // nothing says what it is about, or how bad
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Managers/1', severity: 'Critical', messageId: 'Base.1.0.Success' }))).toBeUndefined();
    expect(catalogueEventOf(record({ origin: '/redfish/v1/Systems/1/Processors/CPU1', severity: 'Fatal' }))).toBeUndefined();
  });
});

const SUITE = 'kanri monitor: Redfish events from the mockup server';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('openssl', SUITE);

const CPU_FAILED = {
  EventType: 'Alert', EventId: 'cpu-1', EventTimestamp: '2026-12-02T01:02:03Z', Severity: 'Critical',
  Message: 'Processor CPU1 has an uncorrectable error.', MessageId: 'ResourceEvent.1.0.ResourceErrorsDetected', MessageArgs: ['CPU1', 'IERR'],
  OriginOfCondition: '/redfish/v1/Systems/437XR1138R2/Processors/CPU1',
};
const UNKNOWN = {
  EventType: 'Alert', EventId: 'mgr-1', EventTimestamp: '2026-12-02T01:02:04Z', Severity: 'OK',
  Message: 'The manager was reset.', MessageId: 'Base.1.0.Success', MessageArgs: [], OriginOfCondition: '/redfish/v1/Managers/BMC',
};

describe.runIf(havePeers)(SUITE, () => {
  let certs: Certs;
  let mockup: Peer;
  let db: string;
  let mon: RunningMonitor | undefined;
  let listenPort = 0;
  const submit = async (event: unknown): Promise<number> => (await httpsRequest(mockup.port, 'POST', '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent', certs.caCert, event)).status;
  const events = () => queryAll<{ origin: string; event: string; category: string | null; decision: string | null; detail: string }>(db,
    "SELECT origin, event, category, decision, detail FROM monitor_events WHERE machine_id = (SELECT id FROM machines WHERE name = 'm1') ORDER BY id");

  beforeAll(async () => {
    certs = makeCerts();
    mockup = await startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key, eventsCa: certs.caCert });
    // the mockup's own subscriptions point elsewhere: nothing may leave this machine
    for (const id of ['1', '2', '3', '4']) expect((await httpsRequest(mockup.port, 'DELETE', `/redfish/v1/EventService/Subscriptions/${id}`, certs.caCert)).status).toBe(204);
    listenPort = await freeTcpPort();
    db = fixtureStore(`
kanri: 1
settings: { sim.delay_ms: "0", monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0",
  redfish.listener_address: "127.0.0.1", redfish.listener_port: "${listenPort}",
  redfish.listener_cert: "${certs.caSigned.cert}", redfish.listener_key: "${certs.caSigned.key}",
  redfish.event_destination: "https://127.0.0.1:${listenPort}/redfish/events" }
${monitorGroup(['m1'])}machines:
  - name: m1
    kind: physical
    power: on
    bmc: { type: redfish, address: 127.0.0.1, port: ${mockup.port}, user: admin }
    active: { group: G, model: M, host: h01, from: group_pool }
`);
    const r = dscli(db, ['setServer', 'm1', `password_file=${secretFile('Mockup-Pass-93')}`, `ca_file=${certs.caCert}`, 'events=on']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^m1 ok events subscribed: /);
    mon = await startMonitor(db);
  }, 120_000);
  afterAll(async () => {
    await mon?.stop();
    await mockup?.stop();
  });

  it('the monitor listens where the subscription points', () => {
    expect(mon!.log()).toMatch(new RegExp(`running \\(pid \\d+\\).*; Redfish events on 127\\.0\\.0\\.1:${listenPort}`));
  });

  it('a processor failure runs the standard policy as a PET of the same fault does (CPU障害 → notify, 故障)', async () => {
    expect(await submit(CPU_FAILED)).toBe(204);
    const decided = await eventDecided(db, { origin: 'redfish', event: 'BMC[0x00076F00]', machine: 'm1' });
    expect(await chainEnded(db, decided.chain_id!, 20_000)).toMatchObject({ status: 'completed' });
    expect(queryAll<{ h: string }>(db, "SELECT hardware_status AS h FROM machines WHERE name = 'm1'")[0]!.h).toBe('faulted');
    const ev = events();
    expect(ev).toEqual([expect.objectContaining({ origin: 'redfish', event: 'BMC[0x00076F00]', category: 'CPU障害' })]);
    expect(ev[0]!.decision).toMatch(/rule 2 CPU障害: notify, status-faulted/);
    expect(ev[0]!.detail).toContain('Redfish ResourceEvent.1.0.ResourceErrorsDetected: Processor CPU1 has an uncorrectable error. (/redfish/v1/Systems/437XR1138R2/Processors/CPU1) EventId cpu-1');
    const alerts = dscli(db, ['getAlertList', 'm1', '--json']);
    expect(alerts.code, alerts.err).toBe(0);
    expect(alerts.out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ server: 'm1', kind: 'redfish', severity: 'critical', event: 'BMC[0x00076F00]', source: '127.0.0.1' }),
    ]);
  }, 60_000);

  it('an event the catalogue cannot place is an unclassified alert, counted and logged, never an event', async () => {
    const from = mon!.log().length;
    expect(await submit(UNKNOWN)).toBe(204);
    await counterReaches(db, 'unclassified', 1, 15_000);
    // the line an operator reads (the behaviour under test: logged)
    await mon!.waitFor(/unclassified Redfish event of m1: Base\.1\.0\.Success ok \/redfish\/v1\/Managers\/BMC/, 15_000, from);
    expect(events()).toHaveLength(1);
    await mon!.stop();
    mon = undefined;
    const alerts = dscli(db, ['getAlertList', 'm1', '--json']).out.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; event: string });
    expect(alerts.map((a) => [a.kind, a.event])).toEqual([['unclassified', 'Base.1.0.Success'], ['redfish', 'BMC[0x00076F00]']]);
    expect(queryAll<{ n: number }>(db, "SELECT coalesce(sum(n), 0) AS n FROM monitor_counters WHERE name = 'unclassified'")[0]!.n).toBe(1);
  }, 60_000);

  it('after a restart the listener is back, nothing is decided twice, and a new event is taken', async () => {
    mon = await startMonitor(db);
    expect(mon.log()).toMatch(/Redfish events on 127\.0\.0\.1:/);
    const from = lastEventId(db);
    expect(await submit({ ...CPU_FAILED, EventId: 'cpu-2', Severity: 'OK', Message: 'Processor CPU1 is healthy.' })).toBe(204);
    await eventDecided(db, { origin: 'redfish', event: 'BMC[0x00076F80]' }, from, 15_000);
    const ev = events();
    expect(ev.map((e) => e.event)).toEqual(['BMC[0x00076F00]', 'BMC[0x00076F80]']);
    expect(queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM events WHERE event_id = 502 AND message LIKE 'Started the action%'")[0]!.n).toBe(1);
  }, 60_000);

  it('256 idle connections of one peer (no TLS, no request) block no delivery; its failed handshakes log a throttled, attributed line', async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < 256; i++) {
      const c = connect({ host: '127.0.0.1', port: listenPort, localAddress: '127.0.0.99' });
      c.on('error', () => undefined);
      idle.push(c);
    }
    await new Promise((r) => setTimeout(r, 500));
    const from = lastEventId(db);
    expect(await submit({ ...CPU_FAILED, EventId: 'cpu-3', Severity: 'OK', Message: 'Processor CPU1 is healthy again.' })).toBe(204);
    await eventDecided(db, { origin: 'redfish', event: 'BMC[0x00076F80]', detail: /EventId cpu-3/ }, from, 15_000);
    expect(events().filter((e) => e.detail.includes('cpu-3'))).toHaveLength(1);
    // Garbage instead of a TLS handshake, 50 times from one peer: one line about it, naming it.
    for (const c of idle) c.destroy();
    const logFrom = mon!.log().length;
    for (let i = 0; i < 50; i++) {
      const c = connect({ host: '127.0.0.1', port: listenPort, localAddress: '127.0.0.98' });
      c.on('error', () => undefined);
      c.end('GET / HTTP/1.0\r\n\r\n');
    }
    await new Promise((r) => setTimeout(r, 1000));
    const lines = mon!.log().slice(logFrom).split('\n').filter((l) => l.includes('127.0.0.98'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
  }, 60_000);
});
