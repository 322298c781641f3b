// Custom notifications over HTTP: an endpoint (monitor.http_listen) that takes Prometheus
// Alertmanager's webhook payload (version 4: { status, alerts: [{ status, labels, annotations, … }] }),
// so that a Prometheus installation can drive recovery. Each firing alert whose labels name
// the event and the machine or group becomes an event of the intake:
//   kanri_event    the event, e.g. 10000001 (custom notification for machine 1)
//   kanri_source   the notifying source (default SystemMonitorPerf)
//   kanri_machine  the machine, or kanri_group the group path
// A resolved alert raises kanri_resolved_event when it has one and is otherwise ignored.
// With monitor.http_token_file set, a request must carry "Authorization: Bearer <token>" (the
// scheme in any case); listening on anything but loopback needs one. Hardware events
// (kanri_source SystemMonitorEvent) are refused unless monitor.http_hardware_events is on:
// they drive replace and shutdown actions, and a BMC's own channels carry them.
//
// Hostile input is expected: the payload's types are checked before anything is taken (a
// label that is not a string is a 400, never a throw; kanri_machine is a machine's name), a
// handler that fails answers 500 and the server goes on, and the answer is sent only once
// every taken event is committed — 503 with Retry-After when the store does not take them in
// time (they are withdrawn, so Alertmanager's retry is not a duplicate). GET /healthz answers
// 200 with the intake's queue length: the monitor's liveness probe.
//
// Alertmanager sends each alert to every receiver configured, and again after a failed or a
// repeated notification: an alert with a fingerprint and startsAt (Alertmanager's own
// identity of one firing) has them, with its status, as deduplication key, so that the same
// alert sent to two managers' monitors, or sent again, is one event (intake.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readPrivateFile } from '../util/files.js';
import { timingSafeEqual } from 'node:crypto';
import type { Intake, Receipt } from './intake.js';
import { PeerGate } from '../util/peer-gate.js';

const MAX_BODY = 1 << 20;
const MAX_ALERTS = 1000;
/** How long a delivery waits for its events to be committed before it is answered 503. */
const COMMIT_WAIT_MS = 5_000;
const STRING_LABELS = ['kanri_event', 'kanri_resolved_event', 'kanri_source', 'kanri_machine', 'kanri_group', 'alertname'] as const;

interface Alert { status?: string; labels: Record<string, string>; annotations: Record<string, string>; fingerprint?: string; startsAt?: string }

export interface WebhookOptions {
  host: string; port: number; tokenFile?: string;
  /** Take SystemMonitorEvent (hardware) events too (monitor.http_hardware_events). */
  hardwareEvents?: boolean;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The payload's alerts with the types the intake needs, or why it is not an Alertmanager payload. */
export function alertsOf(payload: unknown): Alert[] | string {
  if (!isRecord(payload) || !Array.isArray(payload.alerts)) return 'no alerts array (an Alertmanager webhook payload has one)';
  if (payload.alerts.length > MAX_ALERTS) return `more than ${MAX_ALERTS} alerts`;
  const out: Alert[] = [];
  for (const [i, a] of payload.alerts.entries()) {
    if (!isRecord(a)) return `alert ${i} is not an object`;
    if (a.status !== undefined && typeof a.status !== 'string') return `alert ${i}: status is not a string`;
    const labels = a.labels ?? {};
    const annotations = a.annotations ?? {};
    if (!isRecord(labels)) return `alert ${i}: labels is not an object`;
    if (!isRecord(annotations)) return `alert ${i}: annotations is not an object`;
    for (const k of STRING_LABELS) if (labels[k] !== undefined && typeof labels[k] !== 'string') return `alert ${i}: label ${k} is not a string`;
    for (const k of ['summary', 'description']) if (annotations[k] !== undefined && typeof annotations[k] !== 'string') return `alert ${i}: annotation ${k} is not a string`;
    for (const k of ['fingerprint', 'startsAt'] as const) if (a[k] !== undefined && typeof a[k] !== 'string') return `alert ${i}: ${k} is not a string`;
    out.push({
      ...(a.status !== undefined ? { status: a.status as string } : {}), labels: labels as Record<string, string>, annotations: annotations as Record<string, string>,
      ...(typeof a.fingerprint === 'string' ? { fingerprint: a.fingerprint } : {}), ...(typeof a.startsAt === 'string' ? { startsAt: a.startsAt } : {}),
    });
  }
  return out;
}

/** One firing (or resolution) of one alert, as Alertmanager names it; undefined without a fingerprint and startsAt. */
export function alertKey(a: Alert): string | undefined {
  if (!a.fingerprint || !a.startsAt) return undefined;
  return `webhook ${a.status ?? 'firing'} ${a.fingerprint.slice(0, 64)} ${a.startsAt.slice(0, 64)}`;
}

/** Whether an address is the local host's (the endpoint may then go without a token). */
export const isLoopback = (host: string): boolean => /^(127\.|::1$|::ffff:127\.|localhost$)/i.test(host);

export class Webhook {
  private server: Server | undefined;
  private readonly gate: PeerGate;
  private hardware = false;
  address: { host: string; port: number } | undefined;

  constructor(private readonly intake: Intake, private readonly log: (line: string) => void) {
    this.gate = new PeerGate('webhook', log);
  }

  async start(o: WebhookOptions): Promise<void> {
    if (!o.tokenFile && !isLoopback(o.host)) throw new Error(`monitor.http_listen ${o.host} is not loopback: set monitor.http_token_file (a bearer token is required off loopback)`);
    const token = o.tokenFile ? readPrivateFile(o.tokenFile, 'monitor.http_token_file').toString('utf8').trim() : undefined;
    if (o.tokenFile && !token) throw new Error(`monitor.http_token_file ${o.tokenFile} is empty`);
    this.hardware = !!o.hardwareEvents;
    const srv = createServer((req, res) => {
      try {
        this.handle(req, res, token);
      } catch (e) {
        this.failed(res, e);
      }
    });
    srv.requestTimeout = 10_000;
    srv.headersTimeout = 5_000;
    srv.keepAliveTimeout = 5_000;
    srv.maxRequestsPerSocket = 100;
    srv.maxHeadersCount = 64;
    this.gate.attach(srv);
    await new Promise<void>((res, rej) => {
      srv.once('error', rej);
      srv.listen(o.port, o.host, () => { srv.removeListener('error', rej); res(); });
    });
    srv.on('error', (e) => this.log(`webhook server: ${e.message}`));
    const a = srv.address() as import('node:net').AddressInfo;
    this.address = { host: a.address, port: a.port };
    this.server = srv;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private failed(res: ServerResponse, e: unknown): void {
    this.log(`webhook: a request failed: ${(e as Error)?.message ?? String(e)}`);
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":"internal error"}\n');
    } else res.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse, token: string | undefined): void {
    const reply = (code: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (res.headersSent) return;
      res.writeHead(code, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body) + '\n');
    };
    req.on('error', () => undefined);
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/healthz') return reply(200, { ok: true, queued: this.intake.queued });
    if (req.method !== 'POST') return reply(405, { error: 'POST an Alertmanager webhook payload' });
    if (token !== undefined) {
      const m = /^bearer[ \t]+(.*)$/i.exec(String(req.headers.authorization ?? ''));
      const got = Buffer.from(m ? m[1]!.trim() : '');
      const want = Buffer.from(token);
      if (got.length !== want.length || !timingSafeEqual(got, want)) return reply(401, { error: 'missing or wrong bearer token' }, { connection: 'close' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reply(413, { error: `payload larger than ${MAX_BODY} bytes` }, { connection: 'close' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      this.take(req, Buffer.concat(chunks), reply).catch((e: unknown) => this.failed(res, e));
    });
  }

  private async take(req: IncomingMessage, raw: Buffer, reply: (code: number, body: unknown, headers?: Record<string, string>) => void): Promise<void> {
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply(400, { error: 'the body is not JSON' });
    }
    const alerts = alertsOf(payload);
    if (typeof alerts === 'string') return reply(400, { error: alerts });
    const from = `alertmanager ${req.socket.remoteAddress ?? ''}`.trim();
    const taken: Array<Extract<Receipt, { ok: true }>> = [];
    const accepted: number[] = [];
    const refused: Array<{ alert: number; reason: string }> = [];
    alerts.forEach((a, i) => {
      const l = a.labels;
      const event = a.status === 'resolved' ? l.kanri_resolved_event : l.kanri_event;
      if (!event) {
        if (a.status !== 'resolved') refused.push({ alert: i, reason: 'no kanri_event label' });
        return;
      }
      const source = l.kanri_source || 'SystemMonitorPerf';
      if (source === 'SystemMonitorEvent' && !this.hardware) {
        refused.push({ alert: i, reason: 'hardware events (SystemMonitorEvent) are not taken over HTTP (monitor.http_hardware_events)' });
        return;
      }
      const key = alertKey(a);
      const r = this.intake.receive({
        source, event, origin: 'webhook', sender: from, ...(key ? { dedupKey: key } : {}),
        ...(l.kanri_machine ? { machine: l.kanri_machine } : {}), ...(l.kanri_group ? { group: l.kanri_group } : {}),
        detail: [l.alertname, a.annotations.summary ?? a.annotations.description].filter(Boolean).join(': ').slice(0, 1000),
      });
      if (r.ok) { accepted.push(i); taken.push(r); } else refused.push({ alert: i, reason: r.reason });
    });
    for (const r of refused.slice(0, 5)) this.log(`webhook alert ${r.alert} from ${from} refused: ${r.reason.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 200)}`);
    if (taken.length) {
      // Acknowledged only once committed: the answer waits for the intake's write.
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        Promise.all(taken.map((t) => t.written())).then((w) => w.every(Boolean)),
        new Promise<false>((r) => { timer = setTimeout(() => r(false), COMMIT_WAIT_MS); }),
      ]);
      clearTimeout(timer);
      if (!inTime) {
        const withdrawn = taken.filter((t) => t.withdraw()).length;
        if (withdrawn === taken.length) return reply(503, { error: 'the store is busy: nothing was taken, send again' }, { 'retry-after': '5' });
        // Some were committed meanwhile: the sender's retry may repeat them, never lose one.
        return reply(503, { error: 'the store is busy: part was taken, send again' }, { 'retry-after': '5' });
      }
    }
    reply(refused.length && !accepted.length ? 422 : 200, { accepted: accepted.length, refused });
  }
}
