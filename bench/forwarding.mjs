#!/usr/bin/env node
// Forwarding delay of one trap, from sending it to the monitor to its arrival at the dscli
// setTrapForward destination (a socket of this script): a monitor on an SQLite store, which
// forwards at once, against one on a PostgreSQL store (a private cluster), which forwards once
// the trap's alert is committed — the claim that makes a trap sent to several managers
// forwarded by one of them. N traps each, alternating: medians, p99 and the ratio, with the load.
//   npm run build && node bench/forwarding.mjs [N]
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { BIN, build, cleanup, load, median, run, storeFrom, tempDir, testSupport } from './support.mjs';

const N = Number(process.argv[2] ?? 100);
build();
process.env.KANRI_KEY_FILE = join(tempDir(), 'kanri.key');
const cluster = (await testSupport('postgres')).startCluster();
const settings = { 'monitor.listen': '127.0.0.1:0', 'monitor.poll_s': '0', 'monitor.trap_any_source': 'true' };
const procs = [];

/** A monitor on `db` forwarding to a socket of this script: send(trap) resolves with the delay in ms. */
async function monitorOn(db) {
  await storeFrom(db, { kanri: 1, settings });
  const dest = createSocket('udp4');
  await new Promise((r) => dest.bind(0, '127.0.0.1', r));
  const fw = await run(process.execPath, [BIN, 'dscli', 'setTrapForward', '1', `127.0.0.1:${dest.address().port}`], { KANRI_DB: db });
  if (fw.code !== 0) throw new Error(`setTrapForward: ${fw.stderr}`);
  const proc = spawn(process.execPath, [BIN, 'monitor'], { env: { ...process.env, KANRI_DB: db, LANG: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(proc);
  const port = await new Promise((resolve, reject) => {
    let log = '';
    proc.stderr.on('data', (d) => {
      log += d;
      const m = /traps on [^ ;]*:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`monitor on ${db} exited ${c}: ${log}`)));
  });
  const out = createSocket('udp4');
  return {
    close: () => { dest.close(); out.close(); },
    send: (raw) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no forwarded trap from the monitor on ${db} within 10 s`)), 10_000);
      dest.once('message', () => { clearTimeout(timer); resolve(performance.now() - t0); });
      const t0 = performance.now();
      out.send(raw, port, '127.0.0.1');
    }),
  };
}

/** A v2c trap as net-snmp's snmptrap sends it, captured once. */
async function trap() {
  const cap = createSocket('udp4');
  await new Promise((r) => cap.bind(0, '127.0.0.1', r));
  const got = new Promise((r) => cap.once('message', r));
  spawnSync('snmptrap', ['-M', '/dev/null', '-Ln', '-v', '2c', '-c', 'public', `127.0.0.1:${cap.address().port}`, '', '1.3.6.1.4.1.8072.2.3.0.9', '1.3.6.1.2.1.1.5.0', 's', 'bench'], { timeout: 10_000 });
  const raw = await got;
  cap.close();
  return raw;
}

try {
  const raw = await trap();
  const lite = await monitorOn(join(tempDir(), 'kanri.db'));
  const pg = await monitorOn(cluster.createDatabase('forwarding'));
  await lite.send(raw);
  await pg.send(raw);
  const tl = [], tp = [];
  for (let i = 0; i < N; i++) {
    if (i % 2) { tp.push(await pg.send(raw)); tl.push(await lite.send(raw)); } else { tl.push(await lite.send(raw)); tp.push(await pg.send(raw)); }
  }
  const [ml, mp] = [median(tl), median(tp)];
  const p99 = (xs) => [...xs].sort((x, y) => x - y)[Math.ceil(xs.length * 0.99) - 1];
  console.log(`forwarding delay, median and p99 of ${N} traps each (load ${load()}):`);
  console.log(`  SQLite store (forwarded at once):                  ${ml.toFixed(2)} ms, p99 ${p99(tl).toFixed(2)} ms`);
  console.log(`  PostgreSQL store (forwarded once its alert is in): ${mp.toFixed(2)} ms, p99 ${p99(tp).toFixed(2)} ms`);
  console.log(`  ratio PostgreSQL / SQLite (medians): ${(mp / ml).toFixed(2)}`);
  lite.close();
  pg.close();
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
  cluster.stop();
  await cleanup();
}
