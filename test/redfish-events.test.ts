// Redfish events end to end: dscli subscribes a controller's EventService (events=on) to
// the HTTPS event listener of the redfish driver, DMTF's mockup server delivers what
// EventService.SubmitTestEvent is given to it over HTTPS (trusting the listener's CA), and
// the listener hands the record of the registered controller to its callback; deliveries
// that are not from a subscription are refused, and events=off removes the subscription.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventListener, type RedfishEvent, startEventListener } from '../src/adapters/redfish/events.js';
import { type Db } from '../src/store/db.js';
import { openStore } from '../src/open-store.js';
import { dscli, newStore, secretFile } from './support/dscli.js';
import { requirePeer, skipReason } from './support/peers.js';
import { type Certs, httpsRequest as request, makeCerts, type Peer, redfishPeersMissing, startMockup } from './support/redfish.js';
import { exec, queryAll, storeBytes } from './support/store.js';

const SUITE = 'Redfish events against the mockup server';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('openssl', SUITE);

const TEST_EVENT = {
  EventType: 'Alert', EventId: 'kanri-4711', EventTimestamp: '2026-11-22T01:02:03Z', Severity: 'Critical',
  Message: 'The temperature of CPU1 is critical.', MessageId: 'Event.1.0.TempWayTooHot', MessageArgs: ['CPU1'],
  OriginOfCondition: '/redfish/v1/Chassis/1U/Thermal',
};

describe.runIf(havePeers)(SUITE, () => {
  let certs: Certs;
  let mockup: Peer;
  let listener: EventListener;
  let path: string;
  let store: Db;
  const got: RedfishEvent[] = [];
  const logged: string[] = [];
  const outputs: string[] = [];

  const next = async (n: number, ms = 15_000): Promise<void> => {
    const t0 = Date.now();
    while (got.length < n && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 50));
  };

  beforeAll(async () => {
    certs = makeCerts();
    mockup = await startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key, eventsCa: certs.caCert });
    // The mockup comes with subscriptions to destinations elsewhere: remove them, so that
    // nothing is ever sent off this machine.
    for (const id of ['1', '2', '3', '4']) expect((await request(mockup.port, 'DELETE', `/redfish/v1/EventService/Subscriptions/${id}`, certs.caCert)).status).toBe(204);
    path = newStore();
    store = openStore(path);
    listener = await startEventListener({
      db: store, host: '127.0.0.1', port: 0, cert: readFileSync(certs.caSigned.cert), key: readFileSync(certs.caSigned.key),
      onEvent: (e) => { got.push(e); }, log: (l) => { logged.push(l); },
    });
    exec(path, "INSERT INTO settings (key, value) VALUES ('redfish.event_destination', ?)", `https://127.0.0.1:${listener.port}/redfish/events`);
  }, 60_000);
  afterAll(async () => {
    const t0 = Date.now();
    await listener?.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    store?.close();
    await mockup?.stop();
  });

  it('events=on subscribes the EventService; a test event reaches the callback with its fields', async () => {
    const pw = secretFile('Mockup-Pass-93');
    const r = dscli(path, ['createServer', 'rack1', 'mgmt=redfish', 'address=127.0.0.1', `port=${mockup.port}`, 'user=admin', `password_file=${pw}`, `ca_file=${certs.caCert}`, 'events=on']);
    outputs.push(r.out, r.err);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^rack1 ok events subscribed: (/redfish/v1/EventService/Subscriptions/\\S+) -> https://127\\.0\\.0\\.1:${listener.port}/redfish/events\\n$`));
    const uri = /subscribed: (\S+)/.exec(r.out)![1]!;
    const sub = JSON.parse((await request(mockup.port, 'GET', uri, certs.caCert)).body) as { Destination: string; Context: string; Protocol: string; EventTypes: string[] };
    expect(sub).toMatchObject({ Destination: `https://127.0.0.1:${listener.port}/redfish/events`, Protocol: 'Redfish' });
    expect(sub.EventTypes).toContain('Alert');
    expect(sub.Context).toMatch(/^[0-9a-f]{48}$/);
    // the store keeps the subscription and the token's hash, never the token
    const rows = queryAll<{ uri: string; token_hash: string }>(path, 'SELECT uri, token_hash FROM redfish_event_subscriptions');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.uri).toBe(uri);
    expect(storeBytes(path).includes(sub.Context)).toBe(false);
    expect(outputs.join('')).not.toContain(sub.Context);

    expect((await request(mockup.port, 'POST', '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent', certs.caCert, TEST_EVENT)).status).toBe(204);
    await next(1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      machine: 'rack1', eventId: 'kanri-4711', messageId: 'Event.1.0.TempWayTooHot', severity: 'Critical', time: '2026-11-22T01:02:03.000Z',
      origin: '/redfish/v1/Chassis/1U/Thermal', message: 'The temperature of CPU1 is critical.', eventType: 'Alert', source: '127.0.0.1',
    });
    expect(got[0]!.machineId).toBe(queryAll<{ id: number }>(path, "SELECT id FROM machines WHERE name = 'rack1'")[0]!.id);
    expect(got[0]!.raw.MessageArgs).toEqual(['CPU1']);
    expect(listener.counts()).toMatchObject({ accepted: 1, records: 1 });
  }, 60_000);

  it('deliveries that are not from a subscription, or not events, are refused; the listener keeps going', async () => {
    const p = listener.port;
    const ca = certs.caCert;
    const before = got.length;
    const event = (context: string) => ({ '@odata.type': '#Event.v1_2_1.Event', Id: '1', Name: 'x', Context: context, Events: [TEST_EVENT] });
    expect((await request(p, 'POST', '/redfish/events', ca, event('f'.repeat(48)))).status).toBe(403);
    expect((await request(p, 'POST', '/redfish/events', ca, { Context: 'x' })).status).toBe(400);
    expect((await request(p, 'POST', '/redfish/events', ca, '{"Events": [')).status).toBe(400);
    expect((await request(p, 'POST', '/redfish/events', ca, 'x'.repeat(300 * 1024))).status).toBe(413);
    expect((await request(p, 'POST', '/redfish/events', ca, event('x'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await request(p, 'GET', '/redfish/events', ca)).status).toBe(405);
    expect((await request(p, 'POST', '/elsewhere', ca, event('x'))).status).toBe(404);
    expect(got.length).toBe(before);
    expect(logged.some((l) => /refused \(403\): no subscription has this Context/.test(l))).toBe(true);
    expect(listener.counts().refused).toBeGreaterThanOrEqual(7);
    // still delivering afterwards
    const targeted = mockup.log().length;
    expect((await request(mockup.port, 'POST', '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent', certs.caCert, { ...TEST_EVENT, EventId: 'kanri-4712' })).status).toBe(204);
    await next(before + 1);
    // the mockup names each subscriber it sends a submitted event to, in its log, before it answers
    expect(mockup.log().slice(targeted)).toMatch(/\('Target', 'https:/);
    expect(got.at(-1)).toMatchObject({ machine: 'rack1', eventId: 'kanri-4712' });
  }, 60_000);

  it('events=off removes the subscription on the controller and in the store', async () => {
    const uri = queryAll<{ uri: string }>(path, 'SELECT uri FROM redfish_event_subscriptions')[0]!.uri;
    const r = dscli(path, ['setServer', 'rack1', 'events=off']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`rack1 ok events unsubscribed: ${uri}\n`);
    expect((await request(mockup.port, 'GET', uri, certs.caCert)).status).toBe(404);
    expect(queryAll(path, 'SELECT 1 FROM redfish_event_subscriptions')).toHaveLength(0);
    const n = got.length;
    const from = mockup.log().length;
    expect((await request(mockup.port, 'POST', '/redfish/v1/EventService/Actions/EventService.SubmitTestEvent', certs.caCert, { ...TEST_EVENT, EventId: 'kanri-4713' })).status).toBe(204);
    // The controller's own record that it sends this event nowhere (written before its answer), not a fixed sleep.
    expect(mockup.log().slice(from)).not.toMatch(/'Target'/);
    expect(got.length).toBe(n);
    // an IPMI server has no event subscription: 6, its registration stays
    const bad = dscli(path, ['createServer', 'bmc9', 'mgmt=ipmi', 'address=127.0.0.1', 'port=1', 'user=admin', `password_file=${secretFile('x1234567')}`, 'events=on']);
    expect(bad.code).toBe(6);
    expect(bad.err).toMatch(/bmc9 is registered, but the event subscription failed not-supported: event subscription is not supported for mgmt=ipmi/);
    // no listener URL: the reason is named
    exec(path, "DELETE FROM settings WHERE key = 'redfish.event_destination'");
    const none = dscli(path, ['setServer', 'rack1', 'events=on']);
    expect(none.code).toBe(8);
    expect(none.err).toMatch(/set redfish\.event_destination/);
  }, 60_000);
});
