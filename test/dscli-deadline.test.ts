// dscli's timeout is a deadline for the whole operation on one controller: an operation
// of many requests against a BMC whose answers are sometimes replayed, or one that never
// answers, ends by the deadline. Timed in-process, so that process start-up on a busy
// machine does not blur the figure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackHole, replayingRelay, startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer } from './support/peers.js';
import { dscli, newStore } from './support/dscli.js';
import { runDscli } from '../src/dscli/main.js';

const havePeer = requirePeer('ipmi_sim', 'dscli deadlines against ipmi_sim');

describe.runIf(havePeer)('dscli deadlines', () => {
  let rack: SimRack;
  let relay: Awaited<ReturnType<typeof replayingRelay>>;
  let hole: Awaited<ReturnType<typeof blackHole>>;
  let db: string;
  const timed = async (args: string[]): Promise<{ code: number; ms: number; out: string; err: string }> => {
    let out = '', err = '';
    const io = { out: (t: string) => { out += t; }, err: (t: string) => { err += t; }, stdin: () => '', isTTY: false };
    const t0 = Date.now();
    const code = await runDscli(['--db', db, ...args], io, { ...process.env, LANG: 'C' });
    return { code, ms: Date.now() - t0, out, err };
  };

  beforeAll(async () => {
    rack = await startSims(1, { power: 'on' });
    const bmc = rack.bmcs[0]!;
    relay = await replayingRelay(bmc);
    hole = await blackHole();
    db = newStore();
    for (const [name, port] of [['direct', bmc.port], ['replayed', relay.port], ['dead', hole.port]] as const) {
      expect(dscli(db, ['createServer', name, 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${bmc.passwordFile('admin')}`]).code).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    await relay?.close();
    await hole?.close();
    await rack?.stop();
  });

  it('getBmcConfig through replayed answers: done or failed within the deadline, never seconds late', async () => {
    // In-process and warm: the modules are loaded once, so the figure is the operation's own.
    const direct = await timed(['getBmcConfig', 'direct']);
    expect(direct.code, direct.err).toBe(0);
    for (const timeout of [2, 3]) {
      const r = await timed(['getBmcConfig', 'replayed', `timeout=${timeout}`]);
      expect([0, 5], r.err).toContain(r.code);
      if (r.code === 0) expect(r.out).toBe(direct.out);
      expect(r.ms, `timeout=${timeout}: code ${r.code} ${r.out}${r.err}`).toBeLessThan(timeout * 1000 + 150);
    }
    expect(relay.replayed()).toBeGreaterThan(0);
  }, 60_000);

  it('an operation of several requests on a BMC that never answers ends at its deadline', async () => {
    await timed(['getHardwareInfo', 'direct']);
    for (const cmd of [['getBmcConfig', 'dead'], ['getHardwareInfo', 'dead'], ['getSel', 'dead']]) {
      const r = await timed([...cmd, 'timeout=1']);
      expect(r.code, cmd.join(' ')).toBe(5);
      expect(r.ms, cmd.join(' ')).toBeLessThan(1000 + 150);
    }
  }, 60_000);
});
