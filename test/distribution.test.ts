// Software distribution (spec/provisioning-model.md §4.4–4.9, pvmutl.md §4.6–4.8):
// the activation and standby orders, the three worked examples of differential
// distribution with their own data, specified distribution, /f, /seq, group
// jobs, and the exit codes of deploygrp, deploysrv and deploypsv.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { readDataCentre } from '../src/config/validate.js';
import { applyDataCentre } from '../src/config/apply.js';
import { activationList, standbyList } from '../src/domain/distribution.js';
import { FIXTURE, fixtureStore, pvmutl, queryAll as q, storeDigest } from './support/store.js';

const DRIVERS = '{ power: sim, deploy: sim, vm: sim, storage: sim, vlan: sim, lb: sim, monitor: sim }';

/** The base state of the worked examples: registrations as the spec's table, machine X active on host h1. */
interface Regs { machineBefore: string; hostBefore: string; model: string; group: string; hostDist?: string; hostAfter?: string; machineAfter?: string; dateC?: string }

function exampleDc(r: Regs): string {
  const names = 'ABCDEFGHIJ'.split('').map((c) => `  - { name: Soft${c}, kind: scenario, version: "1", date: "${c === 'C' ? r.dateC ?? '2026-01-01' : '2026-01-01'}" }`).join('\n');
  return `
kanri: 1
settings: { sim.delay_ms: "0" }
software:
${names}
groups:
  - name: G
    type: physical
    drivers: ${DRIVERS}
    software: { activation: [${r.group}] }
    models: [{ name: M, software: { activation: [${r.model}] } }]
    host_settings:
      - host: h1
        software: { activation: { before_group: [${r.hostBefore}], distribution: [${r.hostDist ?? ''}], after_group: [${r.hostAfter ?? ''}] } }
machines:
  - name: X
    kind: physical
    active: { group: G, model: M, host: h1, from: common_pool }
    software: { activation: { before_group: [${r.machineBefore}], after_group: [${r.machineAfter ?? ''}] } }
`;
}

const BASE: Regs = { machineBefore: 'SoftA, SoftB', hostBefore: 'SoftC', model: 'SoftD, SoftE', group: 'SoftF' };

function apply(db: string, text: string): void {
  const { dc, errors } = readDataCentre(parse(text));
  if (!dc) throw new Error(errors.join('\n'));
  const d = openStore(db);
  applyDataCentre(d, dc);
  d.close();
}

const installedSince = (db: string, seq: number): string[] =>
  q<{ software: string }>(db, "SELECT software FROM sim_installed WHERE machine_id = (SELECT id FROM machines WHERE name = 'X') AND seq > ? ORDER BY seq", seq).map((r) => r.software);
const lastSeq = (db: string): number => q<{ n: number }>(db, 'SELECT ifnull(max(seq), 0) AS n FROM sim_installed')[0]!.n;
const history = (db: string): string[] => q<{ software_name: string }>(db, "SELECT software_name FROM distribution_history WHERE machine_id = (SELECT id FROM machines WHERE name = 'X') ORDER BY seq").map((r) => r.software_name);

/** The base state: the six items distributed and recorded. */
async function baseState(): Promise<string> {
  const db = fixtureStore(exampleDc(BASE));
  expect((await pvmutl(db, ['deploysrv', 'G', 'h1', '/f'])).code).toBe(0);
  expect(history(db)).toEqual(['SoftA', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF']);
  return db;
}

async function differential(db: string): Promise<string[]> {
  const before = lastSeq(db);
  const r = await pvmutl(db, ['deploysrv', 'G', 'h1']);
  expect(r).toEqual({ code: 0, out: '', err: '' });
  return installedSince(db, before);
}

describe('distribution order (spec §4.5)', () => {
  const ALL = `
kanri: 1
settings: { standby_dhcp_scenario: DHCP }
software: [${['mb', 'hb', 'md', 'gr', 'hd', 'ha', 'ma', 'DHCP', 'smb', 'shb', 'smd', 'sgr', 'shd', 'sha', 'sma'].map((n) => `{ name: ${n}, kind: scenario }`).join(', ')}]
groups:
  - name: G
    type: physical
    software: { activation: [gr], standby: [sgr] }
    models: [{ name: M, software: { activation: [md], standby: [smd] } }]
    host_settings:
      - host: h1
        software:
          activation: { before_group: [hb], distribution: [hd], after_group: [ha] }
          standby: { before_group: [shb], distribution: [shd], after_group: [sha] }
machines:
  - name: X
    kind: physical
    active: { group: G, model: M, host: h1, from: common_pool }
    software:
      activation: { before_group: [mb], after_group: [ma] }
      standby: { before_group: [smb], after_group: [sma] }
`;
  const lists = (db: string): { act: string[]; stb: string[] } => {
    const d = openStore(db, { readonly: true });
    const ids = d.prepare("SELECT m.id AS machineId, m.host_setting_id AS hostId, m.model_id AS modelId, m.group_id AS groupId FROM machines m WHERE name = 'X'").get() as { machineId: number; hostId: number; modelId: number; groupId: number };
    const name = (id: number): string => (d.prepare('SELECT name FROM software WHERE id = ?').get(id) as { name: string }).name;
    const act = activationList(d, ids).map((e) => `${e.position}:${name(e.softwareId)}`);
    const stb = standbyList(d, ids).map((e) => `${e.position}:${name(e.softwareId)}`);
    d.close();
    return { act, stb };
  };

  it('activation: machine before, host before, model, group, host distribution, host after, machine after', () => {
    expect(lists(fixtureStore(ALL)).act).toEqual(['1:mb', '2:hb', '3:md', '4:gr', '5:hd', '6:ha', '7:ma']);
  });

  it('standby: the same eight positions with the DHCP-reset scenario at 7', () => {
    expect(lists(fixtureStore(ALL)).stb).toEqual(['1:smb', '2:shb', '3:smd', '4:sgr', '5:shd', '6:sha', '7:DHCP', '8:sma']);
  });

  it('skips empty positions and keeps the registered order within one', () => {
    const sparse = ALL.replace('activation: { before_group: [hb], distribution: [hd], after_group: [ha] }', 'activation: { after_group: [ha, hd, hb] }')
      .replace('activation: [gr], standby: [sgr]', 'standby: [sgr]').replace('standby_dhcp_scenario: DHCP', 'sim.delay_ms: "0"');
    const { act, stb } = lists(fixtureStore(sparse));
    expect(act).toEqual(['1:mb', '3:md', '6:ha', '6:hd', '6:hb', '7:ma']);
    expect(stb).toEqual(['1:smb', '2:shb', '3:smd', '4:sgr', '5:shd', '6:sha', '8:sma']);
  });
});

describe('differential distribution: the worked examples of spec §4.8', () => {
  it('example 1: software appended after the distributed software → only Soft G, H, I', async () => {
    const db = await baseState();
    apply(db, exampleDc({ ...BASE, hostDist: 'SoftG', machineAfter: 'SoftH, SoftI' }));
    expect(await differential(db)).toEqual(['SoftG', 'SoftH', 'SoftI']);
    expect(history(db)).toEqual(['SoftA', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF', 'SoftG', 'SoftH', 'SoftI']);
  });

  it('example 2: an insertion, a changed date and a changed order → everything, Soft A to H, is redistributed', async () => {
    const db = await baseState();
    apply(db, exampleDc({ machineBefore: 'SoftA, SoftG, SoftB', hostBefore: 'SoftC', dateC: '2026-06-30', model: 'SoftD, SoftE', group: 'SoftF', hostDist: 'SoftH' }));
    expect(await differential(db)).toEqual(['SoftA', 'SoftG', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF', 'SoftH']);
    expect(history(db)).toEqual(['SoftA', 'SoftG', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF', 'SoftH']);
  });

  it.each([
    ['inserting Soft G between distributed software', { ...BASE, machineBefore: 'SoftA, SoftG, SoftB' }, ['SoftA', 'SoftG', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF']],
    ['changing the date of Soft C', { ...BASE, dateC: '2026-06-30' }, ['SoftA', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF']],
    ['changing the order of Soft E and F', { ...BASE, model: 'SoftD, SoftF', group: 'SoftE' }, ['SoftA', 'SoftB', 'SoftC', 'SoftD', 'SoftF', 'SoftE']],
  ])('example 2, each cause alone: %s → full redistribution', async (_label, regs, expected) => {
    const db = await baseState();
    apply(db, exampleDc(regs as Regs));
    expect(await differential(db)).toEqual(expected);
  });

  it('example 3: unregistering Soft F at the end of the order → nothing; and nothing changed → nothing', async () => {
    const db = await baseState();
    expect(await differential(db)).toEqual([]);
    apply(db, exampleDc({ ...BASE, group: '' }));
    expect(await differential(db)).toEqual([]);
    expect(q(db, "SELECT output FROM job_steps ORDER BY job_id DESC, seq DESC LIMIT 1")).toEqual([{ output: 'X: only software at the end of the order was unregistered\n' }]);
  });

  it('/f redistributes everything even when nothing changed', async () => {
    const db = await baseState();
    const before = lastSeq(db);
    expect((await pvmutl(db, ['deploysrv', 'G', 'h1', '/f'])).code).toBe(0);
    expect(installedSince(db, before)).toEqual(['SoftA', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF']);
  });
});

describe('specified distribution (spec §4.7)', () => {
  it('installs exactly the named software, is not recorded, and a later differential run picks it up', async () => {
    const db = await baseState();
    let before = lastSeq(db);
    expect((await pvmutl(db, ['deploysrv', 'G', 'h1', '/p', '"SoftJ","SoftA"'])).code).toBe(0);
    expect(installedSince(db, before)).toEqual(['SoftJ', 'SoftA']);
    expect(history(db)).toEqual(['SoftA', 'SoftB', 'SoftC', 'SoftD', 'SoftE', 'SoftF']);
    apply(db, exampleDc({ ...BASE, machineAfter: 'SoftJ' }));
    before = lastSeq(db);
    expect(await differential(db)).toEqual(['SoftJ']);

    before = lastSeq(db);
    expect((await pvmutl(db, ['deploypsv', 'X', 'SoftB'])).code).toBe(0);
    expect(installedSince(db, before)).toEqual(['SoftB']);
    expect(q(db, 'SELECT sequence FROM jobs ORDER BY id DESC LIMIT 1')).toEqual([{ sequence: 'DistributeSoftwareToMachineWithScenario' }]);
  });

  it('/a distributes named software registered on the group only', async () => {
    const db = await baseState();
    const before = lastSeq(db);
    expect((await pvmutl(db, ['deploysrv', 'G', 'h1', '/a', 'SoftF'])).code).toBe(0);
    expect(installedSince(db, before)).toEqual(['SoftF']);
    expect(await pvmutl(db, ['deploysrv', 'G', 'h1', '/a', 'SoftA'])).toEqual({ code: 8, out: '', err: 'pvmutl: SoftA is not registered on G (/p distributes any software)\n' });
  });
});

describe('deploygrp', () => {
  function groupOf(n: number, delayMs: number): string {
    const hs = Array.from({ length: n }, (_, i) => `      - { host: h${i + 1} }`).join('\n');
    return `
kanri: 1
settings: { sim.delay_ms: "${delayMs}" }
software: [{ name: S1, kind: scenario }, { name: S2, kind: scenario }, { name: T, kind: template }]
groups:
  - name: G
    type: physical
    drivers: ${DRIVERS}
    software: { activation: [S1, S2] }
    models: [{ name: M }]
    host_settings:
${hs}
machines:
${Array.from({ length: n }, (_, i) => `  - { name: m${i + 1}, kind: physical, active: { group: G, model: M, host: h${n - i}, from: common_pool } }`).join('\n')}
`;
  }
  const jobs = (db: string) => q<{ id: number; sequence: string; main: number; parent_id: number | null; status: string; started_at: string; ended_at: string; machine: string | null }>(db,
    "SELECT id, sequence, main, parent_id, status, started_at, ended_at, json_extract(params, '$.machine') AS machine FROM jobs ORDER BY id");

  it('distributes to every active machine at once under one group-level job', async () => {
    const db = fixtureStore(groupOf(4, 30));
    expect(await pvmutl(db, ['deploygrp', 'G'])).toEqual({ code: 0, out: '', err: '' });
    const [parent, ...children] = jobs(db);
    expect(parent).toMatchObject({ sequence: 'DistributeSoftwareToMachinesInGroup', main: 1, parent_id: null, status: 'completed' });
    expect(children).toHaveLength(4);
    for (const c of children) expect(c).toMatchObject({ sequence: 'DistributeSoftwareToMachine', main: 0, parent_id: parent!.id, status: 'completed' });
    // At once: every machine started before the first one ended.
    const firstEnd = Math.min(...children.map((c) => Date.parse(c.ended_at)));
    expect(children.every((c) => Date.parse(c.started_at) <= firstEnd)).toBe(true);
    expect(q<{ event_id: number }>(db, 'SELECT event_id FROM events WHERE job_id = ? ORDER BY id', parent!.id).map((e) => e.event_id)).toEqual([2074, 2075]);
    expect(q<{ event_id: number }>(db, 'SELECT event_id FROM events WHERE job_id = ? ORDER BY id', children[0]!.id).map((e) => e.event_id)).toEqual([2070, 2500, 2502, 2500, 2502, 2071]);
  });

  it('/seq goes one machine at a time in host-setting order, and stops at the first failure', async () => {
    const db = fixtureStore(groupOf(4, 5));
    expect((await pvmutl(db, ['deploygrp', 'G', '/f', '/SEQ'])).code).toBe(0);
    const children = jobs(db).slice(1);
    // h1..h4 are held by m4..m1.
    expect(children.map((c) => c.machine)).toEqual(['m4', 'm3', 'm2', 'm1']);
    for (let i = 1; i < children.length; i++) expect(Date.parse(children[i]!.started_at)).toBeGreaterThanOrEqual(Date.parse(children[i - 1]!.ended_at));

    const d = openStore(db);
    d.prepare("INSERT INTO sim_faults (machine, operation, remaining) VALUES ('m3', 'distribute', 1)").run();
    d.close();
    const r = await pvmutl(db, ['deploygrp', 'G', '/f', '/seq']);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/^pvmutl: job \d{5} \(DistributeSoftwareToMachine, m3\) failed at 'Distribute activation-time software': sim: distribute on m3: injected distribute failure\n$/);
    const second = jobs(db).slice(5);
    expect(second.map((j) => j.status)).toEqual(['failed', 'completed', 'failed', 'canceled', 'canceled']);
  });

  it('plain asjob lists the group-level job, asjob -a its machines too; ascancel of the group job cancels them', async () => {
    const db = fixtureStore(groupOf(3, 0));
    const d = openStore(db);
    d.prepare("INSERT INTO settings (key, value) VALUES ('sim.delay_ms.distribute', '20000')").run();
    d.close();
    const running = pvmutl(db, ['deploygrp', 'G']);
    let parent: { id: number } | undefined;
    for (let i = 0; i < 200 && !(parent && q(db, "SELECT 1 FROM job_steps WHERE status = 'running'").length === 3); i++) {
      await new Promise((r) => setTimeout(r, 20));
      parent = q<{ id: number }>(db, 'SELECT id FROM jobs WHERE main = 1')[0];
    }
    const plain = (await pvmutl(db, ['asjob'])).out;
    const all = (await pvmutl(db, ['asjob', '-a'])).out;
    expect(plain).toMatch(/\nTotal job : 1\n$/);
    expect(plain).toContain(' DistributeSoftwareToMachinesInGroup\n');
    expect(all).toMatch(/\nTotal job : 4\n$/);
    expect((await pvmutl(db, ['ascancel', String(parent!.id)])).code).toBe(0);
    expect((await running).code).toBe(7);
    expect(jobs(db).map((j) => j.status)).toEqual(['canceled', 'canceled', 'canceled', 'canceled']);
  });
});

describe('exit codes of the distribution commands', () => {
  const cases: Array<[string, string[], number, string]> = [
    ['unknown software', ['deploygrp', 'Shop\\Web', '/p', 'Nope'], 8, 'pvmutl: software not found: Nope\n'],
    ['a template', ['deploysrv', 'Shop\\Web', 'web01', '/p', 'tmpl-win2022'], 8, 'pvmutl: tmpl-win2022 is a template; templates are not distributed\n'],
    ['unknown group', ['deploygrp', 'Nope'], 3, 'pvmutl: group not found: Nope\n'],
    ['a category', ['deploygrp', 'Shop'], 3, 'pvmutl: Shop is a category; give a group here\n'],
    ['no active machine', ['deploygrp', 'Lab\\Any'], 0, ''],
    ['host not active', ['deploysrv', 'Shop\\Web', 'web06'], 2, 'pvmutl: web06 is not active in Web (did you mean web03?)\n'],
    ['unknown machine', ['deploypsv', 'ghost', 'Agent-Install'], 2, 'pvmutl: machine not found: ghost\n'],
  ];
  it.each(cases)('%s', async (_label, args, code, err) => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const r = await pvmutl(db, args);
    expect(r).toEqual({ code, out: '', err });
    if (code !== 0) expect(storeDigest(db)).toBe(before);
  });

  it('a group with no active machine is exit 2', async () => {
    const db = fixtureStore(readFileSync(FIXTURE, 'utf8').replace(/active: \{ group: Lab, model: Any, host: lab01, from: common_pool, since: "[^"]+" \} /, ''));
    expect(await pvmutl(db, ['deploygrp', 'Lab'])).toEqual({ code: 2, out: '', err: 'pvmutl: no active machine in Lab\n' });
  });

  it('a failing distribution is exit 7 with event 2501; a machine without a deploy driver is exit 6', async () => {
    const db = fixtureStore(exampleDc(BASE));
    const d = openStore(db);
    d.prepare("INSERT INTO sim_faults (machine, operation, remaining, message) VALUES ('X', 'distribute', 1, 'scenario aborted')").run();
    d.close();
    const r = await pvmutl(db, ['deploysrv', 'G', 'h1']);
    expect(r.code).toBe(7);
    expect(q<{ event_id: number }>(db, 'SELECT event_id FROM events ORDER BY id').map((e) => e.event_id)).toEqual([2070, 2500, 2501, 2072]);
    const d2 = openStore(db);
    d2.prepare("DELETE FROM group_drivers WHERE interface = 'deploy'").run();
    d2.close();
    expect((await pvmutl(db, ['deploysrv', 'G', 'h1'])).code).toBe(6);
  });
});
