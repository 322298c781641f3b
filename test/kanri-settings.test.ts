// kanri settings list | get | set | unset: one setting without a YAML round trip, checked
// as config check checks it, audited; the monitor's bind failure names the setting.
import { createSocket } from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binaries, run } from './support/cli.js';
import { fixtureStore, queryAll, storeDigest } from './support/store.js';

describe('kanri settings', () => {
  it('get shows the default, set checks and audits, unset brings the default back', () => {
    const db = fixtureStore();
    const k = (args: string[]) => run('kanri', args, { db });
    expect(k(['settings', 'get', 'monitor.listen'])).toMatchObject({ code: 0, out: '0.0.0.0:162\n' });
    const gen = queryAll<{ n: number }>(db, 'SELECT n FROM config_generation')[0]!.n;
    expect(k(['settings', 'set', 'monitor.listen', '127.0.0.1:1162'])).toMatchObject({ code: 0, out: 'monitor.listen: 0.0.0.0:162 -> 127.0.0.1:1162\n' });
    expect(k(['settings', 'get', 'monitor.listen']).out).toBe('127.0.0.1:1162\n');
    expect(queryAll<{ n: number }>(db, 'SELECT n FROM config_generation')[0]!.n).toBe(gen + 1);
    expect(queryAll<{ command: string; exit_code: number }>(db, "SELECT command, exit_code FROM audit WHERE command LIKE 'kanri settings%'")).toEqual([{ command: 'kanri settings set monitor.listen 127.0.0.1:1162', exit_code: 0 }]);
    expect(k(['settings', 'list', '--set']).out).toContain('monitor.listen\t127.0.0.1:1162\tset\t');
    expect(JSON.parse(k(['settings', 'list', '--json']).out.split('\n').find((l) => l.includes('"engine.parallel"'))!)).toMatchObject({ key: 'engine.parallel', value: '64', set: false, owner: 'kanri' });
    // the file and the command agree: export carries it
    expect(k(['config', 'export']).out).toMatch(/^settings:[\s\S]*?\bmonitor\.listen: 127\.0\.0\.1:1162[,\s}]/m);

    // refused as config check refuses it: nothing written
    const before = storeDigest(db);
    expect(k(['settings', 'set', 'engine.parallel', '0'])).toMatchObject({ code: 1, out: '', err: "kanri: engine.parallel: must be an integer from 1 to 1024, not '0'\n" });
    expect(k(['settings', 'set', 'monitor.lsten', 'x'])).toMatchObject({ code: 2, out: '', err: "kanri: unknown setting 'monitor.lsten' (did you mean monitor.listen?); 'kanri settings list' shows them all\n" });
    expect(k(['settings', 'get', 'nosuch.key']).code).toBe(2);
    expect(storeDigest(db)).toBe(before);

    expect(k(['settings', 'unset', 'monitor.listen'])).toMatchObject({ code: 0, out: 'monitor.listen: 127.0.0.1:1162 -> 0.0.0.0:162 (default)\n' });
    expect(k(['settings', 'get', 'monitor.listen']).out).toBe('0.0.0.0:162\n');
    expect(k(['settings', 'unset', 'monitor.listen'])).toMatchObject({ code: 0, out: 'monitor.listen is not set (default: 0.0.0.0:162)\n' });
    expect(queryAll(db, "SELECT command FROM audit WHERE command LIKE 'kanri settings%'")).toHaveLength(2);
  }, 60_000);

  it('a monitor that cannot bind monitor.listen says so once, naming the setting', async () => {
    const db = fixtureStore();
    const taken = createSocket('udp4');
    await new Promise<void>((res) => taken.bind(0, '127.0.0.1', () => res()));
    const port = taken.address().port;
    try {
      expect(run('kanri', ['settings', 'set', 'monitor.listen', `127.0.0.1:${port}`], { db }).code).toBe(0);
      const r = spawnSync(join(binaries(), 'kanri'), ['monitor', 'run'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KANRI_DB: db, LANG: 'C', LC_ALL: '' } });
      expect(r.status).toBe(1);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toEqual([`kanri monitor: cannot start: cannot listen on 127.0.0.1:${port} (setting monitor.listen): bind EADDRINUSE 127.0.0.1:${port}; another program receives traps there (snmptrapd?): stop it, or choose another address with kanri settings set monitor.listen`]);
    } finally {
      taken.close();
    }
  }, 90_000);
});
