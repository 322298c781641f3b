// dscli without controllers: the documented user commands, the server registry in the
// store, groups, host ranges, trap forwarding, alerts, Redfish servers nobody answers for, return
// codes 1, 2, 3, 6 and 9, help — all through the real binary (Redfish servers only on loopback).
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { binaries } from './support/cli.js';
import { keyFilePath } from '../src/store/secrets.js';
import { expandRange, splitTopLevel } from '../src/dscli/hostrange.js';
import { exec, queryAll, storeBytes } from './support/store.js';
import { dscli, lines, newStore, secretFile } from './support/dscli.js';
import { requirePeer } from './support/peers.js';

describe('host ranges', () => {
  it('expands with zero padding, several bracket groups and comma sets', () => {
    expect(expandRange('web[01-03]')).toEqual(['web01', 'web02', 'web03']);
    expect(expandRange('web[8-11]')).toEqual(['web8', 'web9', 'web10', 'web11']);
    expect(expandRange('rack[1-2]n[01-02]')).toEqual(['rack1n01', 'rack1n02', 'rack2n01', 'rack2n02']);
    expect(expandRange('n[001-003,010]')).toEqual(['n001', 'n002', 'n003', 'n010']);
    expect(splitTopLevel('a,web[01-02,05],b')).toEqual(['a', 'web[01-02,05]', 'b']);
    expect(expandRange('web[01-24]')).toHaveLength(24);
    expect(expandRange('rack[1-2]n[01-16]')).toHaveLength(32);
    expect(() => expandRange('web[5-1]')).toThrow(/below the start/);
    expect(() => expandRange('web[a-b]')).toThrow(/bad host range/);
    expect(() => splitTopLevel('web[01-02')).toThrow(/unbalanced/);
  });
});

describe('user commands exactly as documented', () => {
  it('createUser / getUserList / deleteUser', () => {
    const db = newStore();
    let r = dscli(db, ['createUser', 'ops1', 'secret1'], {});
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/warning: a password on the command line/);
    r = dscli(db, ['createUser', 'ops2', '-'], { input: 'another2\n' });
    expect(r).toMatchObject({ code: 0, out: '', err: '' });
    exec(db, "INSERT INTO users (name, password_hash, level, updated_at) VALUES ('root1', 'scrypt$16384$8$1$AAAA$AAAA', 'administrator', 'x')");
    r = dscli(db, ['getUserList']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('ops1 Operator\nops2 Operator\nroot1 Administrator\n');
    // stored hashed, never in clear
    const rows = queryAll<{ password_hash: string; level: string }>(db, "SELECT password_hash, level FROM users WHERE name IN ('ops1','ops2')");
    expect(rows.every((u) => u.password_hash.startsWith('scrypt$') && u.level === 'operator')).toBe(true);
    expect(storeBytes(db).includes('secret1')).toBe(false);
    expect(storeBytes(db).includes('another2')).toBe(false);
    expect(dscli(db, ['deleteUser', 'ops1']).code).toBe(0);
    expect(dscli(db, ['getUserList']).out).toBe('ops2 Operator\nroot1 Administrator\n');
  });

  it.runIf(requirePeer('script', 'dscli password prompt on a terminal'))('on a terminal, - prompts and reads the password without echo', () => {
    const db = newStore();
    const cmd = `(sleep 1; printf 'ttypass9\\n') | script -qec "${join(binaries(), 'dscli')} createUser ttyuser -" /dev/null`;
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, KANRI_DB: db } });
    expect(r.stdout).toContain('Password: ');
    expect(r.stdout).not.toContain('ttypass9');
    expect(dscli(db, ['getUserList']).out).toBe('ttyuser Operator\n');
  });

  it('limits: name ≤ 16, password 6–16, no duplicates, at most 30 users, unknown user', () => {
    const db = newStore();
    expect(dscli(db, ['createUser', 'a'.repeat(16), 'pass123']).code).toBe(0);
    expect(dscli(db, ['createUser', 'a'.repeat(17), 'pass123']).code).toBe(1);
    expect(dscli(db, ['createUser', 'u1', '12345']).code).toBe(1);
    expect(dscli(db, ['createUser', 'u1', '1'.repeat(17)]).code).toBe(1);
    expect(dscli(db, ['createUser', 'u1', '123456']).code).toBe(0);
    expect(dscli(db, ['createUser', 'u1', '1'.repeat(16)]).code).toBe(3);
    expect(dscli(db, ['createUser', 'U1', '1234567']).code).toBe(3);
    for (let i = 3; i <= 30; i++) exec(db, "INSERT INTO users (name, password_hash, updated_at) VALUES (?, 'scrypt$1$1$1$AA$AA', 'x')", `bulk${i}`);
    expect(queryAll(db, 'SELECT id FROM users')).toHaveLength(30);
    const r = dscli(db, ['createUser', 'thirtyone', 'pass1234']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/at most 30 users/);
    expect(dscli(db, ['deleteUser', 'nobody']).code).toBe(2);
    expect(dscli(db, ['createUser', 'x']).code).toBe(1);
    expect(dscli(db, ['getUserList', 'extra']).code).toBe(1);
  });
});

describe('server registry', () => {
  it('registers with password_file and password=-, seals the password, refuses duplicates', () => {
    const db = newStore();
    const pw = secretFile('Bmc-Secret-1');
    let r = dscli(db, ['createServer', 'srv01', 'mgmt=ipmi', 'address=192.0.2.10', 'user=admin', `password_file=${pw}`, 'model=R120h', 'os_address=10.0.0.5']);
    expect(r).toMatchObject({ code: 0, out: '', err: '' });
    r = dscli(db, ['createServer', 'srv02', 'address=192.0.2.11', 'port=6230', 'user=admin', 'password=-'], { input: 'Bmc-Secret-2\n' });
    expect(r).toMatchObject({ code: 0, err: '' });
    r = dscli(db, ['createServer', 'srv03', 'address=192.0.2.12', 'user=admin', 'password=Bmc-Secret-3']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning/);
    expect(r.err).not.toContain('Bmc-Secret-3');
    // duplicate name, same BMC under another name
    expect(dscli(db, ['createServer', 'srv01', 'address=192.0.2.99', 'user=a', `password_file=${pw}`]).code).toBe(3);
    r = dscli(db, ['createServer', 'other', 'address=192.0.2.11', 'port=6230', 'user=admin', `password_file=${pw}`]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/already registered as srv02/);
    // bad settings: format errors, nothing stored
    expect(dscli(db, ['createServer', 'x1', 'address=192.0.2.50', 'user=a', 'colour=red', `password_file=${pw}`]).code).toBe(1);
    expect(dscli(db, ['createServer', 'x1', 'address=192.0.2.50', 'user=a']).code).toBe(1);
    expect(dscli(db, ['createServer', 'x1', 'mgmt=snmp', 'address=192.0.2.50']).code).toBe(1);
    expect(dscli(db, ['createServer', 'x1', 'address=192.0.2.50', 'user=a', 'password_file=/nonexistent/pw']).code).toBe(2);
    expect(queryAll(db, "SELECT 1 FROM machines WHERE name = 'x1'")).toHaveLength(0);

    const rows = queryAll<Record<string, unknown>>(db, "SELECT name, mgmt_type, bmc_address, bmc_port, bmc_user, bmc_secret, cipher_suite, hw_model_name, os_address FROM machines ORDER BY name");
    expect(rows.map((x) => [x.name, x.mgmt_type, x.bmc_address, x.bmc_port, x.cipher_suite])).toEqual([
      ['srv01', 'ipmi', '192.0.2.10', 623, 3], ['srv02', 'ipmi', '192.0.2.11', 6230, 3], ['srv03', 'ipmi', '192.0.2.12', 623, 3],
    ]);
    expect(rows[0]).toMatchObject({ hw_model_name: 'R120h', os_address: '10.0.0.5' });
    for (const x of rows) expect(String(x.bmc_secret)).toMatch(/^v1:/);
    const raw = storeBytes(db);
    for (const s of ['Bmc-Secret-1', 'Bmc-Secret-2', 'Bmc-Secret-3']) expect(raw.includes(s)).toBe(false);
    // the key file (beside an SQLite store), 0600
    const key = keyFilePath(db);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(key).size).toBe(32);
    // power driver is ipmi
    expect(queryAll(db, "SELECT m.name, d.driver FROM machine_drivers d JOIN machines m ON m.id = d.machine_id WHERE d.interface = 'power' ORDER BY 1"))
      .toEqual([{ name: 'srv01', driver: 'ipmi' }, { name: 'srv02', driver: 'ipmi' }, { name: 'srv03', driver: 'ipmi' }]);

    r = dscli(db, ['getServerList']);
    expect(r.out).toBe('srv01 ipmi 192.0.2.10:623 - -\nsrv02 ipmi 192.0.2.11:6230 - -\nsrv03 ipmi 192.0.2.12:623 - -\n');
    r = dscli(db, ['getServerList', '--json']);
    for (const l of lines(r.out)) expect(Object.keys(JSON.parse(l))).not.toContain('password');
    expect(r.out).not.toMatch(/Bmc-Secret|v1:/);

    // setServer / deleteServer
    expect(dscli(db, ['setServer', 'srv03', 'port=6231', 'cipher=17']).code).toBe(0);
    expect(queryAll(db, "SELECT bmc_port, cipher_suite FROM machines WHERE name = 'srv03'")).toEqual([{ bmc_port: 6231, cipher_suite: 17 }]);
    expect(dscli(db, ['setServer', 'nosuch', 'port=1']).code).toBe(2);
    expect(dscli(db, ['deleteServer', 'srv03']).code).toBe(0);
    expect(dscli(db, ['deleteServer', 'srv03']).code).toBe(2);
    expect(queryAll(db, "SELECT 1 FROM machines WHERE name = 'srv03'")).toHaveLength(0);
  });

  it('KANRI_KEY_FILE moves the key; a key readable by others or a replaced key is refused', () => {
    const db = newStore();
    const keyDir = dirname(secretFile('x'));
    const key = join(keyDir, 'other.key');
    const pw = secretFile('pw-123456');
    const env = { KANRI_KEY_FILE: key };
    expect(dscli(db, ['createServer', 's1', 'address=192.0.2.60', 'user=admin', `password_file=${pw}`], { env }).code).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(() => statSync(join(dirname(db), 'kanri.key'))).toThrow();
    chmodSync(key, 0o644);
    let r = dscli(db, ['setServer', 's1', `password_file=${pw}`], { env });
    expect(r.code).toBe(8);
    expect(r.err).toMatch(/readable by others/);
    chmodSync(key, 0o600);
    writeFileSync(key, Buffer.alloc(32, 7));
    r = dscli(db, ['getPowerStatus', 's1', 'timeout=1'], { env });
    expect(r.code).toBe(8);
    // The store recorded the first key (its check value): a replaced key is named as such.
    expect(r.out).toBe(`s1 unknown (internal: key file ${key} is not the key this store's secrets are sealed with: copy the store's key here ('kanri store key export' on a manager whose key works, 'kanri store key import' here) or point KANRI_KEY_FILE at it)\n`);
  });

  it('attaches to an existing pvmutl machine and keeps it on deleteServer', () => {
    const db = newStore();
    exec(db, "INSERT INTO machines (name, kind) VALUES ('px01', 'physical')");
    const pw = secretFile('pw-123456');
    expect(dscli(db, ['createServer', 'px01', 'address=192.0.2.20', 'user=admin', `password_file=${pw}`]).code).toBe(0);
    expect(queryAll(db, "SELECT count(*) AS n FROM machines WHERE name = 'px01'")).toEqual([{ n: 1 }]);
    expect(dscli(db, ['deleteServer', 'px01']).code).toBe(0);
    expect(queryAll(db, "SELECT mgmt_type, bmc_secret FROM machines WHERE name = 'px01'")).toEqual([{ mgmt_type: null, bmc_secret: null }]);
  });
});

describe('ServerList, groups and return codes without a controller', () => {
  const setup = () => {
    const db = newStore();
    const pw = secretFile('pw-123456');
    for (const n of ['web01', 'web02', 'web03']) exec(db, 'SELECT 1');
    for (const [i, n] of ['web01', 'web02', 'web03'].entries()) {
      expect(dscli(db, ['createServer', n, 'mgmt=sim']).code).toBe(0);
      void i;
    }
    expect(dscli(db, ['createServer', 'ilo01', 'mgmt=redfish', 'address=192.0.2.30', 'user=admin', `password_file=${pw}`]).code).toBe(0);
    return db;
  };

  it('fanout=, timeout= and retries= outside the range of the setting they override are a format error (1), nothing done', () => {
    const db = setup();
    for (const [word, range] of [['fanout=0', 'fanout must be a number from 1 to 1024'], ['timeout=601', 'timeout must be a number from 0.1 to 600'], ['retries=6', 'retries must be a number from 0 to 5']]) {
      const r = dscli(db, ['powerOn', 'web01', word!]);
      expect(r.code, word).toBe(1);
      expect(r.err).toContain(`${range}, not '${word!.split('=')[1]}'`);
      expect(r.out).toBe('');
    }
    expect(dscli(db, ['getPowerStatus', 'web01', 'fanout=1024', 'timeout=0.1', 'retries=0'])).toMatchObject({ code: 0, out: 'web01 off\n' });
  });

  it('groups, ranges and comma lists resolve in input order; unknown names are 2, nothing done', () => {
    const db = setup();
    expect(dscli(db, ['createGroup', 'front']).code).toBe(0);
    expect(dscli(db, ['createGroup', 'front']).code).toBe(3);
    expect(dscli(db, ['createGroup', 'web01']).code).toBe(3);
    expect(dscli(db, ['addGroupServer', 'front', 'web03,web01']).code).toBe(0);
    expect(dscli(db, ['addGroupServer', 'nogroup', 'web01']).code).toBe(2);
    expect(dscli(db, ['addGroupServer', 'front', 'web09']).code).toBe(2);
    expect(dscli(db, ['getGroupList']).out).toBe('front 2 web03,web01\n');
    expect(dscli(db, ['getServerList', 'front']).out).toBe('web03 sim - - -\nweb01 sim - - -\n');
    let r = dscli(db, ['getPowerStatus', 'front', 'web02']);
    expect(r).toMatchObject({ code: 0, out: 'web03 off\nweb01 off\nweb02 off\n' });
    r = dscli(db, ['powerOn', 'web[01-03]']);
    expect(r).toMatchObject({ code: 0, out: 'web01 ok off->on\nweb02 ok off->on\nweb03 ok off->on\n' });
    r = dscli(db, ['powerOn', 'web01']);
    expect(r.out).toBe('web01 ok on (no change)\n');
    // an unknown name in a range: 2, every unknown named, nothing done
    r = dscli(db, ['powerOff', 'web[01-05]']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/web04, web05/);
    expect(r.out).toBe('');
    expect(dscli(db, ['getPowerStatus', 'web01']).out).toBe('web01 on\n');
    expect(dscli(db, ['removeGroupServer', 'front', 'web02']).code).toBe(2);
    expect(dscli(db, ['removeGroupServer', 'front', 'web01']).code).toBe(0);
    expect(dscli(db, ['deleteGroup', 'front']).code).toBe(0);
    expect(dscli(db, ['deleteGroup', 'front']).code).toBe(2);
  });

  it('a ServerList that selects nothing is 2 with its reason, and no controller is asked (spec/dscli.md lines 36, 66, 68)', () => {
    const db = setup();
    expect(dscli(db, ['createGroup', 'rack1']).code).toBe(0);
    expect(dscli(db, ['addGroupServer', 'rack1', 'web02']).code).toBe(0);
    expect(dscli(db, ['createGroup', 'spare']).code).toBe(0);
    expect(dscli(db, ['powerOn', 'web01']).code).toBe(0);
    for (const list of ['rack1@web01', 'web01,-web01', 'spare']) {
      const r = dscli(db, ['powerOff', list]);
      expect(r, list).toMatchObject({ code: 2, out: '', err: `dscli: the ServerList selects no server: ${list}\n` });
    }
    expect(dscli(db, ['getPowerStatus', 'web01']).out).toBe('web01 on\n');
    expect(dscli(db, ['getPowerStatus', 'rack1@web02']).out).toBe('web02 off\n');
    expect(dscli(db, ['getPowerStatus', 'rack1@web01'], { env: { LANG: 'ja_JP.UTF-8' } }).err).toBe('dscli: ServerList が選ぶサーバーがありません: rack1@web01\n');
  });

  it('Redfish servers: power and logs go to the controller, BMC-only commands are always 6; mixed list is 7', async () => {
    const db = setup();
    // Nothing listens on this loopback port: the Redfish driver is tried and cannot connect (5).
    const closed = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    });
    expect(dscli(db, ['setServer', 'ilo01', 'address=127.0.0.1', `port=${closed}`]).code).toBe(0);
    let r = dscli(db, ['powerOn', 'ilo01', 'timeout=2']);
    expect(r.code).toBe(5);
    expect(r.out).toMatch(/^ilo01 failed network: /);
    expect(dscli(db, ['getSel', 'ilo01', 'timeout=2']).code).toBe(5);
    for (const c of [['getBmcConfig', 'ilo01'], ['backupBmcConfig', 'ilo01', '/tmp/x.json'], ['setBmcConfig', 'ilo01', 'vlan=3']]) {
      expect(dscli(db, c).code).toBe(6);
    }
    r = dscli(db, ['getPowerStatus', 'web01,ilo01', 'timeout=2']);
    expect(r.code).toBe(7);
    expect(lines(r.out)).toEqual(['web01 off', expect.stringMatching(/^ilo01 unknown \(network: /)]);
    // via=ssh needs the address to log in to, which web01 has not got
    r = dscli(db, ['shutdownOs', 'web01', 'via=ssh']);
    expect(r.code).toBe(8);
    expect(r.out).toMatch(/^web01 failed configuration: web01 has no address to reach it over SSH/);
  });

  it('--json gives one object per target with the documented fields', () => {
    const db = setup();
    const r = dscli(db, ['powerOn', 'web01,web02', '--json']);
    const objs = lines(r.out).map((l) => JSON.parse(l));
    expect(objs).toHaveLength(2);
    for (const k of ['target', 'operation', 'before', 'after', 'status', 'layer', 'message', 'elapsed_ms', 'attempts']) expect(objs[0]).toHaveProperty(k);
    expect(objs[0]).toMatchObject({ target: 'web01', operation: 'powerOn', before: 'off', after: 'on', status: 'ok' });
  });

  it('confirmation guard: above the limit a pipe without --yes is refused at once', () => {
    const db = setup();
    exec(db, "INSERT INTO settings (key, value) VALUES ('dscli.confirm_above', '2')");
    const t0 = Date.now();
    let r = dscli(db, ['powerOn', 'web[01-03]'], { input: 'y\n' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/confirm with --yes/);
    expect(dscli(db, ['getPowerStatus', 'web[01-03]']).out).toBe('web01 off\nweb02 off\nweb03 off\n');
    // at the limit: no question; status never asks
    expect(dscli(db, ['powerOn', 'web01,web02']).code).toBe(0);
    r = dscli(db, ['powerOff', 'web[01-03]', '--yes']);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toHaveLength(3);
  });

  it('format errors are 1, and come before the rights check', () => {
    const db = setup();
    for (const a of [['noSuchCommand'], ['powerOn'], ['getSel'], ['getUserList', 'x'], ['powerOn', 'web01', 'fanout=0'], ['powerOn', 'web01', 'bogus=1'], ['powerOn', 'web[3-1]'], ['--frobnicate', 'getUserList'], ['setTrapForward', '6', '192.0.2.1']]) {
      expect(dscli(db, a).code, a.join(' ')).toBe(1);
    }
    expect(dscli(db, ['poweron', 'web01']).err).toMatch(/did you mean powerOn/);
  });

  it('9 when the caller is not an administrator', () => {
    const db = setup();
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = dscli(db, ['getServerList'], { ...asNobody, env: { KANRI_ADMIN_GROUP: 'kanri-admins-that-do-not-exist' } });
    expect(r.code).toBe(9);
    expect(r.err).toMatch(/administrator rights/);
    expect(dscli(db, ['getServerList', 'a', 'b'], { ...asNobody, env: { KANRI_ADMIN_GROUP: 'kanri-admins-that-do-not-exist' } }).code).toBe(1);
  });

  it('help lists every command and return code; no arguments is help and 1', () => {
    const db = newStore();
    const h = dscli(db, ['help']);
    expect(h.code).toBe(0);
    for (const c of ['createServer', 'checkConnection', 'getPowerStatus', 'getSel', 'restoreBmcConfig', 'getTrapForward', 'createUser', 'getUserList']) expect(h.out).toContain(c);
    for (let c = 0; c <= 9; c++) expect(h.out).toMatch(new RegExp(`^  ${c}  `, 'm'));
    const none = dscli(db, []);
    expect(none.code).toBe(1);
    expect(none.err).toContain('Return codes:');
  });
});

describe('trap forwarding and alerts (store)', () => {
  it('setTrapForward / getTrapForward, index 1-5', () => {
    const db = newStore();
    expect(dscli(db, ['setTrapForward', '1', '192.0.2.40']).code).toBe(0);
    expect(dscli(db, ['setTrapForward', '5', '192.0.2.41:1162', 'community=ops']).code).toBe(0);
    expect(dscli(db, ['getTrapForward']).out).toBe('1 192.0.2.40:162 community=public\n5 192.0.2.41:1162 community=ops\n');
    expect(dscli(db, ['setTrapForward', '0', '192.0.2.40']).code).toBe(1);
    expect(dscli(db, ['setTrapForward', '1', 'off']).code).toBe(0);
    expect(dscli(db, ['setTrapForward', '1', 'off']).code).toBe(2);
    expect(dscli(db, ['getTrapForward']).out).toBe('5 192.0.2.41:1162 community=ops\n');
  });

  it('getAlertList: newest first, per server, count', () => {
    const db = newStore();
    expect(dscli(db, ['createServer', 'web01', 'mgmt=sim']).code).toBe(0);
    exec(db, "INSERT INTO dscli_alerts (time, machine_id, source, severity, event, message) VALUES ('2026-11-22T01:00:00Z', (SELECT id FROM machines WHERE name='web01'), '127.0.0.1', 'warning', 'Temperature', 'CPU Temp upper non-critical')");
    exec(db, "INSERT INTO dscli_alerts (time, machine_id, source, severity, event, message) VALUES ('2026-11-22T02:00:00Z', NULL, '192.0.2.9', 'critical', 'Power Supply', 'PSU failure')");
    // times as kanri writes them for a script: local time with its offset (one rule for both)
    const tokyo = { env: { TZ: 'Asia/Tokyo' } };
    expect(dscli(db, ['getAlertList'], tokyo).out).toBe('2026-11-22T11:00:00+09:00 - critical Power Supply PSU failure\n2026-11-22T10:00:00+09:00 web01 warning Temperature CPU Temp upper non-critical\n');
    expect(JSON.parse(lines(dscli(db, ['--json', 'getAlertList', '1'], tokyo).out)[0]!)).toMatchObject({ time: '2026-11-22T11:00:00+09:00' });
    expect(dscli(db, ['getAlertList', '1'], { env: { TZ: 'UTC' } }).out).toMatch(/^2026-11-22T02:00:00\+00:00 /);
    expect(lines(dscli(db, ['getAlertList', '1']).out)).toHaveLength(1);
    expect(lines(dscli(db, ['getAlertList', 'web01']).out)).toHaveLength(1);
    expect(dscli(db, ['getAlertList', 'nosuch']).code).toBe(2);
  });
});
