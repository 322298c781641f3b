#!/usr/bin/env node
// Where the CPU time of a whole `dscli getPowerStatus` process goes, beside FreeIPMI's
// ipmi-power on the same ipmi_sim BMCs: what bounds issue 25's CPU row, measured rather
// than guessed. Three parts:
//
//   1. A whole process by size: CPU time (user + system) of `node -e 0`, `dscli help`,
//      `dscli getPowerStatus` on 1, 50 and 200 BMCs and `ipmi-power --stat` on 1, 50 and
//      200, medians of alternating runs. The 1-BMC run is the fixed cost of a process; the
//      runs from 50 to 200 give the cost of each further BMC.
//   2. V8 starting cold: the IPMI library in this process, 200 BMCs a round, six rounds.
//      The first round runs code that V8 has not warmed up (interpreter, baseline code,
//      TurboFan compiling on its worker threads); the last rounds run warm code. A dscli
//      process only ever runs a first round.
//   3. Where `perf` can sample (the software event cpu-clock; no hardware counters needed):
//      samples of `dscli getPowerStatus` on 200 BMCs, main thread and V8's worker threads
//      apart, by kind (kernel, JavaScript, V8's runtime, TurboFan, GC, OpenSSL, SQLite…).
//      Without perf this part says so and is left out.
//
// A diagnostic, not a target: every figure comes with the load of other processes, and on
// a loaded machine the absolute times grow while the shares and slopes stay readable.
//
//   node bench/dscli-cpu.mjs                   (builds first; BENCH_RUNS=11, BENCH_PERF_RUNS=5)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as b from './support.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const PERF_RUNS = Number(process.env.BENCH_PERF_RUNS ?? 5);
const N = 200, SMALL = 50;
const watchdog = b.watchdog(Number(process.env.BENCH_MAX_S ?? 900));

/** What a perf sample's symbol and object say it was doing; the first kind that fits. */
const KINDS = [
  ['kernel (system calls, scheduling, page faults)', (dso) => dso.includes('kernel')],
  ['GC', (dso, sym) => /Scaveng|Heap::|MarkCompact|Sweeper|Marking|Evacuat|GCTracer|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|Remembered|SlotSet|MinorMC|ArrayBufferSweeper/.test(sym)],
  ['TurboFan compiling', (dso, sym) => /compiler::|Turbofan|Pipeline|OptimizingCompile|Zone::/.test(sym)],
  ['parsing, bytecode compiling', (dso, sym) => /Scanner|Parser|AstValue|BytecodeGenerator|interpreter::Bytecode|Compiler::Compile|CalculateLineEnds|DeclarationScope|Scope::/.test(sym)],
  ['code cache and snapshot reading', (dso, sym) => /Deserializ|CodeSerializer|SnapshotByte|SerializedCodeData/.test(sym)],
  ['JavaScript (interpreter, baseline and optimised code, builtins, ICs)', (dso, sym) => /^Builtins_/.test(sym) || dso.includes('JIT') || dso.includes('perf-') || dso === '[unknown]'],
  ['SQLite', (dso) => dso.includes('sqlite')],
  ['OpenSSL', (dso, sym) => /EVP_|SHA1|SHA256|sha1|sha256|aes|AES|OPENSSL|ossl|OSSL|CRYPTO_|HMAC|evp_|ossl_|PROV|RAND/.test(sym)],
  ['libc (malloc, memcpy)', (dso) => dso.includes('libc') || dso.includes('ld-linux')],
  ["V8's runtime (objects, ICs' slow paths, strings)", (dso, sym) => /v8::internal|Runtime_/.test(sym)],
  ['Node C++, libuv', (dso, sym) => /node::|uv_|v8::/.test(sym)],
  ['other', () => true],
];

function sideTable(title, rows) {
  console.log(`\n${title}`);
  for (const [label, v] of rows) console.log(`  ${label.padEnd(34)} ${v}`);
}

try {
  console.log(`load average at start: ${b.load()}`);
  b.build();
  b.requireCommands('ipmi_sim', 'ipmi-power');
  const rack = await b.startRack(N);
  const { dbPath, range } = await b.registryFor(rack);
  const conf = b.freeipmiConfig();
  const dscli = b.named('dscli');
  const hosts = (n) => rack.bmcs.slice(0, n).map((x) => `${x.host}:${x.port}`).join(',');
  const idle = b.simulatorsIdle;
  // Fresh simulators answer their first sessions slowly: one pass first, not measured.
  await b.run('ipmi-power', ['--config-file', conf, '-h', hosts(N), '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat', '-F', '16'], {}, 120_000);

  // 1. A whole process by size.
  const power = (n) => [dscli, ['getPowerStatus', n === 1 ? 'b001' : range(n)]];
  const fi = (n) => ['ipmi-power', ['--config-file', conf, '-h', hosts(n), '-D', 'LAN_2_0', '-W', 'opensesspriv', '--stat']];
  const commands = {
    'node -e 0': [process.execPath, ['-e', '0']], 'dscli help': [dscli, ['help']],
    'dscli getPowerStatus, 1 BMC': power(1), [`dscli getPowerStatus, ${SMALL} BMCs`]: power(SMALL), [`dscli getPowerStatus, ${N} BMCs`]: power(N),
    'ipmi-power --stat, 1 BMC': fi(1), [`ipmi-power --stat, ${SMALL} BMCs`]: fi(SMALL), [`ipmi-power --stat, ${N} BMCs`]: fi(N),
  };
  const cpu = {}, problems = new Set();
  const others = b.othersLoad();
  for (let i = 0; i <= RUNS; i++) {
    const names = Object.keys(commands);
    if (i % 2) names.reverse();
    for (const name of names) {
      await idle();
      const [cmd, args] = commands[name];
      const r = await b.run(cmd, args, { KANRI_DB: dbPath }, 120_000, { cpu: true });
      if (r.code !== 0) problems.add(`${name} exited ${r.code}: ${r.stderr.split('\n')[0]}`);
      if (i > 0 && r.cpuMs !== undefined) (cpu[name] ??= []).push(r.cpuMs);
    }
  }
  const load1 = others.stop();
  const m = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, b.median(v)]));
  sideTable(`1. CPU time of a whole process (user + system), medians of ${RUNS} alternating runs; load ${b.load()}, others ${load1.toFixed(2)}`,
    Object.keys(commands).map((k) => [k, `${m[k].toFixed(1)} ms`]));
  const slope = (tool) => (m[`${tool}, ${N} BMCs`] - m[`${tool}, ${SMALL} BMCs`]) / (N - SMALL);
  console.log(`  fixed (1 BMC): dscli ${m['dscli getPowerStatus, 1 BMC'].toFixed(1)} ms (node -e 0 ${m['node -e 0'].toFixed(1)}), ipmi-power ${m['ipmi-power --stat, 1 BMC'].toFixed(1)} ms`);
  console.log(`  per further BMC (${SMALL} → ${N}): dscli ${slope('dscli getPowerStatus').toFixed(3)} ms, ipmi-power ${slope('ipmi-power --stat').toFixed(3)} ms`);
  for (const p of problems) console.log(`  ${p}`);

  // 2. V8 starting cold: the same work, round after round, in this process.
  const ipmi = await b.dist('ipmi/index.js');
  const targets = rack.bmcs.map((x) => ({ host: x.host, port: x.port, user: 'admin', password: 'adminpass', cipherSuite: 3 }));
  const rounds = [];
  for (let i = 0; i < 6; i++) {
    await idle();
    const c = process.cpuUsage();
    const res = await ipmi.powerAll(targets, 'status', { concurrency: 64, timeoutMs: 1000, retries: 2, deadlineMs: 5000 });
    const used = process.cpuUsage(c);
    const failed = res.filter((x) => !x.ok).length;
    rounds.push(`${((used.user + used.system) / 1000).toFixed(1)}${failed ? ` (${failed} failed)` : ''}`);
  }
  console.log(`\n2. The IPMI library in this process, ${N} BMCs a round: CPU per round ${rounds.join(', ')} ms; load ${b.load()}`);
  console.log('  (the first round is what a dscli process runs; the last ones are warm code)');

  // 3. Where it goes, by perf samples.
  if (spawnSync('perf', ['--version']).status !== 0) {
    console.log('\n3. perf is not installed: the samples by kind are left out');
  } else {
    const dir = b.tempDir('kanri-bench-perf-');
    const byThread = { main: new Map(), workers: new Map() };
    let recorded = 0;
    for (let i = 0; i < PERF_RUNS; i++) {
      await idle();
      const file = join(dir, `${i}.data`);
      const r = await b.run('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '10000', '-o', file, '--', dscli, 'getPowerStatus', range(N)], { KANRI_DB: dbPath });
      if (r.code !== 0) {
        console.log(`\n3. perf record failed (${r.stderr.split('\n')[0]}): the samples by kind are left out`);
        break;
      }
      const s = await b.run('perf', ['script', '-i', file, '-F', 'pid,tid,ip,sym,dso']);
      for (const line of s.stdout.split('\n')) {
        // "pid/tid  address symbol (object)"
        const x = /^\s*(\d+)\/(\d+)\s+[0-9a-f]+\s+(.*?)\s*\(([^)]*)\)\s*$/.exec(line);
        if (!x) continue;
        const kind = KINDS.find(([, fits]) => fits(x[4], x[3]))[0];
        const t = byThread[x[1] === x[2] ? 'main' : 'workers'];
        t.set(kind, (t.get(kind) ?? 0) + 1);
      }
      recorded++;
    }
    if (recorded) {
      const ms = (samples) => (samples / 10 / recorded).toFixed(1).padStart(6);
      console.log(`\n3. dscli getPowerStatus on ${N} BMCs under perf (cpu-clock, 10 kHz, ${recorded} runs; perf adds its own cost): ms per run; load ${b.load()}`);
      for (const [name, t] of Object.entries(byThread)) {
        const total = [...t.values()].reduce((a, x) => a + x, 0);
        console.log(`  ${name === 'main' ? 'main thread' : "V8's worker threads"}: ${ms(total)} ms`);
        for (const [kind, n] of [...t].sort((p, q) => q[1] - p[1])) console.log(`    ${ms(n)}  ${kind}`);
      }
    }
  }
  console.log(`\nload average at end: ${b.load()}`);
} finally {
  await b.cleanup();
  clearTimeout(watchdog);
}
