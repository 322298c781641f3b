// Starts OpenIPMI `ipmi_sim` BMC simulators on free loopback UDP ports (127.0.0.1 only),
// each with its own lan.conf (users, privilege limits), emulator command file (SDR with
// threshold sensors, SEL, FRU) and a chassis-control program that keeps the power state
// in a file. stop() leaves no process behind.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LOOPBACK = '127.0.0.1';

export interface SimUser {
  id: number;
  name: string;
  password: string;
  priv: 'user' | 'operator' | 'admin';
}

export const DEFAULT_USERS: SimUser[] = [
  { id: 2, name: 'admin', password: 'adminpass', priv: 'admin' },
  { id: 3, name: 'oper', password: 'operpass', priv: 'operator' },
  { id: 4, name: 'viewer', password: 'viewerpass', priv: 'user' },
];

export interface SimOptions {
  users?: SimUser[];
  power?: 'on' | 'off';
  /** Sensors, SDR and FRU (default true); a bare BMC starts faster for benchmarks. */
  rich?: boolean;
  /** SEL records (16 bytes each without the record ID: type + 13 bytes) to preload. */
  sel?: number[][];
  /** Open an emulator console on a loopback TCP port (for sel_add at runtime). */
  console?: boolean;
  /**
   * Serial over LAN: the BMC connects its serial port to this loopback TCP port (the
   * program on the serial side listens there; ipmi_sim retries every 10 s until it does).
   */
  solPort?: number;
  /** The watchdog's sensor (number 0, Watchdog 2): without it ipmi_sim logs no expiry. */
  watchdog?: boolean;
  /**
   * The host side of the BMC's system interface (channel 15, OpenIPMI's VM codec, where
   * qemu would connect): ipmi_sim listens on this loopback TCP port. Only a host that says
   * it can be reset lets the watchdog take a reset action.
   */
  hostPort?: number;
}

export interface SimBmc {
  host: string;
  port: number;
  dir: string;
  guid: string;
  consolePort?: number;
  users: SimUser[];
  readPower(): 'on' | 'off';
  writePower(state: 'on' | 'off'): void;
  /** Log of chassis-control actions (reset, shutdown, identify). */
  controlLog(): string[];
  /** Path of a 0600 file holding the user's password (for ipmitool -f). */
  passwordFile(user: string): string;
  /** Runs ipmitool against this BMC over lanplus, password from a file. */
  ipmitool(args: string[], opts?: { user?: string; cipher?: number; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Sends one emulator command through the console port. */
  emu(command: string): Promise<string>;
}

export interface SimRack {
  bmcs: SimBmc[];
  stop(): Promise<void>;
}

const CHASSIS_SH = `#!/bin/sh
# chassis_control program for ipmi_sim: <state-dir> get|set [parm [val]]...
d=$1; shift
op=$1; shift
case $op in
get)
  for p in "$@"; do
    case $p in
      power) read v < "$d/power"; echo "power:$v" ;;
      boot) v=default; [ -f "$d/boot" ] && read v < "$d/boot"; echo "boot:$v" ;;
    esac
  done ;;
set)
  while [ $# -gt 1 ]; do
    p=$1; v=$2; shift 2
    case $p in
      power) echo "$v" > "$d/power"; echo "power $v" >> "$d/control.log" ;;
      reset) echo "reset $v" >> "$d/control.log" ;;
      shutdown) echo 0 > "$d/power"; echo "shutdown $v" >> "$d/control.log" ;;
      identify) echo "identify $v" >> "$d/control.log" ;;
      boot) echo "$v" > "$d/boot"; echo "boot $v" >> "$d/control.log" ;;
    esac
  done ;;
*) exit 1 ;;
esac
exit 0
`;

/** Ports that were free a moment ago (bound and released). */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const socks = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:dgram').Socket>((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(0, LOOPBACK, () => res(s));
  })));
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, LOOPBACK, () => {
      const p = (srv.address() as import('node:net').AddressInfo).port;
      srv.close(() => res(p));
    });
  });
}

/** A bound UDP socket that never answers: a BMC that is "up" at IP level but dead. */
export async function blackHole(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', () => n++);
  await new Promise<void>((r) => s.bind(0, LOOPBACK, () => r()));
  return { port: s.address().port, received: () => n, close: () => new Promise<void>((r) => s.close(() => r())) };
}

function hexBytes(bytes: number[]): string {
  return bytes.map((b) => '0x' + (b & 0xff).toString(16).padStart(2, '0')).join(' ');
}

function fruArea(fields: string[], prefix: number[]): number[] {
  const body = [...prefix];
  for (const f of fields) {
    body.push(0xc0 | f.length, ...Buffer.from(f, 'latin1'));
  }
  body.push(0xc1); // end of fields
  // header: version 1, length (multiples of 8) filled below; pad and checksum
  const area = [0x01, 0, ...body];
  while ((area.length + 1) % 8 !== 0) area.push(0);
  area.push(0);
  area[1] = area.length / 8;
  const sum = area.slice(0, -1).reduce((a, b) => a + b, 0);
  area[area.length - 1] = (0x100 - (sum & 0xff)) & 0xff;
  return area;
}

/** A FRU image with chassis, board and product areas (IPMI Platform Management FRU spec). */
export function sampleFru(serial: string): number[] {
  const chassis = fruArea(['CH-PART-01', 'CHS' + serial], [0x17]); // type 0x17 = rack mount chassis
  // Board: language 0 (English), mfg date/time = minutes since 1996-01-01 (3 bytes LE)
  const minutes = 14_000_000;
  const board = fruArea(['NEC', 'Express5800 Board', 'BRD' + serial, 'BP-0042', ''], [0x00, minutes & 0xff, (minutes >> 8) & 0xff, (minutes >> 16) & 0xff]);
  const product = fruArea(['NEC', 'Express5800/R120h', 'PN-R120H', 'v1.2', 'SN' + serial, 'AT-7', ''], [0x00]);
  const header = [0x01, 0x00, 1, 0, 0, 0, 0x00, 0];
  header[2] = 1;
  header[3] = 1 + chassis.length / 8;
  header[4] = header[3] + board.length / 8;
  const sum = header.slice(0, 7).reduce((a, b) => a + b, 0);
  header[7] = (0x100 - (sum & 0xff)) & 0xff;
  return [...header, ...chassis, ...board, ...product];
}

function fullSensorSdr(o: {
  num: number; entity: number; type: number; units2: number; m: number; b: number; rExp: number; bExp: number;
  unr: number; uc: number; unc: number; lnr: number; lc: number; lnc: number; name: string; signed?: boolean;
}): number[] {
  const m = o.m & 0x3ff, b = o.b & 0x3ff;
  const body = [
    0x20, 0x00, o.num, o.entity, 0x01,
    0x7f, 0x68, // init: scanning, events, thresholds, hysteresis, type; caps: auto re-arm, readable thresholds
    o.type, 0x01,
    0x95, 0x7a, 0x95, 0x7a, 0x3f, 0x3f, // assertion / deassertion masks, readable+settable threshold mask
    o.signed ? 0x80 : 0x00, o.units2, 0x00,
    0x00, // linear
    m & 0xff, (m >> 8) << 6,
    b & 0xff, (b >> 8) << 6,
    0x00,
    ((o.rExp & 0xf) << 4) | (o.bExp & 0xf),
    0x07, 0x80, 0xff, 0x00, 0xff, 0x00, // flags, nominal, normal max, normal min, sensor max, sensor min
    o.unr, o.uc, o.unc, o.lnr, o.lc, o.lnc,
    0x02, 0x02, 0, 0, 0,
    0xc0 | o.name.length, ...Buffer.from(o.name, 'latin1'),
  ];
  return [0x00, 0x00, 0x51, 0x01, body.length, ...body];
}

function compactSensorSdr(num: number, type: number, name: string): number[] {
  const body = [
    0x20, 0x00, num, 0x20, 0x01, 0x67, 0x40, type, 0x6f,
    0x03, 0x00, 0x03, 0x00, 0x03, 0x00,
    0xc0, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0 | name.length, ...Buffer.from(name, 'latin1'),
  ];
  return [0x00, 0x00, 0x51, 0x02, body.length, ...body];
}

/** The emulator command file: one BMC at 0x20 with SEL, and optionally sensors/SDR/FRU. */
function emuFile(index: number, o: SimOptions): string {
  const l: string[] = [];
  l.push('mc_setbmc 0x20');
  l.push(`mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr`);
  l.push('sel_enable 0x20 1000 0x0a');
  if (o.rich !== false) {
    // 1: temperature, M=1 B=-40 → raw 0x60 = 56 °C; thresholds raw (lnr lc lnc unc uc unr)
    l.push('sensor_add 0x20 0 1 0x01 0x01');
    l.push('sensor_set_value 0x20 0 1 0x60 0');
    l.push('sensor_set_threshold 0x20 0 1 settable 111111 0xa0 0x90 0x70 0x28 0x30 0x38');
    l.push('main_sdr_add 0x20 ' + hexBytes(fullSensorSdr({ num: 1, entity: 0x07, type: 0x01, units2: 1, m: 1, b: -40, rExp: 0, bExp: 0, unr: 0xa0, uc: 0x90, unc: 0x70, lnr: 0x28, lc: 0x30, lnc: 0x38, name: 'CPU Temp' })));
    // 2: 12 V rail, M=6 R=-2 → raw 200 = 12.00 V
    l.push('sensor_add 0x20 0 2 0x02 0x01');
    l.push('sensor_set_value 0x20 0 2 200 0');
    l.push('sensor_set_threshold 0x20 0 2 settable 111111 0xdc 0xd7 0xd2 0xbe 0xb9 0xb4');
    l.push('main_sdr_add 0x20 ' + hexBytes(fullSensorSdr({ num: 2, entity: 0x07, type: 0x02, units2: 4, m: 6, b: 0, rExp: -2, bExp: 0, unr: 0xdc, uc: 0xd7, unc: 0xd2, lnr: 0xb4, lc: 0xb9, lnc: 0xbe, name: '12V' })));
    // 3: fan, M=50 → raw 100 = 5000 RPM, lower thresholds only
    l.push('sensor_add 0x20 0 3 0x04 0x01');
    l.push('sensor_set_value 0x20 0 3 100 0');
    l.push('sensor_set_threshold 0x20 0 3 settable 000111 0 0 0 0x0a 0x14 0x1e');
    l.push('main_sdr_add 0x20 ' + hexBytes(fullSensorSdr({ num: 3, entity: 0x1d, type: 0x04, units2: 18, m: 50, b: 0, rExp: 0, bExp: 0, unr: 0, uc: 0, unc: 0, lnr: 0x0a, lc: 0x14, lnc: 0x1e, name: 'FAN1' })));
    // 4: discrete presence sensor with a compact record
    for (const n of [1, 2, 3]) {
      l.push(`sensor_set_event_support 0x20 0 ${n} enable scanning per-state 000111111000000 000111111000000 000111111000000 000111111000000`);
    }
    l.push('sensor_add 0x20 0 4 0x25 0x6f');
    l.push('sensor_set_bit_clr_rest 0x20 0 4 0 1');
    l.push('sensor_set_event_support 0x20 0 4 enable scanning per-state 000000000000011 000000000000011 000000000000011 000000000000011');
    l.push('main_sdr_add 0x20 ' + hexBytes(compactSensorSdr(4, 0x25, 'DIMM0 Presence')));
    const fru = sampleFru(String(1000 + index));
    l.push(`mc_add_fru_data 0x20 0 ${fru.length} data ${hexBytes(fru)}`);
  }
  if (o.watchdog) {
    l.push('sensor_add 0x20 0 0 0x23 0x6f');
    l.push('sensor_set_event_support 0x20 0 0 enable scanning per-state 000000000001111 000000000000000 000000000001111 000000000000000');
  }
  for (const rec of o.sel ?? []) l.push(`sel_add 0x20 ${hexBytes(rec)}`);
  l.push('mc_enable 0x20');
  return l.join('\n') + '\n';
}

function lanConf(index: number, dir: string, port: number, guid: string, o: SimOptions, chassisProg: string, consolePort?: number): string {
  const users = o.users ?? DEFAULT_USERS;
  const l: string[] = [];
  l.push(`name "kanri${index}"`);
  l.push('set_working_mc 0x20');
  l.push('  startlan 1');
  l.push(`    addr ${LOOPBACK} ${port}`);
  l.push('    priv_limit admin');
  l.push('    allowed_auths_callback none md5');
  l.push('    allowed_auths_user md5');
  l.push('    allowed_auths_operator md5');
  l.push('    allowed_auths_admin md5');
  l.push(`    guid ${guid}`);
  l.push('  endlan');
  l.push(`  chassis_control "${chassisProg} ${dir}"`);
  for (const u of users) l.push(`  user ${u.id} true "${u.name}" "${u.password}" ${u.priv} 10 md5`);
  if (o.hostPort) l.push(`  serial 15 ${LOOPBACK} ${o.hostPort} codec VM`);
  if (o.solPort) l.push(`  sol "tcp:${LOOPBACK}:${o.solPort}" 115200`);
  if (consolePort) l.push(`console ${LOOPBACK} ${consolePort}`);
  return l.join('\n') + '\n';
}

// A sessionless Get Channel Authentication Capabilities, hand-assembled so that readiness
// does not depend on the driver under test.
const PING = Buffer.from('0600ff0700000000000000000009200618c881043881048e0437', 'hex');

function fixPing(): Buffer {
  // rsAddr 20, netFn/lun 18, chk c8, rqAddr 81, seq 04, cmd 38, data 8e 04, chk
  const msg = [0x20, 0x18, 0xc8, 0x81, 0x04, 0x38, 0x8e, 0x04];
  let s = 0;
  for (let i = 3; i < msg.length; i++) s += msg[i]!;
  msg.push((0x100 - (s & 0xff)) & 0xff);
  return Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, msg.length]), Buffer.from(msg)]);
}
void PING;

async function waitReady(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const s = createSocket('udp4');
  const ping = fixPing();
  try {
    await new Promise<void>((resolve, reject) => {
      const end = Date.now() + timeoutMs;
      let t: NodeJS.Timeout;
      s.on('message', () => { clearTimeout(t); resolve(); });
      s.on('error', () => undefined);
      const again = () => {
        if (child.exitCode !== null) return reject(new Error(`ipmi_sim on port ${port} exited with ${child.exitCode}`));
        if (Date.now() > end) return reject(new Error(`ipmi_sim on port ${port} did not answer within ${timeoutMs} ms`));
        s.send(ping, port, LOOPBACK, () => undefined);
        t = setTimeout(again, 100);
      };
      again();
    });
  } finally {
    s.close();
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) try { c.kill('SIGKILL'); } catch { /* already gone */ }
});

async function startOne(index: number, port: number, o: SimOptions): Promise<{ bmc: SimBmc; child: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), `kanri-ipmisim-${index}-`));
  const chassisProg = join(dir, 'chassis.sh');
  writeFileSync(chassisProg, CHASSIS_SH);
  chmodSync(chassisProg, 0o755);
  writeFileSync(join(dir, 'power'), (o.power ?? 'off') === 'on' ? '1\n' : '0\n');
  writeFileSync(join(dir, 'control.log'), '');
  const guid = (index + 1).toString(16).padStart(8, '0') + 'a5a5a5a5b6b6b6b6c7c7c7c7';
  const consolePort = o.console ? await freeTcpPort() : undefined;
  const users = o.users ?? DEFAULT_USERS;
  writeFileSync(join(dir, 'lan.conf'), lanConf(index, dir, port, guid, o, chassisProg, consolePort));
  writeFileSync(join(dir, 'sim.emu'), emuFile(index, o));
  for (const u of users) writeFileSync(join(dir, `pw-${u.name}`), u.password, { mode: 0o600 });
  const child = spawn('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'sim.emu'), '-s', dir, '-n'], {
    cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: false,
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 4000) stderr += d.toString(); });
  try {
    await waitReady(port, child, 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  const bmc: SimBmc = {
    host: LOOPBACK, port, dir, guid, users,
    ...(consolePort ? { consolePort } : {}),
    readPower: () => (readFileSync(join(dir, 'power'), 'utf8').trim() === '1' ? 'on' : 'off'),
    writePower: (s) => writeFileSync(join(dir, 'power'), s === 'on' ? '1\n' : '0\n'),
    controlLog: () => readFileSync(join(dir, 'control.log'), 'utf8').split('\n').filter(Boolean),
    passwordFile: (user) => {
      const f = join(dir, `pw-${user}`);
      if (!existsSync(f)) throw new Error(`no such simulator user ${user}`);
      return f;
    },
    ipmitool: (args, opt = {}) => new Promise((resolve) => {
      const user = opt.user ?? 'admin';
      const argv = ['-I', 'lanplus', '-C', String(opt.cipher ?? 3), '-H', LOOPBACK, '-p', String(port), '-U', user, '-f', join(dir, `pw-${user}`), '-N', '1', '-R', '2', ...args];
      execFile('ipmitool', argv, { timeout: opt.timeoutMs ?? 20_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    }),
    emu: (command) => new Promise((resolve, reject) => {
      if (!consolePort) return reject(new Error('simulator started without console'));
      const sock = connect(consolePort, LOOPBACK);
      let out = '';
      const t = setTimeout(() => { sock.destroy(); resolve(out); }, 1500);
      sock.on('data', (d) => {
        out += d.toString();
      });
      sock.on('error', (e) => { clearTimeout(t); reject(e); });
      sock.on('connect', () => {
        sock.write(command + '\n');
        // The console has no end-of-answer marker: give it a moment, then leave.
        setTimeout(() => { clearTimeout(t); sock.end(); resolve(out); }, 300);
      });
    }),
  };
  return { bmc, child };
}

/** Starts `count` simulators, in parallel batches to spare a small machine. */
export async function startSims(count: number, o: SimOptions = {}, batch = 25): Promise<SimRack> {
  const ports = await freeUdpPorts(count);
  const started: { bmc: SimBmc; child: ChildProcess }[] = [];
  const stop = async () => {
    await Promise.all(started.map(({ child }) => new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      const k = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('exit', () => { clearTimeout(k); r(); });
      child.kill('SIGTERM');
    })));
    for (const { bmc } of started) rmSync(bmc.dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i += batch) {
      const chunk = await Promise.all(ports.slice(i, i + batch).map((p, j) => startOne(i + j, p, o)));
      started.push(...chunk);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { bmcs: started.map((s) => s.bmc), stop };
}

/**
 * A UDP relay in front of a BMC that replays: every `every`-th answer of the BMC is
 * dropped and the answer before it is sent again in its place, as a faulty network or
 * BMC does (after the first `after` answers). Requests pass unchanged.
 */
export async function replayingRelay(target: { host: string; port: number }, every = 3, after = 0): Promise<{ port: number; replayed: () => number; close: () => Promise<void> }> {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  let client: { address: string; port: number } | undefined;
  let last: Buffer | undefined;
  let n = 0;
  let replayed = 0;
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    back.send(msg, target.port, target.host);
  });
  back.on('message', (msg) => {
    if (!client) return;
    n++;
    // The first `after` answers pass unchanged (a login that must succeed).
    const out = n > after && n % every === 0 && last ? last : msg;
    if (out !== msg) replayed++;
    last = msg;
    front.send(out, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, LOOPBACK, () => r()));
  await new Promise<void>((r) => back.bind(0, LOOPBACK, () => r()));
  return {
    port: front.address().port,
    replayed: () => replayed,
    close: async () => {
      await new Promise<void>((r) => front.close(() => r()));
      await new Promise<void>((r) => back.close(() => r()));
    },
  };
}
