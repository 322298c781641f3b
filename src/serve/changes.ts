// The change half of the API: POST /api/v1/changes takes the requests pvmutl and kanri make
// (the engine's ChangeRequest, checked field by field at the door) and answers 202 with the
// job ids as soon as the engine has accepted them — the jobs run on in this process — or
// the refusal with pvmutl's exit code and message. DELETE /api/v1/jobs/{id} cancels a job as
// pvmutl ascancel does. Out-of-band operations (POST /api/v1/oob) are dscli's, with its
// per-target --json records.
import { EngineError } from '../engine/errors.js';
import { requestCancel } from '../engine/jobs.js';
import { Engine, type ChangeRequest } from '../engine/service.js';
import { findJob } from '../kanri/jobs.js';
import { Exit, PvmError, fromEngine } from '../pvmutl/exit-codes.js';
import { maintenance } from '../pvmutl/commands/maintenance.js';
import type { Db } from '../store/db.js';
import { type Field, checkObject } from './check.js';
import { dscliJson } from './dscli-json.js';
import { jobId } from './read.js';
import { HttpError, type Reply, type Req, type Route } from './server.js';
import type { Histogram } from './http-stats.js';

const S: Field = { type: 'string' };
const SR: Field = { type: 'string', required: true };
const N: Field = { type: 'integer', max: 10000 };
const B: Field = { type: 'boolean' };
const L: Field = { type: 'string[]' };

/** The fields of each action, as the engine's ChangeRequest has them (spec/pvmutl.md names in comments). */
export const CHANGE_FIELDS: Record<string, Record<string, Field>> = {
  'add': { group: SR, machine: S, count: N },
  'addspecname': { group: SR, netInfo: SR, machine: S },
  'delete': { group: SR, host: S, count: N },
  'replace': { group: SR, host: SR },
  'move': { dest: SR, src: SR, host: S, count: N },
  'register-master': { group: SR, machine: SR, netInfo: SR },
  'power': { cmd: { type: 'string', required: true, enum: ['shutdown', 'reboot', 'poweron'] }, group: SR, hosts: L },
  'vmadd': { group: SR, vm: SR, vmServer: S, datastore: S, netInfo: S, existing: B },
  'vmdelete': { group: SR, host: S, removeOnly: B },
  'vmmigrate': { cmd: { type: 'string', enum: ['vmmigrate', 'vmmigrateandmove'] }, group: SR, host: SR, vmServer: SR },
  'deploy-group': { group: SR, full: B, software: L, sequential: B },
  'deploy-server': { group: SR, host: S, full: B, registered: L, software: L },
  'deploy-machine': { machine: SR, software: { type: 'string[]', required: true } },
  'suspend': { group: SR, hosts: L },
  'vms-evacuate': { server: SR, how: { type: 'string', enum: ['migrate', 'migrate-then-failover', 'failover'] } },
  'vms-power-save': { group: SR, server: S },
  'vms-load-balance': { group: SR, server: S },
  'vm-delete-managed': { machine: SR },
  'pool-add': { group: SR, machine: SR },
  // Not a job: pvmutl maintenance On|Off Group [Host] changes the flag at once.
  'maintenance': { on: { type: 'boolean', required: true }, group: SR, host: S },
};

/** pvmutl's command names for the same actions. */
const ALIASES: Record<string, string> = { deploygrp: 'deploy-group', deploysrv: 'deploy-server' };

/** The HTTP status of a pvmutl exit code: what was named is missing (404), is in the way (409), or the request is wrong (422). */
export function httpStatusOf(exitCode: number): number {
  switch (exitCode) {
    case Exit.MACHINE: case Exit.GROUP: case Exit.SOFTWARE: return 404;
    case Exit.HOST_SETTING: case Exit.MOVE: case Exit.START_FAILED: case Exit.VM_EXISTS: case Exit.VM_ACTIVE: return 409;
    default: return 422;
  }
}

/** The body as the ChangeRequest it describes (defaults as pvmutl's parser gives them). */
export function changeRequest(body: unknown): ChangeRequest | { action: 'maintenance'; on: boolean; group: string; host?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(422, 'the body must be a JSON object');
  const raw = (body as Record<string, unknown>).action;
  if (typeof raw !== 'string') throw new HttpError(422, `action is required: one of ${Object.keys(CHANGE_FIELDS).join(', ')}`);
  const action = ALIASES[raw] ?? raw;
  const fields = CHANGE_FIELDS[action];
  if (!fields) throw new HttpError(422, `unknown action '${raw.slice(0, 64)}'; one of ${Object.keys(CHANGE_FIELDS).join(', ')}`);
  const o = { ...checkObject(body, { action: S, ...fields }), action } as Record<string, unknown>;
  if (action === 'power' || action === 'suspend') o.hosts ??= [];
  if (action === 'vmadd') o.existing ??= false;
  if (action === 'vmdelete') o.removeOnly ??= false;
  if (action === 'vmmigrate') o.cmd ??= 'vmmigrate';
  if (action === 'deploy-group') { o.full ??= false; o.sequential ??= false; }
  if (action === 'deploy-server') o.full ??= false;
  if (action === 'vms-evacuate') o.how ??= 'failover';
  return o as unknown as ChangeRequest;
}

function refusal(e: unknown): HttpError | undefined {
  const pe = e instanceof EngineError ? fromEngine(e) : e instanceof PvmError ? e : undefined;
  return pe ? new HttpError(httpStatusOf(pe.code), pe.message, { exit_code: pe.code }) : undefined;
}

export class Changes {
  readonly engine: Engine;

  constructor(private readonly db: Db, private readonly log: (line: string) => void) {
    this.engine = new Engine(db, { role: 'serve' });
  }

  /** Plans and submits; resolves with the job ids once the engine accepted them (or holds them). */
  async submit(req: Req): Promise<Reply> {
    const request = changeRequest(req.body);
    const who = req.caller!.name;
    const summary = JSON.stringify(request);
    req.note = summary.slice(0, 500);
    if (request.action === 'maintenance') {
      try {
        maintenance(this.db, request.on, request.group, request.host);
      } catch (e) {
        throw refusal(e) ?? e;
      }
      return { status: 200, body: { jobs: [], parent: null, held: false } };
    }
    return new Promise<Reply>((resolve, reject) => {
      let answered = false;
      const answer = (r: Reply): void => { if (!answered) { answered = true; resolve(r); } };
      const run = this.engine.run(request, { origin: 'api', command: `kanri serve (token ${who}): ${summary}` }, {
        onAccepted: (ids, parentId) => answer({ status: 202, body: { jobs: ids, parent: parentId, held: false } }),
        onHeld: (ids) => answer({ status: 202, body: { jobs: ids, parent: null, held: true } }),
      });
      run.then((result) => {
        answer({ status: 202, body: { jobs: result.jobs.map((j) => j.id), parent: result.parent?.id ?? null, held: false } });
      }, (e: unknown) => {
        if (answered) {
          this.log(`kanri serve: change of ${who} ended with an error after it was accepted: ${(e as Error)?.message ?? String(e)}`);
          return;
        }
        answered = true;
        const r = refusal(e);
        if (r) reject(r);
        else if (e instanceof Error && /shutting down/.test(e.message)) reject(new HttpError(503, e.message));
        else reject(e);
      });
    });
  }

  cancel(req: Req): Reply {
    const id = jobId(req.params.id!);
    const job = findJob(this.db, String(id));
    if (!job) throw new HttpError(404, `job not found: ${req.params.id}`);
    if (requestCancel(this.db, id) !== 'requested') throw new HttpError(409, `job ${id} is ${job.status}; only a running or held job can be canceled`, { status_now: job.status });
    return { status: 202, body: { job: id, cancel: 'requested' } };
  }
}

/** dscli operations the API offers, and whether each changes something (administrators only). */
export const OOB_OPERATIONS: Record<string, { change: boolean }> = {
  getPowerStatus: { change: false }, getSel: { change: false }, getSensorList: { change: false }, getHardwareInfo: { change: false }, checkConnection: { change: false },
  powerOn: { change: true }, powerOff: { change: true }, powerCycle: { change: true }, reset: { change: true }, shutdownOs: { change: true },
  dump: { change: true }, clearSel: { change: true }, identify: { change: true },
};
const OOB_SETTINGS = ['timeout', 'retries', 'fanout', 'wait'] as const;

/** A ServerList word: a server, a group, a range or an address list, never an option or a setting. */
const TARGET = /^[A-Za-z0-9_.:[\]\-,]{1,256}$/;

async function outOfBand(dbPath: string, req: Req, calls: Histogram): Promise<Reply> {
  const o = checkObject(req.body, { operation: SR, targets: { type: 'string[]', required: true, max: 10000 }, settings: { type: 'string[]', max: 8 } });
  const op = o.operation as string;
  const spec = OOB_OPERATIONS[op];
  if (!spec) throw new HttpError(422, `unknown operation '${op.slice(0, 64)}'; one of ${Object.keys(OOB_OPERATIONS).join(', ')}`);
  if (spec.change && req.caller!.level !== 'administrator') throw new HttpError(403, `${op} needs an administrator token; ${req.caller!.name} is an operator`);
  const targets = o.targets as string[];
  if (targets.length === 0) throw new HttpError(422, 'targets must name at least one server or group');
  for (const t of targets) if (!TARGET.test(t) || t.startsWith('-')) throw new HttpError(422, `target '${t.slice(0, 64)}' is not a server, group or address range`);
  const settings = (o.settings as string[] | undefined) ?? [];
  for (const s of settings) {
    const m = /^(\w+)=(\d{1,6}(\.\d{1,3})?)$/.exec(s);
    if (!m || !(OOB_SETTINGS as readonly string[]).includes(m[1]!)) throw new HttpError(422, `setting '${s.slice(0, 64)}' must be one of ${OOB_SETTINGS.join(', ')} = a number`);
  }
  req.note = `${op} ${targets.join(' ')}`.slice(0, 500);
  const r = await dscliJson(dbPath, [op, ...targets, ...settings]);
  const results = r.records;
  for (const x of results) {
    const ms = (x as { elapsed_ms?: unknown }).elapsed_ms;
    if (typeof ms === 'number') calls.observe(`operation="${op}"`, ms / 1000);
  }
  if (results.length === 0 && r.code !== 0) throw new HttpError(r.code === 2 ? 404 : 422, r.errors.join('; ') || `${op} failed`, { dscli_code: r.code });
  return { status: 200, body: { operation: op, code: r.code, results, errors: r.errors } };
}

export function changeRoutes(changes: Changes, dbPath: string, calls: Histogram): Route[] {
  return [
    { method: 'POST', path: '/api/v1/changes', access: 'administrator', body: true, handler: (r) => changes.submit(r) },
    { method: 'DELETE', path: '/api/v1/jobs/{id}', access: 'administrator', handler: (r) => changes.cancel(r) },
    { method: 'POST', path: '/api/v1/oob', access: 'operator', body: true, handler: (r) => outOfBand(dbPath, r, calls) },
  ];
}
