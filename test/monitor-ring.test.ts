// The hash ring that spreads polling over the live monitors (src/monitor/ring.ts), as a
// consistent hash ring must behave: every key has one owner, the same on every monitor that
// builds the ring from the same members in any order; shares are even enough; a member's
// departure moves only its own keys, and an arrival takes keys only for itself.
import { describe, expect, it } from 'vitest';
import { HashRing, machineKey } from '../src/monitor/ring.js';

const KEYS = Array.from({ length: 3000 }, (_, i) => machineKey(i + 1));
const owners = (r: HashRing): string[] => KEYS.map((k) => r.owner(k)!);

describe('the polling hash ring', () => {
  it('an empty ring owns nothing; one member owns everything', () => {
    expect(new HashRing([]).owner(machineKey(1))).toBeUndefined();
    expect(new Set(owners(new HashRing(['solo'])))).toEqual(new Set(['solo']));
  });

  it('the same members in any order give the same owner to every key', () => {
    expect(owners(new HashRing(['a', 'b', 'c']))).toEqual(owners(new HashRing(['c', 'a', 'b'])));
  });

  it('each of three members gets a fair share (between a sixth and a half) of 3,000 machines', () => {
    const o = owners(new HashRing(['mgr-tokyo', 'mgr-osaka', 'mgr-nagoya']));
    for (const m of ['mgr-tokyo', 'mgr-osaka', 'mgr-nagoya']) {
      const n = o.filter((x) => x === m).length;
      expect(n, m).toBeGreaterThan(KEYS.length / 6);
      expect(n, m).toBeLessThan(KEYS.length / 2);
    }
  });

  it("a member's departure moves only its keys; an arrival takes keys only for itself", () => {
    const three = owners(new HashRing(['a', 'b', 'c']));
    const two = owners(new HashRing(['a', 'b']));
    KEYS.forEach((_, i) => {
      if (three[i] !== 'c') expect(two[i], KEYS[i]).toBe(three[i]);
      else expect(['a', 'b']).toContain(two[i]);
    });
    // Read backwards: c arriving takes keys from a and b, and moves none between them.
    expect(three.filter((o, i) => o !== two[i]).every((o) => o === 'c')).toBe(true);
  });
});
