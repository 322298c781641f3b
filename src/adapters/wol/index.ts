// The wol power driver: a Wake-on-LAN magic packet (six 0xFF bytes, then the MAC sixteen
// times) for each MAC of the machine, sent over UDP to its wol address and port. A magic
// packet is harmless to a machine that is already on, so it is sent even when the state
// cannot be read. The state is read only from a source the settings name: with
// state_from=ping, the OS address answering an ICMP echo (ping, run without a shell) means
// on; with ssh, the machine's SSH service sending its banner; no answer means off (or not
// up yet); with none, it is unknown, never guessed.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { targetFor } from '../ssh/target.js';
import {
  type DriverContext, DriverError, type Driver, type MachineRef, type PowerControl, type PowerInterface, type PowerState,
} from '../types.js';
import { wait } from '../../util/wait.js';
import { settingNumber } from '../setting-reader.js';
import { WOL_SETTINGS, wolReader } from './spec.js';

const PACKET_GAP_MS = 100;
const POLL_MS = 2000;

/** The 102-byte magic packet of one MAC (aa:bb:cc:dd:ee:ff, with colons or dashes). */
export function magicPacket(mac: string): Buffer {
  const hex = mac.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new DriverError(`'${mac}' is not a MAC address`, { layer: 'configuration' });
  const m = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array.from({ length: 16 }, () => m)]);
}

function groupOf(ctx: DriverContext, m: MachineRef): number | null {
  if (ctx.group) return ctx.group.id;
  return (ctx.db.prepare('SELECT group_id FROM machines WHERE id = ?').get(m.id) as { group_id: number | null } | undefined)?.group_id ?? null;
}

function macsOf(ctx: DriverContext, m: MachineRef): string[] {
  if (m.macs.length) return m.macs;
  return (ctx.db.prepare('SELECT mac FROM machine_macs WHERE machine_id = ? ORDER BY nic_no').all(m.id) as Array<{ mac: string }>).map((r) => r.mac);
}

async function sendPackets(ctx: DriverContext, m: MachineRef, address: string, port: number, count: number): Promise<number> {
  const macs = macsOf(ctx, m);
  if (!macs.length) throw new DriverError(`${m.name} has no MAC address to wake`, { layer: 'configuration' });
  const packets = macs.map(magicPacket);
  const sock = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind(0, () => { sock.off('error', reject); resolve(); }); });
    sock.setBroadcast(true);
    for (let i = 0; i < count; i++) {
      if (i > 0) await wait(PACKET_GAP_MS, ctx.signal, () => new DriverError('canceled', { layer: 'network', aborted: true }));
      for (const p of packets) {
        await new Promise<void>((resolve, reject) => sock.send(p, port, address, (e) => (e ? reject(new DriverError(`${m.name}: network error: magic packet to ${address}:${port} not sent: ${e.message}`, { layer: 'network', detail: e.message })) : resolve())));
      }
    }
  } finally {
    sock.close();
  }
  ctx.log(`${m.name}: magic packet for ${macs.join(', ')} sent ${count} time(s) to ${address}:${port}`);
  return count * packets.length;
}

/** Whether something at address:port sends an SSH banner within ms (no login is attempted). */
function sshAnswers(address: string, port: number, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: address, port });
    let data = '';
    const done = (v: boolean | Error): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      if (v instanceof Error) reject(v); else resolve(v);
    };
    const onAbort = (): void => done(new DriverError('canceled', { layer: 'network', aborted: true }));
    const t = setTimeout(() => done(false), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.length >= 4 || data.includes('\n')) done(data.startsWith('SSH-'));
    });
    sock.once('error', () => done(false));
    sock.once('end', () => done(false));
  });
}

/** Whether the address answers one ICMP echo within ms (iputils ping: 0 answered, 1 no answer, else it could not ask). */
function pingAnswers(address: string, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('ping', ['-n', '-q', '-c', '1', '-W', String(Math.max(1, Math.ceil(ms / 1000))), '--', address], { timeout: ms + 2000, signal, env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C' } }, (e, _out, err) => {
      if (!e) return resolve(true);
      const code = (e as { code?: number | string }).code;
      if (code === 1) return resolve(false);
      if (signal.aborted) return reject(new DriverError('canceled', { layer: 'network', aborted: true }));
      reject(new DriverError(`ping of ${address} failed: ${String(err).trim().split('\n').pop() || e.message}`, { layer: 'network', detail: e.message }));
    });
  });
}

async function readState(ctx: DriverContext, m: MachineRef): Promise<{ state: PowerState; how: string }> {
  const r = wolReader(ctx.db, m.id, groupOf(ctx, m));
  const from = r.need('state_from');
  if (from === 'none') return { state: 'unknown', how: 'no state source (wol state_from is none)' };
  const t = targetFor(ctx.db, m.id, null);
  const ms = r.num('wol.probe_timeout_s')! * 1000;
  if (from === 'ping') {
    const on = await pingAnswers(t.address, ms, ctx.signal);
    return { state: on ? 'on' : 'off', how: `${t.address} ${on ? 'answers' : 'does not answer'} ping` };
  }
  const on = await sshAnswers(t.address, t.port, ms, ctx.signal);
  return { state: on ? 'on' : 'off', how: `SSH at ${t.address}:${t.port} ${on ? 'answers' : 'does not answer'}` };
}

/**
 * Mechanism only: the state from the source the settings name, and the magic packets. A
 * packet is harmless to a machine that is already on, so it is sent when the state is not
 * known (blindSafe); reading first, waiting and verifying are adapters/power.ts's.
 */
const wolPower: PowerInterface = {
  open(ctx, m, _o, use) {
    let attempts = 0;
    const c: PowerControl = {
      async read() {
        const s = await readState(ctx, m);
        if (s.state !== 'unknown') attempts++;
        return s.state;
      },
      async send() {
        const r = wolReader(ctx.db, m.id, groupOf(ctx, m));
        const address = r.need('address');
        const port = r.num('port')!;
        attempts += await sendPackets(ctx, m, address, port, r.num('wol.packets')!);
        return { sent: `magic packet to ${address}:${port}` };
      },
      get attempts() { return attempts; },
    };
    return use(c);
  },
  supports: {
    commands: ['on'],
    unsupported: (action) => `the wol driver can only power on (Wake-on-LAN); ${action} needs a management controller or dscli shutdownOs via=ssh`,
    blindSafe: ['on'],
    waitMs: (db, action) => (action === 'on' ? settingNumber(db, WOL_SETTINGS, 'wol.on_wait_s') * 1000 : 0),
    pollMs: POLL_MS,
  },
};

export function createWolDriver(): Driver {
  return {
    name: 'wol',
    interfaces: {
      power: wolPower,
    },
  };
}
