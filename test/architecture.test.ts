// The structure docs/architecture.md describes, pinned: one module writes job states, the
// engine and drivers know nothing of pvmutl's codes, dscli has no controller-type branching
// or power code of its own, the sim driver's tables are its own, power policy is written
// once, settings are read through their declarations, the driver spec is the only
// registration, the store imports no layer above it, src/ipmi knows no front end, a
// change's outcome is the engine's, there is one wait, "registry" means one thing, tests
// share their helpers and count their skips — and every file the page names exists.
// Each rule names what a new leak looks like, so that it fails on one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRIVER_SPECS } from '../src/adapters/registry.js';
import { DRIVER_COMPONENTS } from '../src/open-store.js';
import { ROOT } from './support/store.js';

function sources(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const e of readdirSync(join(ROOT, dir))) {
    const p = join(ROOT, dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(relative(ROOT, p)));
    else if (p.endsWith('.ts')) out.push({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') });
  }
  return out;
}

const matching = (files: Array<{ path: string; text: string }>, re: RegExp): string[] => files.filter((f) => re.test(f.text)).map((f) => f.path);

describe('architecture', () => {
  const src = sources('src');

  it('the engine, the drivers and the domain know nothing of pvmutl exit codes', () => {
    expect(matching(src.filter((f) => /^src\/(engine|adapters|domain)\//.test(f.path)), /PvmError|from '[^']*pvmutl\//)).toEqual([]);
  });

  it('monitor chain states change in src/monitor/chain-state.ts only (CHAIN_TRANSITIONS), as jobs do', () => {
    // a status assigned in the SET clause of monitor_chains (a new chain is created in its first state by chains.ts)
    const writes = /UPDATE monitor_chains SET (?:(?!WHERE)[^`'"])*\bstatus\s*=/;
    expect(matching(src, writes)).toEqual(['src/monitor/chain-state.ts']);
  });

  it('job and step states are written in src/engine/job-state.ts only', () => {
    // a status assigned in the SET clause, or a new row
    const writes = /UPDATE (jobs|job_steps) SET (?:(?!WHERE)[^`'"])*\bstatus\s*=|INSERT INTO (jobs|job_steps)\b/;
    expect(matching(src, writes)).toEqual(['src/engine/job-state.ts']);
  });

  it('dscli has no controller-type branching and no power or IPMI code of its own', () => {
    const dscli = src.filter((f) => f.path.startsWith('src/dscli/'));
    expect(matching(dscli, /mgmt(_type)?\s*[!=]==\s*'/)).toEqual([]);
    expect(matching(dscli, /from '\.\.\/ipmi\//)).toEqual([]);
    expect(matching(dscli, /sim_power|chassisControl|getChassisStatus/)).toEqual([]);
  });

  it('the sim driver\'s tables are used by the sim driver only', () => {
    const users = matching(src, /\bsim_(power|faults|installed|volumes|vlan_ports|lb_members|registrations)\b/);
    // core migration 2 created them before the sim driver had its own schema component
    expect(users.filter((p) => !p.startsWith('src/adapters/sim/'))).toEqual(['src/store/migrations.ts']);
  });

  it('power policy is written once: drivers read and send, src/util/power-action.ts plans and waits', () => {
    // the plan's words and a wait loop of its own mark a copy of the policy
    expect(matching(src, /'already (on|off)'|note: `off: not /)).toEqual(['src/util/power-action.ts']);
    const drivers = src.filter((f) => /^src\/(adapters\/(ipmi|redfish|sim|libvirt)|ipmi)\//.test(f.path));
    expect(matching(drivers, /(async |function )act\s*\(|function plan\(|verified\s*=/)).toEqual([]);
  });

  it('one settings reader: no module reads a setting raw, so each is checked against its declaration and its default written once', () => {
    // the store's own accessor, the scoped driver-setting lookup and the reader itself
    // (kanri settings get shows what is stored, as stored)
    expect(matching(src, /\bgetSetting\(/).sort()).toEqual(['src/adapters/setting-reader.ts', 'src/adapters/settings.ts', 'src/kanri/settings-cli.ts', 'src/store/settings.ts']);
    // a number parsed from a setting's text is a private parser: settingNumber and SettingReader.num check it against its declaration
    expect(matching(src, /\b(Number|parseInt|parseFloat)\(\s*(settingText|monitorSetting|serveSetting|getSetting|[\w.]+\.(str|raw|need))\(/)).toEqual([]);
    // a driver setting (machine → group → global → default) is resolved for SettingReader only
    expect(matching(src, /\b(driverSetting|driverSettingLookup|resolveSetting)\(/).sort()).toEqual(['src/adapters/setting-reader.ts', 'src/adapters/settings.ts']);
    // an owner's own value, without the fallback: the sim's per-machine delay (which outranks
    // the per-operation global ones, checked when written) and kanri redfish trust (what was stored)
    expect(matching(src, /\bownDriverSetting\(/).sort()).toEqual(['src/adapters/settings.ts', 'src/adapters/sim/state.ts', 'src/kanri/redfish.ts']);
    // a literal fallback after a declared read is a second default (a computed one is not)
    const reads = /(\.(str|num|raw)\(('[^']+'|`[^`]+`)\)|\b(setting(Text|Number)|monitor(Setting|Number)|serveSetting|dscliNumber)\([^()]*\))\s*(\?\?|\|\|)\s*(?!'')['"\d]/;
    expect(matching(src, reads)).toEqual([]);
  });

  it('the composition root hands the store exactly the schema components the driver specs declare', () => {
    expect(DRIVER_COMPONENTS).toEqual(DRIVER_SPECS.flatMap((d) => (d.schema ? [d.schema] : [])));
  });

  it('src/store imports no layer above it: the composition root hands it the schema components', () => {
    const store = src.filter((f) => f.path.startsWith('src/store/'));
    // domain/names.ts (the kfold SQL function) imports nothing of kanri but util and the
    // store's statement cache (store/statements.ts, which imports types only)
    expect(matching(store, /from '\.\.\/(adapters|engine|monitor|dscli|pvmutl|kanri|cli|config|auth)\//)).toEqual([]);
  });

  it('the driver spec is the only registration: no list of drivers or controller types is kept by hand', () => {
    const names = DRIVER_SPECS.map((d) => d.name);
    // a literal array of two or more driver names, outside the registry's one list
    const quoted = names.map((n) => `'${n}'`).join('|');
    const list = new RegExp(`\\[\\s*(${quoted})\\s*,\\s*(${quoted})`);
    expect(matching(src.filter((f) => f.path !== 'src/adapters/registry.ts'), list)).toEqual([]);
    // controller ports and suites come from the specs, not from a type test
    expect(matching(src, /=== 'ipmi' \? (623|3|'auto')|=== 'redfish' \? 443/)).toEqual([]);
  });

  it('src/ipmi knows no front end, and the outcome of a change is computed in the engine only', () => {
    expect(matching(src.filter((f) => f.path.startsWith('src/ipmi/')), /from '\.\.\/(\.\.\/)?(dscli|pvmutl|kanri|cli|monitor|engine|adapters)\//)).toEqual([]);
    // the jobs' outcomes read to decide a change's: includes('not-started') / some(o => o === 'failed' …)
    expect(matching(src, /\.(includes|some|has)\(\(?(o\)?\s*=>\s*o\s*===\s*)?'(failed|not-started)'/)).toEqual(['src/engine/outcome.ts']);
  });

  it('kanri\'s commands return the codes of its table (src/kanri/exit-codes.ts), never a literal', () => {
    const kanri = src.filter((f) => f.path.startsWith('src/kanri/') || /^src\/serve\/(cli|status-cli|app|tokens)\.ts$/.test(f.path));
    expect(matching(kanri, /\breturn (0|1|2|3|4|6|7|9|11|70|74|130);|\bcode: (0|1|2|70)\b|new \w+Error\((1|2), /)).toEqual([]);
  });

  it('one cancellable wait: src/util/wait.ts (node:timers/promises); no private sleep', () => {
    expect(matching(src, /node:timers\/promises|\b(const|function) (sleep|delay)\b|new Promise\(\(r(esolve)?\) => setTimeout\(/)).toEqual(['src/util/wait.ts']);
  });

  it('"registry" means the driver registry: no other module is named so, and none re-exports another\'s names', () => {
    expect(src.map((f) => f.path).filter((p) => /registry\.ts$/.test(p))).toEqual(['src/adapters/registry.ts']);
    // a re-export of values (types may be re-exported; src/ipmi is a library with a public index)
    // hides who depends on whom and closes circles
    expect(matching(src.filter((f) => !f.path.startsWith('src/ipmi/')), /^export \{[^}]*\}( from|;)/m)).toEqual([]);
  });

  describe('tests', () => {
    const tests = sources('test').filter((f) => f.path.endsWith('.test.ts'));

    it('share their store helpers (test/support/store.ts): none declares its own exec or sql', () => {
      expect(matching(tests, /\b(function (exec|sql)\b|const (exec|sql) = (async )?\(\w+: )/)).toEqual([]);
    });

    it('share their waits (test/support/until.ts, daemon.ts, monitor.ts): none declares its own', () => {
      expect(matching(tests, /^\s*(async )?function (until|waitFor|eventually|waitUntil)\b|^\s*const (until|waitFor|eventually|waitUntil) = /m)).toEqual([]);
    });

    it('wait on state, not on the monitor\'s log wording: a log line is awaited only where it is what is tested', () => {
      // the daemon's word that it has a signal (nothing in the store says so before the drain
      // ends), and the line an operator reads about an unclassified Redfish event
      expect(matching(tests, /\.waitFor\(\s*(\/|new RegExp)/)).toEqual(['test/monitor-lifecycle.test.ts', 'test/monitor-redfish.test.ts']);
    });

    it('count every skip: a condition comes from requirePeer/skipReason (test/support/peers.ts), requirePostgres (support/postgres.ts) or labUsable (support/lab.ts), which log it', () => {
      const skipping = tests.filter((f) => /\.(runIf|skipIf)\(|describe\.skip\b|\b(it|test)\.skip\b/.test(f.text));
      expect(skipping.filter((f) => !/\b(requirePeer|requirePostgres|skipReason|labUsable)\(/.test(f.text)).map((f) => f.path)).toEqual([]);
      // a condition computed on the spot is a skip nobody counts
      expect(matching(tests, /\.(runIf|skipIf)\([^)]*(spawnSync|existsSync|havePeer\()/)).toEqual([]);
      // nor is a test that returns early, unsaid, when it does not run as root
      expect(matching(tests, /getuid\?\.\(\) !== 0\) return\b/)).toEqual([]);
    });
  });

  it('a store is opened through src/store only: nothing else loads SQLite or libpq (a PostgreSQL URI works everywhere)', () => {
    const loads = /from '[^']*store\/(sqlite|postgres)\.js'|(?<!import type .*)from 'better-sqlite3'|require(Module)?\('(better-sqlite3|libpq)'\)/;
    expect(matching(src.filter((f) => !f.path.startsWith('src/store/')), loads)).toEqual([]);
  });

  it('the files left out on PostgreSQL are test files that exist, each with its reason', () => {
    const leftOut = JSON.parse(readFileSync(join(ROOT, 'test', 'postgresql-left-out.json'), 'utf8')) as Record<string, string>;
    for (const [file, why] of Object.entries(leftOut)) {
      expect(file, file).toMatch(/^test\/([\w-]+\/)?[\w-]+\.test\.ts$/);
      expect(() => statSync(join(ROOT, file)), file).not.toThrow();
      expect(why.length, file).toBeGreaterThan(20);
    }
  });

  it('every file docs/architecture.md names exists', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const named = [...doc.matchAll(/`(src\/[A-Za-z0-9_./-]+\.ts)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    for (const p of new Set(named)) expect(() => statSync(join(ROOT, p)), p).not.toThrow();
  });
});
