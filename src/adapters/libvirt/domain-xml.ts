// Domain XML: a template made into one VM's definition (its name, UUID and MAC addresses
// set by kanri, its volume disks pointed at their clones), and what kanri reads back from a
// definition (size, disks, MACs). Parsed and written with @xmldom/xmldom, never with
// string surgery, so that whatever else a template holds passes through unchanged.
import { randomBytes, randomUUID } from 'node:crypto';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { DriverError } from '../types.js';

export interface VolumeClone {
  /** The template's volume. */
  pool: string;
  volume: string;
  /** The clone made for this VM. */
  toPool: string;
  toVolume: string;
}

export interface Rendered {
  xml: string;
  uuid: string;
  macs: string[];
  clones: VolumeClone[];
  size: DomainSize;
}

export interface DomainSize { vcpus: number; memoryKiB: number }

function parse(xml: string, what: string): Document {
  let failure: string | undefined;
  const doc = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') failure ??= msg; } }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (failure || !root || root.nodeName !== 'domain') {
    throw new DriverError(`libvirt: ${what} is not domain XML${failure ? `: ${failure.split('\n')[0]}` : root ? ` (root element <${root.nodeName}>)` : ''}`, { layer: 'input' });
  }
  return doc;
}

const children = (e: Element, name: string): Element[] => Array.from(e.childNodes).filter((n): n is Element => n.nodeType === 1 && n.nodeName === name);
const child = (e: Element, name: string): Element | undefined => children(e, name)[0];

function setChild(doc: Document, parent: Element, name: string, text: string): void {
  for (const old of children(parent, name)) parent.removeChild(old);
  const el = doc.createElement(name);
  el.appendChild(doc.createTextNode(text));
  parent.insertBefore(el, parent.firstChild);
}

const KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024, t: 1024 ** 3, tib: 1024 ** 3, tb: 1e12 / 1024 };

/** <memory> and <vcpu> of a definition, in KiB and vCPUs (libvirt's default unit is KiB). */
export function sizeOf(doc: Document): DomainSize {
  const root = doc.documentElement!;
  const mem = child(root, 'memory');
  const unit = (mem?.getAttribute('unit') ?? 'KiB').toLowerCase();
  const memoryKiB = Math.round(Number(mem?.textContent?.trim() ?? 0) * (KIB[unit] ?? 1));
  const vcpus = Number(child(root, 'vcpu')?.textContent?.trim() ?? 1) || 1;
  return { vcpus, memoryKiB: Number.isFinite(memoryKiB) ? memoryKiB : 0 };
}

/** A locally administered MAC in QEMU's range (52:54:00), as libvirt itself generates. */
export function newMac(): string {
  const b = randomBytes(3);
  return `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/**
 * One VM's definition from a template: <name> and <uuid> set, every <interface> given a new
 * MAC, every disk of type 'volume' pointed at a clone of its volume in `datastore` (the
 * storage pool the VM goes to), and `{name}` in a file disk's path replaced by the VM name.
 */
export function render(template: string, templateName: string, vmName: string, datastore: string): Rendered {
  const doc = parse(template, `template ${templateName}`);
  const root = doc.documentElement!;
  const uuid = randomUUID();
  setChild(doc, root, 'uuid', uuid);
  setChild(doc, root, 'name', vmName);
  const devices = child(root, 'devices');
  const macs: string[] = [];
  const clones: VolumeClone[] = [];
  for (const iface of devices ? children(devices, 'interface') : []) {
    for (const old of children(iface, 'mac')) iface.removeChild(old);
    const mac = newMac();
    const el = doc.createElement('mac');
    el.setAttribute('address', mac);
    iface.insertBefore(el, iface.firstChild);
    macs.push(mac.toUpperCase());
  }
  for (const disk of devices ? children(devices, 'disk') : []) {
    const source = child(disk, 'source');
    if (!source) continue;
    if (disk.getAttribute('type') === 'volume') {
      const pool = source.getAttribute('pool');
      const volume = source.getAttribute('volume');
      if (!pool || !volume) throw new DriverError(`libvirt: template ${templateName}: a volume disk needs pool= and volume= on its <source>`, { layer: 'input' });
      const dev = child(disk, 'target')?.getAttribute('dev') ?? `disk${clones.length}`;
      const ext = /\.[A-Za-z0-9]+$/.exec(volume)?.[0] ?? '';
      const clone = { pool, volume, toPool: datastore, toVolume: `${vmName}-${dev}${ext}` };
      clones.push(clone);
      source.setAttribute('pool', clone.toPool);
      source.setAttribute('volume', clone.toVolume);
    } else {
      for (const attr of ['file', 'dev']) {
        const v = source.getAttribute(attr);
        if (v?.includes('{name}')) source.setAttribute(attr, v.split('{name}').join(vmName));
      }
    }
  }
  return { xml: new XMLSerializer().serializeToString(doc), uuid, macs, clones, size: sizeOf(doc) };
}

export interface DomainFacts { name: string; uuid: string | null; macs: string[]; size: DomainSize; type: string; machine: string }

/** What kanri records of a definition it read back from libvirt (dumpxml). */
export function factsOf(xml: string): DomainFacts {
  const doc = parse(xml, 'the domain description');
  const root = doc.documentElement!;
  const devices = child(root, 'devices');
  const macs = (devices ? children(devices, 'interface') : []).map((i) => child(i, 'mac')?.getAttribute('address')?.toUpperCase()).filter((m): m is string => !!m);
  const osType = child(root, 'os') ? child(child(root, 'os')!, 'type') : undefined;
  return {
    name: child(root, 'name')?.textContent?.trim() ?? '',
    uuid: child(root, 'uuid')?.textContent?.trim() ?? null,
    macs,
    size: sizeOf(doc),
    type: root.getAttribute('type') ?? '',
    machine: osType?.getAttribute('machine') ?? osType?.getAttribute('arch') ?? '',
  };
}
