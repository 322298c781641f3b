// Server-Sent Events: a job's progress (its document each time a step or its status
// changes, until it ends) and the event log (each new entry, with the filters of kanri
// events; Last-Event-ID resumes). Both read the store, as kanri job watch and kanri events
// --follow do, so jobs of every process are seen, not only this server's.
import { eventRowsAfter, lastEventId } from '../kanri/inventory.js';
import { findJob, jobDocument, steps } from '../kanri/jobs.js';
import { sweepAbandoned } from '../engine/jobs.js';
import type { Db } from '../store/db.js';
import { onlyQuery } from './check.js';
import { eventFilter, eventJson, jobId } from './read.js';
import { type ApiServer, HttpError, type Req, type Route } from './server.js';

const HEARTBEAT_MS = 15_000;

/** Opens the event stream on the response; `tick` is called every `everyMs` until `stop`. */
function open(server: ApiServer, r: Req, everyMs: number, tick: (send: (event: string, data: unknown, id?: number) => void, stop: () => void) => void): Promise<'streamed'> {
  const { res } = r;
  r.raw.socket.setTimeout(0);
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
  res.write(': kanri\n\n');
  return new Promise((resolve) => {
    let lastWrite = Date.now();
    const send = (event: string, data: unknown, id?: number): void => {
      res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      lastWrite = Date.now();
    };
    let unregister: () => unknown = () => true;
    const stop = (): void => {
      clearInterval(timer);
      unregister();
      if (!res.writableEnded) res.end();
      resolve('streamed');
    };
    const timer = setInterval(() => {
      if (res.destroyed) return stop();
      // A slow reader is not buffered for without bound.
      if (res.writableLength > 1 << 20) { res.destroy(); return stop(); }
      try {
        tick(send, stop);
      } catch (e) {
        send('error', { message: (e as Error).message });
        stop();
        return;
      }
      if (Date.now() - lastWrite > HEARTBEAT_MS) { res.write(': keep-alive\n\n'); lastWrite = Date.now(); }
    }, everyMs);
    unregister = server.onClose(stop);
    res.once('close', stop);
    tick(send, stop);
  });
}

export function streamRoutes(db: Db, server: () => ApiServer): Route[] {
  return [
    {
      method: 'GET', path: '/api/v1/jobs/{id}/stream', access: 'operator', stream: true, handler: (r) => {
        onlyQuery(r.query, []);
        const id = jobId(r.params.id!);
        if (!findJob(db, String(id))) throw new HttpError(404, `job not found: ${r.params.id}`);
        let last = '';
        return open(server(), r, 250, (send, stop) => {
          sweepAbandoned(db);
          const job = findJob(db, String(id))!;
          const doc = jobDocument(job, steps(db, id));
          const text = JSON.stringify(doc);
          if (text !== last) { last = text; send('job', doc); }
          if (job.status !== 'running' && job.status !== 'held') { send('end', { job: id, status: job.status }); stop(); }
        });
      },
    },
    {
      method: 'GET', path: '/api/v1/events/stream', access: 'operator', stream: true, handler: (r) => {
        onlyQuery(r.query, ['machine', 'group', 'since']);
        const filter = eventFilter(r.query);
        const resume = String(r.raw.headers['last-event-id'] ?? '');
        let after = /^\d{1,12}$/.test(resume) ? Number(resume) : filter.since ? 0 : lastEventId(db);
        return open(server(), r, 500, (send) => {
          for (const e of eventRowsAfter(db, after, filter, 500)) {
            send('event', eventJson(e), e.id);
            after = e.id;
          }
        });
      },
    },
  ];
}
