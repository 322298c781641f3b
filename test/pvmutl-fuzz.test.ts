// Random argument vectors: the parser and commands never throw, never change the
// store, and always end with a code of the table (or 69 for a valid engine command).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUBCOMMANDS } from '../src/pvmutl/parse.js';
import { fixtureStore, pvmutl, storeDigest } from './support/store.js';

const ALLOWED = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 69]);

const word = fc.oneof(
  fc.constantFrom(...SUBCOMMANDS, 'group', 'server', 'soft', 'show', 'set', 'on', 'off', 'help'),
  fc.constantFrom('/c', '/C', '/f', '/p', '/a', '/d', '/y', '/seq', '/VMS', '/DATASTORE', '/VMFS', '/NETINFO', '-a', '-s', '-d', '/?', '/x', '--db'),
  fc.constantFrom('Shop', 'Shop\\Web', 'Shop/AP', 'Shop¥Batch¥Nightly', 'Web', 'web01', 'px-r120-03', '0', '1', '10', '-1', '00011', '"a","b"', '“soft1”,', ',', '', ' '),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

describe('pvmutl on random argument vectors', () => {
  it('never throws, never writes, always exits with a known code', async () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    // Commands that legitimately change the store are kept out of the random walk.
    const changes = (args: string[]): boolean => {
      const a = args.filter((x) => x !== '--db').map((x) => x.toLowerCase());
      return a[0] === 'maintenance' || a[0] === 'changepassword' || (a[0] === 'policy' && a[1] === 'set');
    };
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 7 }), async (args) => {
        fc.pre(!changes(args) && !args.includes('--db'));
        const r = await pvmutl(db, args);
        expect(ALLOWED.has(r.code)).toBe(true);
        if (r.code !== 0 && args.length > 0 && !(args.length === 1 && ['help', '/?'].includes(args[0]!.toLowerCase()))) {
          expect(r.err).toMatch(/^pvmutl: [^\n]*\n$/);
        }
      }),
      { numRuns: 1500, seed: 20261122 },
    );
    expect(storeDigest(db)).toBe(before);
  });

  it('changing commands on random arguments change nothing when they fail', async () => {
    const db = fixtureStore();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('maintenance', 'changepassword', 'policy'), fc.array(word, { maxLength: 5 }), async (cmd, rest) => {
        const before = storeDigest(db);
        const r = await pvmutl(db, [cmd, ...rest]);
        expect(ALLOWED.has(r.code)).toBe(true);
        if (r.code !== 0) expect(storeDigest(db)).toBe(before);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
