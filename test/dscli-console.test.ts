// dscli console against OpenIPMI ipmi_sim's Serial over LAN. The serial side is a real
// program: socat listens on a loopback port for the BMC's serial line and runs a shell
// on it, with every byte the shell receives also kept in a file (a break arrives there
// as telnet IAC BREAK, which is how ipmi_sim passes a break to a TCP serial port).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, replayingRelay, startSims, type SimBmc, type SimRack } from './support/ipmi-sim.js';
import { requirePeer } from './support/peers.js';
import { binaries } from './support/cli.js';
import { until } from './support/until.js';
import { exec, fixtureStore, queryAll, tempDir } from './support/store.js';
import { dscli } from './support/dscli.js';

const havePeers = requirePeer('ipmi_sim', 'dscli console against ipmi_sim SOL') && requirePeer('socat', 'dscli console: the serial side');

const YAML = `
kanri: 1
machines:
  - { name: other, kind: physical }
`;

interface Live { child: ChildProcess; out: () => Buffer; err: () => string; exit: Promise<number | null> }

function startConsole(db: string, name: string, env: NodeJS.ProcessEnv = {}): Live {
  const child = spawn(join(binaries(), 'dscli'), ['console', name], { env: { ...process.env, LANG: 'C', LC_ALL: '', KANRI_DB: db, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => Buffer.concat(out), err: () => err, exit };
}

describe.runIf(havePeers)('dscli console: IPMI Serial over LAN with ipmi_sim', () => {
  let rack: SimRack;
  let bmc: SimBmc;
  let serial: ChildProcess;
  let serialIn: string;
  let db: string;
  let relay: Awaited<ReturnType<typeof replayingRelay>>;

  beforeAll(async () => {
    const dir = tempDir();
    serialIn = join(dir, 'serial.in');
    writeFileSync(serialIn, '');
    const line = join(dir, 'line.sh');
    // The serial line's far end: what arrives is kept, and a shell answers it.
    writeFileSync(line, `#!/bin/sh\ntee -a '${serialIn}' | sh 2>&1\n`);
    chmodSync(line, 0o755);
    const port = await freeTcpPort();
    serial = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `EXEC:${line}`], { stdio: 'ignore' });
    await until('socat to listen', () => spawnSync('sh', ['-c', `ss -Hltn 'sport = :${port}' | grep -q .`]).status === 0, 10_000);
    rack = await startSims(1, { solPort: port, rich: false });
    bmc = rack.bmcs[0]!;
    db = fixtureStore(YAML);
    expect(dscli(db, ['createServer', 's1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.port}`, 'user=oper', `password_file=${bmc.passwordFile('oper')}`]).code).toBe(0);
    expect(dscli(db, ['createServer', 'simbox', 'mgmt=sim']).code).toBe(0);
    // The same BMC behind a network that, once the console is open, loses every fourth answer
    // and repeats the one before in its place. ipmi_sim counts its SOL resends over the whole
    // console, not per packet, and after five it drops what it holds and stops reading the
    // serial port: the loss here stays below that.
    relay = await replayingRelay(bmc, 4, 12);
    expect(dscli(db, ['createServer', 'lossy', 'mgmt=ipmi', 'address=127.0.0.1', `port=${relay.port}`, 'user=oper', `password_file=${bmc.passwordFile('oper')}`, 'cipher=3']).code).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await rack?.stop();
    serial?.kill('SIGTERM');
  });

  it('characters flow both ways, a break reaches the serial port, ~. leaves and frees the console', async () => {
    const c = startConsole(db, 's1', { SUDO_USER: 'alice' });
    // The claim is in the store while the console runs.
    await until('the claim', () => queryAll(db, "SELECT holder FROM console_claims c JOIN machines m ON m.id = c.machine_id WHERE m.name = 's1'").length === 1);
    c.child.stdin!.write('echo kanri-$((6*7))\n');
    await until('the shell to answer', () => c.out().toString().includes('kanri-42'));

    // More than the BMC takes in one packet (ipmi_sim: 32 bytes) goes in several, in order.
    const long = 'x'.repeat(300);
    c.child.stdin!.write(`echo ${long}-end\n`);
    await until('the long line back', () => c.out().toString().includes(`${long}-end`));

    // Many packets from the BMC, each acknowledged: every line once, in order.
    c.child.stdin!.write('seq 1 3000 | sed s/^/n/\n');
    await until('3000 lines', () => c.out().toString().includes('n3000\n'), 60_000);
    const nums = c.out().toString().split('\n').filter((l) => /^n\d+$/.test(l)).map((l) => Number(l.slice(1)));
    expect(nums).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));

    // A second console is refused naming the holder; the first is untouched.
    const second = dscli(db, ['console', 's1']);
    expect(second.code).toBe(3);
    expect(second.err).toMatch(/^dscli: the console of s1 is in use by alice@\S+ since \d{4}-/);

    // ipmi_sim hands a break to a TCP serial port as IAC BREAK together with the next characters.
    c.child.stdin!.write('~B\n');
    await until('the break on the serial line', () => readFileSync(serialIn).includes(Buffer.from([0xff, 0xf3])));
    c.child.stdin!.write('~.');
    expect(await c.exit).toBe(0);
    expect(queryAll(db, 'SELECT * FROM console_claims')).toEqual([]);
    // A tilde inside a line is an ordinary character.
    expect(readFileSync(serialIn, 'latin1')).toContain('echo kanri-$((6*7))\n');
  }, 120_000);

  it('the BMC released the payload: the next console opens; end of input leaves too', async () => {
    const c = startConsole(db, 's1');
    c.child.stdin!.write('echo again-$((2+3))\n');
    await until('the shell', () => c.out().toString().includes('again-5'));
    c.child.stdin!.end();
    expect(await c.exit).toBe(0);
  }, 60_000);

  it('a claim whose holder went silent is taken over, saying whose it was', async () => {
    const id = (queryAll(db, "SELECT id FROM machines WHERE name = 's1'")[0] as { id: number }).id;
    const old = new Date(Date.now() - 120_000).toISOString();
    exec(db, 'INSERT INTO console_claims (machine_id, holder, token, since, seen_at) VALUES (?, ?, ?, ?, ?)', id, 'bob@deadhost', 't', old, old);
    const c = startConsole(db, 's1');
    await until('the takeover', () => c.err().includes('bob@deadhost'));
    await until('the claim is ours', () => (queryAll(db, 'SELECT holder FROM console_claims')[0] as { holder?: string } | undefined)?.holder !== 'bob@deadhost');
    c.child.stdin!.write('~.');
    expect(await c.exit).toBe(0);
  }, 60_000);

  it('over a network that loses and repeats packets: every character once, in order, both ways', async () => {
    const c = startConsole(db, 'lossy');
    const long = 'y'.repeat(200);
    c.child.stdin!.write(`echo ${long}-end; seq 1 300 | sed s/^/m/\n`);
    await until('300 lines', () => c.out().toString().includes('m300\n'), 60_000);
    const text = c.out().toString();
    expect(text).toContain(`${long}-end\n`);
    const nums = text.split('\n').filter((l) => /^m\d+$/.test(l)).map((l) => Number(l.slice(1)));
    expect(nums).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(relay.replayed()).toBeGreaterThan(0);
    c.child.stdin!.write('~.');
    expect(await c.exit).toBe(0);
  }, 120_000);

  it('a BMC that stops answering ends the console: exit 5, the claim released', async () => {
    const port = await freeTcpPort();
    const own = await startSims(1, { solPort: port, rich: false });
    try {
      const b = own.bmcs[0]!;
      expect(dscli(db, ['createServer', 'mortal', 'mgmt=ipmi', 'address=127.0.0.1', `port=${b.port}`, 'user=oper', `password_file=${b.passwordFile('oper')}`]).code).toBe(0);
      const c = startConsole(db, 'mortal');
      await until('the claim', () => queryAll(db, "SELECT 1 FROM console_claims c JOIN machines m ON m.id = c.machine_id WHERE m.name = 'mortal'").length === 1);
      await until('the console to open', () => c.err().length > 0);
      await own.stop();
      const t0 = Date.now();
      c.child.stdin!.write('anyone there?\n');
      expect(await c.exit).toBe(5);
      // Four retransmissions of a second each, and the deactivation's own short budget.
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(c.err()).toMatch(/ended: the BMC acknowledged nothing/);
      expect(queryAll(db, "SELECT 1 FROM console_claims c JOIN machines m ON m.id = c.machine_id WHERE m.name = 'mortal'")).toEqual([]);
    } finally {
      await own.stop();
    }
  }, 60_000);

  it('a server whose controller has no serial console: not supported (6), nothing claimed', () => {
    const r = dscli(db, ['console', 'simbox']);
    expect(r.code).toBe(6);
    expect(queryAll(db, 'SELECT * FROM console_claims')).toEqual([]);
    expect(dscli(db, ['console', 'nosuch']).code).toBe(2);
    expect(dscli(db, ['console']).code).toBe(1);
    expect(existsSync(serialIn)).toBe(true);
  });
});
