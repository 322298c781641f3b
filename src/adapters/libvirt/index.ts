// The libvirt driver: VMs on any hypervisor libvirt speaks (KVM/QEMU, Xen, LXC, the test
// driver), local or remote. It serves the vm interface (create from a domain XML template,
// delete, live migration, cold move, failover from the definition kept in the store,
// suspend, what a VM server has), power for the VMs it hosts (a VM has no BMC: its power is
// its domain's lifecycle) and monitor for those VMs (what the hypervisor says they are).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import type { Db } from '../../store/db.js';
import { settingNumber, settingText } from '../setting-reader.js';
import {
  type Driver, type DriverContext, DriverError, type HostRef, type MachineRef, type PowerAction, type PowerControl, type PowerInterface, type PowerState,
  type SoftwareRef, type VmPlacement, type VmServerEvent, type VmServerInfo,
} from '../types.js';
import { powerActions } from '../power.js';
import { LIBVIRT } from './spec.js';
import { configuredUri, connectionUri, serverOf } from './connection.js';
import { type Volume, forgetDomain, keepDomain, keptDomain, movedDomain } from './domains.js';
import { factsOf, render } from './domain-xml.js';
import { arg, closeSessions, virsh } from './virsh.js';
import { watchServer } from './events.js';

const seconds = (db: Db, key: string): number => settingNumber(db, LIBVIRT.settings, key);

const binary = (db: Db): string => settingText(db, LIBVIRT.settings, 'libvirt.virsh')!.trim();

/** One virsh command on a VM server's connection, within the driver's deadline. */
async function on(ctx: DriverContext, server: MachineRef, command: string, timeoutS?: number): Promise<string> {
  return virsh(connectionUri(ctx.db, server), command, {
    binary: binary(ctx.db), timeoutMs: (timeoutS ?? seconds(ctx.db, 'libvirt.timeout_s')) * 1000, signal: ctx.signal,
  });
}

/** The libvirt name of a VM: the one kanri defined it with, else the machine's name. */
const domainOf = (db: Db, vm: MachineRef): string => keptDomain(db, vm.id)?.domain ?? vm.name;

/** Writes a definition to a private temporary file for `define`, and removes it afterwards. */
async function withXmlFile<T>(xml: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-domain-'));
  try {
    const file = join(dir, 'domain.xml');
    writeFileSync(file, xml, { mode: 0o600 });
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type DomState = 'running' | 'paused' | 'shut off' | 'crashed' | 'other';

async function domState(ctx: DriverContext, server: MachineRef, name: string): Promise<{ raw: string; state: DomState }> {
  const raw = (await on(ctx, server, `domstate ${arg(name)}`)).trim().split('\n')[0]!.trim();
  const state: DomState = /^(running|idle|blocked|in shutdown)$/.test(raw) ? 'running' : /^(paused|pmsuspended)$/.test(raw) ? 'paused'
    : raw === 'shut off' ? 'shut off' : raw === 'crashed' ? 'crashed' : 'other';
  return { raw, state };
}

const powerOf = (s: DomState): PowerState => (s === 'running' ? 'on' : s === 'paused' ? 'suspended' : s === 'other' ? 'unknown' : 'off');

const notFound = (e: unknown): boolean => e instanceof DriverError && /failed to get domain|Domain not found|no domain with matching/i.test(e.message);

async function defineOn(ctx: DriverContext, server: MachineRef, xml: string): Promise<void> {
  await withXmlFile(xml, (file) => on(ctx, server, `define ${arg(file)}`));
}

/** The inactive definition of a domain, with its security labels, as libvirt holds it. */
const dumpXml = (ctx: DriverContext, server: MachineRef, name: string): Promise<string> => on(ctx, server, `dumpxml --inactive --security-info ${arg(name)}`);

async function cloneVolume(ctx: DriverContext, server: MachineRef, c: { pool: string; volume: string; toPool: string; toVolume: string }): Promise<void> {
  if (c.pool === c.toPool) {
    await on(ctx, server, `vol-clone --pool ${arg(c.pool)} ${arg(c.volume)} ${arg(c.toVolume)}`, seconds(ctx.db, 'libvirt.migrate_timeout_s'));
    return;
  }
  // Across pools: the source volume's description under the new name, created from it.
  const doc = new DOMParser().parseFromString(await on(ctx, server, `vol-dumpxml --pool ${arg(c.pool)} ${arg(c.volume)}`), 'text/xml');
  const root = doc.documentElement!;
  for (const n of Array.from(root.childNodes)) if (n.nodeType === 1 && ['name', 'key', 'target'].includes(n.nodeName)) root.removeChild(n);
  const name = doc.createElement('name');
  name.appendChild(doc.createTextNode(c.toVolume));
  root.insertBefore(name, root.firstChild);
  await withXmlFile(new XMLSerializer().serializeToString(doc), (file) =>
    on(ctx, server, `vol-create-from ${arg(c.toPool)} ${arg(file)} --inputpool ${arg(c.pool)} ${arg(c.volume)}`, seconds(ctx.db, 'libvirt.migrate_timeout_s')));
}

async function deleteVolumes(ctx: DriverContext, server: MachineRef, volumes: Volume[]): Promise<void> {
  for (const v of volumes) {
    try {
      await on(ctx, server, `vol-delete --pool ${arg(v.pool)} ${arg(v.volume)}`);
      ctx.log(`volume ${v.pool}/${v.volume} deleted`);
    } catch (e) {
      if (!/Storage volume not found|no storage vol/i.test((e as Error).message)) throw e;
    }
  }
}

function templateXml(t: SoftwareRef): string {
  if (!t.source) throw new DriverError(`libvirt: template ${t.name} has no source: give the path of its domain XML file`, { layer: 'configuration' });
  try {
    return readFileSync(t.source, 'utf8');
  } catch (e) {
    throw new DriverError(`libvirt: template ${t.name}: cannot read ${t.source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { layer: 'configuration' });
  }
}

/** The virsh command each power command is, for a domain last read as `before`. */
function powerCommand(command: PowerAction, before: PowerState): { verb: string; note?: string } {
  switch (command) {
    case 'on': return { verb: before === 'suspended' ? 'resume' : 'start' };
    // A paused guest cannot act on an ACPI request.
    case 'soft': return before === 'suspended' ? { verb: 'destroy', note: 'paused: destroyed, as a paused guest cannot shut itself down' } : { verb: 'shutdown' };
    case 'off': return { verb: 'destroy' };
    case 'cycle': return { verb: 'reboot' };
    case 'reset': return { verb: 'reset' };
    case 'diag': return { verb: 'inject-nmi' };
  }
}

/** A VM's domain on its server's virsh session: its state read, a lifecycle command sent. */
function control(ctx: DriverContext, vm: MachineRef): PowerControl {
  const server = serverOf(ctx.db, vm);
  const name = domainOf(ctx.db, vm);
  let sent = 0;
  return {
    read: async () => powerOf((await domState(ctx, server, name)).state),
    async send(command, before) {
      const c = powerCommand(command, before);
      sent++;
      await on(ctx, server, `${c.verb} ${arg(name)}`);
      return { sent: c.verb, ...(c.note ? { note: c.note } : {}) };
    },
    get attempts() { return sent; },
  };
}

function waitFor(db: Db, action: PowerAction): number {
  if (action === 'diag') return 0;
  return seconds(db, action === 'soft' ? 'vm.shutdown_timeout_s' : 'libvirt.timeout_s') * 1000;
}

const libvirtPower: PowerInterface = {
  open: (ctx, vm, _o, use) => use(control(ctx, vm)),
  // A guest that ignores the ACPI request within vm.shutdown_timeout_s is destroyed.
  supports: { commands: ['on', 'off', 'soft', 'cycle', 'reset', 'diag'], waitMs: waitFor, pollMs: 500, hardOffAfterSoft: 'vm.shutdown_timeout_s' },
};

function parseNodeInfo(out: string, free: string): VmServerInfo {
  const num = (re: RegExp, text: string): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const info: VmServerInfo = {};
  const cpus = num(/^CPU\(s\):\s*(\d+)/m, out);
  const mem = num(/^Memory size:\s*(\d+)\s*KiB/m, out);
  const freeKiB = num(/Total:\s*(\d+)\s*KiB/, free) ?? num(/^\s*\d+:\s*(\d+)\s*KiB/m, free);
  if (cpus !== undefined) info.cpus = cpus;
  if (mem !== undefined) info.memoryKiB = mem;
  if (freeKiB !== undefined) info.freeMemoryKiB = freeKiB;
  return info;
}

export function createLibvirtDriver(): Driver {
  return {
    name: 'libvirt',
    close: closeSessions,
    interfaces: {
      vm: {
        async create(ctx, vm, at: VmPlacement, template) {
          const r = render(templateXml(template), template.name, vm.name, at.datastore);
          const made: Volume[] = [];
          try {
            for (const c of r.clones) {
              await cloneVolume(ctx, at.server, c);
              made.push({ pool: c.toPool, volume: c.toVolume });
              ctx.log(`volume ${c.pool}/${c.volume} cloned to ${c.toPool}/${c.toVolume}`);
            }
            // Kept before it is defined: a definition kanri could not record is never made.
            keepDomain(ctx.db, { machineId: vm.id, serverId: at.server.id, domain: vm.name, uuid: r.uuid, xml: r.xml, volumes: made });
            await defineOn(ctx, at.server, r.xml);
          } catch (e) {
            // What this step made goes with it; a VM that was not defined leaves nothing behind.
            if (!ctx.signal.aborted) await deleteVolumes({ ...ctx, log: () => undefined }, at.server, made).catch(() => undefined);
            throw e;
          }
          ctx.log(`${vm.name}: defined on ${at.server.name} from ${template.name} (${r.size.vcpus} vCPU, ${r.size.memoryKiB} KiB)`);
          return { uuid: r.uuid, macs: r.macs, size: r.size };
        },
        async destroy(ctx, vm) {
          const server = serverOf(ctx.db, vm);
          const name = domainOf(ctx.db, vm);
          const kept = keptDomain(ctx.db, vm.id);
          try {
            const { state } = await domState(ctx, server, name);
            if (state === 'running' || state === 'paused') await on(ctx, server, `destroy ${arg(name)}`);
            try {
              await on(ctx, server, `undefine ${arg(name)} --managed-save --snapshots-metadata`);
            } catch (e) {
              if (!/nvram/i.test((e as Error).message)) throw e;
              await on(ctx, server, `undefine ${arg(name)} --managed-save --snapshots-metadata --nvram`);
            }
            ctx.log(`${name}: undefined on ${server.name}`);
          } catch (e) {
            if (!notFound(e)) throw e;
            ctx.log(`${name}: not defined on ${server.name} (already gone)`);
          }
          // Only what kanri cloned for this VM: never a template's volume or a shared path.
          await deleteVolumes(ctx, server, kept?.volumes ?? []);
          forgetDomain(ctx.db, vm.id);
        },
        async suspend(ctx, vm) {
          const server = serverOf(ctx.db, vm);
          const name = domainOf(ctx.db, vm);
          const { state, raw } = await domState(ctx, server, name);
          if (state === 'paused') return ctx.log(`${name}: already suspended`);
          if (state !== 'running') throw new DriverError(`libvirt: ${name} is ${raw}; only a running VM can be suspended`, { layer: 'verify' });
          await on(ctx, server, `suspend ${arg(name)}`);
          ctx.log(`${name}: suspended on ${server.name}`);
        },
        async migrate(ctx, vm, to) {
          const from = serverOf(ctx.db, vm);
          const name = domainOf(ctx.db, vm);
          const { state } = await domState(ctx, from, name);
          // Peer to peer: the source daemon connects to the destination with its own
          // credentials, so it is given the destination's URI as configured.
          const dest = configuredUri(ctx.db, to);
          const how = state === 'running' || state === 'paused' ? '--live' : '--offline';
          await on(ctx, from, `migrate ${how} --p2p --persistent --undefinesource ${arg(name)} ${arg(dest)}`, seconds(ctx.db, 'libvirt.migrate_timeout_s'));
          let xml: string | undefined;
          try {
            xml = await dumpXml(ctx, to, name);
          } catch {
            // The move happened; the kept definition is refreshed by the next collection.
          }
          movedDomain(ctx.db, vm.id, to.id, xml);
          ctx.log(`${name}: ${how === '--live' ? 'hot' : 'cold'}-migrated from ${from.name} to ${to.name}`);
        },
        async move(ctx, vm, to) {
          // A powered-off VM on storage both servers reach: its definition goes from one
          // server to the other. It is never defined on both: undefined on the source first
          // (the definition kept in the store), then defined on the destination, and
          // defined back on the source when the destination refuses it.
          const from = serverOf(ctx.db, vm);
          const name = domainOf(ctx.db, vm);
          const { state, raw } = await domState(ctx, from, name);
          if (state !== 'shut off' && state !== 'crashed') throw new DriverError(`libvirt: ${name} is ${raw}; it must be shut off to move`, { layer: 'verify' });
          const xml = await dumpXml(ctx, from, name);
          const kept = keptDomain(ctx.db, vm.id);
          keepDomain(ctx.db, { machineId: vm.id, serverId: from.id, domain: name, uuid: factsOf(xml).uuid, xml, volumes: kept?.volumes ?? [] });
          await on(ctx, from, `undefine ${arg(name)}`);
          try {
            await defineOn(ctx, to.server, xml);
          } catch (e) {
            const why = (e as Error).message;
            try {
              await defineOn({ ...ctx, signal: new AbortController().signal }, from, xml);
            } catch (back) {
              throw new DriverError(`${why}; defining ${name} back on ${from.name} failed too (${(back as Error).message}): it is defined on neither, its definition is kept in the store`, { layer: (e as DriverError).layer });
            }
            throw new DriverError(`${why}; ${name} is defined on ${from.name} again`, { layer: (e as DriverError).layer ?? 'controller' });
          }
          movedDomain(ctx.db, vm.id, to.server.id, xml);
          ctx.log(`${name}: moved from ${from.name} to ${to.server.name} (shut off; its disks stay where they are)`);
        },
        async failover(ctx, vm, to) {
          // The VM's server is gone: the definition kept in the store is defined on the
          // destination (its disks are on shared storage, as the spec requires).
          const kept = keptDomain(ctx.db, vm.id);
          if (!kept) {
            throw new DriverError(`libvirt: kanri keeps no definition of ${vm.name}; collect it (kanri vmserver collect) while its server is up`, { layer: 'configuration' });
          }
          await defineOn(ctx, to, kept.xml);
          movedDomain(ctx.db, vm.id, to.id);
          ctx.log(`${kept.domain}: defined on ${to.name} from the definition kept in the store`);
        },
        async applyPersonality(ctx, vm, host: HostRef) {
          // libvirt cannot reach into the guest: the identity is written into the domain's
          // description, where the guest's own agent or cloud-init can read it.
          const server = serverOf(ctx.db, vm);
          const name = domainOf(ctx.db, vm);
          const { state } = await domState(ctx, server, name);
          if (state === 'running' || state === 'paused') await powerActions(ctx.db, libvirtPower).act(ctx, vm, 'soft');
          const nic1 = host.nics[0]?.addresses[0];
          const text = `kanri host ${host.hostName}${nic1 ? ` ${nic1.ip}/${nic1.netmask}` : ''}`;
          await on(ctx, server, `desc ${arg(name)} --config --new-desc ${arg(text)}`);
          ctx.log(`${name}: identity ${text}`);
        },
        async configureNetwork(ctx, vm, host) {
          const server = serverOf(ctx.db, vm);
          const facts = factsOf(await dumpXml(ctx, server, domainOf(ctx.db, vm)));
          if (facts.macs.length < host.nics.length) {
            throw new DriverError(`libvirt: ${vm.name} has ${facts.macs.length} virtual NIC(s), its host setting ${host.hostName} needs ${host.nics.length}`, { layer: 'verify' });
          }
          ctx.log(`${vm.name}: ${facts.macs.length} virtual NIC(s) for ${host.nics.length} of ${host.hostName}`);
        },
        async templateSize(_ctx, template) {
          return render(templateXml(template), template.name, 'size-probe', 'pool').size;
        },
        async serverInfo(ctx, server) {
          const node = await on(ctx, server, 'nodeinfo');
          const free = await on(ctx, server, 'freecell');
          return parseNodeInfo(node, free);
        },
        async watch(ctx, server, onEvent: (e: VmServerEvent) => void) {
          await watchServer(ctx, server, connectionUri(ctx.db, server), binary(ctx.db), onEvent);
        },
      },
      power: libvirtPower,
      monitor: {
        async register(ctx, m) {
          ctx.log(`${m.name}: watched through its VM server's libvirt events (kanri vmserver watch)`);
        },
        async unregister(ctx, m) {
          ctx.log(`${m.name}: no longer reported`);
        },
        async inventory(ctx, vm) {
          const server = serverOf(ctx.db, vm);
          const name = domainOf(ctx.db, vm);
          const xml = await dumpXml(ctx, server, name);
          const f = factsOf(xml);
          const kept = keptDomain(ctx.db, vm.id);
          keepDomain(ctx.db, { machineId: vm.id, serverId: server.id, domain: name, uuid: f.uuid, xml, volumes: kept?.volumes ?? [] });
          ctx.log(`${name}: ${f.size.vcpus} vCPU, ${f.size.memoryKiB} KiB, ${f.macs.length} NIC(s) on ${server.name}`);
          return { hwModel: `libvirt ${f.type}${f.machine ? ' ' + f.machine : ''}`.trim(), size: f.size };
        },
      },
    },
  };
}

