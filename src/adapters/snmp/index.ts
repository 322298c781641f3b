// The snmp vlan driver. A VLAN step reads, on each switch, the group's VLAN's egress and
// untagged PortLists, the ports' PVIDs and the other VLAN an access port leaves or joins;
// it sends what differs as one SET PDU (all varbinds or none, RFC 3416) and reads every
// object back. Access ports are port-based VLAN members (untagged, PVID); a port that
// leaves the group's VLAN returns to default_vid. When the read-back differs, or a
// later switch fails, the values read before are SET again and read back.
import { isIP } from 'node:net';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { SettingReader } from '../setting-reader.js';
import { type NicPort, bySwitch, nicPorts, vidOf } from '../switch-ports.js';
import { type Driver, type DriverContext, DriverError, type MachineRef, type VlanChange, VlanPortError } from '../types.js';
import { OID, portsText, samePorts, withPort } from './qbridge.js';
import { type Agent, type Credentials, SnmpClient, TYPE, type Value, clientKey } from './session.js';
import { SNMP_PORT, reader } from './spec.js';

type Op = 'add' | 'remove';
interface Lists { egress: Buffer<ArrayBufferLike>; untagged: Buffer<ArrayBufferLike> }
interface Write { oid: string; type: number; value: Buffer | number; label: string }

function agentOf(sw: string, r: SettingReader): Agent {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(sw.trim()) ?? /^([^:]+)(?::(\d+))?$/.exec(sw.trim());
  const host = m?.[1];
  const port = m?.[2] !== undefined ? Number(m[2]) : SNMP_PORT;
  if (!host || (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DriverError(`snmp switch '${sw}' is not host or host:port`, { layer: 'configuration' });
  }
  return { host, port, timeoutMs: r.num('snmp.timeout_s')! * 1000, retries: r.num('snmp.retries')! };
}

function credentialsOf(r: SettingReader): Credentials {
  if (r.str('version') === '3') {
    const privProtocol = r.need('priv_protocol');
    const privKey = r.str('priv_key');
    return {
      version: '3', user: r.need('user'), authProtocol: r.need('auth_protocol'), authKey: r.need('auth_key', 'kanri driver secret --group GROUP snmp auth_key'),
      privProtocol, ...(privProtocol !== 'none' ? { privKey: privKey ?? r.need('priv_key') } : {}),
    };
  }
  return { version: '2c', community: r.need('community', 'kanri driver secret --group GROUP snmp community') };
}

const same = (a: Value, b: Buffer | number): boolean => (Buffer.isBuffer(a) && Buffer.isBuffer(b) ? samePorts(a, b) : a === b);
const show = (v: Value): string => (Buffer.isBuffer(v) ? `ports ${portsText(v)}` : String(v));

export function createSnmpDriver(): Driver {
  const clients = new Map<string, SnmpClient>();
  // PortLists are read, changed and written whole: two jobs must not interleave on one switch.
  const locks = new KeyedLock();
  const vidsByName = new Map<string, Map<string, number>>();

  function clientFor(agent: Agent, creds: Credentials): SnmpClient {
    const key = clientKey(agent, creds);
    let c = clients.get(key);
    if (!c) {
      c = new SnmpClient(agent, creds);
      clients.set(key, c);
    }
    return c;
  }

  /** The group's vid setting, else the VLAN of that name on the switch (dot1qVlanStaticName), else a numeric name. */
  async function vidOn(c: SnmpClient, r: SettingReader, vlan: string, signal: AbortSignal): Promise<number | undefined> {
    if (r.num('vid') !== undefined) return r.num('vid');
    let names = vidsByName.get(c.where);
    if (!names) {
      names = new Map();
      for (const e of await c.walk(OID.vlanNames, signal)) if (Buffer.isBuffer(e.value)) names.set(e.value.toString('utf8'), Number(e.oid.split('.').at(-1)));
      vidsByName.set(c.where, names);
    }
    return names.get(vlan) ?? vidOf(r, vlan);
  }

  async function readLists(c: SnmpClient, vids: number[], signal?: AbortSignal): Promise<Map<number, Lists>> {
    const vals = await c.get(vids.flatMap((v) => [OID.egress(v), OID.untagged(v)]), signal);
    const out = new Map<number, Lists>();
    vids.forEach((v, i) => {
      const [e, u] = [vals[i * 2], vals[i * 2 + 1]];
      if (Buffer.isBuffer(e) && Buffer.isBuffer(u)) out.set(v, { egress: e, untagged: u });
    });
    return out;
  }

  /** SETs the writes and reads each one back; a difference is a failure. */
  async function write(c: SnmpClient, writes: Write[], signal?: AbortSignal): Promise<void> {
    await c.set(writes.map(({ oid, type, value }) => ({ oid, type, value })), signal);
    const back = await c.get(writes.map((w) => w.oid), signal);
    const wrong = writes.filter((w, i) => !same(back[i] ?? null, w.value));
    if (wrong.length) {
      throw new DriverError(`switch ${c.where} accepted the SET but reads back ${wrong.map((w) => `${w.label} = ${show(back[writes.indexOf(w)] ?? null)}, not ${show(w.value)}`).join('; ')}`, { layer: 'verify' });
    }
  }

  /** The values to SET again to undo `writes`, from what was read before. */
  interface Done { c: SnmpClient; sw: string; undo: Write[] }

  /** SETs again, of the values read before, those that differ now. */
  async function restore(c: SnmpClient, undo: Write[]): Promise<void> {
    const now = await c.get(undo.map((u) => u.oid));
    const differ = undo.filter((u, i) => !same(now[i] ?? null, u.value));
    if (differ.length) await write(c, differ);
  }

  /** Puts each switch back to the values read before; returns those it could not. `held`: the caller holds the switches' lock. */
  async function putBack(done: Done[], held = false): Promise<Done[]> {
    const left: Done[] = [];
    for (const d of [...done].reverse()) {
      try {
        await (held ? restore(d.c, d.undo) : locks.with(d.c.where, () => restore(d.c, d.undo)));
      } catch {
        left.push(d);
      }
    }
    return left;
  }

  async function onSwitch(ctx: DriverContext, c: SnmpClient, sw: string, ports: NicPort[], vid: number, vlan: string, op: Op, defaultVid: number): Promise<{ changes: VlanChange[]; done?: Done }> {
    const nums = ports.map((p) => Number(p.port));
    const pvids = await c.get(nums.map(OID.pvid), ctx.signal);
    const lists = await readLists(c, [vid], ctx.signal);
    const mine = lists.get(vid);
    if (!mine) {
      ctx.log(`switch ${c.where}: VLAN ${vlan} (${vid}) does not exist`);
      const missing: VlanChange = { kind: 'vlan-missing', switch: sw, vlan };
      if (op === 'remove') return { changes: [missing] };
      throw new VlanPortError(new DriverError(`VLAN ${vlan} (VID ${vid}) does not exist on switch ${c.where}; create it on the switch first`, { layer: 'configuration' }),
        { kind: 'add', switch: sw, vlan, port: ports.map((p) => p.port).join(',') }, [missing]);
    }
    // The other VLAN an access port leaves (its old PVID) or returns to (default_vid).
    const others = new Set<number>();
    ports.forEach((p, i) => {
      if (p.mode !== 'access') return;
      const pv = pvids[i];
      if (op === 'add' && typeof pv === 'number' && pv !== vid && pv > 0) others.add(pv);
      if (op === 'remove' && pv === vid) others.add(defaultVid);
    });
    others.delete(vid);
    for (const [v, l] of await readLists(c, [...others], ctx.signal)) lists.set(v, l);
    if (op === 'remove' && others.has(defaultVid) && !lists.has(defaultVid)) {
      throw new DriverError(`the default VLAN ${defaultVid} (snmp setting default_vid) does not exist on switch ${c.where}`, { layer: 'configuration' });
    }
    const next = new Map<number, Lists>([...lists].map(([v, l]) => [v, { egress: Buffer.from(l.egress), untagged: Buffer.from(l.untagged) }]));
    const put = (v: number, port: number, egress: boolean | null, untagged: boolean | null): void => {
      const l = next.get(v);
      if (!l) return;
      if (egress !== null) l.egress = withPort(l.egress, port, egress);
      if (untagged !== null) l.untagged = withPort(l.untagged, port, untagged);
    };
    const pvidNext = new Map<number, number>();
    ports.forEach((p, i) => {
      const n = nums[i]!;
      const pv = pvids[i];
      if (p.mode === 'trunk') {
        put(vid, n, op === 'add', false);
        return;
      }
      if (op === 'add') {
        put(vid, n, true, true);
        if (typeof pv === 'number' && pv !== vid) put(pv, n, false, false);
        pvidNext.set(n, vid);
      } else {
        put(vid, n, false, false);
        if (pv === vid) {
          put(defaultVid, n, true, true);
          pvidNext.set(n, defaultVid);
        } else if (typeof pv === 'number') ctx.log(`switch ${c.where}: port ${n} has PVID ${pv}, not ${vid}; its PVID is left as it is`);
      }
    });
    const writes: Write[] = [];
    const undo: Write[] = [];
    for (const [v, l] of next) {
      const before = lists.get(v)!;
      for (const [col, oid] of [['egress', OID.egress(v)], ['untagged', OID.untagged(v)]] as const) {
        if (samePorts(before[col], l[col])) continue;
        writes.push({ oid, type: TYPE.OctetString, value: l[col], label: `VLAN ${v} ${col}` });
        undo.push({ oid, type: TYPE.OctetString, value: before[col], label: `VLAN ${v} ${col}` });
      }
    }
    nums.forEach((n, i) => {
      const want = pvidNext.get(n);
      const pv = pvids[i];
      if (want === undefined || pv === want) return;
      writes.push({ oid: OID.pvid(n), type: TYPE.Gauge, value: want, label: `port ${n} PVID` });
      if (typeof pv === 'number') undo.push({ oid: OID.pvid(n), type: TYPE.Gauge, value: pv, label: `port ${n} PVID` });
    });
    const changes: VlanChange[] = ports.map((p) => ({ kind: op === 'add' ? 'port-added' : 'port-removed', switch: sw, vlan, port: p.port }));
    if (writes.length === 0) {
      ctx.log(`switch ${c.where}: port ${nums.join(', ')} ${op === 'add' ? 'already in' : 'not in'} VLAN ${vid}: nothing to change`);
      return { changes };
    }
    try {
      await write(c, writes, ctx.signal);
    } catch (err) {
      // The agent may have applied part of it (not every agent is atomic): SET what was read before.
      const left = await putBack([{ c, sw, undo }], true);
      const e = err as DriverError;
      throw new DriverError(`${e.message}; ${left.length ? `the values before could not be SET again: check ${undo.map((u) => u.label).join(', ')} on the switch` : 'the switch was SET back to the values read before'}`, { layer: e.layer ?? 'protocol', retryable: !!e.retryable });
    }
    for (const w of writes) ctx.log(`switch ${c.where}: ${w.label} = ${show(w.value)}`);
    return { changes, done: { c, sw, undo } };
  }

  async function step(ctx: DriverContext, m: MachineRef, vlan: string, op: Op): Promise<VlanChange[]> {
    const r = reader(ctx.db, m.id, ctx.group?.id);
    const ports = nicPorts(r, m.name);
    const creds = credentialsOf(r);
    const defaultVid = r.num('default_vid')!;
    const changes: VlanChange[] = [];
    const done: Done[] = [];
    for (const [sw, list] of bySwitch(ports)) {
      try {
        const c = clientFor(agentOf(sw, r), creds);
        const vid = await vidOn(c, r, vlan, ctx.signal);
        if (vid === undefined) {
          const missing: VlanChange = { kind: 'vlan-missing', switch: sw, vlan };
          if (op === 'remove') {
            ctx.log(`switch ${c.where} has no VLAN named ${vlan}: nothing to remove`);
            changes.push(missing);
            continue;
          }
          throw new VlanPortError(new DriverError(`switch ${c.where} has no VLAN named ${vlan}: create it on the switch, or set the group's snmp setting vid`, { layer: 'configuration' }),
            { kind: 'add', switch: sw, vlan, port: list.map((p) => p.port).join(',') }, [missing]);
        }
        const res = await locks.with(c.where, () => onSwitch(ctx, c, sw, list, vid, vlan, op, defaultVid));
        changes.push(...res.changes);
        if (res.done) done.push(res.done);
      } catch (err) {
        const left = await putBack(done);
        const what = done.length === 0 ? '' : left.length === 0 ? '; the switches changed before it were SET back' : `; left changed on ${left.map((l) => l.c.where).join(', ')}`;
        const inner = err instanceof VlanPortError ? err : undefined;
        const e = err instanceof DriverError ? err : new DriverError((err as Error).message);
        // Events for what stays done: the ports of switches that could not be SET back.
        const keep = changes.filter((ch) => left.some((l) => l.sw === ch.switch));
        throw new VlanPortError(new DriverError(`${e.message}${what}`, { layer: e.layer, retryable: e.retryable }),
          inner?.failed ?? { kind: op, switch: sw, vlan, port: list.map((p) => p.port).join(',') }, [...keep, ...(inner?.done ?? [])]);
      }
    }
    return changes;
  }

  return {
    name: 'snmp',
    interfaces: {
      vlan: {
        addPort: (ctx, m, vlan) => step(ctx, m, vlan, 'add'),
        removePort: (ctx, m, vlan) => step(ctx, m, vlan, 'remove'),
      },
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
      vidsByName.clear();
    },
  };
}
