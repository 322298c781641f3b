// A secret global setting (monitor.communities): read from standard input, never from argv,
// stored sealed, shown as (sealed), audited without its value, left out of an export without
// --with-secrets, sealed when a YAML file gives it in clear, and opened by the trap receiver.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePeer } from './support/peers.js';
import { run } from './support/cli.js';
import { fixtureStore, queryAll, storeBytes, storeDigest, tempDir } from './support/store.js';
import { type RunningMonitor, snmptrap, startMonitor, monitorGroup } from './support/monitor.js';

const SECRET = 'c0mm-s3cret-7f';
const YAML = `
kanri: 1
settings: { monitor.listen: "127.0.0.1:0", monitor.poll_s: "0", monitor.coalesce_s: "0" }
${monitorGroup(['m3'])}machines:
  - { name: m3, kind: physical, power: on, mgmt_address: 127.0.0.1, active: { group: G, model: M, host: h01, from: group_pool } }
`;

const stored = (db: string): string | undefined => queryAll<{ value: string }>(db, "SELECT value FROM settings WHERE key = 'monitor.communities'")[0]?.value;

describe('secret settings: monitor.communities', () => {
  it('is refused on argv with one line saying how, and nothing changes', () => {
    const db = fixtureStore(YAML);
    const before = storeDigest(db);
    const r = run('kanri', ['settings', 'set', 'monitor.communities', SECRET], { db });
    expect(r.code).toBe(1);
    expect(r.err).toBe('kanri: monitor.communities is a secret: give it on standard input or at the prompt, never on the command line (kanri settings set monitor.communities < file)\n');
    expect(storeDigest(db)).toBe(before);
  });

  it('set from standard input: stored sealed, shown as (sealed), audited without its value', () => {
    const db = fixtureStore(YAML);
    const r = run('kanri', ['settings', 'set', 'monitor.communities'], { db, input: `${SECRET}\n` });
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain(SECRET);
    expect(stored(db)).toMatch(/^v1:/);
    expect(storeBytes(db).includes(SECRET)).toBe(false);
    expect(run('kanri', ['settings', 'get', 'monitor.communities'], { db }).out).toBe('(sealed)\n');
    const list = run('kanri', ['settings', 'list', '--set', '--json'], { db });
    expect(list.out).toContain('"value":"(sealed)"');
    expect(list.out).not.toContain(SECRET);
    const audit = queryAll<{ command: string }>(db, "SELECT command FROM audit WHERE command LIKE '%settings set monitor.communities%'");
    expect(audit).toEqual([{ command: 'kanri settings set monitor.communities (sealed)' }]);
    // An empty standard input is refused, not taken as an empty community list.
    expect(run('kanri', ['settings', 'set', 'monitor.communities'], { db, input: '' }).code).toBe(1);
  });

  it('a YAML file giving it in clear has it sealed; export leaves it out unless --with-secrets; apply keeps it when the file does not give it', () => {
    const db = fixtureStore(YAML.replace('monitor.coalesce_s: "0"', `monitor.coalesce_s: "0", monitor.communities: "${SECRET}"`));
    expect(stored(db)).toMatch(/^v1:/);
    expect(storeBytes(db).includes(SECRET)).toBe(false);
    const plain = run('kanri', ['config', 'export'], { db });
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).not.toContain(SECRET);
    expect(plain.out).not.toContain('monitor.communities');
    expect(plain.out).not.toContain(stored(db)!);
    const dir = tempDir();
    const full = join(dir, 'full.yaml');
    expect(run('kanri', ['config', 'export', '--with-secrets', '-o', full], { db }).code).toBe(0);
    expect(readFileSync(full, 'utf8')).toContain(`monitor.communities: ${SECRET}`);

    // The export without it applied back: the sealed value stays, nothing changed.
    const partial = join(dir, 'partial.yaml');
    expect(run('kanri', ['config', 'export', '-o', partial], { db }).code).toBe(0);
    const sealed = stored(db);
    const again = run('kanri', ['config', 'apply', partial], { db });
    expect(again.code, again.err).toBe(0);
    expect(stored(db)).toBe(sealed);

    // Into another store from the full export: sealed there with that store's key.
    const other = fixtureStore(YAML);
    const applied = run('kanri', ['config', 'apply', full], { db: other });
    expect(applied.code, applied.err).toBe(0);
    expect(stored(other)).toMatch(/^v1:/);
    expect(storeBytes(other).includes(SECRET)).toBe(false);
    expect(run('kanri', ['settings', 'get', 'monitor.communities'], { db: other }).out).toBe('(sealed)\n');
  });
});

describe.runIf(requirePeer('snmptrap', 'secret community'))('secret settings: the trap receiver opens monitor.communities', () => {
  let mon: RunningMonitor | undefined;
  afterAll(async () => { await mon?.stop(); });

  it('a v2c trap with the community set from standard input is accepted; the default one no longer is', async () => {
    const db = fixtureStore(YAML);
    expect(run('kanri', ['settings', 'set', 'monitor.communities'], { db, input: `${SECRET}\n` }).code).toBe(0);
    mon = await startMonitor(db);
    const counter = (name: string): number => queryAll<{ n: number }>(db, 'SELECT n FROM monitor_counters WHERE name = ?', name)[0]?.n ?? 0;
    const alerts = (): number => queryAll<{ n: number }>(db, "SELECT count(*) AS n FROM dscli_alerts WHERE machine_id = (SELECT id FROM machines WHERE name = 'm3')")[0]!.n;
    expect(snmptrap(['-v', '2c', '-c', 'public', `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.8072.9.0.17', '1.3.6.1.2.1.1.5.0', 's', 'wrong']).code).toBe(0);
    expect(snmptrap(['-v', '2c', '-c', SECRET, `127.0.0.1:${mon.port}`, '', '1.3.6.1.4.1.8072.9.0.17', '1.3.6.1.2.1.1.5.0', 's', 'right']).code).toBe(0);
    const end = Date.now() + 30_000;
    while ((alerts() < 1 || counter('wrong_community') < 1) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(alerts()).toBe(1);
    expect(counter('wrong_community')).toBe(1);
    expect(await mon.stop()).toBe(0);
    mon = undefined;
  }, 60_000);
});
