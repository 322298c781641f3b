// The iscsi-tgt storage driver. Connecting a machine's disk volumes allows its initiator
// (IQN or address) on each volume's target; disconnecting removes it. Each volume is read
// first and changed only when it differs; a volume that is not shared is never given to
// a second machine; everything is read back at the end. On failure, the volumes the step
// had changed are put back (or the message says which are left).
import { prepared } from '../../store/statements.js';
import { isIP } from 'node:net';
import type { Db } from '../../store/db.js';
import { FreshRead } from '../../util/fresh-read.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { withRetries } from '../retry.js';
import type { SettingReader } from '../setting-reader.js';
import type { SshTarget } from '../ssh/target.js';
import { connectTimeoutMs } from '../ssh/target.js';
import { type Driver, type DriverContext, DriverError, type MachineRef } from '../types.js';
import { LocalCommand } from './command.js';
import { NativeTransport } from './native.js';
import { E, type Target, type TgtTransport, errorText, parseTargets } from './requests.js';
import { COMMAND, IQN, reader } from './spec.js';

interface Peer { t: TgtTransport; reads: FreshRead<Target[]>; retries: number; prefix: string | undefined }
interface Initiator { param: 'initiator-address' | 'initiator-name'; value: string }
type Op = 'bind' | 'unbind';

function hostAddress(db: Db, machineId: number): string | undefined {
  return (prepared(db, `SELECT a.address FROM machines m JOIN host_setting_addresses a ON a.host_setting_id = m.host_setting_id
    WHERE m.id = ? AND a.nic_no = 1 ORDER BY a.seq LIMIT 1`).get(machineId) as { address: string } | undefined)?.address;
}

function initiatorOf(db: Db, m: MachineRef, r: SettingReader): Initiator {
  const v = r.str('initiator') ?? hostAddress(db, m.id);
  if (v === undefined) throw new DriverError(`${m.name}: no iSCSI initiator: set its iscsi-tgt setting initiator, or give its host setting an address on NIC 1`, { layer: 'configuration' });
  if (IQN.test(v)) return { param: 'initiator-name', value: v };
  if (isIP(v)) return { param: 'initiator-address', value: v };
  throw new DriverError(`${m.name}: iscsi-tgt setting initiator '${v}' is neither an iSCSI name (iqn.…) nor an IP address`, { layer: 'configuration' });
}

const isShared = (db: Db, volume: string): boolean => !!(prepared(db, 'SELECT shared FROM disk_volumes WHERE name = ?').get(volume) as { shared: number } | undefined)?.shared;

/** The target of a volume: <prefix>:<volume>, else the one named like the volume or ending in :<volume>. */
const byIqn = new WeakMap<Target[], Map<string, Target>>();

function targetOf(volume: string, targets: Target[], prefix: string | undefined, where: string): Target {
  let index = byIqn.get(targets);
  if (!index) byIqn.set(targets, index = new Map(targets.map((t) => [t.iqn, t])));
  const exact = index.get(prefix !== undefined ? `${prefix}:${volume}` : volume);
  const found = exact ? [exact] : prefix !== undefined ? [] : targets.filter((t) => t.iqn.endsWith(`:${volume}`));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new DriverError(`tgtd at ${where} has no target for volume ${volume} (${prefix !== undefined ? `${prefix}:${volume}` : `named ${volume} or ending in :${volume}`})`, { layer: 'configuration' });
  }
  throw new DriverError(`volume ${volume} matches several targets at ${where} (${found.map((t) => t.iqn).join(', ')}): set the group's iscsi-tgt setting target_prefix`, { layer: 'configuration' });
}

/** A transport made on its first request. */
function lazy(where: string, make: () => Promise<TgtTransport>): TgtTransport {
  let t: Promise<TgtTransport> | undefined;
  return {
    where,
    call(req, signal) {
      t ??= make();
      return t.then((x) => x.call(req, signal));
    },
    close() {
      t?.then((x) => x.close?.(), () => undefined);
    },
  };
}

export function createIscsiTgtDriver(): Driver {
  const peers = new Map<string, Peer>();
  const locks = new KeyedLock();

  function peerOf(ctx: DriverContext, r: SettingReader): Peer {
    const timeoutMs = r.num('iscsi-tgt.timeout_s')! * 1000;
    const controlPort = r.num('control_port')!;
    const commandText = r.need('tgtadm');
    if (!COMMAND.test(commandText)) throw new DriverError(`iscsi-tgt setting tgtadm '${commandText}' is not a command line kanri can run safely`, { layer: 'configuration' });
    const command = commandText.trim().split(/\s+/);
    const host = r.str('host');
    let key: string;
    let make: () => TgtTransport;
    if (host !== undefined) {
      const port = r.num('ssh_port')!;
      const user = r.need('ssh_user');
      const keyPath = r.str('ssh_key_path');
      const sealed = r.str('ssh_key');
      const target: SshTarget = { machine: `storage host ${host}`, address: host, port, user, keyPath, trustArgs: `--address ${host} --port ${port}` };
      key = `ssh:${user}@${host}:${port}:${controlPort}:${commandText}`;
      const connectMs = connectTimeoutMs(ctx.db);
      // ssh2 is loaded only by the groups whose storage host is remote.
      make = () => lazy(`${user}@${host}:${port}`, async () => new (await import('./ssh-command.js')).SshCommand(ctx.db, target, sealed !== undefined ? Buffer.from(sealed) : undefined, command, controlPort, timeoutMs, connectMs));
    } else if (r.str('client') === 'tgtadm') {
      key = `cmd:${controlPort}:${commandText}`;
      make = () => new LocalCommand(command, controlPort, timeoutMs);
    } else {
      const path = r.str('socket') ?? `/var/run/tgtd/socket.${controlPort}`;
      key = `native:${path}`;
      make = () => new NativeTransport(path, timeoutMs);
    }
    let p = peers.get(key);
    if (!p) {
      const t = make();
      p = {
        t, retries: 0, prefix: undefined,
        // Shared by the jobs of a command: one listing answers every volume asked about meanwhile.
        reads: new FreshRead(async () => {
          const a = await t.call({ mode: 'target', op: 'show' });
          if (a.code !== 0) throw new DriverError(`tgtd at ${t.where}: show: ${errorText(a.code)}`, { layer: 'protocol' });
          return parseTargets(a.text, t.where);
        }),
      };
      peers.set(key, p);
    }
    return { ...p, retries: r.num('iscsi-tgt.retries')!, prefix: r.str('target_prefix') };
  }

  async function change(p: Peer, op: Op, tg: Target, init: Initiator, signal?: AbortSignal): Promise<void> {
    const a = await p.t.call({ mode: 'target', op, tid: tg.tid, params: [[init.param, init.value]] }, signal);
    // Already so (another job, or an earlier try whose answer was lost): the wanted state.
    if (a.code === 0 || a.code === (op === 'bind' ? E.ACL_EXIST : E.ACL_NOEXIST)) return;
    throw new DriverError(`tgtd at ${p.t.where}: ${op} ${init.value} on ${tg.iqn}: ${errorText(a.code)}`, { layer: a.code === E.NO_TARGET ? 'configuration' : 'protocol' });
  }

  async function step(ctx: DriverContext, m: MachineRef, volumes: string[], op: Op): Promise<void> {
    if (volumes.length === 0) {
      ctx.log(`${m.name}: the host setting has no disk volumes`);
      return;
    }
    const r = reader(ctx.db, m.id, ctx.group?.id);
    const p = peerOf(ctx, r);
    const init = initiatorOf(ctx.db, m, r);
    const wantIn = op === 'bind';
    // Volumes this step sent a change for (whether or not its answer came back).
    const touched: Target[] = [];
    try {
      for (const volume of volumes) {
        await withRetries(p.retries, ctx.signal, ctx.log, () => locks.with(`${p.t.where}|${volume}`, async () => {
          const tg = targetOf(volume, await p.reads.fresh(), p.prefix, p.t.where);
          if (tg.acl.includes(init.value) === wantIn) {
            ctx.log(`${volume} (${tg.iqn}): ${init.value} ${wantIn ? 'already allowed' : 'not allowed: nothing to remove'}`);
            return;
          }
          if (wantIn && !isShared(ctx.db, volume)) {
            const others = tg.acl.filter((a) => a !== init.value);
            if (others.length) {
              throw new DriverError(`volume ${volume} is not shared, and its target ${tg.iqn} already allows ${others.join(', ')}: disconnect it from that machine first (or mark the volume shared)`, { layer: 'configuration' });
            }
          }
          if (!touched.some((t) => t.tid === tg.tid)) touched.push(tg);
          await change(p, op, tg, init, ctx.signal);
          ctx.log(`${volume} (${tg.iqn}, tid ${tg.tid}): ${init.value} ${wantIn ? 'allowed' : 'removed'}${wantIn && tg.acl.includes('ALL') ? ' (the target also allows ALL)' : ''}`);
        }));
      }
      const back = await p.reads.fresh();
      for (const volume of volumes) {
        const tg = targetOf(volume, back, p.prefix, p.t.where);
        if (tg.acl.includes(init.value) !== wantIn) {
          throw new DriverError(`tgtd at ${p.t.where}: ${tg.iqn} reads back ${wantIn ? 'without' : 'still with'} ${init.value}`, { layer: 'verify' });
        }
      }
    } catch (err) {
      throw await putBack(p, op, touched, init, err as Error);
    }
  }

  /** Undoes the step's changes on the volumes it touched; says exactly what is left when it cannot. */
  async function putBack(p: Peer, op: Op, touched: Target[], init: Initiator, err: Error): Promise<DriverError> {
    const base = err instanceof DriverError ? err : new DriverError(err.message);
    if (touched.length === 0) return base;
    const inverse: Op = op === 'bind' ? 'unbind' : 'bind';
    const left: string[] = [];
    for (const tg of [...touched].reverse()) {
      try {
        await change(p, inverse, tg, init);
      } catch {
        left.push(tg.iqn);
      }
    }
    const what = left.length === 0
      ? `the targets it had changed were put back (${init.value} ${op === 'bind' ? 'removed from' : 'allowed on'} ${touched.map((t) => t.iqn).join(', ')} again): tgtd is as it was`
      : `left: ${init.value} may still be ${op === 'bind' ? 'allowed on' : 'missing from'} ${left.join(', ')} (tgtd at ${p.t.where} could not be reached to put it back)`;
    return new DriverError(`${base.message}; ${what}`, { layer: base.layer, retryable: base.retryable });
  }

  return {
    name: 'iscsi-tgt',
    interfaces: {
      storage: {
        connect: (ctx, m, volumes) => step(ctx, m, volumes, 'bind'),
        disconnect: (ctx, m, volumes) => step(ctx, m, volumes, 'unbind'),
      },
    },
    close() {
      for (const p of peers.values()) p.t.close?.();
      peers.clear();
    },
  };
}
