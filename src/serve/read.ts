// The read half of the API (/api/v1/…): the group tree, machines and one machine with its
// history, pools, policies, jobs and one job with its steps, events with the filters of
// kanri events, alerts, dscli servers and groups. Listings reuse the queries of the kanri
// commands that print the same things (kanri machine list, job list/show, events) and of
// dscli --json; the tree, pools and policies are read here, where nothing else lists them.
import { controllerByName } from '../adapters/controller.js';
import { groupPathParts } from '../domain/paths.js';
import { foldName } from '../domain/names.js';
import { eventRows, sinceTime, type EventLine, machineLines } from '../kanri/inventory.js';
import { findJob, jobDocument, jobJson, jobsOfMachine, recentJobs, steps } from '../kanri/jobs.js';
import { sweepAbandoned } from '../engine/jobs.js';
import type { Db } from '../store/db.js';
import { onlyQuery, queryInt, queryText } from './check.js';
import { dscliJson } from './dscli-json.js';
import { HttpError, type Reply, type Route } from './server.js';
import { summary } from './summary.js';

const ok = (body: unknown): Reply => ({ status: 200, body });

export interface TreeNode {
  kind: 'category' | 'group';
  name: string;
  path: string;
  machine_type?: string;
  policy?: string | null;
  models?: string[];
  machines?: number;
  children?: TreeNode[];
}

export function groupTree(db: Db): TreeNode[] {
  const cats = db.prepare('SELECT id, parent_id, name FROM categories ORDER BY priority, name COLLATE NOCASE').all() as Array<{ id: number; parent_id: number | null; name: string }>;
  const groups = db.prepare(`SELECT g.id, g.category_id, g.name, g.machine_type, p.name AS policy,
      (SELECT count(*) FROM machines m WHERE m.group_id = g.id) AS machines
      FROM groups g LEFT JOIN policies p ON p.id = g.policy_id ORDER BY g.priority, g.name COLLATE NOCASE`).all() as Array<{ id: number; category_id: number | null; name: string; machine_type: string; policy: string | null; machines: number }>;
  const models = db.prepare('SELECT group_id, name FROM models ORDER BY priority, name COLLATE NOCASE').all() as Array<{ group_id: number; name: string }>;
  const build = (parent: number | null, prefix: string): TreeNode[] => [
    ...cats.filter((c) => c.parent_id === parent).map((c): TreeNode => {
      const path = prefix + c.name;
      return { kind: 'category', name: c.name, path, children: build(c.id, path + '\\') };
    }),
    ...groups.filter((g) => g.category_id === parent).map((g): TreeNode => ({
      kind: 'group', name: g.name, path: prefix + g.name, machine_type: g.machine_type, policy: g.policy,
      models: models.filter((m) => m.group_id === g.id).map((m) => m.name), machines: g.machines,
    })),
  ];
  return build(null, '');
}

export function machineDetail(db: Db, name: string): Record<string, unknown> | undefined {
  const lines = machineLines(db);
  const line = lines.find((m) => m.name === name) ?? lines.find((m) => foldName(m.name) === foldName(name));
  if (!line) return undefined;
  const c = controllerByName(db, line.name);
  const pools = db.prepare('SELECT pm.group_id FROM pool_members pm JOIN machines m ON m.id = pm.machine_id WHERE m.name = ? ORDER BY pm.group_id').all(line.name) as Array<{ group_id: number }>;
  const software = db.prepare(`SELECT d.software_name AS name, d.version, d.installed_at FROM distribution_history d JOIN machines m ON m.id = d.machine_id
      WHERE m.name = ? ORDER BY d.seq`).all(line.name) as Array<{ name: string; version: string; installed_at: string }>;
  return {
    ...line,
    controller: c?.mgmt_type ? { type: c.mgmt_type, address: c.bmc_address, port: c.bmc_port, user: c.bmc_user, last_power: c.last_power, last_status: c.last_status } : null,
    pool_of: pools.map((p) => groupPathParts(db, p.group_id).join('\\')),
    software,
    history: {
      jobs: jobsOfMachine(db, line.name, 50).map(jobJson),
      events: eventRows(db, { machine: line.name, limit: 100 }).map(eventJson),
    },
  };
}

export function eventJson(e: EventLine): Record<string, unknown> {
  return { id: e.id, time: e.time, source: e.source, event_id: e.event_id, type: e.type, message: e.message, message_ja: e.message_ja || null, machine: e.machine, group: e.group_path, job: e.job_id };
}

function pools(db: Db): Array<{ group: string; machines: string[] }> {
  const rows = db.prepare(`SELECT pm.group_id, m.name FROM pool_members pm JOIN machines m ON m.id = pm.machine_id ORDER BY pm.group_id, pm.position, m.name COLLATE NOCASE`).all() as Array<{ group_id: number; name: string }>;
  const by = new Map<number, string[]>();
  for (const r of rows) (by.get(r.group_id) ?? by.set(r.group_id, []).get(r.group_id)!).push(r.name);
  return [...by].map(([g, machines]) => ({ group: groupPathParts(db, g).join('\\'), machines }));
}

function policies(db: Db): unknown[] {
  const ps = db.prepare('SELECT id, name, description, suppression_seconds FROM policies ORDER BY name COLLATE NOCASE').all() as Array<{ id: number; name: string; description: string; suppression_seconds: number }>;
  const rules = db.prepare('SELECT position, event_name, triggers, action_name, actions, suppress, enabled FROM policy_rules WHERE policy_id = ? ORDER BY position');
  return ps.map((p) => ({
    name: p.name, description: p.description, suppression_seconds: p.suppression_seconds,
    rules: (rules.all(p.id) as Array<{ position: number; event_name: string; triggers: string; action_name: string; actions: string; suppress: number; enabled: number }>).map((r) => ({
      position: r.position, event: r.event_name, triggers: JSON.parse(r.triggers) as unknown, action_name: r.action_name, actions: JSON.parse(r.actions) as unknown, suppress: !!r.suppress, enabled: !!r.enabled,
    })),
  }));
}

/** A job named by its id in the path (00011 or 11), or 404. */
export function jobId(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new HttpError(404, `job not found: ${raw.slice(0, 32)}`);
  return Number(raw);
}

export function eventFilter(q: URLSearchParams): { machine?: string; group?: string; since?: string } {
  const machine = queryText(q, 'machine');
  const group = queryText(q, 'group');
  const sinceRaw = queryText(q, 'since');
  const since = sinceRaw === undefined ? undefined : sinceTime(sinceRaw);
  if (sinceRaw !== undefined && since === undefined) throw new HttpError(422, `since '${sinceRaw}' is neither a time nor a duration like 10m`);
  return { ...(machine ? { machine } : {}), ...(group ? { group } : {}), ...(since ? { since } : {}) };
}

/** dscli's answer as the API's: its records, or its failure with dscli's return code. */
async function dscliList(dbPath: string, args: string[]): Promise<Reply> {
  const r = await dscliJson(dbPath, args);
  if (r.code !== 0) throw new HttpError(r.code === 2 ? 404 : 422, r.errors.join('; ') || `dscli ${args[0]} failed`, { dscli_code: r.code });
  return ok(r.records);
}

export function readRoutes(db: Db, dbPath: string): Route[] {
  return [
    { method: 'GET', path: '/api/v1/whoami', access: 'operator', handler: (r) => { onlyQuery(r.query, []); return ok({ name: r.caller!.name, level: r.caller!.level }); } },
    { method: 'GET', path: '/api/v1/summary', access: 'operator', handler: (r) => { onlyQuery(r.query, []); return ok(summary(db)); } },
    { method: 'GET', path: '/api/v1/groups', access: 'operator', handler: (r) => { onlyQuery(r.query, []); return ok(groupTree(db)); } },
    {
      method: 'GET', path: '/api/v1/machines', access: 'operator', handler: (r) => {
        onlyQuery(r.query, ['group']);
        return ok(machineLines(db, queryText(r.query, 'group')));
      },
    },
    {
      method: 'GET', path: '/api/v1/machines/{name}', access: 'operator', handler: (r) => {
        onlyQuery(r.query, []);
        const m = machineDetail(db, r.params.name!);
        if (!m) throw new HttpError(404, `machine not found: ${r.params.name!.slice(0, 64)}`);
        return ok(m);
      },
    },
    { method: 'GET', path: '/api/v1/pools', access: 'operator', handler: (r) => { onlyQuery(r.query, []); return ok(pools(db)); } },
    { method: 'GET', path: '/api/v1/policies', access: 'operator', handler: (r) => { onlyQuery(r.query, []); return ok(policies(db)); } },
    {
      method: 'GET', path: '/api/v1/jobs', access: 'operator', handler: (r) => {
        onlyQuery(r.query, ['limit']);
        sweepAbandoned(db);
        return ok(recentJobs(db, queryInt(r.query, 'limit', 20, 1, 10000)).map(jobJson));
      },
    },
    {
      method: 'GET', path: '/api/v1/jobs/{id}', access: 'operator', handler: (r) => {
        onlyQuery(r.query, []);
        const job = findJob(db, String(jobId(r.params.id!)));
        if (!job) throw new HttpError(404, `job not found: ${r.params.id}`);
        return ok(jobDocument(job, steps(db, job.id)));
      },
    },
    {
      method: 'GET', path: '/api/v1/events', access: 'operator', handler: (r) => {
        onlyQuery(r.query, ['limit', 'machine', 'group', 'since']);
        return ok(eventRows(db, { ...eventFilter(r.query), limit: queryInt(r.query, 'limit', 50, 1, 10000) }).map(eventJson));
      },
    },
    {
      method: 'GET', path: '/api/v1/alerts', access: 'operator', handler: async (r) => {
        onlyQuery(r.query, ['limit', 'server']);
        const server = queryText(r.query, 'server');
        return dscliList(dbPath, ['getAlertList', ...(server ? [server] : []), String(queryInt(r.query, 'limit', 100, 1, 10000))]);
      },
    },
    {
      method: 'GET', path: '/api/v1/dscli/servers', access: 'operator', handler: async (r) => {
        onlyQuery(r.query, ['group']);
        const group = queryText(r.query, 'group');
        return dscliList(dbPath, ['getServerList', ...(group ? [group] : [])]);
      },
    },
    { method: 'GET', path: '/api/v1/dscli/groups', access: 'operator', handler: async (r) => { onlyQuery(r.query, []); return dscliList(dbPath, ['getGroupList']); } },
  ];
}
