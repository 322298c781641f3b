// The redfish driver's HTTPS client on its own: what neither Redfish peer does — answer
// 503 with Retry-After, keep connections alive, drop a kept-alive connection — is played
// by a scripted HTTPS server on loopback (node:https, a throw-away certificate), to check
// the client's retries, deadline and keep-alive. Decoding of Redfish records and the
// fingerprint forms are checked on values from the DMTF mockup.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAgents, type Endpoint, retryAfterMs, send } from '../src/adapters/redfish/client.js';
import { recordsOf } from '../src/adapters/redfish/events.js';
import { legacySensorOf, logEntryOf, sensorOf } from '../src/adapters/redfish/info.js';
import { normaliseCertFingerprint } from '../src/adapters/redfish/fingerprint.js';
import { DriverError } from '../src/adapters/types.js';
import { RedfishSession } from '../src/adapters/redfish/session.js';
import { requirePeer } from './support/peers.js';
import { type Certs, makeCerts } from './support/redfish.js';

const haveOpenssl = requirePeer('openssl', 'redfish HTTPS client');

describe('Redfish records and values', () => {
  it('fingerprints in the forms people copy them', () => {
    const hex = 'ab'.repeat(32);
    const want = `SHA256:${'AB:'.repeat(31)}AB`;
    expect(normaliseCertFingerprint(hex)).toBe(want);
    expect(normaliseCertFingerprint(want)).toBe(want);
    expect(normaliseCertFingerprint(`sha256 Fingerprint=${want.slice(7)}`)).toBe(want);
    expect(normaliseCertFingerprint('SHA256:abc')).toBeUndefined();
    expect(normaliseCertFingerprint('ssh-style/base64+')).toBeUndefined();
  });

  it('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const now = Date.parse('2026-12-01T10:00:00Z');
    expect(retryAfterMs('Tue, 01 Dec 2026 10:00:05 GMT', now)).toBe(5000);
  });

  it('a LogEntry, a Sensor and a Thermal temperature in IPMI columns', () => {
    const e = logEntryOf('Log1', {
      Id: '1', EntryType: 'SEL', Severity: 'Critical', Created: '2012-03-07T14:44:00Z', EntryCode: 'Assert', SensorType: 'Temperature', SensorNumber: 1,
      Message: 'Temperature threshold exceeded', MessageId: '0x592A28',
    });
    expect(e).toMatchObject({ id: 'Log1/1', time: '2012-03-07T14:44:00Z', timestamp: 1331131440, sensorType: 'Temperature', sensorNumber: 1, direction: 'assertion', description: 'Critical: Temperature threshold exceeded [0x592A28]' });
    expect(logEntryOf('Log', { Id: '7', Created: '2015-03-13T04:14:33+06:00', Message: 'x' }).time).toBe('2015-03-12T22:14:33Z');
    expect(sensorOf({ Name: 'Fan', Reading: 45, ReadingUnits: '%', ReadingType: 'Percent', Status: { State: 'Enabled', Health: 'Warning' }, Thresholds: { LowerCritical: { Reading: 0 } } }))
      .toEqual({ name: 'Fan', number: null, type: 'Percent', value: 45, unit: 'percent', status: 'warning', states: null, thresholds: { lcr: 0 } });
    expect(legacySensorOf('Temperature', { Name: 'CPU2 Temp', SensorNumber: 6, Status: { State: 'Disabled' }, UpperThresholdCritical: 45 }))
      .toMatchObject({ value: null, unit: null, status: 'disabled', thresholds: { ucr: 45 } });
  });

  it('an event delivery: its Context and records, or why it is not one', () => {
    expect(recordsOf({ Context: 'abc', Events: [{ EventId: '1' }] })).toEqual({ context: 'abc', records: [{ EventId: '1' }] });
    expect(recordsOf({ Events: [{ EventId: '1', Context: 'old' }] })).toMatchObject({ context: 'old' });
    expect(recordsOf([])).toEqual({ problem: 'not a JSON object' });
    expect(recordsOf({ Context: 'a', Events: [] })).toEqual({ problem: 'no Events' });
    expect(recordsOf({ Context: 'a', Events: Array(101).fill({}) })).toEqual({ problem: 'more than 100 records' });
    expect(recordsOf({ Events: [{ Context: 'a' }, { Context: 'b' }] })).toEqual({ problem: 'records with different Contexts' });
  });
});

describe.runIf(haveOpenssl)('Redfish HTTPS client against a scripted HTTPS server', () => {
  let certs: Certs;
  let server: https.Server;
  let port = 0;
  let connections = 0;
  let script: Array<(res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void> = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    certs = makeCerts();
    server = https.createServer({ cert: readFileSync(certs.selfSigned.cert), key: readFileSync(certs.selfSigned.key), keepAliveTimeout: 10_000 }, (req, res) => {
      req.resume();
      const next = script.shift();
      if (next) next(res, req);
      else { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }
    });
    server.on('secureConnection', (s: Socket) => { connections++; sockets.add(s); s.once('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    closeAgents();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const ep = (): Endpoint => ({ machine: 'x1', host: '127.0.0.1', port, trust: { verify: true, fingerprint: certs.selfSigned.fingerprint } });
  const lim = (ms: number, retries = 2) => ({ deadline: Date.now() + ms, requestTimeoutMs: 5000, retries, signal: new AbortController().signal });

  it('a session is ended even when its Location names the service in another form, or its token is too long to send back', async () => {
    const seen: string[] = [];
    const log: string[] = [];
    const creds = { user: 'admin', password: () => 'pw' };
    const session = (res: import('node:http').ServerResponse, token: string, location: string): void => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-auth-token': token, location });
      res.end('{}');
    };
    const record = (res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage): void => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-auth-token'] ? 'token' : req.headers.authorization ? 'basic' : 'none'}`);
      res.writeHead(req.method === 'DELETE' ? 204 : 200, { 'content-type': 'application/json' });
      res.end(req.method === 'DELETE' ? '' : '{"ok":true}');
    };
    // The service calls itself "localhost" in the Location: the session is still ended, at its path.
    script = [(res) => session(res, 'tok-1', `https://localhost:${port}/redfish/v1/SessionService/Sessions/7`), record, record];
    const a = new RedfishSession(ep(), lim(5000), creds, 'session', '/redfish/v1/SessionService/Sessions', (l) => log.push(l));
    expect(await a.get('/redfish/v1/Systems')).toEqual({ ok: true });
    await a.close();
    expect(seen).toEqual(['GET /redfish/v1/Systems token', 'DELETE /redfish/v1/SessionService/Sessions/7 token']);
    // A token too long to send back: the login fails, and the session it made is ended (basic authentication).
    seen.length = 0;
    script = [(res) => session(res, 'x'.repeat(6000), '/redfish/v1/SessionService/Sessions/8'), record];
    const b = new RedfishSession(ep(), lim(5000), creds, 'session', '/redfish/v1/SessionService/Sessions', (l) => log.push(l));
    await expect(b.get('/redfish/v1/Systems')).rejects.toThrow(/X-Auth-Token of 6000 bytes/);
    expect(seen).toEqual(['DELETE /redfish/v1/SessionService/Sessions/8 basic']);
  });

  it('keeps one connection alive for the requests of a controller', async () => {
    closeAgents();
    const before = connections;
    for (let i = 0; i < 3; i++) expect((await send(ep(), lim(5000), 'GET', '/redfish/v1/', {})).status).toBe(200);
    expect(connections - before).toBe(1);
  });

  it('a 503 is retried after its Retry-After when that fits the deadline; not when it does not', async () => {
    script = [(res) => { res.writeHead(503, { 'retry-after': '1', 'content-length': '0' }); res.end(); }];
    let t0 = Date.now();
    const r = await send(ep(), lim(5000), 'GET', '/redfish/v1/Systems', {});
    expect(r).toMatchObject({ status: 200, attempts: 2 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    script = [(res) => { res.writeHead(503, { 'retry-after': '30', 'content-length': '0' }); res.end(); }];
    t0 = Date.now();
    const busy = await send(ep(), lim(2000), 'GET', '/redfish/v1/Systems', {});
    expect(busy).toMatchObject({ status: 503, attempts: 1 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a kept-alive connection the server closed is not used again: the next request (a POST) gets a new one', async () => {
    closeAgents();
    expect((await send(ep(), lim(5000), 'GET', '/redfish/v1/', {})).status).toBe(200);
    // the server drops the idle connection the agent keeps
    script = [];
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const r = await send(ep(), lim(5000), 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { 'content-type': 'application/json' }, Buffer.from('{"ResetType":"On"}'));
    expect(r.status).toBe(200);
  });

  it('an answer that never comes ends at the deadline, as a network failure', async () => {
    script = [() => { /* never answers */ }];
    const t0 = Date.now();
    const e = await send(ep(), lim(1500, 0), 'GET', '/redfish/v1/Systems', {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DriverError);
    expect((e as DriverError).layer).toBe('network');
    expect((e as DriverError).detail).toMatch(/no answer from 127\.0\.0\.1:\d+ within the deadline/);
    expect(Date.now() - t0).toBeLessThan(1500 + 500);
    // a POST whose answer never came is not sent again (it may have been done): a second
    // request would get the server's 200
    script = [() => { /* never answers */ }];
    const p = await send(ep(), { ...lim(1500, 2), requestTimeoutMs: 500 }, 'POST', '/x', {}, Buffer.from('{}')).catch((x: unknown) => x);
    expect((p as DriverError).layer).toBe('network');
    expect(script).toHaveLength(0);
  });

  it('a certificate other than the pinned one: refused before anything is sent', async () => {
    closeAgents();
    let requests = 0;
    script = [(res) => { requests++; res.end('{}'); }];
    const e = await send({ ...ep(), trust: { verify: true, fingerprint: certs.caSigned.fingerprint } }, lim(3000), 'GET', '/redfish/v1/Systems', { authorization: 'Basic c2VjcmV0' }).catch((x: unknown) => x);
    expect((e as DriverError).layer).toBe('certificate');
    expect((e as DriverError).detail).toContain(`has fingerprint ${certs.selfSigned.fingerprint}, not the pinned ${certs.caSigned.fingerprint}`);
    expect(requests).toBe(0);
    script = [];
  });
});
