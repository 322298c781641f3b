// The ovsdb vlan driver. A VLAN step reads the machine's ports on each switch, computes
// their new tag or trunk list, and writes them in one transaction whose "wait" operations
// require the values just read (RFC 7047 §5.2.6): someone else's change in between makes
// it fail as a whole, and the step reads again. The transaction's last operation reads
// the ports back. When one of several switches fails, those already changed are put back.
import { endpointText, parseEndpoint } from '../endpoint.js';
import { type NicPort, bySwitch, nicPorts, vidOf } from '../switch-ports.js';
import { type Driver, type DriverContext, DriverError, type MachineRef, type VlanChange, VlanPortError } from '../types.js';
import { JsonRpc } from './jsonrpc.js';
import { OVSDB_PORT, reader } from './spec.js';

const DB = 'Open_vSwitch';

interface PortVlans { tag: number | null; trunks: number[] }

/** An OVSDB set of integers, as an atom, ["set", [...]], or empty. */
function intSet(datum: unknown): number[] {
  if (typeof datum === 'number') return [datum];
  if (Array.isArray(datum) && datum[0] === 'set' && Array.isArray(datum[1])) return (datum[1] as unknown[]).filter((x): x is number => typeof x === 'number');
  return [];
}
const setDatum = (xs: number[]): unknown => ['set', [...xs].sort((a, b) => a - b)];
const same = (a: PortVlans, b: PortVlans): boolean => a.tag === b.tag && a.trunks.length === b.trunks.length && [...a.trunks].sort().every((x, i) => x === [...b.trunks].sort()[i]);
const describe = (v: PortVlans): string => `tag ${v.tag ?? '[]'}, trunks [${v.trunks.join(',')}]`;
const row = (v: PortVlans): Record<string, unknown> => ({ tag: setDatum(v.tag === null ? [] : [v.tag]), trunks: setDatum(v.trunks) });

type Op = 'add' | 'remove';

/** What a port's VLANs become when the step adds or removes `vid`. */
function wanted(cur: PortVlans, p: NicPort, vid: number, op: Op, log: (l: string) => void): PortVlans {
  if (p.mode === 'access') {
    if (op === 'add') return { tag: vid, trunks: cur.trunks };
    if (cur.tag !== null && cur.tag !== vid) log(`${p.port}: its access VLAN is ${cur.tag}, not ${vid}; left as it is`);
    return cur.tag === vid ? { tag: null, trunks: cur.trunks } : cur;
  }
  const trunks = op === 'add' ? [...new Set([...cur.trunks, vid])] : cur.trunks.filter((t) => t !== vid);
  return { tag: cur.tag, trunks };
}

export function createOvsdbDriver(): Driver {
  const rpcs = new Map<string, JsonRpc>();

  function rpcFor(sw: string, timeoutMs: number): JsonRpc {
    const ep = parseEndpoint(sw, OVSDB_PORT);
    if (typeof ep === 'string') throw new DriverError(`ovsdb switch: ${ep}`, { layer: 'configuration' });
    const key = endpointText(ep);
    let rpc = rpcs.get(key);
    if (!rpc) {
      rpc = new JsonRpc(ep, timeoutMs);
      rpcs.set(key, rpc);
    }
    return rpc;
  }

  async function transact(rpc: JsonRpc, ops: unknown[], signal?: AbortSignal): Promise<Array<Record<string, unknown> | null>> {
    const result = await rpc.call('transact', [DB, ...ops], signal);
    if (!Array.isArray(result)) throw new DriverError(`OVSDB at ${rpc.where} answered a transaction with ${JSON.stringify(result).slice(0, 120)}`, { layer: 'protocol' });
    return result as Array<Record<string, unknown> | null>;
  }

  const selectPort = (name: string): unknown => ({ op: 'select', table: 'Port', where: [['name', '==', name]], columns: ['name', 'tag', 'trunks'] });

  /** The ports' VLANs from select results (absent ports are missing from the map). */
  function portsOf(rpc: JsonRpc, results: Array<Record<string, unknown> | null>): Map<string, PortVlans> {
    const out = new Map<string, PortVlans>();
    for (const sel of results) {
      if (!sel || sel.error) throw new DriverError(`OVSDB at ${rpc.where}: reading ports failed: ${JSON.stringify(sel?.error ?? sel)}`, { layer: 'protocol' });
      for (const r of (sel.rows as Array<Record<string, unknown>>) ?? []) out.set(String(r.name), { tag: intSet(r.tag)[0] ?? null, trunks: intSet(r.trunks) });
    }
    return out;
  }

  async function read(rpc: JsonRpc, names: string[], signal?: AbortSignal): Promise<Map<string, PortVlans>> {
    return portsOf(rpc, await transact(rpc, names.map(selectPort), signal));
  }

  /**
   * Makes the ports of one switch what `next` computes from their current values, in one
   * conditioned transaction; returns the values they had before (to put them back).
   */
  async function change(ctx: DriverContext, rpc: JsonRpc, ports: NicPort[], next: (cur: PortVlans, p: NicPort) => PortVlans, retries: number, comment: string, signal?: AbortSignal): Promise<Map<string, PortVlans>> {
    const names = ports.map((p) => p.port);
    for (let attempt = 0; ; attempt++) {
      try {
        const cur = await read(rpc, names, signal);
        const missing = names.filter((n) => !cur.has(n));
        if (missing.length) throw new DriverError(`switch ${rpc.where} has no port ${missing.join(', ')}`, { layer: 'configuration' });
        const plan = ports.map((p) => ({ p, from: cur.get(p.port)!, to: next(cur.get(p.port)!, p) })).filter((x) => !same(x.from, x.to));
        if (plan.length === 0) {
          ctx.log(`${rpc.where}: ${names.map((n) => `${n} (${describe(cur.get(n)!)})`).join(', ')}: nothing to change`);
          return cur;
        }
        const ops: unknown[] = [];
        for (const x of plan) {
          const where = [['name', '==', x.p.port]];
          ops.push({ op: 'wait', table: 'Port', where, columns: ['tag', 'trunks'], until: '==', rows: [row(x.from)], timeout: 0 });
          ops.push({ op: 'update', table: 'Port', where, row: row(x.to) });
        }
        ops.push({ op: 'comment', comment });
        // Read back in the same transaction: what it committed.
        for (const x of plan) ops.push(selectPort(x.p.port));
        const result = await transact(rpc, ops, signal);
        const failed = result.findIndex((r) => r && typeof r.error === 'string');
        if (failed >= 0) {
          const r = result[failed]!;
          // A wait that fails means the port changed since it was read: read again.
          if (failed < plan.length * 2 && failed % 2 === 0 && attempt < retries) {
            ctx.log(`${rpc.where}: ${plan[failed / 2]!.p.port} changed meanwhile; reading it again`);
            continue;
          }
          throw new DriverError(`OVSDB at ${rpc.where} refused the change: ${String(r.error)}${r.details ? ` (${String(r.details)})` : ''}`, { layer: 'protocol' });
        }
        plan.forEach((x, i) => {
          if ((result[i * 2 + 1] as { count?: number } | null)?.count !== 1) throw new DriverError(`OVSDB at ${rpc.where}: port ${x.p.port} was not updated`, { layer: 'verify' });
        });
        const back = portsOf(rpc, result.slice(plan.length * 2 + 1));
        for (const x of plan) {
          const b = back.get(x.p.port);
          if (!b || !same(b, x.to)) throw new DriverError(`OVSDB at ${rpc.where}: port ${x.p.port} reads back as ${b ? describe(b) : 'absent'}, not ${describe(x.to)}`, { layer: 'verify' });
          ctx.log(`${rpc.where}: ${x.p.port}: ${describe(x.from)} -> ${describe(x.to)}`);
        }
        return cur;
      } catch (e) {
        if (!(e instanceof DriverError) || !e.retryable || attempt >= retries || signal?.aborted) throw e;
        ctx.log(`${e.message}; trying again`);
      }
    }
  }

  async function step(ctx: DriverContext, m: MachineRef, vlan: string, op: Op): Promise<VlanChange[]> {
    const r = reader(ctx.db, m.id, ctx.group?.id);
    const ports = nicPorts(r, m.name);
    const vid = vidOf(r, vlan);
    if (vid === undefined) throw new DriverError(`no VLAN ID for VLAN '${vlan}': set the group's ovsdb setting vid`, { layer: 'configuration' });
    const timeoutMs = r.num('ovsdb.timeout_s')! * 1000;
    const retries = r.num('ovsdb.retries')!;
    const comment = `kanri${ctx.jobId ? ` job ${String(ctx.jobId).padStart(5, '0')}` : ''}: ${op} ${m.name} ${op === 'add' ? 'to' : 'from'} VLAN ${vid} (${vlan})`;
    const done: Array<{ rpc: JsonRpc; ports: NicPort[]; before: Map<string, PortVlans> }> = [];
    const changes: VlanChange[] = [];
    for (const [sw, list] of bySwitch(ports)) {
      let rpc: JsonRpc | undefined;
      try {
        rpc = rpcFor(sw, timeoutMs);
        // Jobs change different ports concurrently; the transaction's precondition covers any overlap.
        const before = await change(ctx, rpc, list, (cur, p) => wanted(cur, p, vid, op, ctx.log), retries, comment, ctx.signal);
        done.push({ rpc, ports: list, before });
        for (const p of list) changes.push({ kind: op === 'add' ? 'port-added' : 'port-removed', switch: sw, vlan, port: p.port });
      } catch (err) {
        const cause = err instanceof DriverError ? err : new DriverError((err as Error).message);
        const left = await putBack(ctx, done, retries);
        const keep = changes.filter((c) => left.some((l) => l.ports.some((p) => p.port === c.port && p.switch === c.switch)));
        const what = done.length === 0 ? '' : left.length === 0 ? '; the switches changed before it were put back' : `; left changed: ${left.map((l) => `${l.ports.map((p) => p.port).join(', ')} on ${l.rpc.where}`).join('; ')}`;
        throw new VlanPortError(new DriverError(`${cause.message}${what}`, { layer: cause.layer, retryable: cause.retryable }), { kind: op, switch: sw, vlan, port: list.map((p) => p.port).join(',') }, keep);
      }
    }
    return changes;
  }

  /** Puts the ports of the switches already changed back to their values before the step; returns those it could not. */
  async function putBack(ctx: DriverContext, done: Array<{ rpc: JsonRpc; ports: NicPort[]; before: Map<string, PortVlans> }>, retries: number): Promise<typeof done> {
    const left: typeof done = [];
    for (const d of done.reverse()) {
      try {
        await change(ctx, d.rpc, d.ports, (_cur, p) => d.before.get(p.port)!, retries, 'kanri: put back after a failed VLAN step');
      } catch (e) {
        ctx.log(`${d.rpc.where}: could not put back ${d.ports.map((p) => p.port).join(', ')}: ${(e as Error).message}`);
        left.push(d);
      }
    }
    return left;
  }

  return {
    name: 'ovsdb',
    interfaces: {
      vlan: {
        addPort: (ctx, m, vlan) => step(ctx, m, vlan, 'add'),
        removePort: (ctx, m, vlan) => step(ctx, m, vlan, 'remove'),
      },
    },
    close() {
      for (const r of rpcs.values()) r.close();
      rpcs.clear();
    },
  };
}
