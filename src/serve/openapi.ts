// The OpenAPI 3.1 document of /api/v1, served at /openapi.json. The schemas say what the
// handlers answer; test/serve-api.test.ts validates real responses against them.
import { CHANGE_FIELDS, OOB_OPERATIONS } from './changes.js';
import type { Field } from './check.js';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const nstr: Schema = { type: ['string', 'null'] };
const nint: Schema = { type: ['integer', 'null'] };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties), extra: Schema = {}): Schema => ({ type: 'object', properties, required, additionalProperties: false, ...extra });
const counts: Schema = { type: 'object', additionalProperties: int };

const fieldSchema = (f: Field): Schema =>
  f.type === 'string[]' ? arr(str) : f.type === 'string' && f.enum ? { type: 'string', enum: [...f.enum] } : { type: f.type };

const job = obj({
  id: int, status: { type: 'string', enum: ['held', 'running', 'completed', 'failed', 'canceled', 'abandoned'] }, progress: int, phase: str, sequence: str,
  group: nstr, machine: nstr, origin: str, manager: nstr, command: str, created_at: nstr, started_at: nstr, ended_at: nstr, exit_code: nint, error: nstr,
});
const step = obj({ seq: int, name: str, tag: str, target: nstr, status: str, started_at: nstr, ended_at: nstr, output: arr(str) });
const event = obj({ id: int, time: str, source: str, event_id: int, type: { type: 'string', enum: ['information', 'warning', 'error'] }, message: str, message_ja: nstr, machine: nstr, group: nstr, job: nint });
const machine = obj({ name: str, kind: str, group: nstr, host: nstr, pools: int, power: str, hardware: str, management: str, maintenance: bool });
const treeNode: Schema = {
  type: 'object', additionalProperties: false, required: ['kind', 'name', 'path'],
  properties: { kind: { type: 'string', enum: ['category', 'group'] }, name: str, path: str, machine_type: str, policy: nstr, models: arr(str), machines: int, children: arr(ref('GroupNode')) },
};
const error = obj({ error: { type: 'object', required: ['status', 'message'], properties: { status: int, message: str, exit_code: int, dscli_code: int, status_now: str } } });

const changeBodies = Object.entries(CHANGE_FIELDS).map(([action, fields]) => ({
  type: 'object', additionalProperties: false,
  required: ['action', ...Object.entries(fields).filter(([, f]) => f.required).map(([k]) => k)],
  properties: { action: { const: action }, ...Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fieldSchema(f)])) },
}));

const ok = (schema: Schema, description = 'OK'): Schema => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]): Record<string, Schema> => Object.fromEntries(codes.map((c) => [String(c), { description: 'refused', content: { 'application/json': { schema: ref('Error') } } }]));
const q = (name: string, schema: Schema, description: string): Schema => ({ name, in: 'query', required: false, schema, description });
const p = (name: string): Schema => ({ name, in: 'path', required: true, schema: str });
const eventQuery = [q('machine', str, 'entries about this machine'), q('group', str, 'entries about this group or groups under this path'), q('since', str, 'an ISO time or a duration ago (30s, 10m, 2h, 1d)')];

export function openApiDocument(version: string): Schema {
  return {
    openapi: '3.1.0',
    info: { title: 'kanri', version, description: 'Server provisioning (pvmutl) and out-of-band management (dscli) over HTTP. Operators read; administrators change.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/whoami': { get: { summary: "the token's name and level", responses: { 200: ok(obj({ name: str, level: { type: 'string', enum: ['administrator', 'operator'] } })), ...errors(401) } } },
      '/api/v1/summary': { get: { summary: 'the data centre at a glance (kanri status --json)', responses: { 200: ok(ref('Summary')), ...errors(401) } } },
      '/api/v1/groups': { get: { summary: 'categories and groups as a tree', responses: { 200: ok(arr(ref('GroupNode'))), ...errors(401) } } },
      '/api/v1/machines': { get: { summary: 'every machine (kanri machine list --json)', parameters: [q('group', str, 'machines of groups whose path contains this')], responses: { 200: ok(arr(ref('Machine'))), ...errors(401, 422) } } },
      '/api/v1/machines/{name}': { get: { summary: 'one machine with its controller, pools, software and history', parameters: [p('name')], responses: { 200: ok(ref('MachineDetail')), ...errors(401, 404) } } },
      '/api/v1/pools': { get: { summary: 'pool machines of each group', responses: { 200: ok(arr(obj({ group: str, machines: arr(str) }))), ...errors(401) } } },
      '/api/v1/policies': { get: { summary: 'policies and their rules', responses: { 200: ok(arr(ref('Policy'))), ...errors(401) } } },
      '/api/v1/jobs': { get: { summary: 'recent jobs, oldest first', parameters: [q('limit', int, 'how many (the newest), 1-10000, default 20')], responses: { 200: ok(arr(ref('Job'))), ...errors(401, 422) } } },
      '/api/v1/jobs/{id}': {
        get: { summary: 'one job with its steps (kanri job show --json)', parameters: [p('id')], responses: { 200: ok(ref('JobDetail')), ...errors(401, 404) } },
        delete: { summary: 'cancel a running or held job (pvmutl ascancel); administrators', parameters: [p('id')], responses: { 202: ok(obj({ job: int, cancel: { const: 'requested' } }), 'cancel requested'), ...errors(401, 403, 404, 409) } },
      },
      '/api/v1/jobs/{id}/stream': { get: { summary: "Server-Sent Events: 'job' (the job document) on every change, 'end' when it ended", parameters: [p('id')], responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: str } } }, ...errors(401, 404) } } },
      '/api/v1/events': { get: { summary: 'the event log, oldest first (kanri events --json)', parameters: [q('limit', int, 'how many (the newest), default 50'), ...eventQuery], responses: { 200: ok(arr(ref('Event'))), ...errors(401, 422) } } },
      '/api/v1/events/stream': { get: { summary: "Server-Sent Events: 'event' per new entry (id: the entry's id; Last-Event-ID resumes)", parameters: eventQuery, responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: str } } }, ...errors(401, 422) } } },
      '/api/v1/alerts': { get: { summary: 'received alerts, newest first (dscli getAlertList --json)', parameters: [q('limit', int, 'how many, default 100'), q('server', str, 'of this server')], responses: { 200: ok(arr(ref('Alert'))), ...errors(401, 404) } } },
      '/api/v1/dscli/servers': { get: { summary: 'dscli servers (dscli getServerList --json)', parameters: [q('group', str, 'members of this dscli group')], responses: { 200: ok(arr(ref('DscliServer'))), ...errors(401, 404) } } },
      '/api/v1/dscli/groups': { get: { summary: 'dscli groups (dscli getGroupList --json)', responses: { 200: ok(arr(obj({ name: str, members: arr(str) }))), ...errors(401) } } },
      '/api/v1/changes': {
        post: {
          summary: 'a change as pvmutl or kanri requests it; administrators. 202 with the job ids once accepted; a refusal carries the pvmutl exit code',
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: changeBodies } } } },
          responses: { 200: ok(ref('Accepted'), 'done at once (maintenance)'), 202: ok(ref('Accepted'), 'accepted: the jobs run'), ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503) },
        },
      },
      '/api/v1/oob': {
        post: {
          summary: 'a dscli operation on a ServerList, with one record per target as dscli --json gives it; changes need an administrator',
          requestBody: { required: true, content: { 'application/json': { schema: obj({ operation: { type: 'string', enum: Object.keys(OOB_OPERATIONS) }, targets: arr(str), settings: arr(str) }, ['operation', 'targets']) } } },
          responses: { 200: ok(obj({ operation: str, code: int, results: arr({ type: 'object' }), errors: arr(str) })), ...errors(400, 401, 403, 404, 422) },
        },
      },
      '/metrics': { get: { summary: 'Prometheus text format; public when serve.metrics_public is set', responses: { 200: { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: str } } }, ...errors(401) } } },
      '/openapi.json': { get: { summary: 'this document', security: [], responses: { 200: ok({ type: 'object' }) } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token of kanri token create' } },
      schemas: {
        Error: error,
        GroupNode: treeNode,
        Machine: machine,
        MachineDetail: {
          ...machine,
          properties: {
            ...(machine.properties as Schema),
            controller: { oneOf: [{ type: 'null' }, obj({ type: str, address: nstr, port: nint, user: nstr, last_power: nstr, last_status: nstr })] },
            pool_of: arr(str), software: arr(obj({ name: str, version: str, installed_at: str })),
            history: obj({ jobs: arr(ref('Job')), events: arr(ref('Event')) }),
          },
          required: [...(machine.required as string[]), 'controller', 'pool_of', 'software', 'history'],
        },
        Job: job,
        JobDetail: { ...job, properties: { ...(job.properties as Schema), params: { type: 'object', additionalProperties: str }, steps: arr(step) }, required: [...(job.required as string[]), 'params', 'steps'] },
        Event: event,
        Alert: obj({ id: int, time: str, server: str, source: str, kind: str, severity: str, event: str, message: str }),
        DscliServer: obj({ name: str, mgmt: str, address: nstr, port: nint, user: nstr, cipher: { type: ['string', 'integer'] }, power: nstr, status: nstr, os_address: nstr, model: nstr }),
        Policy: obj({
          name: str, description: str, suppression_seconds: int,
          rules: arr(obj({ position: int, event: str, triggers: arr({ type: 'object' }), action_name: str, actions: arr(str), suppress: bool, enabled: bool })),
        }),
        Accepted: obj({ jobs: arr(int), parent: nint, held: bool }),
        Summary: obj({
          generated_at: str,
          machines: obj({ total: int, power: counts, hardware: counts, management: counts, maintenance: int, pooled: int }),
          groups: arr(obj({ group: str, machines: int, on: int, off: int, degraded: int, faulted: int, abnormal: int, maintenance: int })),
          jobs: obj({ running: arr(ref('Job')), held: int, failed_24h: int }),
          alerts: arr(obj({ time: str, server: str, severity: str, event: str, message: str })),
          events: arr(obj({ time: str, type: str, message: str, machine: nstr })),
        }),
      },
    },
  };
}
