// Chain states: the transition table is the only place monitor_chains changes status, a
// change it does not have is refused, and a change from a status the chain has left claims
// nothing (the conditional update another monitor would lose).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { CHAIN_TRANSITIONS, chainStatus, moveChain } from '../src/monitor/chain-state.js';
import { ROOT, fixtureStore } from './support/store.js';

describe('monitor chain states', () => {
  it('no module but chain-state.ts writes monitor_chains.status', () => {
    const dir = join(ROOT, 'src');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('chain-state.ts'));
    const writers = files.filter((f) => /UPDATE\s+monitor_chains\s+SET[^`'"]*\bstatus\s*=/i.test(readFileSync(join(dir, f), 'utf8')));
    expect(writers).toEqual([]);
  });

  it('a change the table lacks is refused; a chain moved already is not moved again', () => {
    const db = openStore(fixtureStore());
    try {
      db.prepare("INSERT INTO monitor_events (received_at, origin, source, event) VALUES ('2026-01-01T00:00:00Z', 'custom', 'SystemMonitorPerf', '10000001')").run();
      const id = Number(db.prepare(`INSERT INTO monitor_chains (event_id, target, policy, rule_position, rule_event, actions, status, created_at)
        VALUES (1, 'machine:1', 'P', 1, 'e', '["notify"]', 'pending', '2026-01-01T00:00:00Z')`).run().lastInsertRowid);
      expect(() => moveChain(db, id, 'pending', 'completed')).toThrow(/cannot go from pending to completed/);
      expect(moveChain(db, id, 'pending', 'running')).toBe(true);
      // A second claim of the same pending chain (another monitor, an earlier turn) loses.
      expect(moveChain(db, id, 'pending', 'running')).toBe(false);
      expect(moveChain(db, id, 'running', 'completed')).toBe(true);
      expect(chainStatus(db, id)).toBe('completed');
      for (const end of ['completed', 'failed', 'canceled', 'abandoned', 'suppressed'] as const) expect(CHAIN_TRANSITIONS[end]).toEqual([]);
    } finally {
      db.close();
    }
  });
});
