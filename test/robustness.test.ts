// What a hostile or a careless administrator found: data loss, hangs, crashes and wrong
// answers around the store. Each case failed before it was fixed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { keyFilePath } from '../src/store/secrets.js';
import { isStoreUri } from '../src/store/location.js';
import { expandRange } from '../src/dscli/hostrange.js';
import { binaries, run } from './support/cli.js';
import { dscli, newStore, secretFile } from './support/dscli.js';
import { skipReason } from './support/peers.js';
import { exec, FIXTURE, fixtureStore, queryAll as q, storeDigest, storeHolder, tempDir } from './support/store.js';

const fixtureText = readFileSync(FIXTURE, 'utf8');
const write = (text: string, name = 'dc.yaml'): string => {
  const f = join(tempDir(), name);
  writeFileSync(f, text);
  return f;
};

describe('data loss', () => {
  it('config apply shows what it removes and refuses removals the file cannot restore without --prune', () => {
    const db = fixtureStore();
    const pw = secretFile('Bmc-Secret-7');
    expect(dscli(db, ['createServer', 'px-r120-02', 'mgmt=ipmi', 'address=127.0.0.1', 'port=9998', 'user=admin', `password_file=${pw}`]).code).toBe(0);
    expect(run('pvmutl', ['add', 'Shop/Web'], { db }).code).toBe(0);
    // an export cut off before volumes: would delete machines, groups and every user
    const exported = run('kanri', ['config', 'export'], { db }).out;
    const cut = write(exported.slice(0, exported.indexOf('\nvolumes:')) + '\n');
    const before = storeDigest(db);
    let r = run('kanri', ['config', 'apply', cut], { db });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kanri: config apply refused: it would remove \d+ things that the file cannot restore: /);
    expect(r.err).toContain('remove machine px-r120-02 (its controller registration holds a sealed password)');
    // accounts the file does not name are kept (only --prune removes them)
    expect(r.err).not.toContain('remove user');
    expect(r.err).toMatch(/remove machine \S+ \(it has (a distribution history|job history in the event log)\)/);
    expect(storeDigest(db)).toBe(before);
    // --dry-run prints the whole plan and writes nothing
    r = run('kanri', ['config', 'apply', '--dry-run', cut], { db });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^remove machine px-r120-02 \(its controller registration holds a sealed password\)$/m);
    expect(r.out).toMatch(/^remove group Shop\\Web$/m);
    expect(r.out).toMatch(/dry run of .*: 0 to add, \d+ to change, \d+ to remove; nothing was written\n$/);
    expect(storeDigest(db)).toBe(before);
    const plan = run('kanri', ['config', 'apply', '--dry-run', write(exported.replace('description: online shop', 'description: the online shop'))], { db });
    expect(plan.out.split('\n')[0]).toBe('change category Shop');
    // with --prune it happens, and every removal is named
    r = run('kanri', ['config', 'apply', '--prune', cut], { db });
    expect(r.code).toBe(0);
    expect(r.out).toContain('removed machine px-r120-02\n');
    expect(q(db, 'SELECT count(*) AS n FROM users')).toEqual([{ n: 0 }]);
  });

  it('a removal that loses nothing the file holds is applied and named', () => {
    const db = fixtureStore();
    const r = run('kanri', ['config', 'apply', write(fixtureText.replace(/^ {2}- \{ name: cp-new-01,.*\n/m, ''))], { db });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^removed machine cp-new-01\napplied /);
  });

  it('after a re-apply that dropped a password, dscli says no password is stored', () => {
    const db = fixtureStore();
    exec(db, "UPDATE machines SET mgmt_type = 'ipmi', bmc_address = '127.0.0.1', bmc_port = 9997, bmc_user = 'admin' WHERE name = 'px-r120-03'");
    const r = dscli(db, ['getPowerStatus', 'px-r120-03', 'timeout=1']);
    expect(r.code).toBe(4);
    expect(r.out).toBe('px-r120-03 unknown (authentication: no BMC password stored (dscli setServer px-r120-03 password_file=…))\n');
  });

  it('a store copied without its key file: no new key is made while sealed values exist', () => {
    const db = newStore();
    const pw = secretFile('Key-Pw-1');
    expect(dscli(db, ['createServer', 's1', 'address=127.0.0.1', 'port=9996', 'user=admin', `password_file=${pw}`]).code).toBe(0);
    const key = keyFilePath(db);
    rmSync(key);
    const r = dscli(db, ['createServer', 's2', 'address=127.0.0.1', 'port=9995', 'user=admin', `password_file=${pw}`]);
    expect(r.code).toBe(8);
    expect(r.err).toBe(`dscli: key file ${key} is missing, but this store's secrets are sealed with a key: copy the store's key here ('kanri store key export' on a manager whose key works, 'kanri store key import' here) or point KANRI_KEY_FILE at it; a new key would make them unreadable for good\n`);
    expect(existsSync(key)).toBe(false);
    expect(q(db, "SELECT count(*) AS n FROM machines WHERE name = 's2'")).toEqual([{ n: 0 }]);
  });

  it('a mistyped store path is never created: every command but config apply and store init names it and the next step', () => {
    const dir = tempDir();
    const typo = join(dir, 'kanri.bd');
    for (const [name, args] of [['pvmutl', ['list', 'group']], ['dscli', ['getServerList']], ['kanri', ['machine', 'list']], ['kanri', ['job', 'list']], ['pvmutl', ['add', 'G']]] as const) {
      const r = run(name, [...args], { db: typo });
      expect(r.err, `${name} ${args.join(' ')}`).toBe(`${name}: store not found: ${typo}; create it with 'kanri store init', or load a description with 'kanri config apply FILE' (--db PATH or KANRI_DB names another store)\n`);
      expect(r.code).toBe(name === 'dscli' ? 8 : 70);
      expect(existsSync(typo)).toBe(false);
    }
    expect(run('kanri', ['store', 'init'], { db: typo })).toMatchObject({ code: 0, out: `created store ${typo}\n` });
    expect(statSync(typo).mode & 0o777).toBe(0o600);
    expect(run('pvmutl', ['list', 'group'], { db: typo }).code).toBe(0);
  });
});

describe('hangs and crashes', () => {
  it('host ranges are sized before they are expanded: huge numbers and huge lists are "too large", at once', () => {
    const db = newStore();
    expect(dscli(db, ['createServer', 'web01', 'mgmt=sim']).code).toBe(0);
    const t0 = Date.now();
    let r = dscli(db, ['getPowerStatus', 'a[9007199254740992-9007199254740992]']);
    expect(r).toMatchObject({ code: 1, err: 'dscli: host range a[9007199254740992-9007199254740992] is too large (numbers have at most 9 digits)\n' });
    r = dscli(db, ['getPowerStatus', `w[${Array(18000).fill('0-9999').join(',')}]`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is too large \(more than 10000 names\)\n$/);
    r = dscli(db, ['getPowerStatus', 'x[1-5000]', 'y[1-5001]']);
    expect(r).toMatchObject({ code: 1, err: 'dscli: the ServerList is too large (more than 10000 names)\n' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(() => expandRange('n[1-9999]x[1-2]')).toThrow(/too large/);
    expect(expandRange('n[1-2]x[01-02]')).toEqual(['n1x01', 'n1x02', 'n2x01', 'n2x02']);
  });

  it('a closed pipe ends the output quietly; a full device is one line and exit 74', () => {
    const servers = Array.from({ length: 200 }, (_, i) => `  - { name: web${String(i + 1).padStart(3, '0')}, kind: physical, bmc: { type: sim, address: 127.0.1.${(i % 250) + 1} } }`);
    const db = fixtureStore(`kanri: 1\nmachines:\n${servers.join('\n')}\n`);
    const bin = binaries();
    for (const cmd of ['dscli getServerList', 'kanri machine list', 'kanri config export', 'pvmutl list group']) {
      for (let n = 0; n < 3; n++) {
        const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${bin}/${cmd} | head -1 >/dev/null`], { env: { ...process.env, KANRI_DB: db }, encoding: 'utf8' });
        expect(r.stderr, cmd).toBe('');
        expect(r.status, cmd).toBe(0);
      }
      const full = spawnSync('bash', ['-c', `${bin}/${cmd} >/dev/full`], { env: { ...process.env, KANRI_DB: db }, encoding: 'utf8' });
      expect(full.status, cmd).toBe(74);
      expect(full.stderr).toBe(`${cmd.split(' ')[0]}: cannot write the output: no space left on the device (ENOSPC)\n`);
    }
  }, 90_000);

  it('store paths that are not stores: one line naming the path, never a stack trace', () => {
    const dir = tempDir();
    const cases: Array<[string, () => string, RegExp]> = [
      ['dangling symlink', () => { const p = join(dir, 'dangling.db'); symlinkSync(join(dir, 'nowhere.db'), p); return p; }, /is a symbolic link to nothing/],
      ['garbage', () => { const p = join(dir, 'garbage.db'); writeFileSync(p, 'not a database at all, just text that goes on for a while', { mode: 0o600 }); return p; }, /is not a kanri store \(not an SQLite database\) \(SQLITE_NOTADB\)/],
      ['/dev/null', () => '/dev/null', /is not a regular file/],
      ['under a file', () => { const f = join(dir, 'plain'); writeFileSync(f, ''); return join(f, 'kanri.db'); }, /has a path component that is not a directory \(ENOTDIR\)/],
      ['a directory', () => { const p = join(dir, 'dir.db'); mkdirSync(p); return p; }, /is a directory, not a store file/],
      ['readable by others', () => { const p = join(dir, 'open.db'); writeFileSync(p, ''); chmodSync(p, 0o644); return p; }, /is readable by others \(mode 644\).*chmod 600/],
    ];
    for (const [what, make, re] of cases) {
      const p = make();
      for (const [name, args] of [['pvmutl', ['list', 'group']], ['kanri', ['job', 'list']], ['dscli', ['getServerList']]] as const) {
        const r = run(name, [...args], { db: p });
        expect(r.code, `${what} ${name}`).toBe(name === 'dscli' ? 8 : 70);
        expect(r.err, `${what} ${name}`).toMatch(re);
        expect(r.err.trim().split('\n'), `${what} ${name}: one line`).toHaveLength(1);
      }
    }
  });

  it('an empty file given as the store becomes a WAL store at the newest schema', () => {
    const p = join(tempDir(), 'touched.db');
    writeFileSync(p, '', { mode: 0o600 });
    expect(run('pvmutl', ['list', 'group'], { db: p }).code).toBe(0);
    const d = new Database(p, { readonly: true });
    expect(d.pragma('journal_mode', { simple: true })).toBe('wal');
    d.close();
  });

  it('commands started at once queue for the store: none fails for it being busy', async () => {
    const vms = 24;
    const hosts = Array.from({ length: vms }, (_, i) => `{ host: v${i} }`).join(', ');
    const db = fixtureStore(`
kanri: 1
settings: { sim.delay_ms: "20" }
software: [{ name: T, kind: template, cost: 1 }]
groups:
  - { name: Hosts, type: vmserver, drivers: { power: sim, deploy: sim, vm: sim, monitor: sim }, models: [{ name: esx }], host_settings: [{ host: h1 }, { host: h2 }] }
  - { name: G, type: virtual, template: T, drivers: { power: sim, deploy: sim, vm: sim, monitor: sim }, models: [{ name: vm, vm_server_model: Hosts/esx }], host_settings: [${hosts}] }
machines:
  - { name: vs1, kind: vmserver, power: on, capacity: 1000, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h1, from: master } }
  - { name: vs2, kind: vmserver, power: on, capacity: 1000, datastores: [{ name: ds, shared: true }], active: { group: Hosts, model: esx, host: h2, from: master } }
`);
    const results = await Promise.all(Array.from({ length: vms }, (_, i) => new Promise<string>((resolve) => {
      const p = spawn(join(binaries(), 'pvmutl'), ['vmadd', 'G', `vm${i}`], { env: { ...process.env, LANG: 'C', KANRI_DB: db }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      p.on('close', (code) => resolve(`${code} ${err.trim()}`.trim()));
    })));
    expect(results.filter((r) => r !== '0')).toEqual([]);
    expect(q<{ n: number }>(db, "SELECT count(*) AS n FROM machines WHERE kind = 'virtual' AND host_setting_id IS NOT NULL")[0]!.n).toBe(vms);
  }, 180_000);

  it('a store held by another command is waited for, then reported as busy in one line', () => {
    const db = fixtureStore();
    // Another connection's write transaction, as another command's would be.
    const holder = storeHolder(db);
    holder.hold();
    try {
      const t0 = Date.now();
      const r = run('pvmutl', ['add', 'Shop/Web'], { db, env: { KANRI_BUSY_TIMEOUT_S: '5' } });
      expect(Date.now() - t0).toBeGreaterThan(4500);
      expect(r.code).toBe(70);
      expect(r.err).toBe(`pvmutl: store ${db} is busy: other commands have held it for more than the busy timeout (5 s); try again when they are done (SQLITE_BUSY)\n`);
      expect(run('pvmutl', ['list', 'group'], { db, env: { KANRI_BUSY_TIMEOUT_S: '0' } }))
        .toMatchObject({ code: 70, out: '', err: "pvmutl: KANRI_BUSY_TIMEOUT_S must be a whole number of seconds from 1 to 3600, not '0'\n" });
    } finally {
      holder.release();
      holder.close();
    }
  }, 30_000);

  it('a read-only store or file system: one line, the store unchanged', () => {
    if (process.getuid?.() !== 0) {
      skipReason('read-only file system case', 'mounting a tmpfs needs root');
      return;
    }
    const mnt = join(tempDir(), 'ro');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status !== 0) {
      skipReason('read-only file system case', 'mount -t tmpfs is not permitted here');
      return;
    }
    try {
      const db = join(mnt, 'kanri.db');
      expect(run('kanri', ['config', 'apply', FIXTURE], { db }).code).toBe(0);
      expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
      const r = run('pvmutl', ['add', 'Shop/Web'], { db });
      expect(r.code).toBe(70);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(new RegExp(`^pvmutl: store ${db.replace(/[.]/g, '\\.')} (is read-only|cannot be opened|is on a read-only file system)`));
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('a full disk during a job: the command ends with exit 70 in one line, and its jobs do not stay running', () => {
    if (process.getuid?.() !== 0) {
      skipReason('full disk case', 'mounting a tmpfs needs root');
      return;
    }
    const mnt = join(tempDir(), 'full');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]).status !== 0) {
      skipReason('full disk case', 'mount -t tmpfs is not permitted here');
      return;
    }
    try {
      const db = join(mnt, 'kanri.db');
      expect(run('kanri', ['config', 'apply', FIXTURE], { db }).code).toBe(0);
      const avail = Number(spawnSync('df', ['-k', '--output=avail', mnt], { encoding: 'utf8' }).stdout.split('\n')[1]);
      spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1k', `count=${avail - 62}`]);
      const t0 = Date.now();
      const r = run('pvmutl', ['add', 'Shop/Web', '/c', '2'], { db, timeout: 20_000 });
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r.code).toBe(70);
      expect(r.err).toBe(`pvmutl: store ${db} cannot be written: the disk is full (SQLITE_FULL)\n`);
      rmSync(join(mnt, 'fill'));
      // the next invocation finds the jobs of the dead process and frees what they held
      expect(run('pvmutl', ['asjob'], { db }).out).toMatch(/Total job : 0/);
      expect(q(db, 'SELECT count(*) AS n FROM reservations')).toEqual([{ n: 0 }]);
      expect(q(db, "SELECT count(*) AS n FROM jobs WHERE status IN ('running', 'held')")).toEqual([{ n: 0 }]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  }, 40_000);

  it('restoreBmcConfig of a directory is a format error naming it', () => {
    const db = newStore();
    const pw = secretFile('Dir-Pw-1');
    expect(dscli(db, ['createServer', 's1', 'address=127.0.0.1', 'port=9994', 'user=admin', `password_file=${pw}`]).code).toBe(0);
    const dir = tempDir();
    expect(dscli(db, ['restoreBmcConfig', 's1', dir])).toMatchObject({ code: 1, err: `dscli: backup file ${dir} is not a regular file\n` });
  });
});

describe('file safety', () => {
  it('config export -o replaces a symlink instead of following it, and leaves a 0600 file', () => {
    const db = fixtureStore();
    const dir = tempDir();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep me\n', { mode: 0o644 });
    const out = join(dir, 'export.yaml');
    symlinkSync(victim, out);
    expect(run('kanri', ['config', 'export', '-o', out], { db }).code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const existing = join(dir, 'old.yaml');
    writeFileSync(existing, 'old\n', { mode: 0o644 });
    expect(run('kanri', ['config', 'export', '-o', existing], { db }).code).toBe(0);
    expect(statSync(existing).mode & 0o777).toBe(0o600);
    expect(readFileSync(existing, 'utf8')).toMatch(/^kanri: 1\n/);
  });
});

describe('wrong answers', () => {
  it('config apply sweeps jobs whose process died before it refuses for running jobs', () => {
    const db = fixtureStore();
    exec(db, "INSERT INTO jobs (id, sequence, status, created_at, pid) VALUES (5, 'MoveFromPoolToGroup', 'running', '2026-11-22T00:00:00Z', 999999)");
    const r = run('kanri', ['config', 'apply', write(fixtureText.replace('description: online shop', 'description: the online shop'))], { db });
    expect(r.code).toBe(0);
    expect(q(db, 'SELECT status FROM jobs WHERE id = 5')).toEqual([{ status: 'abandoned' }]);
  });

  it('names with control characters are refused at validation', () => {
    for (const bad of ['Web\u001b[31m', 'We\nb', 'We\tb', 'We\u202eb', 'We\u0000b']) {
      const r = run('kanri', ['config', 'check', write(fixtureText.replace('      - name: Web\n', `      - name: ${JSON.stringify(bad)}\n`))]);
      expect(r.code, JSON.stringify(bad)).toBe(1);
      expect(r.err).toMatch(/\.name: must not contain control characters \(U\+[0-9A-F]{4} at position \d+\)/);
    }
    const sw = run('kanri', ['config', 'check', write(fixtureText.replace('name: OS-RHEL9-Restore', 'name: "OS\\u001b[2J"'))]);
    expect(sw.err).toMatch(/software\[0\]\.name: must not contain control characters/);
  });

  it('names compare under Unicode case folding everywhere', async () => {
    const db = fixtureStore(fixtureText.replace('      - name: Web\n', '      - name: Äpfel\n').replaceAll('Shop/Web', 'Shop/Äpfel'));
    expect(run('pvmutl', ['list', 'server', 'Shop/äpfel'], { db }).code).toBe(0);
    expect(run('pvmutl', ['list', 'server', 'SHOP/ÄPFEL'], { db }).code).toBe(0);
    const r = run('kanri', ['config', 'check', write(fixtureText.replace('      - name: Web\n', '      - name: Straße\n').replaceAll('Shop/Web', 'Shop/Straße').replace('      - name: AP\n', '      - name: STRASSE\n').replaceAll('Shop/AP', 'Shop/STRASSE'))]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/'STRASSE' is already used/);
    // and under compatibility, kana and ignorable folding, as a name column on PostgreSQL does
    const plain = fixtureStore(fixtureText);
    for (const name of ['Shop/ＷＥＢ', 'ｓｈｏｐ/Web', 'Shop/We\u00adb']) expect(run('pvmutl', ['list', 'server', name], { db: plain }).code, name).toBe(0);
    expect(run('pvmutl', ['list', 'server', 'Shop/Wéb'], { db: plain }).code).not.toBe(0);
    const twice = run('kanri', ['config', 'check', write(fixtureText.replace('      - name: AP\n', '      - name: Ｗｅｂ\n').replaceAll('Shop/AP', 'Shop/Ｗｅｂ'))]);
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/'Ｗｅｂ' is already used/);
  });

  it('the validator knows every unique constraint of the schema', () => {
    // Every unique index of the tables a description fills, and the case that would break it.
    const once = (from: string, to: string): string => {
      expect(fixtureText, from).toContain(from);
      return fixtureText.replace(from, to);
    };
    const cases: Record<string, string | null> = {
      'categories(ifnull(parent_id,0),name)': once('  - name: Infra\n', '  - name: Lab\n'),
      'groups(ifnull(category_id,0),name)': once('      - name: AP\n', '      - name: Web\n'),
      'models(group_id,name)': once('          - name: R110j\n            priority: 2\n', '          - name: R120h\n            priority: 2\n'),
      'host_settings(group_id,host_name)': once('          - host: web05\n', '          - host: web04\n'),
      'host_settings(group_id,position)': null,
      'policies(name)': once('  - name: Web-N+1\n', '  - name: 標準ポリシー\n'),
      'software(name)': once('name: NIC-Driver-R110j,', 'name: NIC-Driver-R120h,'),
      'disk_volumes(name)': once('  - { name: LD-web-data02,', '  - { name: LD-web-data01,'),
      'machines(name)': once('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-01, kind: physical,'),
      'machines(host_setting_id)': once('model: R120h, host: web02, from: group_pool', 'model: R120h, host: web01, from: group_pool'),
      'machines(bmc_address,bmc_port)': once('  - { name: px-r120-02, kind: physical,', '  - { name: px-r120-02, bmc: { type: ipmi, address: 10.9.9.9 }, kind: physical,')
        .replace('  - name: px-r120-01\n', '  - name: px-r120-01\n    bmc: { type: ipmi, address: 10.9.9.9 }\n'),
      'machine_macs(mac)': once('macs: ["00:25:90:A1:02:01"]', 'macs: ["00:25:90:A1:01:02"]'),
      'machine_macs(machine_id,nic_no)': null,
      'machine_tags(machine_id,seq)': null,
      'machine_drivers(machine_id,interface)': null,
      'group_drivers(group_id,interface)': null,
      'datastores(vm_server_id,name)': once('datastores: [{ name: "[datastore1]", capacity_gb: 2000, shared: true }]', 'datastores: [{ name: "[datastore1]", capacity_gb: 2000, shared: true }, { name: "[DATASTORE1]" }]'),
      'pool_members(group_id,machine_id)': once('          - { machine: px-r120-02, model: R120h }\n', '          - { machine: px-r120-02, model: R120h }\n          - { machine: px-r120-02 }\n'),
      'host_setting_addresses(host_setting_id,nic_no,seq)': null,
      'host_setting_gateways(host_setting_id,nic_no,seq)': null,
      'host_setting_tags(host_setting_id,seq)': null,
      'host_setting_volumes(host_setting_id,volume_id)': once('volumes: [LD-web-data02, LD-web-shared]', 'volumes: [LD-web-data02, LD-web-shared, ld-web-data02]'),
      'distribution_history(machine_id,seq)': null,
      'users(name)': once('  - { name: user01, level: operator,', '  - { name: admin, level: operator,'),
      'settings(key)': null,
      'policy_rules(policy_id,position)': null,
      'driver_settings(coalesce(machine_id,0),coalesce(group_id,0),driver,key)': null,
    };
    const path = join(tempDir(), 'kanri.db');
    const d = openStore(path, { create: true });
    const seen: string[] = [];
    const filled = new Set(['categories', 'groups', 'models', 'host_settings', 'policies', 'software', 'disk_volumes', 'machines', 'machine_macs', 'machine_tags',
      'machine_drivers', 'group_drivers', 'datastores', 'pool_members', 'host_setting_addresses', 'host_setting_gateways', 'host_setting_tags', 'host_setting_volumes',
      'distribution_history', 'users', 'settings', 'policy_rules', 'software_registrations', 'driver_settings']);
    for (const { name: table } of d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>) {
      if (!filled.has(table)) continue;
      for (const idx of d.prepare(`PRAGMA index_list("${table}")`).all() as Array<{ name: string; unique: number }>) {
        if (!idx.unique) continue;
        const sql = (d.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(idx.name) as { sql: string | null } | undefined)?.sql;
        const cols = sql ? /\((.*)\)[^)]*$/.exec(sql)![1]!.replace(/\s*,\s*/g, ',').replace(/ COLLATE NOCASE/g, '') : (d.prepare(`PRAGMA index_info("${idx.name}")`).all() as Array<{ name: string }>).map((c) => c.name).join(',');
        seen.push(`${table}(${cols})`);
      }
    }
    d.close();
    expect(seen.filter((k) => !(k in cases)), 'unique constraints without a case here').toEqual([]);
    for (const [k, text] of Object.entries(cases)) {
      if (text === null) continue;
      expect(text, k).not.toBe(fixtureText);
      const r = run('kanri', ['config', 'check', write(text)]);
      expect(r.code, `${k}: ${r.err || r.out}`).toBe(1);
      // refused for the duplicate itself, not for something else the edit broke
      expect(r.err, k).toMatch(/defined twice|already used|also used|is already used by/);
    }
  });

  it('every foreign key has an index led by its column', () => {
    const d = openStore(join(tempDir(), 'kanri.db'), { create: true });
    const missing: string[] = [];
    for (const { name: t } of d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>) {
      const leading = (d.prepare(`PRAGMA index_list("${t}")`).all() as Array<{ name: string }>).map((i) => (d.prepare(`PRAGMA index_info("${i.name}")`).all() as Array<{ name: string }>)[0]?.name);
      const rowid = (d.prepare(`PRAGMA table_info("${t}")`).all() as Array<{ name: string; pk: number; type: string }>).filter((c) => c.pk > 0);
      for (const fk of d.prepare(`PRAGMA foreign_key_list("${t}")`).all() as Array<{ from: string }>) {
        const isRowid = rowid.length === 1 && rowid[0]!.name === fk.from && rowid[0]!.type === 'INTEGER';
        if (!isRowid && !leading.includes(fk.from)) missing.push(`${t}(${fk.from})`);
      }
    }
    d.close();
    expect(missing).toEqual([]);
  });
});

describe('smaller things', () => {
  it('a KANRI_MANAGER that is no manager name: one line, the store problem code of each dialect, nothing changed', () => {
    const db = fixtureStore();
    // The audit records every command with its exit code, a refused one too.
    const before = storeDigest(db, ['audit']);
    const env = { KANRI_MANAGER: 'bad name!' };
    const line = 'KANRI_MANAGER must be 1-63 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit: "bad name!"\n';
    expect(run('pvmutl', ['add', 'Shop\\Web', '/c', '1'], { db, env })).toEqual({ code: 70, out: '', err: `pvmutl: ${line}` });
    expect(run('kanri', ['monitor'], { db, env })).toEqual({ code: 70, out: '', err: `kanri: ${line}` });
    expect(storeDigest(db, ['audit'])).toBe(before);
    expect(q(db, "SELECT command, exit_code FROM audit")).toEqual([{ command: 'pvmutl add Shop\\Web /c 1', exit_code: 70 }]);
  });

  it('--db is accepted after a pvmutl subcommand, as kanri and dscli accept it', () => {
    const db = fixtureStore();
    expect(run('pvmutl', ['list', 'group', '--db', db], { env: { KANRI_DB: '/nonexistent/x.db' } }).code).toBe(0);
    expect(run('pvmutl', ['list', '--db=' + db, 'group'], { env: { KANRI_DB: '/nonexistent/x.db' } }).code).toBe(0);
  });

  it('a password word where a name belongs is never echoed', () => {
    const db = newStore();
    const r = dscli(db, ['deleteGroup', 'password=Sup3rSecret']);
    expect(r.code).toBe(2);
    expect(r.err).not.toContain('Sup3rSecret');
    expect(r.err).toContain('password=***');
  });

  it('only ja and ja_* select Japanese', () => {
    const db = fixtureStore();
    expect(run('pvmutl', ['list', 'server', 'Nope'], { db, env: { LANG: 'jav_ID.UTF-8', LC_ALL: '' } }).err).toBe('pvmutl: group not found: Nope\n');
    expect(run('pvmutl', ['list', 'server', 'Nope'], { db, env: { LANG: 'ja_JP.UTF-8', LC_ALL: '' } }).err).toBe('pvmutl: グループが見つかりません: Nope\n');
    expect(run('pvmutl', ['list', 'server', 'Nope'], { db, env: { LANG: 'ja', LC_ALL: '' } }).err).toBe('pvmutl: グループが見つかりません: Nope\n');
  });

  it('getServerList prints an address without a port as the address alone', () => {
    const db = newStore();
    expect(dscli(db, ['createServer', 'sim1', 'mgmt=sim', 'address=127.0.0.11']).code).toBe(0);
    expect(dscli(db, ['getServerList']).out).toBe('sim1 sim 127.0.0.11 - -\n');
  });

  it('settings: reserved or unknown keys are refused, not dropped', () => {
    const r = run('kanri', ['config', 'check', write('kanri: 1\nsettings: { __proto__: x, constructor: y }\n')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('settings.__proto__: unknown setting');
    expect(r.err).toContain('settings.constructor: unknown setting');
  });

  it('kanri commands that read or change the store follow the administrator rule of pvmutl and dscli', () => {
    const db = fixtureStore();
    // The store reachable by anyone, so that only the rule refuses (a PostgreSQL store's
    // socket is its cluster's alone: the rule must refuse before the store is reached).
    if (!isStoreUri(db)) chmodSync(join(db, '..'), 0o755);
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const env = { KANRI_ADMIN_GROUP: 'kanri-admins-that-do-not-exist' };
    for (const args of [['machine', 'reset', 'px-r120-01'], ['sim', 'clear'], ['config', 'apply', FIXTURE], ['job', 'list'], ['user', 'disable', 'admin']]) {
      const r = run('kanri', args, { db, ...asNobody, env });
      expect(r.code, args.join(' ')).toBe(9);
      expect(r.err).toBe('kanri: this command needs administrator rights: root, or a member of the group kanri-admins-that-do-not-exist (KANRI_ADMIN_GROUP), which does not exist yet; as root: groupadd kanri-admins-that-do-not-exist && usermod -aG kanri-admins-that-do-not-exist USER, then log in again\n');
    }
    // what does not touch the store needs no rights
    expect(run('kanri', ['config', 'check', FIXTURE], { ...asNobody, env }).code).toBe(0);
    expect(run('kanri', ['driver', 'list'], { ...asNobody, env }).code).toBe(0);
  });
});
