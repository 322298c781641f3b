#!/usr/bin/env node
// `pvmutl add G /c 50` on a group whose load balancer is HAProxy (runtime API), whose
// switch is an ovsdb-server and whose storage is tgtd, against a shell script that does
// the same peer operations with the peers' own clients one after another (the runtime
// API through bash's /dev/tcp, ovs-vsctl, tgtadm), measured in the same run, in
// alternating order, the peers reset between runs. Target: kanri <= 0.3 x the script.
// Loopback and unix sockets in a temporary directory only.
//   npm run build && node bench/lb-vlan-storage.mjs          (BENCH_N=50 BENCH_REPEAT=5)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_N ?? 50);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const POOL = N + 5;
const PREFIX = 'iqn.2026-01.bench.kanri';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'kanri-bench-lvs-'));
const children = [];
let controlPort;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
async function until(what, ok) {
  for (let i = 0; i < 200; i++) {
    try { if (await ok()) return; } catch { /* not yet */ }
    await sleep(50);
  }
  throw new Error(`${what} did not start`);
}
function start(cmd, args) {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.push(c);
  return c;
}
function cli(path, command) {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    let out = '';
    s.on('connect', () => s.write(command + '\n'));
    s.on('data', (d) => { out += d; });
    s.on('error', reject);
    s.on('close', () => resolve(out));
  });
}

try {
  // ---- the peers ----------------------------------------------------------------------
  const hapSock = join(dir, 'admin.sock');
  const hapPort = await freePort();
  const hapCfg = join(dir, 'haproxy.cfg');
  writeFileSync(hapCfg, `global\n  stats socket ${hapSock} level admin\n  stats socket ipv4@127.0.0.1:${hapPort} level admin\n  stats timeout 1m\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\nbackend be\n  balance roundrobin\n`);
  let haproxy;
  const startHaproxy = async () => {
    haproxy = start('haproxy', ['-f', hapCfg, '-db']);
    await until('haproxy', async () => (await cli(hapSock, 'show info')).includes('HAProxy'));
  };
  await startHaproxy();

  const ovsDb = join(dir, 'conf.db');
  const ovsSock = join(dir, 'db.sock');
  execFileSync('ovsdb-tool', ['create', ovsDb, '/usr/share/openvswitch/vswitch.ovsschema']);
  start('ovsdb-server', [ovsDb, `--remote=punix:${ovsSock}`, `--unixctl=${join(dir, 'ovs-ctl.sock')}`, '--no-chdir']);
  const vsctl = (...a) => execFileSync('ovs-vsctl', [`--db=unix:${ovsSock}`, '--no-wait', ...a], { encoding: 'utf8' });
  await until('ovsdb-server', () => { vsctl('show'); return true; });
  vsctl('init');
  vsctl('add-br', 'br0', ...Array.from({ length: POOL }, (_, i) => ['--', 'add-port', 'br0', `p${i}`]).flat());

  for (;;) {
    controlPort = 10000 + Math.floor(Math.random() * 22000);
    if (!existsSync(`/var/run/tgtd/socket.${controlPort}`)) break;
  }
  const tgtd = start('tgtd', ['-f', '-C', String(controlPort), '--iscsi', 'portal=127.0.0.1:0']);
  const tgtadm = (...a) => execFileSync('tgtadm', ['-C', String(controlPort), '--lld', 'iscsi', ...a], { encoding: 'utf8' });
  await until('tgtd', () => { tgtadm('--op', 'show', '--mode', 'target'); return true; });
  for (let i = 0; i < POOL; i++) tgtadm('--op', 'new', '--mode', 'target', '--tid', String(i + 1), '-T', `${PREFIX}:v${i}`);

  const iqn = (i) => `iqn.1994-05.com.example:m${i}`;
  const ip = (i) => `127.0.1.${i + 1}`;

  async function reset() {
    await new Promise((r) => { haproxy.once('exit', r); haproxy.kill('SIGTERM'); });
    await startHaproxy();
    vsctl(...Array.from({ length: POOL }, (_, i) => ['--', 'clear', 'port', `p${i}`, 'tag']).flat());
    let tid = 0;
    for (const line of tgtadm('--op', 'show', '--mode', 'target').split('\n')) {
      const t = /^Target (\d+):/.exec(line);
      if (t) tid = Number(t[1]);
      else if (/^ {8}iqn\.1994-05/.test(line)) tgtadm('--op', 'unbind', '--mode', 'target', '--tid', String(tid), '--initiator-name', line.trim());
    }
  }

  /** Every peer shows the N machines (whichever N of the pool): a run that did less does not count. */
  async function check(what) {
    const servers = (await cli(hapSock, 'show servers state be')).split('\n').filter((l) => /^\d+ be /.test(l)).length;
    const tags = vsctl('--columns=tag', 'find', 'port', 'tag=100').split('\n').filter((l) => l.startsWith('tag')).length;
    const acls = (tgtadm('--op', 'show', '--mode', 'target').match(/iqn\.1994-05\.com\.example:m\d+/g) ?? []).length;
    if (servers !== N || tags !== N || acls !== N) throw new Error(`${what}: ${servers} servers, ${tags} tagged ports, ${acls} initiators allowed; expected ${N} each`);
  }

  // ---- kanri ----------------------------------------------------------------------------
  const { openStore } = await import(join(root, 'dist/open-store.js'));
  const { readDataCentre } = await import(join(root, 'dist/config/validate.js'));
  const { applyDataCentre } = await import(join(root, 'dist/config/apply.js'));
  const { dc, errors } = readDataCentre({
    kanri: 1,
    settings: { 'sim.delay_ms': '0' },
    volumes: Array.from({ length: POOL }, (_, i) => ({ name: `v${i}`, array: 'tgt', kind: 'istorage' })),
    groups: [{
      name: 'G', type: 'physical', storage: true, vlan: 'VLAN-100', load_balancer: 'be',
      drivers: { power: 'sim', deploy: 'sim', monitor: 'sim', lb: 'haproxy', vlan: 'ovsdb', storage: 'iscsi-tgt' },
      driver_settings: { haproxy: { socket: hapSock }, ovsdb: { switch: `unix:${ovsSock}`, vid: '100' }, 'iscsi-tgt': { control_port: String(controlPort), target_prefix: PREFIX } },
      models: [{ name: 'std' }],
      host_settings: Array.from({ length: POOL }, (_, i) => ({ host: `h${i}`, nics: [{ addresses: [{ ip: ip(i), netmask: '255.0.0.0' }] }], volumes: [`v${i}`] })),
      pool: Array.from({ length: POOL }, (_, i) => `m${i}`),
    }],
    machines: Array.from({ length: POOL }, (_, i) => ({ name: `m${i}`, kind: 'physical', driver_settings: { ovsdb: { 'nic1.port': `p${i}` }, 'iscsi-tgt': { initiator: iqn(i) } } })),
  });
  if (!dc) throw new Error(errors.join('\n'));
  const template = join(dir, 'template.db');
  const db = openStore(template, { create: true });
  applyDataCentre(db, dc);
  db.close();
  const pvmutl = join(dir, 'pvmutl');
  symlinkSync(join(root, 'bin/kanri.js'), pvmutl);

  async function kanriRun(i) {
    const store = join(dir, `run-${i}.db`);
    copyFileSync(template, store);
    const t = process.hrtime.bigint();
    // BENCH_PROF=dir writes a V8 CPU profile of each kanri run there.
    const prof = process.env.BENCH_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
    const r = spawnSync(process.execPath, [...prof, pvmutl, 'add', 'G', '/c', String(N)], { env: { ...process.env, KANRI_DB: store }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`pvmutl add G /c ${N} exited ${r.status}: ${r.stderr}`);
    await check('kanri');
    return ms;
  }

  // ---- the script -------------------------------------------------------------------------
  const script = join(dir, 'peers.sh');
  writeFileSync(script, `#!/bin/bash
# The peer operations of 'pvmutl add G /c ${N}', with each peer's own client, one after another.
set -e
for i in $(seq 0 ${N - 1}); do
  exec 3<>/dev/tcp/127.0.0.1/${hapPort}; echo "add server be/m$i 127.0.1.$((i + 1)):80" >&3; cat <&3 >/dev/null; exec 3<&-
  exec 3<>/dev/tcp/127.0.0.1/${hapPort}; echo "set server be/m$i state ready" >&3; cat <&3 >/dev/null; exec 3<&-
  ovs-vsctl --db=unix:${ovsSock} --no-wait set port p$i tag=100
  tgtadm -C ${controlPort} --lld iscsi --op bind --mode target --tid $((i + 1)) --initiator-name iqn.1994-05.com.example:m$i
done
`);
  async function scriptRun() {
    const t = process.hrtime.bigint();
    const r = spawnSync('bash', [script], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`the script exited ${r.status}: ${r.stderr}`);
    await check('script');
    return ms;
  }

  const ks = [];
  const ss = [];
  for (let i = 0; i < REPEAT; i++) {
    if (i % 2 === 0) { await reset(); ks.push(await kanriRun(i)); await reset(); ss.push(await scriptRun()); }
    else { await reset(); ss.push(await scriptRun()); await reset(); ks.push(await kanriRun(i)); }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const k = median(ks);
  const s = median(ss);
  // On a shared machine the load changes between runs: each kanri run is compared with the
  // script run next to it (their order alternates), and the median of those ratios is the figure.
  const pairs = ks.map((x, i) => x / ss[i]);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${N} machines, ${REPEAT} runs each`);
  console.log(`pvmutl add G /c ${N} (HAProxy + ovsdb + tgtd):  median ${k.toFixed(0)} ms  [${ks.map((x) => x.toFixed(0)).join(' ')}]`);
  console.log(`shell script, the peers' own clients:         median ${s.toFixed(0)} ms  [${ss.map((x) => x.toFixed(0)).join(' ')}]`);
  console.log(`ratio per pair of runs: [${pairs.map((x) => x.toFixed(2)).join(' ')}]`);
  console.log(`ratio: kanri takes ${median(pairs).toFixed(2)} x the script's time (median of the pairs; target <= 0.3); medians alone ${(k / s).toFixed(2)}`);
  void tgtd;
} finally {
  for (const c of children) c.kill('SIGKILL');
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
  // A killed tgtd leaves its management socket behind.
  if (controlPort) for (const f of [`/var/run/tgtd/socket.${controlPort}`, `/var/run/tgtd/socket.${controlPort}.lock`]) rmSync(f, { force: true });
}
