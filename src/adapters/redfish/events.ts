// The HTTPS listener Redfish controllers post their events to (EventDestination
// Protocol "Redfish"). It accepts an event only from a subscribed, registered controller —
// the Context must be the token of a subscription (subscriptions.ts), and when the
// controller is registered by IP address the event must come from it — checks its shape,
// and hands every record to a callback. Bounded against bad peers: body size, headers and
// request time, records per event, connections per source (util/peer-gate.ts), TLS handshake
// and idle time; a failing callback or handler never stops it; close() ends in bounded time.
// A delivery is answered 204 only once the callback says its records are committed; 503 with
// Retry-After when they are not (the controller sends it again). The monitor mounts it in its
// intake.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Db } from '../../store/db.js';
import { settingNumber, settingText } from '../setting-reader.js';
import { REDFISH_SETTINGS } from './spec.js';
import { type Json, isObj, link, str } from './session.js';
import { subscriberByToken } from './subscriptions.js';
import { PeerGate } from '../../util/peer-gate.js';
import { parsePeerJson } from '../../util/peer-answer.js';
import { readPrivateFile } from '../../util/files.js';

/** One event record of a registered controller, as the monitor's intake takes it. */
export interface RedfishEvent {
  machineId: number;
  machine: string;
  eventId: string | null;
  messageId: string | null;
  /** As the service says it: OK, Warning, Critical. */
  severity: string | null;
  /** ISO-8601 (EventTimestamp), or null. */
  time: string | null;
  /** The resource the event is about (OriginOfCondition), e.g. /redfish/v1/Chassis/1U/Thermal. */
  origin: string | null;
  message: string | null;
  eventType: string | null;
  /** The address the event came from. */
  source: string;
  /** The record as the controller sent it. */
  raw: Json;
}

export interface ListenerOptions {
  db: Db;
  host: string;
  port: number;
  /** PEM certificate (chain) and key of the listener. */
  cert: string | Buffer;
  key: string | Buffer;
  /** The path events are posted to (default /redfish/events). */
  path?: string;
  /**
   * Takes one record; returns (or resolves to) false when it could not be committed, true or
   * nothing when it is: the delivery is answered after every record's answer.
   */
  onEvent(event: RedfishEvent): void | boolean | Promise<boolean>;
  /** Why a delivery was refused, and callback failures. */
  log?(line: string): void;
  maxBodyBytes?: number;
}

export interface EventListener {
  port: number;
  /** Deliveries accepted and refused since the start. */
  counts(): { accepted: number; refused: number; records: number };
  close(): Promise<void>;
}

export const DEFAULT_EVENT_PATH = '/redfish/events';
const MAX_RECORDS = 100;
/** How long a delivery waits for its records to be committed before it is answered 503. */
const COMMIT_WAIT_MS = 5_000;

/** The listener's options from the settings (redfish.listener_*); a missing certificate or key is named. */
export function listenerOptionsFrom(db: Db, onEvent: (e: RedfishEvent) => void, log?: (line: string) => void): ListenerOptions {
  const cert = settingText(db, REDFISH_SETTINGS, 'redfish.listener_cert');
  const key = settingText(db, REDFISH_SETTINGS, 'redfish.listener_key');
  if (!cert || !key) throw new Error('the Redfish event listener needs redfish.listener_cert and redfish.listener_key (PEM files)');
  const dest = settingText(db, REDFISH_SETTINGS, 'redfish.event_destination');
  let path = DEFAULT_EVENT_PATH;
  try {
    if (dest) path = new URL(dest).pathname || DEFAULT_EVENT_PATH;
  } catch {
    // The subscription command reports a bad destination.
  }
  return {
    db, host: settingText(db, REDFISH_SETTINGS, 'redfish.listener_address')!, port: settingNumber(db, REDFISH_SETTINGS, 'redfish.listener_port'),
    cert: readFileSync(cert), key: readPrivateFile(key, 'redfish.listener_key'), path, onEvent, ...(log ? { log } : {}),
  };
}

const plain = (a: string): string => a.replace(/^::ffff:/, '');

/** The records of a delivery, validated; a reason when it is not a Redfish event. */
export function recordsOf(body: unknown): { context: string | undefined; records: Json[] } | { problem: string } {
  if (!isObj(body)) return { problem: 'not a JSON object' };
  const events = body.Events;
  if (!Array.isArray(events) || events.length === 0) return { problem: 'no Events' };
  if (events.length > MAX_RECORDS) return { problem: `more than ${MAX_RECORDS} records` };
  if (!events.every(isObj)) return { problem: 'an Events member is not an object' };
  const records = events as Json[];
  // Context is the event's; services of older schema versions put it in each record.
  const context = str(body, 'Context') ?? str(records[0], 'Context');
  if (records.some((r) => (str(r, 'Context') ?? context) !== context)) return { problem: 'records with different Contexts' };
  return { context, records };
}

function eventOf(machineId: number, machine: string, source: string, r: Json): RedfishEvent {
  const t = str(r, 'EventTimestamp');
  const when = t && Number.isFinite(Date.parse(t)) ? new Date(Date.parse(t)).toISOString() : null;
  return {
    machineId, machine, source, raw: r,
    eventId: str(r, 'EventId') ?? str(r, 'MemberId') ?? null,
    messageId: str(r, 'MessageId') ?? null,
    severity: str(r, 'MessageSeverity') ?? str(r, 'Severity') ?? null,
    time: when,
    origin: link(r, 'OriginOfCondition') ?? str(r, 'OriginOfCondition') ?? null,
    message: str(r, 'Message') ?? null,
    eventType: str(r, 'EventType') ?? null,
  };
}

export async function startEventListener(o: ListenerOptions): Promise<EventListener> {
  const path = o.path ?? DEFAULT_EVENT_PATH;
  const maxBody = o.maxBodyBytes ?? 256 * 1024;
  const log = o.log ?? (() => undefined);
  let accepted = 0, refused = 0, records = 0;
  const gate = new PeerGate('redfish event listener', log, { perSource: 16, idleMs: 15_000 });

  const answer = (res: ServerResponse, status: number, why?: string, from?: string): void => {
    if (res.headersSent) return;
    if (status >= 300) {
      refused++;
      if (why) gate.peerLog(from ?? '?', `refused-${status}`, `event refused (${status}): ${why}`);
    }
    // A refused request's connection is not kept: its body may still be arriving.
    res.writeHead(status, { 'content-length': '0', ...(status >= 300 ? { connection: 'close' } : {}), ...(status === 405 ? { allow: 'POST' } : {}) });
    res.end();
  };
  /** Refuses before reading the body: what is still sent is read and dropped (up to the limit). */
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, why: string, from: string): void => {
    answer(res, status, why, from);
    let dropped = 0;
    req.on('data', (c: Buffer) => { dropped += c.length; if (dropped > maxBody) req.destroy(); });
    req.on('error', () => undefined);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const from = plain(req.socket.remoteAddress ?? '?');
    if ((req.url ?? '').split('?')[0] !== path) return refuse(req, res, 404, `path ${req.url}`, from);
    if (req.method !== 'POST') return refuse(req, res, 405, `method ${req.method}`, from);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return refuse(req, res, 415, `content type ${req.headers['content-type'] ?? 'none'}`, from);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBody) return refuse(req, res, 413, `${declared} bytes`, from);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        if (!over) answer(res, 413, `more than ${maxBody} bytes`, from);
        over = true;
        // A sender that keeps going past the limit is cut off.
        if (size > 2 * maxBody) req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (over) return;
      let body: unknown;
      try {
        body = parsePeerJson(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(res, 400, 'not JSON', from);
      }
      const v = recordsOf(body);
      if ('problem' in v) return answer(res, 400, v.problem, from);
      const who = v.context ? subscriberByToken(o.db, v.context) : undefined;
      if (!who) return answer(res, 403, 'no subscription has this Context', from);
      if (who.address && isIP(who.address) && plain(who.address) !== from) return answer(res, 403, `${who.machine} is registered at ${who.address}`, from);
      const taken: Array<void | boolean | Promise<boolean>> = [];
      for (const r of v.records) {
        records++;
        try {
          taken.push(o.onEvent(eventOf(who.machineId, who.machine, from, r)));
        } catch (e) {
          log(`redfish event of ${who.machine}: the intake failed: ${(e as Error).message}`);
          taken.push(false);
        }
      }
      // Acknowledged only once committed: the controller does not send a 204'd event again.
      let timer: NodeJS.Timeout | undefined;
      void Promise.race([
        Promise.all(taken.map((t) => Promise.resolve(t).then((x) => x !== false, () => false))).then((all) => all.every(Boolean)),
        new Promise<false>((r) => { timer = setTimeout(() => r(false), COMMIT_WAIT_MS); }),
      ]).then((ok) => {
        clearTimeout(timer);
        if (ok) {
          accepted++;
          answer(res, 204);
        } else if (!res.headersSent) {
          refused++;
          gate.peerLog(from, 'busy', 'delivery not committed in time: answered 503');
          res.writeHead(503, { 'content-length': '0', 'retry-after': '5', connection: 'close' });
          res.end();
        }
      });
    });
  };
  const guarded = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      handle(req, res);
    } catch (e) {
      log(`redfish event listener: a request failed: ${(e as Error).message}`);
      if (!res.headersSent) { res.writeHead(500, { 'content-length': '0', connection: 'close' }); res.end(); } else res.destroy();
    }
  };

  const server = https.createServer({ cert: o.cert, key: o.key, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 }, guarded);
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  // Per source at most 16 (the gate), so that idle connections of one peer block no other.
  server.maxConnections = 1024;
  gate.attach(server);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.on('tlsClientError', (e, s) => { gate.peerLog(plain(s.remoteAddress ?? '?'), 'tls', `TLS handshake failed: ${e.message}`); });
  server.on('clientError', (_e, s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.removeListener('error', reject); resolve(); });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : o.port,
    counts: () => ({ accepted, refused, records }),
    close: () => new Promise<void>((resolve) => {
      const t = setTimeout(() => { for (const s of sockets) s.destroy(); resolve(); }, 2000);
      server.close(() => { clearTimeout(t); resolve(); });
      server.closeIdleConnections();
    }),
  };
}
