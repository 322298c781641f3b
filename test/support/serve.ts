// kanri serve for tests: a server on a free loopback port over a fixture store, tokens made
// with the real command, a small HTTP client, and a validator of the OpenAPI document's
// schemas (the subset the document uses: $ref, type, properties, required,
// additionalProperties, items, enum, const, oneOf).
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { binaries, run } from './cli.js';
import { daemon, type Daemon, freeTcpPort, waitFor } from './daemon.js';
import { openStore } from '../../src/open-store.js';

export interface Served { url: string; d: Daemon; stop(): Promise<void> }

export async function startServe(db: string, env: NodeJS.ProcessEnv = {}, listen?: string): Promise<Served> {
  const port = await freeTcpPort();
  const d = daemon(join(binaries(), 'kanri'), ['serve', '--listen', listen ?? `127.0.0.1:${port}`], { env: { ...process.env, KANRI_DB: db, LANG: 'C', ...env } });
  await waitFor(() => /listening on (\S+)/.test(d.log()) || d.exited(), 30_000, () => `kanri serve did not start: ${d.log()}`);
  const url = /listening on (\S+)/.exec(d.log())?.[1];
  if (!url) throw new Error(`kanri serve did not start: ${d.log()}`);
  return { url, d, stop: () => d.stop() };
}

/** Writes settings into the store (as config apply would), before a server starts. */
export function putSettings(db: string, settings: Record<string, string>): void {
  const d = openStore(db);
  try {
    for (const [k, v] of Object.entries(settings)) d.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(k, v);
  } finally {
    d.close();
  }
}

export function token(db: string, name: string, level: 'administrator' | 'operator'): string {
  const r = run('kanri', ['token', 'create', name, '--level', level], { db });
  if (r.code !== 0) throw new Error(r.err);
  return r.out.trim();
}

export interface Res { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }

/** One request; `raw` sends the body as given (no JSON encoding, no content-type). */
export function call(base: string, method: string, path: string, o: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, base);
    const body = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
    const headers: Record<string, string> = { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.headers ?? {}) };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = httpRequest(u, { method, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Reads Server-Sent Events until `until` says stop or `ms` pass; returns [event, data] pairs. */
export function readEvents(base: string, path: string, tok: string, until: (events: Array<[string, any]>) => boolean, ms: number, headers: Record<string, string> = {}): Promise<Array<[string, any]>> {
  return new Promise((resolve, reject) => {
    const events: Array<[string, any]> = [];
    let buf = '';
    const req = httpRequest(new URL(path, base), { headers: { authorization: `Bearer ${tok}`, ...headers }, agent: false }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`stream answered ${res.statusCode}`)); return; }
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push([ev, JSON.parse(data)]);
        }
        if (until(events)) { clearTimeout(timer); req.destroy(); resolve(events); }
      });
      res.on('end', () => { clearTimeout(timer); resolve(events); });
    });
    const timer = setTimeout(() => { req.destroy(); resolve(events); }, ms);
    req.on('error', (e) => { if (!until(events)) reject(e); });
    req.end();
  });
}

type Schema = Record<string, any>;

/** What is wrong with `v` against `schema` (empty: valid). */
export function validate(doc: Schema, schema: Schema, v: unknown, at = '$'): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    const s = doc.components.schemas[name];
    if (!s) return [`${at}: unknown $ref ${schema.$ref}`];
    return validate(doc, s, v, at);
  }
  if (schema.oneOf) {
    const ok = (schema.oneOf as Schema[]).filter((s) => validate(doc, s, v, at).length === 0).length;
    return ok === 1 ? [] : [`${at}: matches ${ok} of oneOf, not exactly 1`];
  }
  if ('const' in schema && v !== schema.const) return [`${at}: ${JSON.stringify(v)} is not ${JSON.stringify(schema.const)}`];
  if (schema.enum && !schema.enum.includes(v)) return [`${at}: ${JSON.stringify(v)} not in ${schema.enum.join(',')}`];
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${at}: ${t} is not ${types.join('|')}`];
  }
  const errs: string[] = [];
  if (Array.isArray(v) && schema.items) v.forEach((x, i) => errs.push(...validate(doc, schema.items, x, `${at}[${i}]`)));
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in o)) errs.push(`${at}: missing ${r}`);
    for (const [k, x] of Object.entries(o)) {
      const p = schema.properties?.[k];
      if (p) errs.push(...validate(doc, p, x, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected property ${k}`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...validate(doc, schema.additionalProperties, x, `${at}.${k}`));
    }
  }
  return errs;
}

/** The response schema the document declares for a path (as templated), method and status. */
export function responseSchema(doc: Schema, path: string, method: string, status: number): Schema | undefined {
  return doc.paths[path]?.[method.toLowerCase()]?.responses?.[String(status)]?.content?.['application/json']?.schema;
}
