// kanri serve against a running server on the fixture data centre: tokens, authentication
// and levels, the audit, limits and hostile input, every read endpoint validated against
// /openapi.json, changes as jobs (202) or pvmutl's refusals, cancel, the SSE streams,
// /metrics, HTTPS off loopback, and kanri status.
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { blackHole } from './support/ipmi-sim.js';
import { waitFor } from './support/daemon.js';
import { fixtureStore, queryAll, tempDir } from './support/store.js';
import { call, putSettings, readEvents, responseSchema, startServe, token, validate, type Served } from './support/serve.js';

describe('kanri serve: the API', () => {
  let db: string;
  let srv: Served;
  let admin: string;
  let oper: string;
  let doc: any;
  const jobRow = (id: number) => queryAll<{ status: string }>(db, 'SELECT status FROM jobs WHERE id = ?', id)[0]!;

  beforeAll(async () => {
    db = fixtureStore();
    admin = token(db, 'alice', 'administrator');
    oper = token(db, 'otto', 'operator');
    srv = await startServe(db);
    doc = (await call(srv.url, 'GET', '/openapi.json')).json;
  }, 60_000);
  afterAll(async () => { await srv?.stop(); });

  it('prints a token once and stores only its hash; list shows no secret; revoke refuses it from then on', async () => {
    expect(admin).toMatch(/^kanri_[A-Za-z0-9_-]{43}$/);
    const rows = queryAll<{ name: string; token_hash: string }>(db, 'SELECT name, token_hash FROM serve_tokens ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['alice', 'otto']);
    for (const r of rows) expect(r.token_hash).not.toContain(admin.slice(6));
    const list = run('kanri', ['token', 'list'], { db });
    expect(list.code).toBe(0);
    expect(list.out).toContain('alice');
    expect(list.out).not.toContain(admin);
    expect(run('kanri', ['token', 'create', 'alice', '--level', 'operator'], { db }).code).toBe(1);
    expect(run('kanri', ['token', 'create', 'x', '--level', 'root'], { db }).code).toBe(1);
    const temp = token(db, 'temp', 'operator');
    expect((await call(srv.url, 'GET', '/api/v1/whoami', { token: temp })).json).toEqual({ name: 'temp', level: 'operator' });
    expect(run('kanri', ['token', 'revoke', 'temp'], { db }).code).toBe(0);
    expect((await call(srv.url, 'GET', '/api/v1/whoami', { token: temp })).status).toBe(401);
    expect(run('kanri', ['token', 'revoke', 'temp'], { db }).code).toBe(2);
  });

  it('refuses requests without a valid token (401) and changes by an operator (403)', async () => {
    expect((await call(srv.url, 'GET', '/api/v1/machines')).status).toBe(401);
    expect((await call(srv.url, 'GET', '/api/v1/machines', { token: 'kanri_' + 'A'.repeat(43) })).status).toBe(401);
    expect((await call(srv.url, 'GET', '/api/v1/machines', { headers: { authorization: 'Basic YTpi' } })).status).toBe(401);
    expect((await call(srv.url, 'GET', '/metrics')).status).toBe(401);
    const before = queryAll(db, 'SELECT count(*) AS n FROM jobs')[0];
    const r = await call(srv.url, 'POST', '/api/v1/changes', { token: oper, body: { action: 'add', group: 'Shop/Web' } });
    expect(r.status).toBe(403);
    expect((await call(srv.url, 'DELETE', '/api/v1/jobs/1', { token: oper })).status).toBe(403);
    expect((await call(srv.url, 'POST', '/api/v1/oob', { token: oper, body: { operation: 'powerOff', targets: ['web01'] } })).status).toBe(403);
    expect(queryAll(db, 'SELECT count(*) AS n FROM jobs')[0]).toEqual(before);
  });

  it('answers every read endpoint as /openapi.json describes it', async () => {
    const paths: Array<[string, string]> = [
      ['/api/v1/whoami', '/api/v1/whoami'], ['/api/v1/summary', '/api/v1/summary'], ['/api/v1/groups', '/api/v1/groups'],
      ['/api/v1/machines', '/api/v1/machines'], ['/api/v1/machines?group=Shop/Web', '/api/v1/machines'], ['/api/v1/pools', '/api/v1/pools'],
      ['/api/v1/policies', '/api/v1/policies'], ['/api/v1/jobs', '/api/v1/jobs'], ['/api/v1/events?limit=5', '/api/v1/events'],
      ['/api/v1/alerts', '/api/v1/alerts'], ['/api/v1/dscli/servers', '/api/v1/dscli/servers'], ['/api/v1/dscli/groups', '/api/v1/dscli/groups'],
    ];
    const machines = (await call(srv.url, 'GET', '/api/v1/machines', { token: oper })).json as Array<{ name: string; group: string | null }>;
    expect(machines.length).toBeGreaterThan(10);
    const active = machines.find((m) => m.group === 'Shop\\Web')!;
    paths.push([`/api/v1/machines/${encodeURIComponent(active.name)}`, '/api/v1/machines/{name}']);
    for (const [url, templ] of paths) {
      const r = await call(srv.url, 'GET', url, { token: oper });
      expect(r.status, `${url}: ${r.text}`).toBe(200);
      const schema = responseSchema(doc, templ, 'GET', 200);
      expect(schema, templ).toBeDefined();
      expect(validate(doc, schema!, r.json), url).toEqual([]);
    }
    const tree = (await call(srv.url, 'GET', '/api/v1/groups', { token: oper })).json;
    expect(JSON.stringify(tree)).toContain('"path":"Shop\\\\Web"');
    const none = await call(srv.url, 'GET', '/api/v1/machines/no-such', { token: oper });
    expect(none.status).toBe(404);
    expect(validate(doc, responseSchema(doc, '/api/v1/machines/{name}', 'GET', 404)!, none.json)).toEqual([]);
    // The document's own schemas are not vacuous: a wrong shape fails.
    expect(validate(doc, responseSchema(doc, '/api/v1/machines', 'GET', 200)!, [{ name: 1 }]).length).toBeGreaterThan(0);
  });

  it('runs a change as jobs: 202 with their ids, the job with its steps, the audit naming the token', async () => {
    const r = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body: { action: 'add', group: 'Shop/Web' } });
    expect(r.status, r.text).toBe(202);
    expect(validate(doc, responseSchema(doc, '/api/v1/changes', 'POST', 202)!, r.json)).toEqual([]);
    const [id] = r.json.jobs as number[];
    await waitFor(() => jobRow(id!).status === 'completed', 30_000, () => `job ${id} is ${jobRow(id!).status}`);
    const j = await call(srv.url, 'GET', `/api/v1/jobs/${id}`, { token: oper });
    expect(j.status).toBe(200);
    expect(validate(doc, responseSchema(doc, '/api/v1/jobs/{id}', 'GET', 200)!, j.json)).toEqual([]);
    expect(j.json.origin).toBe('api');
    expect(j.json.steps.length).toBeGreaterThan(0);
    expect(j.json.steps.every((s: { status: string }) => s.status === 'completed' || s.status === 'skipped')).toBe(true);
    await waitFor(() => queryAll(db, "SELECT 1 FROM audit WHERE user = 'alice' AND command LIKE 'serve POST /api/v1/changes%' AND exit_code = 202").length === 1, 10_000, () => 'no audit row');
    await waitFor(() => queryAll(db, "SELECT 1 FROM audit WHERE user = 'otto' AND command LIKE 'serve POST /api/v1/changes%' AND exit_code = 403").length >= 1, 10_000, () => 'no audit row of the refusal');
  }, 60_000);

  it("refuses a change with pvmutl's exit code and message, and changes nothing", async () => {
    const jobs = queryAll(db, 'SELECT count(*) AS n FROM jobs')[0];
    const machines = queryAll(db, 'SELECT name, group_id, host_setting_id FROM machines ORDER BY name');
    const cases: Array<[unknown, number, number]> = [
      [{ action: 'add', group: 'Nowhere' }, 404, 3],
      [{ action: 'replace', group: 'Shop/Web', host: 'nohost' }, 404, 2],
      [{ action: 'vmadd', group: 'Shop/Web', vm: 'x' }, 404, 3],
    ];
    for (const [body, status, code] of cases) {
      const r = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body });
      expect([r.status, r.json?.error?.exit_code], `${JSON.stringify(body)}: ${r.text}`).toEqual([status, code]);
      expect(typeof r.json.error.message).toBe('string');
      expect(validate(doc, responseSchema(doc, '/api/v1/changes', 'POST', status)!, r.json)).toEqual([]);
    }
    expect(queryAll(db, 'SELECT count(*) AS n FROM jobs')[0]).toEqual(jobs);
    expect(queryAll(db, 'SELECT name, group_id, host_setting_id FROM machines ORDER BY name')).toEqual(machines);
  });

  it('checks types at the door: unknown actions and fields, wrong types, bodies that are not JSON or too large', async () => {
    const bad: unknown[] = [
      { action: 'add', group: 5 }, { action: 'add' }, { action: 'rm -rf', group: 'x' }, { action: 'add', group: 'Shop/Web', count: -1 },
      { action: 'add', group: 'Shop/Web', extra: 1 }, [1, 2], 'add', { action: 'power', cmd: 'explode', group: 'Shop/Web' }, { action: 'add', group: 'a\u0000b' },
    ];
    for (const body of bad) expect((await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body })).status, JSON.stringify(body)).toBe(422);
    expect((await call(srv.url, 'POST', '/api/v1/changes', { token: admin, raw: '{"action":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await call(srv.url, 'POST', '/api/v1/changes', { token: admin, raw: 'action=add' })).status).toBe(415);
    expect((await call(srv.url, 'POST', '/api/v1/changes', { token: admin, raw: JSON.stringify({ action: 'add', group: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } })).status).toBe(413);
    expect((await call(srv.url, 'GET', '/api/v1/jobs?limit=abc', { token: oper })).status).toBe(422);
    expect((await call(srv.url, 'GET', '/api/v1/events?since=yesterday', { token: oper })).status).toBe(422);
    expect((await call(srv.url, 'GET', '/api/v1/machines?sort=name', { token: oper })).status).toBe(422);
    expect((await call(srv.url, 'GET', '/api/v1/jobs/..%2f..%2fetc', { token: oper })).status).toBe(404);
    expect((await call(srv.url, 'GET', '/console/..%2fpackage.json')).status).toBe(404);
    expect((await call(srv.url, 'PUT', '/api/v1/machines', { token: oper })).status).toBe(405);
    expect((await call(srv.url, 'POST', '/api/v1/oob', { token: admin, body: { operation: 'getPowerStatus', targets: ['--db=/etc/passwd'] } })).status).toBe(422);
    expect((await call(srv.url, 'POST', '/api/v1/oob', { token: admin, body: { operation: 'createUser', targets: ['x'] } })).status).toBe(422);
  });

  it('survives garbage on the wire and answers afterwards', async () => {
    const garbage = ['\x16\x03\x01\x00\xff garbage\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n' + 'X-Long: ' + 'a'.repeat(40_000) + '\r\n\r\n', 'NOT HTTP AT ALL\r\n\r\n'];
    const u = new URL(srv.url);
    for (const g of garbage) {
      const answer = await new Promise<string>((resolve) => {
        const s = connect(Number(u.port), u.hostname, () => s.end(g));
        let got = '';
        s.on('data', (d) => { got += d.toString(); });
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
        s.setTimeout(10_000, () => s.destroy());
      });
      expect(answer === '' || /^HTTP\/1\.1 4\d\d/.test(answer), answer.slice(0, 80)).toBe(true);
    }
    expect((await call(srv.url, 'GET', '/api/v1/whoami', { token: oper })).status).toBe(200);
  });

  it('cancels a running job (DELETE /api/v1/jobs/{id}) and streams its progress to the end', async () => {
    expect(run('kanri', ['sim', 'delay', '1500'], { db }).code).toBe(0);
    try {
      const r = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body: { action: 'add', group: 'Shop/Web' } });
      expect(r.status, r.text).toBe(202);
      const id = r.json.jobs[0] as number;
      const stream = readEvents(srv.url, `/api/v1/jobs/${id}/stream`, oper, (ev) => ev.some(([e]) => e === 'end'), 60_000);
      await waitFor(() => queryAll(db, 'SELECT 1 FROM job_steps WHERE job_id = ?', id).length > 0, 30_000, () => 'no step started');
      const c = await call(srv.url, 'DELETE', `/api/v1/jobs/${id}`, { token: admin });
      expect(c.status, c.text).toBe(202);
      const events = await stream;
      expect(events.filter(([e]) => e === 'job').length).toBeGreaterThan(0);
      for (const [e, data] of events) if (e === 'job') expect(validate(doc, doc.components.schemas.JobDetail, data)).toEqual([]);
      expect(events.at(-1)).toEqual(['end', { job: id, status: 'canceled' }]);
      expect(jobRow(id).status).toBe('canceled');
      const again = await call(srv.url, 'DELETE', `/api/v1/jobs/${id}`, { token: admin });
      expect(again.status).toBe(409);
      expect((await call(srv.url, 'DELETE', '/api/v1/jobs/999999', { token: admin })).status).toBe(404);
    } finally {
      run('kanri', ['sim', 'delay', '0'], { db });
    }
  }, 90_000);

  it('streams new event log entries with the filters of kanri events', async () => {
    let id = -1;
    const got = readEvents(srv.url, '/api/v1/events/stream?group=Shop/Web', oper, (ev) => ev.some(([, e]) => e.job === id), 60_000);
    await new Promise((r) => setTimeout(r, 700));
    const r = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body: { action: 'add', group: 'Shop/Web' } });
    expect(r.status, r.text).toBe(202);
    id = r.json.jobs[0];
    const events = await got;
    expect(events.length).toBeGreaterThan(0);
    for (const [e, data] of events) {
      expect(e).toBe('event');
      expect(validate(doc, doc.components.schemas.Event, data)).toEqual([]);
      expect(data.group).toMatch(/^Shop\\Web/);
    }
    expect(events.some(([, e]) => e.job === r.json.jobs[0])).toBe(true);
  }, 90_000);

  it('serves /metrics in the Prometheus text format', async () => {
    const c = await call(srv.url, 'POST', '/api/v1/changes', { token: admin, body: { action: 'delete', group: 'Shop/Web' } });
    expect(c.status, c.text).toBe(202);
    await waitFor(() => jobRow(c.json.jobs[0]).status !== 'running', 30_000, () => 'the job did not end');
    const seq = queryAll<{ sequence: string }>(db, 'SELECT sequence FROM jobs WHERE id = ?', c.json.jobs[0])[0]!.sequence;
    const r = await call(srv.url, 'GET', '/metrics', { token: oper });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = r.text.trim().split('\n');
    for (const l of lines) expect(l, l).toMatch(/^(# (HELP|TYPE) kanri_\w+ .+|kanri_\w+(\{.*\})? (-?[\d.e+-]+|NaN))$/);
    const total = (await call(srv.url, 'GET', '/api/v1/machines', { token: oper })).json.length as number;
    const machines = lines.filter((l) => l.startsWith('kanri_machines{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    expect(machines).toBe(total);
    const completed = queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM jobs WHERE sequence = ? AND status = 'completed'", seq)[0]!.n;
    expect(completed).toBeGreaterThan(0);
    expect(lines).toContain(`kanri_jobs_total{sequence="${seq}",outcome="completed"} ${completed}`);
    const finished = queryAll<{ n: number }>(db, 'SELECT count(*) AS n FROM jobs WHERE sequence = ? AND started_at IS NOT NULL AND ended_at IS NOT NULL', seq)[0]!.n;
    expect(lines).toContain(`kanri_job_duration_seconds_count{sequence="${seq}"} ${finished}`);
    for (const name of ['kanri_step_duration_seconds_bucket', 'kanri_monitor_queue_depth', 'kanri_http_requests_total', 'kanri_monitor_poll_age_seconds']) {
      expect(lines.some((l) => l.startsWith(name)), name).toBe(true);
    }
  });

  it('kanri status prints the same summary as the API', async () => {
    const j = run('kanri', ['status', '--json'], { db });
    expect(j.code, j.err).toBe(0);
    const s = JSON.parse(j.out);
    expect(validate(doc, doc.components.schemas.Summary, s)).toEqual([]);
    const api = (await call(srv.url, 'GET', '/api/v1/summary', { token: oper })).json;
    expect(s.machines).toEqual(api.machines);
    expect(s.groups).toEqual(api.groups);
    const t = run('kanri', ['status'], { db });
    expect(t.code).toBe(0);
    expect(t.out).toContain(`Machines: ${s.machines.total}`);
    expect(t.out).toContain('Shop\\Web');
    const ja = run('kanri', ['status'], { db, env: { LANG: 'ja_JP.UTF-8' } });
    expect(ja.out).toContain('マシン:');
  });
});

describe('kanri serve: limits, metrics_public and HTTPS', () => {
  it('refuses a token over its rate (429) and serves /metrics publicly only when told to', async () => {
    const db = fixtureStore();
    const t = token(db, 'fast', 'operator');
    putSettings(db, { 'serve.rate_burst': '5', 'serve.rate_per_s': '0.2', 'serve.metrics_public': 'true' });
    const srv = await startServe(db);
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) codes.push((await call(srv.url, 'GET', '/api/v1/whoami', { token: t })).status);
      expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(codes.slice(5)).toEqual([429, 429, 429]);
      const r = await call(srv.url, 'GET', '/api/v1/whoami', { token: t });
      expect(r.headers['retry-after']).toMatch(/^\d+$/);
      expect((await call(srv.url, 'GET', '/metrics')).status).toBe(200);
    } finally {
      await srv.stop();
    }
  }, 60_000);

  it('answers 503 beyond serve.max_concurrent requests and drops connections beyond serve.max_connections', async () => {
    const db = fixtureStore();
    const hole = await blackHole();
    try {
      const reg = run('dscli', ['createServer', 'dead', 'mgmt=ipmi', 'address=127.0.0.1', `port=${hole.port}`, 'user=admin', 'password=-'], { db, input: 'pw\n' });
      expect(reg.code, reg.err).toBe(0);
      const t = token(db, 'ops', 'operator');
      putSettings(db, { 'serve.max_concurrent': '1', 'serve.max_connections': '3' });
      const srv = await startServe(db);
      try {
        // A power status of a controller that never answers holds the one slot for its deadline.
        const slow = call(srv.url, 'POST', '/api/v1/oob', { token: t, body: { operation: 'getPowerStatus', targets: ['dead'], settings: ['timeout=3', 'retries=0'] } });
        await waitFor(() => hole.received() > 0, 10_000, () => 'the controller call did not start');
        const busy = await call(srv.url, 'GET', '/api/v1/whoami', { token: t });
        expect(busy.status).toBe(503);
        expect(busy.headers['retry-after']).toBe('1');
        expect((await slow).json.results[0].status).toBe('failed');
        expect((await call(srv.url, 'GET', '/api/v1/whoami', { token: t })).status).toBe(200);
        // Idle connections up to the limit; the next one is closed at once.
        const u = new URL(srv.url);
        const socks = await Promise.all([1, 2, 3].map(() => new Promise<import('node:net').Socket>((resolve) => { const s = connect(Number(u.port), u.hostname, () => resolve(s)); })));
        await new Promise((r) => setTimeout(r, 300));
        const extra = await new Promise<string>((resolve) => {
          const s = connect(Number(u.port), u.hostname, () => s.write('GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'));
          let got = '';
          s.on('data', (c) => { got += c.toString(); });
          s.on('close', () => resolve(got));
          s.on('error', () => resolve(got));
          s.setTimeout(5_000, () => s.destroy());
        });
        expect(extra).toBe('');
        for (const s of socks) s.destroy();
      } finally {
        await srv.stop();
      }
    } finally {
      await hole.close();
    }
  }, 60_000);

  it('will not listen off loopback without TLS; with serve.tls_cert/tls_key it speaks HTTPS', async () => {
    const db = fixtureStore();
    const plain = run('kanri', ['serve', '--listen', '0.0.0.0:0'], { db });
    expect(plain.code).toBe(1);
    expect(plain.err).toContain('HTTPS is required off loopback');
    const dir = tempDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    putSettings(db, { 'serve.tls_cert': join(dir, 'cert.pem'), 'serve.tls_key': join(dir, 'key.pem') });
    const t = token(db, 'tls', 'operator');
    const srv = await startServe(db);
    try {
      expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(new URL('/api/v1/whoami', srv.url), { headers: { authorization: `Bearer ${t}` }, ca: readFileSync(join(dir, 'cert.pem')), agent: false }, (res) => {
          let s = '';
          res.on('data', (c) => { s += c; });
          res.on('end', () => resolve(s));
        });
        req.on('error', reject);
        req.end();
      });
      expect(JSON.parse(body)).toEqual({ name: 'tls', level: 'operator' });
    } finally {
      await srv.stop();
    }
  }, 60_000);
});
