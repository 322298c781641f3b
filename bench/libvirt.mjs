#!/usr/bin/env node
// libvirt driver benchmarks against three real libvirtd daemons (test driver), each ratio
// measured against bare virsh in the same run:
//  1. `pvmutl vmadd G vmN` for 50 VMs over 3 VM servers, one command per VM, all started at
//     once, against a shell loop of the equivalent `virsh define && virsh start` calls.
//     Target: kanri's time per VM <= 1.5 x the bare calls'.
//  2. `kanri vmserver failover` of a server holding 30 VMs (its daemon stopped) against the
//     same 30 defines and starts done one after another by virsh. Target <= 0.5 x.
//   npm run build && node bench/libvirt.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { storeFrom } from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const ADDS = 50;
const FAILOVER = 30;
const dir = mkdtempSync(join(tmpdir(), 'kanri-bench-libvirt-'));
const env = { ...process.env, LC_ALL: 'C' };
const daemons = [];

async function daemon(name, run = '1') {
  const d = join(dir, `${name}-${run}`);
  mkdirSync(join(d, 'run'), { recursive: true });
  mkdirSync(join(d, 'drivers'));
  writeFileSync(join(d, 'conf'), `unix_sock_dir = "${join(d, 'run')}"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n`);
  const sock = join(d, 'run', 'libvirt-sock');
  const uri = `test+unix:///default?socket=${sock}`;
  const p = spawn('/usr/sbin/libvirtd', ['--config', join(d, 'conf'), '--pid-file', join(d, 'pid')], { env: { ...env, LIBVIRT_DRIVER_DIR: join(d, 'drivers') }, stdio: 'ignore' });
  const s = { name, uri, p, holder: undefined, stop: () => { s.holder?.kill('SIGKILL'); p.kill('SIGKILL'); } };
  daemons.push(s);
  for (let i = 0; !existsSync(sock); i++) { if (i > 600) throw new Error(`libvirtd ${name} did not start`); await sleep(25); }
  // The test driver keeps its state while a connection is open.
  const holder = spawn('virsh', ['-q', '-c', uri, 'event', '--all', '--loop'], { env, stdio: 'ignore' });
  s.holder = holder;
  for (let i = 0; spawnSync('virsh', ['-q', '-c', uri, 'uri'], { env }).status !== 0; i++) { if (i > 200) throw new Error(`libvirtd ${name} does not answer`); await sleep(25); }
  spawnSync('virsh', ['-q', '-c', uri, 'destroy test; undefine test'], { env });
  return s;
}

const virsh = (uri, cmd) => execFileSync('virsh', ['-q', '-c', uri, cmd], { env, encoding: 'utf8' });
const count = (uri, prefix = '') => virsh(uri, 'list --name').split('\n').filter((n) => n && n.startsWith(prefix) && n !== 'test').length;
const template = (name) => `<domain type='test'><name>${name}</name><memory unit='KiB'>64</memory><vcpu>1</vcpu><os><type arch='i686'>hvm</type></os>`
  + `<devices><disk type='file' device='disk'><source file='/shared/${name}.img'/><target dev='vda' bus='virtio'/></disk><interface type='network'><source network='default'/></interface></devices></domain>\n`;

function store(servers, file = 'kanri.db') {
  const path = join(dir, file);
  writeFileSync(join(dir, 't.xml'), template('template').replace('/shared/template.img', '/shared/{name}.img'));
  const drivers = { vm: 'libvirt', power: 'libvirt', monitor: 'libvirt', deploy: 'local' };
  const dc = {
    kanri: 1,
    settings: { 'vm.reading_max_age_s': '600' },
    software: [{ name: 'T', kind: 'template', cost: 1, source: join(dir, 't.xml') }],
    groups: [
      { name: 'Hosts', type: 'vmserver', drivers: { power: 'sim', vm: 'libvirt' }, models: [{ name: 'kvm' }], host_settings: servers.map((_, i) => ({ host: `h${i}` })) },
      { name: 'G', type: 'virtual', template: 'T', drivers, models: [{ name: 'vm', vm_server_model: 'Hosts/kvm' }], host_settings: Array.from({ length: ADDS + FAILOVER }, (_, i) => ({ host: `w${i}` })) },
    ],
    machines: servers.map((s, i) => ({
      name: s.name, kind: 'vmserver', power: 'on', capacity: 1000, datastores: [{ name: 'default-pool', shared: true }],
      driver_settings: { libvirt: { uri: s.uri } }, active: { group: 'Hosts', model: 'kvm', host: `h${i}`, from: 'master' },
    })),
  };
  return storeFrom(path, dc);
}

/** Runs the commands at once; the ones that failed, with their exit code and message. */
async function runAll(cmds) {
  const results = await Promise.all(cmds.map(([bin, args]) => new Promise((resolve) => {
    const c = spawn(bin, args, { env: { ...env, KANRI_DB: db }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => resolve(code === 0 ? undefined : `${args.join(' ')}: exit ${code}: ${err.trim()}`));
  })));
  return results.filter(Boolean);
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
let db;
try {
  const servers = await Promise.all(['vs1', 'vs2', 'vs3'].map((n) => daemon(n)));
  db = await store(servers);
  const pvmutl = join(dir, 'pvmutl');
  const kanri = join(dir, 'kanri');
  symlinkSync(join(root, 'bin/kanri.js'), pvmutl);
  symlinkSync(join(root, 'bin/kanri.js'), kanri);
  execFileSync(kanri, ['vmserver', 'collect'], { env: { ...env, KANRI_DB: db } });
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  // 1. vmadd x 50, concurrently, against the shell loop.
  for (let i = 0; i < ADDS; i++) writeFileSync(join(dir, `bare${i}.xml`), template(`bare${i}`));
  const loop = Array.from({ length: ADDS }, (_, i) => {
    const u = servers[i % 3].uri;
    return `virsh -q -c '${u}' define ${join(dir, `bare${i}.xml`)} >/dev/null && virsh -q -c '${u}' start bare${i} >/dev/null || exit 1`;
  }).join('\n');
  writeFileSync(join(dir, 'loop.sh'), loop + '\n');
  let t0 = process.hrtime.bigint();
  const sh = spawnSync('bash', [join(dir, 'loop.sh')], { env });
  const bare = ms(t0);
  if (sh.status !== 0) throw new Error(`the virsh loop failed: ${sh.stderr}`);
  t0 = process.hrtime.bigint();
  const failed = await runAll(Array.from({ length: ADDS }, (_, i) => [pvmutl, ['vmadd', 'G', `vm${i}`]]));
  const adds = ms(t0);
  const running = servers.reduce((n, s) => n + count(s.uri, 'vm'), 0);
  if (failed.length) console.log(`vmadd: ${failed.length} of ${ADDS} commands failed:\n  ${failed.join('\n  ')}`);
  if (running !== ADDS - failed.length) throw new Error(`expected ${ADDS - failed.length} running domains, virsh shows ${running}`);
  console.log(`vmadd: ${ADDS} concurrent pvmutl vmadd ${adds.toFixed(0)} ms (${(adds / ADDS).toFixed(1)} ms/VM); shell loop of virsh define && start ${bare.toFixed(0)} ms (${(bare / ADDS).toFixed(1)} ms/VM)`);
  console.log(`ratio: kanri per VM / bare virsh per VM = ${(adds / bare).toFixed(2)} (target <= 1.5); kanri's overhead beyond the bare calls = ${((adds - bare) / bare).toFixed(2)} x`);

  // 2. Failover of 30 VMs from a stopped server: new daemons (a fresh test-driver state) and a new store.
  for (const s of daemons.splice(0)) s.stop();
  const servers2 = await Promise.all(['vs1', 'vs2', 'vs3'].map((n) => daemon(n, '2')));
  db = await store(servers2, 'kanri2.db');
  execFileSync(kanri, ['vmserver', 'collect'], { env: { ...env, KANRI_DB: db } });
  const src = servers2[0];
  servers.splice(0, 3, ...servers2);
  // Set-up, not measured: one after another.
  for (let i = 0; i < FAILOVER; i++) {
    const f = await runAll([[pvmutl, ['vmadd', 'G', `fo${i}`, '/VMS', src.name]]]);
    if (f.length) throw new Error(f[0]);
  }
  if (count(src.uri, 'fo') !== FAILOVER) throw new Error(`expected ${FAILOVER} domains on ${src.name}`);
  for (let i = 0; i < FAILOVER; i++) writeFileSync(join(dir, `fb${i}.xml`), template(`fb${i}`));
  const serial = Array.from({ length: FAILOVER }, (_, i) => {
    const u = servers[1 + (i % 2)].uri;
    return `virsh -q -c '${u}' define ${join(dir, `fb${i}.xml`)} >/dev/null && virsh -q -c '${u}' start fb${i} >/dev/null || exit 1`;
  }).join('\n');
  writeFileSync(join(dir, 'serial.sh'), serial + '\n');
  t0 = process.hrtime.bigint();
  const s2 = spawnSync('bash', [join(dir, 'serial.sh')], { env });
  const bareFo = ms(t0);
  if (s2.status !== 0) throw new Error(`the virsh loop failed: ${s2.stderr}`);
  src.stop();
  await sleep(200);
  t0 = process.hrtime.bigint();
  const fo = spawnSync(kanri, ['vmserver', 'failover', src.name], { env: { ...env, KANRI_DB: db }, encoding: 'utf8' });
  const failover = ms(t0);
  if (fo.status !== 0) throw new Error(`kanri vmserver failover exited ${fo.status}: ${fo.stderr}`);
  const moved = servers.slice(1).reduce((n, s) => n + virsh(s.uri, 'list --name').split('\n').filter((l) => l.startsWith('fo')).length, 0);
  if (moved !== FAILOVER) throw new Error(`expected ${FAILOVER} failed-over domains running, virsh shows ${moved}`);
  console.log(`failover: kanri vmserver failover of ${FAILOVER} VMs ${failover.toFixed(0)} ms; ${FAILOVER} serial virsh define && start ${bareFo.toFixed(0)} ms`);
  console.log(`ratio: failover / serial virsh = ${(failover / bareFo).toFixed(2)} (target <= 0.5)`);
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  for (const s of daemons) s.stop();
  rmSync(dir, { recursive: true, force: true });
}
