// A name that does not exist is an error with the closest existing name, in kanri's filters
// and lookups as in pvmutl's: never an empty listing that exits 0.
import { describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { fixtureStore } from './support/store.js';

describe('unknown names', () => {
  it('kanri filters and lookups: 2, one line, the closest name', () => {
    const db = fixtureStore();
    const k = (args: string[]) => run('kanri', args, { db });
    expect(k(['machine', 'list', 'Wbe'])).toMatchObject({ code: 2, out: '', err: 'kanri: group not found: Wbe (did you mean Web?)\n' });
    expect(k(['machine', 'list', 'Web']).out).toContain('px-r120-01\t');
    // names fold alike everywhere: width, kana, invisible characters (domain/names.ts)
    expect(k(['machine', 'list', 'ＷＥＢ']).out).toContain('px-r120-01\t');
    expect(k(['machine', 'list', 'ｗｅ\u00adｂ']).out).toContain('px-r120-01\t');
    expect(k(['events', '--group', 'Wbe'])).toMatchObject({ code: 2, out: '', err: 'kanri: group not found: Wbe (did you mean Web?)\n' });
    expect(k(['events', '--group', 'Shop/Web']).code).toBe(0);
    expect(k(['events', '--machine', 'nosuch'])).toMatchObject({ code: 2, out: '', err: 'kanri: machine not found: nosuch\n' });
    expect(k(['events', '--machine', 'px-r120-1'])).toMatchObject({ code: 2, err: 'kanri: machine not found: px-r120-1 (did you mean px-r120-01?)\n' });
    expect(k(['events', '--machine', 'px-r120-01']).code).toBe(0);
    expect(k(['job', 'show', 'lst'])).toMatchObject({ code: 2, err: 'kanri: job not found: lst (did you mean last?)\n' });
    expect(k(['ssh', 'trust', 'px-r120-1', '--yes'])).toMatchObject({ code: 2, err: 'kanri: machine not found: px-r120-1 (did you mean px-r120-01?)\n' });
    expect(k(['policy', 'explain', 'Shop/Wbe', 'SystemMonitorPerf', '10000001'])).toMatchObject({ code: 2, err: 'kanri: group not found: Shop/Wbe (did you mean Shop\\Web?)\n' });
    expect(k(['policy', 'explain', 'Shop/Web', 'SystemMonitorPerf', '10000001', '--machine', 'px-r120-1'])).toMatchObject({ code: 2, err: 'kanri: machine not found: px-r120-1 (did you mean px-r120-01?)\n' });
    expect(k(['vmserver', 'collect', 'vms-1'])).toMatchObject({ code: 2, err: 'kanri: VM server not found: vms-1 (did you mean vms01?)\n' });
    expect(k(['vmserver', 'failover', 'vms-1'])).toMatchObject({ code: 2, err: 'kanri: VM server not found: vms-1 (did you mean vms01?)\n' });
    expect(k(['sim', 'fail', 'px-r120-1', 'power-on'])).toMatchObject({ code: 2, err: 'kanri: machine not found: px-r120-1 (did you mean px-r120-01?)\n' });
    expect(k(['user', 'disable', 'admn'])).toMatchObject({ code: 2, err: 'kanri: user not found: admn (did you mean admin?)\n' });
  }, 120_000);

  it('pvmutl: host names, software and policies name the closest one; codes unchanged', () => {
    const db = fixtureStore();
    const p = (args: string[]) => run('pvmutl', args, { db });
    expect(p(['replace', 'Shop\\Web', 'wbe01'])).toMatchObject({ code: 2, out: '', err: 'pvmutl: wbe01 is not active in Web (did you mean web01?)\n' });
    expect(p(['deploysrv', 'Shop\\Web', 'web01', '/a', 'Web-Apach'])).toMatchObject({ code: 8, out: '', err: 'pvmutl: software not found: Web-Apach (did you mean Web-Apache?)\n' });
    expect(p(['policy', 'set', 'Shop\\Web', 'Web-N+2', '/y'])).toMatchObject({ code: 16, out: '', err: 'pvmutl: policy not found: Web-N+2 (did you mean Web-N+1?)\n' });
    expect(p(['maintenance', 'on', 'Shop\\Web', 'wbe01']).err).toBe('pvmutl: wbe01 is not active in Shop\\Web (pool machines cannot be given) (did you mean web01?)\n');
  }, 60_000);
});
