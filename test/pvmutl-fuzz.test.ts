// Random argument vectors: the parser and commands never throw, never change the
// store unless they succeed, and always end with a code of the table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUBCOMMANDS } from '../src/pvmutl/parse.js';
import { fixtureStore, pvmutl, storeDigest } from './support/store.js';

const ALLOWED = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16]);

const word = fc.oneof(
  fc.constantFrom(...SUBCOMMANDS, 'group', 'server', 'soft', 'show', 'set', 'on', 'off', 'help'),
  fc.constantFrom('/c', '/C', '/f', '/p', '/a', '/d', '/y', '/seq', '/VMS', '/DATASTORE', '/VMFS', '/NETINFO', '-a', '-s', '-d', '/?', '/x', '--db'),
  fc.constantFrom('Shop', 'Shop\\Web', 'Shop/AP', 'Shop¥Batch¥Nightly', 'Web', 'web01', 'px-r120-03', '0', '1', '10', '-1', '00011', '"a","b"', '“soft1”,', ',', '', ' '),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

describe('pvmutl on random argument vectors', () => {
  it('read-only subcommands never throw, never write, and exit with a known code', async () => {
    const db = fixtureStore();
    const before = storeDigest(db);
    const readOnly = fc.constantFrom('list', 'policy', 'asjob', 'ascancel', 'help', 'LIST', 'frobnicate');
    await fc.assert(
      fc.asyncProperty(readOnly, fc.array(word, { maxLength: 6 }), async (cmd, rest) => {
        const args = [cmd, ...rest];
        // policy set and ascancel <id> change the store when they succeed.
        fc.pre(!(cmd === 'policy' && rest[0]?.toLowerCase() === 'set') && !(cmd === 'ascancel' && rest.length > 0) && !rest.includes('--db'));
        const r = await pvmutl(db, args);
        expect(ALLOWED.has(r.code)).toBe(true);
        if (r.code !== 0 && !(args.length === 1 && ['help', '/?'].includes(args[0]!.toLowerCase()))) {
          expect(r.err).toMatch(/^pvmutl: [^\n]*\n$/);
        }
      }),
      { numRuns: 1200, seed: 20261122 },
    );
    expect(storeDigest(db)).toBe(before);
  });

  it('any subcommand never throws, exits with a known code, and changes nothing when rejected', async () => {
    const db = fixtureStore();
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 7 }), async (args) => {
        fc.pre(!args.includes('--db'));
        const before = storeDigest(db);
        const r = await pvmutl(db, args);
        expect(ALLOWED.has(r.code)).toBe(true);
        // 0 changed something; 6 and 7 ran (or tried to run) a job and journalled it.
        if (![0, 6, 7].includes(r.code)) expect(storeDigest(db)).toBe(before);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
