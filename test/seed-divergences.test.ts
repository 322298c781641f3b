// Where the product parted from the seed (issue 21, items 1–7), each pinned to the line of
// seed 004 (/work/shared/seeds/004_*.txt) that says what is right.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/service.js';
import { openStore } from '../src/store/db.js';
import { ENGINE_DC } from './support/engine-dc.js';
import { fixtureStore, pvmutl, queryAll as q, storeDigest } from './support/store.js';

const opts = { origin: 'test', command: 'seed divergences test' };

describe('item 1: a VM server is never replaced (seed 004 L8594, L4051)', () => {
  it('pvmutl replace of a VM server is exit 3 and changes nothing', async () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const r = await pvmutl(db, ['replace', 'Infra\\VMHosts', 'vms01']);
    expect(r).toEqual({ code: 3, out: '', err: 'pvmutl: replace is not usable for VM servers (VMHosts)\n' });
    expect(storeDigest(db)).toBe(before);
  });
});

describe('item 3: VM names (seed 004 L8341–8344; exit 15: L4192–4193)', () => {
  it("a name with other characters, or longer than 80, is exit 15 and changes nothing; 80 alphanumerics, '-' and '_' are a name", async () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    for (const bad of ['bad name!', 'x'.repeat(81), 'vm.01', 'ｖｍ01']) {
      const r = await pvmutl(db, ['vmadd', 'Infra\\Desktops', bad]);
      expect({ name: bad, code: r.code, out: r.out }).toEqual({ name: bad, code: 15, out: '' });
      expect(r.err).toMatch(/^pvmutl: vmadd: the VM name /);
    }
    expect(storeDigest(db)).toBe(before);
    const name = 'A-' + 'b_9'.repeat(26);
    expect(name).toHaveLength(80);
    expect((await pvmutl(db, ['vmadd', 'Infra\\Desktops', name])).code).toBe(0);
    expect(q(db, 'SELECT kind FROM machines WHERE name = ?', name)).toEqual([{ kind: 'virtual' }]);
  });
});

describe('item 4: a job canceled before its first step (seed 004 L3866–3872)', () => {
  it('ends canceled (exit 7, not 6) with its canceled event, and marks nothing abnormal', async () => {
    const path = fixtureStore(ENGINE_DC);
    const db = openStore(path);
    try {
      // The sim driver's prepare() (before the first step) takes 20 s: the cancel lands in it.
      db.prepare("INSERT INTO settings (key, value) VALUES ('sim.delay_ms.start', '20000')").run();
      const e = new Engine(db);
      const job = e.run({ action: 'add', group: 'Bare', machine: 'pb1' }, opts);
      const t0 = Date.now();
      while (e.running().length === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      e.cancelAll('canceled by the test');
      const r = await job;
      expect(r.jobs[0]).toMatchObject({ outcome: 'canceled' });
      expect(r.jobs[0]!.failedStep).toBeUndefined();
    } finally {
      db.close();
    }
    expect(q(path, 'SELECT status FROM jobs')).toEqual([{ status: 'canceled' }]);
    expect(q(path, 'SELECT count(*) AS n FROM job_steps')).toEqual([{ n: 0 }]);
    // 2036: "Cancelled the process of adding a machine to a group" (spec/event-log.md).
    expect(q<{ event_id: number }>(path, "SELECT event_id FROM events WHERE source = 'PVM' ORDER BY id").map((x) => x.event_id)).toContain(2036);
    expect(q(path, "SELECT management_status FROM machines WHERE name = 'pb1'")).toEqual([{ management_status: 'normal' }]);
  });
});
