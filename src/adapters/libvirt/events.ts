// libvirt's connection and domain events as VM-server events for the monitor: the
// VMwareProvider rows of spec/events-and-policies.md §4, raised by their libvirt
// equivalents (the mapping is in README.md, "libvirt events"):
//   connection to the VM server's daemon lost     → host connection state green → red
//   connection back                               → host connection state red → green
//   a domain crashed (lifecycle Crashed, Stopped Failed/Crashed) → VM heartbeat green → red
//   a crashed domain started again                → VM heartbeat red → green
// The connection is probed on the virsh session every libvirt.watch_interval_s; domain
// events come from `virsh event --all --loop`, restarted whenever the connection is back.
import { spawn } from 'node:child_process';
import { settingNumber } from '../setting-reader.js';
import { LIBVIRT } from './spec.js';
import type { DriverContext, MachineRef, VmServerEvent } from '../types.js';
import { virsh } from './virsh.js';
import { wait } from '../../util/wait.js';

export const HOST_DOWN = 'Alarm Host connection state on VMS changed from green to red';
export const HOST_UP = 'Alarm Host connection state on VMS changed from red to green';
export const VM_DOWN = 'Alarm Virtual Machine Heartbeat on VM changed from green to red';
export const VM_UP = 'Alarm Virtual Machine Heartbeat on VM changed from red to green';
const INACCESSIBLE = 'ターゲットアクセス不可能障害';
const RESTORED = 'ターゲットアクセス復旧';

/** One line of `virsh event --loop` as the event it stands for, or undefined. */
export function domainEvent(line: string, crashed: Set<string>): { event: string; domain: string } | undefined {
  const m = /event 'lifecycle' for domain '([^']+)': (\w+)(?: (\w+))?/.exec(line);
  if (!m) return undefined;
  const [, domain, what, why] = m as unknown as [string, string, string, string | undefined];
  if (what === 'Crashed' || (what === 'Stopped' && (why === 'Failed' || why === 'Crashed'))) {
    crashed.add(domain);
    return { event: VM_DOWN, domain };
  }
  if (what === 'Started' && crashed.delete(domain)) return { event: VM_UP, domain };
  return undefined;
}

export async function watchServer(ctx: DriverContext, server: MachineRef, uri: string, binary: string, onEvent: (e: VmServerEvent) => void): Promise<void> {
  const intervalMs = settingNumber(ctx.db, LIBVIRT.settings, 'libvirt.watch_interval_s') * 1000;
  const emit = (event: string, machine: string, detail: string): void =>
    onEvent({ source: 'VMwareProvider', event, category: event.endsWith('to red') ? INACCESSIBLE : RESTORED, machine, detail, time: new Date().toISOString() });
  const crashed = new Set<string>();
  let up: boolean | undefined;
  let stream: ReturnType<typeof spawn> | undefined;
  const stopStream = (): void => { stream?.kill('SIGKILL'); stream = undefined; };
  const startStream = (): void => {
    stream = spawn(binary, ['-q', '-c', uri, 'event', '--all', '--loop'], { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    stream.stdout!.setEncoding('utf8');
    stream.stdout!.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const e = domainEvent(line, crashed);
        if (e) emit(e.event, e.domain, `libvirt on ${server.name}: ${line.trim()}`);
      }
    });
    stream.on('exit', () => { stream = undefined; });
  };
  try {
    while (!ctx.signal.aborted) {
      let reason = '';
      try {
        await virsh(uri, 'uri', { binary, timeoutMs: Math.max(1000, intervalMs), signal: ctx.signal });
      } catch (e) {
        if (ctx.signal.aborted) break;
        reason = (e as Error).message;
      }
      const now = reason === '';
      if (now !== up) {
        // The first probe only says how things are; a change is an event.
        if (up !== undefined || !now) emit(now ? HOST_UP : HOST_DOWN, server.name, now ? `libvirt: ${uri} answers again` : reason);
        up = now;
        if (now) startStream();
        else stopStream();
      } else if (now && !stream) {
        startStream();
      }
      await wait(intervalMs, ctx.signal).catch(() => undefined);
    }
  } finally {
    stopStream();
  }
}
