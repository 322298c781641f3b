// The haproxy lb driver. Registering a machine makes it a ready server of the group's
// backend; unregistering drains it (until its sessions end or the drain timeout), puts
// it in maintenance and deletes it. Every change reads the backend first and sends only
// what differs, reads it back, and on failure puts back what it had changed (or says
// exactly what is left). HAProxy forgets servers added at run time when it reloads: the
// servers kanri registered are kept in the store (members.ts), and before each step —
// and with kanri lb sync — the backend is put in line with them.
import type { Db } from '../../store/db.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { endpointText, parseEndpoint } from '../endpoint.js';
import { withRetries } from '../retry.js';
import { type Driver, type DriverContext, DriverError, type MachineRef } from '../types.js';
import { type Member, dropMember, member, members, putMember, setMemberState, stillActive } from './members.js';
import { RuntimeApi } from './runtime-api.js';
import { type ServerState, adminText, draining, inMaint, parseServersState, parseSessions, ready, serverName } from './servers.js';
import { BACKEND_NAME, SERVER_OPTIONS, reader, validAddress } from './spec.js';
import { wait } from '../../util/wait.js';

const DRAIN_POLL_MS = 250;
const jobText = (id: number | null): string => (id ? ` (job ${String(id).padStart(5, '0')})` : '');
/** After maint, HAProxy may still hold idle connections to the server for a moment: del server is tried again. */
const DELETE_TRIES = 20;

interface Target {
  db: Db;
  api: RuntimeApi;
  socket: string;
  backend: string;
  port: number;
  options: string;
  drainMs: number;
  retries: number;
}

/** A cancel ends a pause with the signal's reason. */
const canceled = (signal?: AbortSignal) => (): Error => (signal?.reason instanceof Error ? signal.reason : new Error('canceled'));

export function createHaproxyDriver(): Driver {
  const apis = new Map<string, RuntimeApi>();
  const locks = new KeyedLock();
  const syncs = new Map<string, Promise<SyncReport>>();

  function target(ctx: DriverContext, m: MachineRef | null, lbGroup: string): Target {
    const r = reader(ctx.db, m?.id ?? null, ctx.group?.id);
    const socketText = r.need('socket', 'the HAProxy runtime API of the group (or the setting haproxy.socket)');
    const ep = parseEndpoint(socketText);
    if (typeof ep === 'string') throw new DriverError(`haproxy setting socket: ${ep}`, { layer: 'configuration' });
    const backend = r.str('backend') ?? lbGroup;
    if (!BACKEND_NAME.test(backend)) throw new DriverError(`'${backend}' is not an HAProxy backend name`, { layer: 'configuration' });
    const options = (r.str('server_options') ?? '').trim();
    if (!SERVER_OPTIONS.test(options)) throw new DriverError(`haproxy setting server_options '${options}' holds a character the runtime API cannot take`, { layer: 'configuration' });
    const socket = endpointText(ep);
    const timeoutMs = r.num('haproxy.timeout_s')! * 1000;
    let api = apis.get(socket);
    if (!api) {
      api = new RuntimeApi(ep, timeoutMs);
      apis.set(socket, api);
    }
    return {
      db: ctx.db, api, socket, backend, options, port: r.num('port')!,
      drainMs: (r.num('drain_timeout_s') ?? r.num('lb.drain_timeout_s')!) * 1000, retries: r.num('haproxy.retries')!,
    };
  }

  const lockKey = (t: Target, server: string): string => `${t.socket}|${t.backend}|${server}`;

  async function show(t: Target, signal?: AbortSignal): Promise<Map<string, ServerState>> {
    const servers = parseServersState(await t.api.command(`show servers state ${t.backend}`, signal), t.backend, t.api.where);
    if (!servers) throw new DriverError(`HAProxy at ${t.api.where} has no backend ${t.backend}`, { layer: 'configuration' });
    return servers;
  }

  /** A command whose answer must match `ok` (HAProxy answers errors in words, never with a code). */
  async function send(t: Target, command: string, ok: RegExp, signal?: AbortSignal): Promise<string> {
    const answer = await t.api.command(command, signal);
    if (!ok.test(answer)) throw new DriverError(`HAProxy at ${t.api.where} refused '${command}': ${answer.split('\n')[0] || '(no answer)'}`, { layer: 'protocol' });
    return answer;
  }
  const EMPTY = /^$/;

  const addCommand = (t: Target, name: string, address: string, port: number): string =>
    `add server ${t.backend}/${name} ${address}:${port}${t.options ? ' ' + t.options : ''}`;

  /** Makes `name` a ready server at address:port; returns what it did. */
  async function putServer(t: Target, name: string, address: string, port: number, done: string[], signal?: AbortSignal): Promise<void> {
    const cur = (await show(t, signal)).get(name);
    if (!cur) {
      await send(t, addCommand(t, name, address, port), /New server registered/, signal);
      done.push('added');
    } else if (cur.address !== address || cur.port !== port) {
      await send(t, `set server ${t.backend}/${name} addr ${address} port ${port}`, /changed|no need/i, signal);
      done.push(`address ${cur.address}:${cur.port} changed`);
    }
    if (!cur || !ready(cur)) {
      await send(t, `set server ${t.backend}/${name} state ready`, EMPTY, signal);
      done.push('made ready');
    }
    const after = (await show(t, signal)).get(name);
    if (!after || after.address !== address || after.port !== port || !ready(after)) {
      throw new DriverError(`HAProxy at ${t.api.where}: ${t.backend}/${name} reads back as ${after ? `${after.address}:${after.port} ${adminText(after)}` : 'absent'}, not a ready ${address}:${port}`, { layer: 'verify' });
    }
  }

  async function sessionsOf(t: Target, name: string, signal?: AbortSignal): Promise<number> {
    return parseSessions(await t.api.command(`show stat ${t.backend} 4 -1`, signal)).get(name) ?? 0;
  }

  /** Drain (bounded), maintenance, end what is left, delete; the server is absent afterwards. */
  async function deleteServer(t: Target, cur: ServerState, log: (l: string) => void, signal?: AbortSignal): Promise<void> {
    const name = cur.name;
    if (!inMaint(cur)) {
      if (!draining(cur)) await send(t, `set server ${t.backend}/${name} state drain`, EMPTY, signal);
      const t0 = Date.now();
      let open = await sessionsOf(t, name, signal);
      while (open > 0 && Date.now() - t0 < t.drainMs) {
        await wait(Math.min(DRAIN_POLL_MS, t.drainMs - (Date.now() - t0)), signal, canceled(signal));
        open = await sessionsOf(t, name, signal);
      }
      log(open > 0 ? `${t.backend}/${name}: ${open} session(s) still open after ${t.drainMs / 1000} s of draining` : `${t.backend}/${name}: drained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await send(t, `set server ${t.backend}/${name} state maint`, EMPTY, signal);
    }
    if ((await sessionsOf(t, name, signal)) > 0) await send(t, `shutdown sessions server ${t.backend}/${name}`, EMPTY, signal);
    for (let i = 1; ; i++) {
      const answer = await t.api.command(`del server ${t.backend}/${name}`, signal);
      if (/Server deleted|No such server/.test(answer)) break;
      // Idle connections to the server are released shortly after maintenance.
      if (/connections|queue|still/i.test(answer) && i < DELETE_TRIES) {
        await wait(100, signal, canceled(signal));
        continue;
      }
      throw new DriverError(`HAProxy at ${t.api.where} refused 'del server ${t.backend}/${name}': ${answer.split('\n')[0]}`, { layer: 'protocol' });
    }
    if ((await show(t, signal)).has(name)) throw new DriverError(`HAProxy at ${t.api.where}: ${t.backend}/${name} is still there after del server`, { layer: 'verify' });
  }

  /** Puts the server back as it was before a step that failed; says what is left when it cannot. */
  async function putBack(t: Target, name: string, before: ServerState | undefined, err: Error): Promise<{ error: DriverError; restored: boolean }> {
    const base = err instanceof DriverError ? err : new DriverError(err.message);
    const result = (what: string, restored: boolean): { error: DriverError; restored: boolean } =>
      ({ error: new DriverError(`${base.message}; ${what}`, { layer: base.layer, retryable: base.retryable }), restored });
    const at = `${t.backend}/${name}`;
    try {
      const now = (await show(t)).get(name);
      if (!before) {
        if (!now) return result(`HAProxy is as it was (${at} absent)`, true);
        if (!inMaint(now)) await send(t, `set server ${at} state maint`, EMPTY);
        await send(t, `del server ${at}`, /Server deleted|No such server/);
        return result(`${at} was removed again: HAProxy is as it was`, true);
      }
      if (!now) {
        await send(t, addCommand(t, name, before.address, before.port), /New server registered/);
        if (!inMaint(before)) await send(t, `set server ${at} state ${draining(before) ? 'drain' : 'ready'}`, EMPTY);
        return result(`${at} was added back ${adminText(before)}: HAProxy is as it was`, true);
      }
      if (now.address !== before.address || now.port !== before.port) await send(t, `set server ${at} addr ${before.address} port ${before.port}`, /changed|no need/i);
      if (adminText(now) !== adminText(before)) await send(t, `set server ${at} state ${inMaint(before) ? 'maint' : draining(before) ? 'drain' : 'ready'}`, EMPTY);
      return result(`${at} is ${adminText(before)} at ${before.address}:${before.port} again: HAProxy is as it was`, true);
    } catch (e) {
      return result(`it could not be put back (${(e as Error).message}): left on HAProxy: ${at} as the failed step left it (before the step it was ${before ? `${before.address}:${before.port}, ${adminText(before)}` : 'absent'})`, false);
    }
  }

  interface SyncReport { changed: string[]; notes: string[] }

  /** Puts the backend in line with the servers kanri registered (missing ones back, stale ones out). */
  async function syncBackend(t: Target): Promise<SyncReport> {
    const changed: string[] = [];
    const notes: string[] = [];
    const servers = await show(t);
    const rows = members(t.db, t.socket, t.backend);
    for (const row of rows) {
      // A job of this process is changing it right now.
      if (locks.held(lockKey(t, row.server))) continue;
      try {
        await locks.with(lockKey(t, row.server), () => syncMember(t, row, servers.get(row.server), changed, notes));
      } catch (e) {
        notes.push(`${row.server}: could not be put in line: ${(e as Error).message}`);
      }
    }
    const others = [...servers.keys()].filter((n) => !rows.some((r) => r.server === n));
    if (others.length) notes.push(`not registered by kanri (left as they are): ${others.join(', ')}`);
    return { changed, notes };
  }

  async function syncMember(t: Target, row: Member, s: ServerState | undefined, changed: string[], notes: string[]): Promise<void> {
    const at = `${t.backend}/${row.server}`;
    if (row.state === 'leaving') {
      if (!s) {
        dropMember(t.db, row.socket, row.backend, row.server);
        changed.push(`${at}: its unfinished removal${jobText(row.jobId)} had removed it from HAProxy; forgotten`);
      } else {
        notes.push(`${at}: its removal${jobText(row.jobId)} did not finish; it is ${adminText(s)}; left as it is (run the change again)`);
      }
      return;
    }
    if (!stillActive(t.db, row)) {
      if (s) await deleteServer(t, s, (l) => notes.push(l));
      dropMember(t.db, row.socket, row.backend, row.server);
      changed.push(`${at}: removed (its machine is no longer active in the group it was registered from)`);
      return;
    }
    if (!s) {
      await putServer(t, row.server, row.address, row.port, []);
      changed.push(`${at}: added back at ${row.address}:${row.port} (HAProxy did not have it: reloaded?)`);
      return;
    }
    if (s.address !== row.address || s.port !== row.port) {
      await send(t, `set server ${at} addr ${row.address} port ${row.port}`, /changed|no need/i);
      changed.push(`${at}: address set to ${row.address}:${row.port} (it was ${s.address}:${s.port})`);
    }
    if (!ready(s)) notes.push(`${at} is ${adminText(s)} on HAProxy (set by hand?); left as it is`);
  }

  /** Before each step: one sync per backend at a time, shared by the steps that ask meanwhile. */
  async function presync(t: Target, ctx: DriverContext): Promise<void> {
    const k = `${t.socket}|${t.backend}`;
    let p = syncs.get(k);
    if (!p) {
      p = syncBackend(t).finally(() => syncs.delete(k));
      syncs.set(k, p);
    }
    const report = await p;
    for (const l of report.changed) ctx.log(`sync: ${l}`);
  }

  return {
    name: 'haproxy',
    interfaces: {
      lb: {
        async addMember(ctx, m, lbGroup, address) {
          if (!validAddress(address)) throw new DriverError(`${m.name}: its host setting has no IP address on NIC 1 to register with the load balancer`, { layer: 'configuration' });
          const t = target(ctx, m, lbGroup);
          const name = serverName(m);
          await presync(t, ctx);
          await locks.with(lockKey(t, name), async () => {
            let before: ServerState | undefined | null = null;
            const done: string[] = [];
            try {
              await withRetries(t.retries, ctx.signal, ctx.log, async () => {
                if (before === null) before = (await show(t, ctx.signal)).get(name);
                await putServer(t, name, address, t.port, done, ctx.signal);
              });
            } catch (err) {
              if (before === null) throw err;
              throw (await putBack(t, name, before, err as Error)).error;
            }
            putMember(ctx.db, { socket: t.socket, backend: t.backend, server: name, machineId: m.id, groupId: ctx.group?.id ?? null, address, port: t.port, state: 'member', jobId: ctx.jobId ?? null });
            ctx.log(`${t.backend}/${name} ${address}:${t.port}: ${done.length ? done.join(', ') : 'already a ready server'} (HAProxy at ${t.api.where})`);
          });
        },

        async removeMember(ctx, m, lbGroup) {
          const t = target(ctx, m, lbGroup);
          const name = serverName(m);
          await presync(t, ctx);
          await locks.with(lockKey(t, name), async () => {
            const row = member(ctx.db, t.socket, t.backend, name);
            if (row) setMemberState(ctx.db, t.socket, t.backend, name, 'leaving', ctx.jobId ?? null);
            let before: ServerState | undefined | null = null;
            try {
              await withRetries(t.retries, ctx.signal, ctx.log, async () => {
                const cur = (await show(t, ctx.signal)).get(name);
                if (before === null) before = cur;
                if (!cur) return;
                await deleteServer(t, cur, ctx.log, ctx.signal);
              });
            } catch (err) {
              // Nothing was read, so nothing was changed: HAProxy is as it was.
              const back = before === null ? { error: err as Error, restored: true } : await putBack(t, name, before, err as Error);
              if (row && back.restored) setMemberState(ctx.db, t.socket, t.backend, name, 'member', row.jobId);
              throw back.error;
            }
            dropMember(ctx.db, t.socket, t.backend, name);
            ctx.log(before ? `${t.backend}/${name}: removed (HAProxy at ${t.api.where})` : `${t.backend}/${name}: not on HAProxy at ${t.api.where}; nothing to remove`);
          });
        },

        async sync(ctx, lbGroup) {
          const t = target(ctx, null, lbGroup);
          const r = await syncBackend(t);
          return [...r.changed, ...r.notes];
        },
      },
    },
    close() {
      for (const a of apis.values()) a.close();
      apis.clear();
    },
  };
}
