// kanri serve: the API, the metrics, the web console and the OpenAPI document in one
// foreground process over one store connection, with one Engine whose jobs it owns.
// SIGTERM/SIGINT stop accepting, end the streams and give running jobs serve's drain time.
import { readFileSync } from 'node:fs';
import { packageVersion } from '../cli/version.js';
import { sweepAbandoned } from '../engine/jobs.js';
import { type Db } from '../store/db.js';
import { openStore } from '../open-store.js';
import { requireStoreKey } from '../store/secrets.js';
import { packagePath } from '../util/package.js';
import { keepControllerSessionsWarm } from '../adapters/registry.js';
import { Changes, changeRoutes } from './changes.js';
import { Histogram } from './http-stats.js';
import { listenPlan } from './listen.js';
import { metricsText } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { readRoutes } from './read.js';
import { ApiServer, HttpError, type Route } from './server.js';
import { serveLimits, serveSetting } from './settings.js';
import { streamRoutes } from './streams.js';
import { monitorNumber } from '../monitor/settings.js';
import { EXIT } from '../kanri/exit-codes.js';

/** The console's files: a fixed list, never a path taken from the request. */
const CONSOLE_FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'i18n.js': 'text/javascript; charset=utf-8',
};
const CONSOLE_HEADERS = { 'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" };

function consoleRoutes(): Route[] {
  const cache = new Map<string, string>();
  const file = (name: string): string => cache.get(name) ?? (cache.set(name, readFileSync(packagePath('web', name), 'utf8')), cache.get(name)!);
  return [
    { method: 'GET', path: '/', access: 'public', handler: () => ({ status: 200, text: file('index.html'), type: 'text/html; charset=utf-8', headers: CONSOLE_HEADERS }) },
    {
      method: 'GET', path: '/console/{file}', access: 'public', handler: (r) => {
        const type = CONSOLE_FILES[r.params.file!];
        if (!type) throw new HttpError(404, 'no such file');
        return { status: 200, text: file(r.params.file!), type, headers: CONSOLE_HEADERS };
      },
    },
  ];
}

export interface Running { server: ApiServer; url: string; changes: Changes; stop(): Promise<void> }

export async function startServe(db: Db, dbPath: string, o: { listen?: string; log?: (l: string) => void } = {}): Promise<Running | string> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const plan = listenPlan(o.listen ?? serveSetting(db, 'serve.listen'), serveSetting(db, 'serve.tls_cert'), serveSetting(db, 'serve.tls_key'));
  if (typeof plan === 'string') return plan;
  sweepAbandoned(db);
  // Power status through the API reuses the IPMI session of the last call to the BMC.
  const closeWarm = await keepControllerSessionsWarm();
  const changes = new Changes(db, log);
  const oobCalls = new Histogram([0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  const doc = openApiDocument(packageVersion());
  let server: ApiServer | undefined;
  const routes: Route[] = [
    ...readRoutes(db, dbPath),
    ...changeRoutes(changes, dbPath, oobCalls),
    ...streamRoutes(db, () => server!),
    { method: 'GET', path: '/metrics', access: 'metrics', handler: () => ({ status: 200, text: metricsText(db, server!.stats, oobCalls), type: 'text/plain; version=0.0.4; charset=utf-8' }) },
    { method: 'GET', path: '/openapi.json', access: 'public', handler: () => ({ status: 200, body: doc }) },
    ...consoleRoutes(),
  ];
  const metricsPublic = /^(1|true|yes|on)$/i.test(serveSetting(db, 'serve.metrics_public'));
  server = new ApiServer({ db, routes, limits: serveLimits(db), metricsPublic, ...(plan.tls ? { tls: plan.tls } : {}), log });
  const addr = await server.listen(plan.host, plan.port);
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${plan.tls ? 'https' : 'http'}://${host}:${addr.port}`;
  const s = server;
  return {
    server: s, url, changes,
    async stop() {
      await s.close();
      await closeWarm();
      await changes.engine.drain(monitorNumber(db, 'monitor.drain_s') * 1000);
    },
  };
}

/** kanri serve in the foreground: one line on stdout with the URL once it listens. */
export async function serveRun(dbPath: string, o: { listen?: string }): Promise<number> {
  const db = openStore(dbPath);
  try {
    // Refused at start, not at the first request that opens a controller's password.
    requireStoreKey(db);
    const r = await startServe(db, dbPath, o);
    if (typeof r === 'string') {
      process.stderr.write(`kanri: ${r}\n`);
      return EXIT.USAGE;
    }
    process.stdout.write(`kanri serve: listening on ${r.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    process.stderr.write('kanri serve: stopping\n');
    await r.stop();
    return EXIT.OK;
  } finally {
    db.close();
  }
}
