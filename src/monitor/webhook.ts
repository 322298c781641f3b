// Custom notifications over HTTP: an endpoint (monitor.http_listen) that takes Prometheus
// Alertmanager's webhook payload (version 4: { status, alerts: [{ status, labels, annotations, … }] }),
// so that a Prometheus installation can drive recovery. Each firing alert whose labels name
// the event and the machine or group becomes an event of the intake:
//   kanri_event    the event, e.g. 10000001 (custom notification for machine 1)
//   kanri_source   the notifying source (default SystemMonitorPerf)
//   kanri_machine  the machine, or kanri_group the group path
// A resolved alert raises kanri_resolved_event when it has one and is otherwise ignored.
// With monitor.http_token_file set, a request must carry "Authorization: Bearer <token>".
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { Intake } from './intake.js';

const MAX_BODY = 1 << 20;

interface Alert { status?: string; labels?: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; fingerprint?: string }

export interface WebhookOptions { host: string; port: number; tokenFile?: string }

export class Webhook {
  private server: Server | undefined;
  address: { host: string; port: number } | undefined;

  constructor(private readonly intake: Intake, private readonly log: (line: string) => void) {}

  async start(o: WebhookOptions): Promise<void> {
    const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : undefined;
    if (o.tokenFile && !token) throw new Error(`monitor.http_token_file ${o.tokenFile} is empty`);
    const srv = createServer((req, res) => this.handle(req, res, token));
    srv.requestTimeout = 10_000;
    srv.headersTimeout = 5_000;
    srv.maxRequestsPerSocket = 100;
    await new Promise<void>((res, rej) => {
      srv.once('error', rej);
      srv.listen(o.port, o.host, () => res());
    });
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

  private handle(req: IncomingMessage, res: ServerResponse, token: string | undefined): void {
    const reply = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    if (req.method !== 'POST') return reply(405, { error: 'POST an Alertmanager webhook payload' });
    if (token !== undefined) {
      const got = Buffer.from(String(req.headers.authorization ?? ''));
      const want = Buffer.from(`Bearer ${token}`);
      if (got.length !== want.length || !timingSafeEqual(got, want)) return reply(401, { error: 'missing or wrong bearer token' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reply(413, { error: `payload larger than ${MAX_BODY} bytes` });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      let payload: { alerts?: unknown };
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: unknown };
      } catch {
        return reply(400, { error: 'the body is not JSON' });
      }
      if (!payload || !Array.isArray(payload.alerts)) return reply(400, { error: 'no alerts array (an Alertmanager webhook payload has one)' });
      const accepted: number[] = [];
      const refused: Array<{ alert: number; reason: string }> = [];
      (payload.alerts as Alert[]).slice(0, 1000).forEach((a, i) => {
        const l = a?.labels ?? {};
        const event = a?.status === 'resolved' ? l.kanri_resolved_event : l.kanri_event;
        if (!event) {
          if (a?.status !== 'resolved') refused.push({ alert: i, reason: 'no kanri_event label' });
          return;
        }
        const r = this.intake.receive({
          source: l.kanri_source || 'SystemMonitorPerf', event, origin: 'webhook', sender: `alertmanager ${req.socket.remoteAddress ?? ''}`.trim(),
          ...(l.kanri_machine ? { machine: l.kanri_machine } : {}), ...(l.kanri_group ? { group: l.kanri_group } : {}),
          detail: [l.alertname, a.annotations?.summary ?? a.annotations?.description].filter(Boolean).join(': ').slice(0, 1000),
        });
        if (r.ok) accepted.push(i);
        else refused.push({ alert: i, reason: r.reason });
      });
      for (const r of refused) this.log(`webhook alert ${r.alert} refused: ${r.reason}`);
      reply(refused.length && !accepted.length ? 422 : 200, { accepted: accepted.length, refused });
    });
    req.on('error', () => undefined);
  }
}
