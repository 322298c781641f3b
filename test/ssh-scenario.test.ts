// The ssh deploy driver against a real OpenSSH sshd on loopback: scenarios run
// on the "target" (this machine) through pvmutl add, host keys are checked
// against the store, authentication failures, timeouts and cancels are
// reported and leave no remote process behind; kanri ssh trust/forget/known.
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sshForget, sshKnown, sshTrust } from '../src/kanri/ssh.js';
import { createSshDriver } from '../src/adapters/ssh/index.js';
import { requirePeer } from './support/peers.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { exec, fixtureStore, pvmutl, queryAll as q, tempDir } from './support/store.js';
import { until } from './support/until.js';

const HAVE = requirePeer('sshd', 'ssh-scenario');

let sshd: Sshd;
beforeAll(async () => { if (HAVE) sshd = await startSshd(); });
afterAll(async () => { await sshd?.stop(); });


interface DcOptions {
  script: string;
  key?: string;
  settings?: Record<string, string>;
  /** Leave os_address and ssh_port unset: reach the machine via its host setting's IP and ssh.port. */
  viaHostSetting?: boolean;
  /** A local script distributed after the scenario, from this folder. */
  localScript?: { dir: string; file: string };
}

function store(o: DcOptions): string {
  const settings: Record<string, string> = { 'sim.delay_ms': '0', 'ssh.connect_timeout_s': '5', ...(o.settings ?? {}) };
  if (o.localScript) settings.local_script_dir = o.localScript.dir;
  const m = o.viaHostSetting
    ? `{ name: m1, kind: physical, ssh_user: ${sshd.user}, ssh_key_path: ${JSON.stringify(o.key ?? sshd.userKey)} }`
    : `{ name: m1, kind: physical, os_address: 127.0.0.1, ssh_port: ${sshd.port}, ssh_user: ${sshd.user}, ssh_key_path: ${JSON.stringify(o.key ?? sshd.userKey)} }`;
  return fixtureStore(`
kanri: 1
settings: ${JSON.stringify(o.viaHostSetting ? { ...settings, 'ssh.port': String(sshd.port) } : settings)}
software:
  - { name: Setup, kind: scenario, version: "1", date: "2026-01-01", source: ${JSON.stringify(o.script)} }
${o.localScript ? `  - { name: Local/<localhost>, kind: local_script, source: ${o.localScript.file} }` : ''}
groups:
  - name: G
    type: physical
    drivers: { power: sim, deploy: ssh, monitor: sim }
    software: { activation: [Setup${o.localScript ? ', Local/<localhost>' : ''}] }
    models: [{ name: M }]
    host_settings:
      - { host: web01, nics: [{ addresses: [{ ip: ${o.viaHostSetting ? '127.0.0.1' : '10.9.0.11'}, netmask: 255.255.255.0 }] }] }
    pool: [m1]
machines:
  - ${m}
`);
}

/** Runs fn with process.stdout/stderr captured. */
async function captured(fn: () => number | Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((t: string | Uint8Array) => { out += String(t); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((t: string | Uint8Array) => { err += String(t); return true; }) as typeof process.stderr.write;
  try {
    return { code: await fn(), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

const trust = (db: string): Promise<{ code: number; out: string; err: string }> =>
  captured(() => sshTrust(db, 'm1', { fingerprint: sshd.hostFingerprint }));

const knownRows = (db: string): Array<{ host: string; port: number; key_type: string; fingerprint: string }> =>
  q(db, 'SELECT host, port, key_type, fingerprint FROM ssh_known_hosts ORDER BY key_type');

const distributeStep = (db: string): { status: string; output: string } =>
  q<{ status: string; output: string }>(db, "SELECT status, output FROM job_steps WHERE name = 'Distribute activation-time software'")[0]!;

const jobStatus = (db: string): string => q<{ status: string }>(db, 'SELECT status FROM jobs ORDER BY id DESC LIMIT 1')[0]!.status;

/** Processes whose command line is exactly argv. */
function processesRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'latin1') === want) pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The per-connection processes of the sshd listener: none once every connection is closed. */
function sshdConnections(): number[] {
  const listener = readFileSync(join(sshd.dir, 'sshd.pid'), 'utf8').trim();
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid (the command, field 2, is in parentheses).
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === listener) pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

// Every test ends every connection it opened.
afterEach(async () => { if (HAVE) await until('sshd to have no open connection', () => sshdConnections().length === 0, 5000, 25); });

// A unique sleep duration makes the remote process recognisable in /proc.
const uniqueSleep = (): string => `30.${Math.floor(Math.random() * 9000) + 1000}`;

describe.runIf(HAVE)('ssh deploy driver with a real sshd', () => {
  it('runs the scenario on the machine after the host key is trusted: PVM_* variables seen, stdout and stderr journalled', async () => {
    const out = join(tempDir(), 'proof');
    const db = store({ script: `printf '%s %s %s\\n' "$PVM_HOST_NAME" "$PVM_IP_ADDRESS_1_1" "$(id -un)" > '${out}'\necho "configuring $PVM_HOST_NAME"\necho "a warning" >&2\nexit 0` });
    const t = await trust(db);
    expect(t).toEqual({ code: 0, out: `127.0.0.1:${sshd.port} ssh-ed25519 ${sshd.hostFingerprint}\naccepted for m1\n`, err: '' });
    const r = await pvmutl(db, ['add', 'G', 'm1']);
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect(readFileSync(out, 'utf8')).toBe(`web01 10.9.0.11 ${sshd.user}\n`);
    const step = distributeStep(db);
    expect(step.status).toBe('completed');
    expect(step.output).toBe(`Setup: ${sshd.user}@127.0.0.1:${sshd.port}\nconfiguring web01\na warning\nSetup: exit 0\n`);
    expect(q(db, "SELECT g.name AS g, h.host_name AS h FROM machines m JOIN groups g ON g.id = m.group_id JOIN host_settings h ON h.id = m.host_setting_id WHERE m.name = 'm1'")).toEqual([{ g: 'G', h: 'web01' }]);
  });

  it('reaches the machine by its host setting address and the ssh.port setting when it has no os_address', async () => {
    const out = join(tempDir(), 'proof');
    const db = store({ script: `echo "$PVM_IP_ADDRESS_1_1" > '${out}'`, viaHostSetting: true });
    // Not yet active: the machine has no address of its own, so trust cannot reach it.
    const before = await captured(() => sshTrust(db, 'm1', { yes: true }));
    expect(before.code).toBe(1);
    expect(before.err).toBe('kanri: m1 has no address to reach it over SSH: set its os_address, or give its host setting an IP address on NIC 1\n');
    // Known key for the host setting's address, as an administrator would add it beforehand.
    exec(db, 'UPDATE machines SET os_address = ? WHERE name = ?', '127.0.0.1', 'm1');
    expect((await captured(() => sshTrust(db, 'm1', { yes: true }))).code).toBe(0);
    exec(db, 'UPDATE machines SET os_address = NULL WHERE name = ?', 'm1');
    expect(knownRows(db)).toEqual([{ host: '127.0.0.1', port: sshd.port, key_type: 'ssh-ed25519', fingerprint: sshd.hostFingerprint }]);
    expect((await pvmutl(db, ['add', 'G', 'm1'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('127.0.0.1\n');
    expect(distributeStep(db).output).toContain(`Setup: ${sshd.user}@127.0.0.1:${sshd.port}\n`);
  });

  it('runs local scripts on this server as the local driver does', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'local.sh'), `#!/bin/sh\necho "local on $PVM_HOST_NAME" > '${dir}/local.out'\necho local ran\n`);
    chmodSync(join(dir, 'local.sh'), 0o755);
    const db = store({ script: 'echo remote ran', localScript: { dir, file: 'local.sh' } });
    expect((await trust(db)).code).toBe(0);
    expect(await pvmutl(db, ['add', 'G', 'm1'])).toEqual({ code: 0, out: '', err: '' });
    expect(readFileSync(join(dir, 'local.out'), 'utf8')).toBe('local on web01\n');
    expect(distributeStep(db)).toEqual({
      status: 'completed',
      output: `Setup: ${sshd.user}@127.0.0.1:${sshd.port}\nremote ran\nSetup: exit 0\nlocal ran\nLocal/<localhost>: exit 0\n`,
    });
  });

  it('a scenario exiting 3 fails the step (job exit 7) and its output stays in the journal', async () => {
    const db = store({ script: 'echo "step one done"\necho "disk full" >&2\nexit 3\necho never' });
    expect((await trust(db)).code).toBe(0);
    const r = await pvmutl(db, ['add', 'G', 'm1']);
    expect(r.code).toBe(7);
    expect(r.err).toContain('scenario Setup on m1 (127.0.0.1) exited 3');
    expect(distributeStep(db)).toEqual({
      status: 'failed',
      output: `Setup: ${sshd.user}@127.0.0.1:${sshd.port}\nstep one done\ndisk full\nerror: scenario Setup on m1 (127.0.0.1) exited 3\n`,
    });
    expect(jobStatus(db)).toBe('failed');
  });

  it('refuses an unknown host key, and a changed one, without running anything', async () => {
    const out = join(tempDir(), 'ran');
    const db = store({ script: `touch '${out}'` });
    const r = await pvmutl(db, ['add', 'G', 'm1']);
    expect(r.code).toBe(7);
    const unknown = `host key of 127.0.0.1:${sshd.port} is not trusted (${sshd.hostFingerprint}); check it and run kanri ssh trust m1`;
    expect(r.err).toContain(unknown);
    expect(distributeStep(db)).toEqual({ status: 'failed', output: `Setup: ${sshd.user}@127.0.0.1:${sshd.port}\nerror: ${unknown}\n` });
    expect(existsSync(out)).toBe(false);
    expect(knownRows(db)).toEqual([]);

    // Trusted once, then the accepted key of that address is edited to another one: the key changed.
    const db2 = store({ script: `touch '${out}'` });
    expect((await trust(db2)).code).toBe(0);
    exec(db2, 'UPDATE ssh_known_hosts SET key = ?, fingerprint = ? WHERE host = ? AND port = ?',
      sshd.otherHostKey.key, sshd.otherHostKey.fingerprint, '127.0.0.1', sshd.port);
    const r2 = await pvmutl(db2, ['add', 'G', 'm1']);
    expect(r2.code).toBe(7);
    expect(r2.err).toContain(`host key changed for 127.0.0.1:${sshd.port}: it now offers ssh-ed25519 ${sshd.hostFingerprint} but the accepted key is ${sshd.otherHostKey.fingerprint}`);
    expect(distributeStep(db2).status).toBe('failed');
    expect(existsSync(out)).toBe(false);
    // Nothing was replaced behind the administrator's back.
    expect(knownRows(db2)).toEqual([{ host: '127.0.0.1', port: sshd.port, key_type: 'ssh-ed25519', fingerprint: sshd.otherHostKey.fingerprint }]);
    // Trusting the real key again replaces the old one, and says so.
    const again = await trust(db2);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(new RegExp(`^kanri: replacing the ssh-ed25519 key accepted on \\d{4}-[\\d:.T-]+Z \\(${sshd.otherHostKey.fingerprint.replace(/[+/]/g, '\\$&')}\\)\n$`));
    expect(knownRows(db2)).toEqual([{ host: '127.0.0.1', port: sshd.port, key_type: 'ssh-ed25519', fingerprint: sshd.hostFingerprint }]);
  });

  it('a user key the server does not accept fails the step with an authentication error, and the key never reaches the journal', async () => {
    const db = store({ script: 'echo hi' });
    expect((await trust(db)).code).toBe(0);
    exec(db, 'UPDATE machines SET ssh_key_path = ? WHERE name = ?', sshd.strangerKey, 'm1');
    const r = await pvmutl(db, ['add', 'G', 'm1']);
    expect(r.code).toBe(7);
    const msg = `SSH authentication as ${sshd.user} at 127.0.0.1:${sshd.port} failed: the server accepted no key from ${sshd.strangerKey}`;
    expect(r.err).toContain(msg);
    const step = distributeStep(db);
    expect(step).toEqual({ status: 'failed', output: `Setup: ${sshd.user}@127.0.0.1:${sshd.port}\nerror: ${msg}\n` });
    const keyBody = readFileSync(sshd.strangerKey, 'utf8').split('\n')[1]!;
    expect(keyBody.length).toBeGreaterThan(20);
    expect(JSON.stringify(q(db, 'SELECT * FROM job_steps')) + JSON.stringify(q(db, 'SELECT * FROM jobs')) + r.err).not.toContain(keyBody);
  });

  it('a missing key file is a clear error naming the path', async () => {
    const db = store({ script: 'echo hi', key: '/nonexistent/kanri/id_ed25519' });
    expect((await trust(db)).code).toBe(0);
    const r = await pvmutl(db, ['add', 'G', 'm1']);
    expect(r.code).toBe(7);
    expect(r.err).toContain('cannot read the SSH private key file /nonexistent/kanri/id_ed25519 for m1 (ENOENT)');
  });

  it('a scenario past ssh.timeout_s fails within seconds and its remote processes are gone', async () => {
    const dir = tempDir();
    const secs = uniqueSleep();
    const db = store({ script: `echo $$ > '${dir}/shell.pid'\necho started\nsleep ${secs}\necho never`, settings: { 'ssh.timeout_s': '1' } });
    expect((await trust(db)).code).toBe(0);
    const t0 = Date.now();
    const r = await pvmutl(db, ['add', 'G', 'm1']);
    const took = Date.now() - t0;
    expect(r.code).toBe(7);
    expect(r.err).toContain('scenario Setup on m1 (127.0.0.1) timed out after 1 s (setting ssh.timeout_s); its remote processes were stopped and the session closed');
    expect(took).toBeLessThan(5000);
    expect(distributeStep(db).output).toContain('started\n');
    const shell = Number(readFileSync(join(dir, 'shell.pid'), 'utf8'));
    await until('the remote shell and its sleep to be gone', () => !alive(shell) && processesRunning(['sleep', secs]).length === 0, 3000, 25);
  });

  it('canceling the job stops the scenario within a second and closes the session', async () => {
    const dir = tempDir();
    const secs = uniqueSleep();
    const db = store({ script: `echo $$ > '${dir}/shell.pid'\nsleep ${secs}` });
    expect((await trust(db)).code).toBe(0);
    const running = pvmutl(db, ['add', 'G', 'm1']);
    await until('the scenario to start', () => existsSync(join(dir, 'shell.pid')) && processesRunning(['sleep', secs]).length === 1, 10_000, 25);
    // One connection is open while the scenario runs.
    expect(sshdConnections()).toHaveLength(1);
    const { id } = q<{ id: number }>(db, 'SELECT id FROM jobs ORDER BY id DESC LIMIT 1')[0]!;
    const t0 = Date.now();
    expect((await pvmutl(db, ['ascancel', String(id)])).code).toBe(0);
    expect((await running).code).toBe(7);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(jobStatus(db)).toBe('canceled');
    expect(distributeStep(db).status).toBe('canceled');
    const shell = Number(readFileSync(join(dir, 'shell.pid'), 'utf8'));
    await until('the remote shell and its sleep to be gone', () => !alive(shell) && processesRunning(['sleep', secs]).length === 0, 3000, 25);
    await until('the SSH connection to be closed', () => sshdConnections().length === 0, 3000, 25);
  });
});

describe('DPM registration with the ssh driver', () => {
  it('there is no deployment server: register and unregister log a line and succeed', async () => {
    const deploy = createSshDriver().interfaces.deploy!;
    const lines: string[] = [];
    const ctx = { db: undefined as never, jobId: 1, signal: new AbortController().signal, log: (l: string) => lines.push(l) };
    const m = { id: 1, name: 'vm1', kind: 'virtual' as const, uuid: null, macs: [], mgmtAddress: null };
    await deploy.register(ctx, m);
    await deploy.unregister(ctx, m);
    expect(lines).toEqual(['vm1: no deployment server to register with (ssh driver)', 'vm1: no deployment server to unregister from (ssh driver)']);
  });

  it('a scenario without a script is refused before any connection', async () => {
    const deploy = createSshDriver().interfaces.deploy!;
    const ctx = { db: undefined as never, jobId: 1, signal: new AbortController().signal, log: () => {} };
    const m = { id: 1, name: 'm1', kind: 'physical' as const, uuid: null, macs: [], mgmtAddress: null };
    await expect(deploy.distribute(ctx, m, { id: 1, name: 'Empty', kind: 'scenario', version: '', date: '', source: ' \n' }, null, {}))
      .rejects.toThrow('scenario Empty has no script (its source is empty)');
  });

  it('a template is refused clearly', async () => {
    const deploy = createSshDriver().interfaces.deploy!;
    const ctx = { db: undefined as never, jobId: 1, signal: new AbortController().signal, log: () => {} };
    const m = { id: 1, name: 'vm1', kind: 'virtual' as const, uuid: null, macs: [], mgmtAddress: null };
    await expect(deploy.distribute(ctx, m, { id: 1, name: 'T1', kind: 'template', version: '', date: '', source: '' }, null, {}))
      .rejects.toThrow('T1 is a template; the ssh driver distributes scenarios and local scripts only');
  });
});

describe.runIf(HAVE)('kanri ssh trust / forget / known', () => {
  it('a wrong fingerprint stores nothing (exit 1, both fingerprints named); no option stores nothing; --yes stores; forget removes', async () => {
    const db = store({ script: 'true' });
    const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const bad = await captured(() => sshTrust(db, 'm1', { fingerprint: wrong }));
    expect(bad).toEqual({
      code: 1,
      out: `127.0.0.1:${sshd.port} ssh-ed25519 ${sshd.hostFingerprint}\n`,
      err: `kanri: the host key of 127.0.0.1:${sshd.port} has fingerprint ${sshd.hostFingerprint}, not ${wrong}: not accepted\n`,
    });
    expect(knownRows(db)).toEqual([]);

    const ask = await captured(() => sshTrust(db, 'm1', {}));
    expect(ask.code).toBe(1);
    expect(ask.out).toBe(`127.0.0.1:${sshd.port} ssh-ed25519 ${sshd.hostFingerprint}\n`);
    expect(ask.err).toContain(`then run kanri ssh trust m1 --fingerprint ${sshd.hostFingerprint} (or --yes)`);
    expect(knownRows(db)).toEqual([]);

    const yes = await captured(() => sshTrust(db, 'm1', { yes: true }));
    expect(yes).toEqual({ code: 0, out: `127.0.0.1:${sshd.port} ssh-ed25519 ${sshd.hostFingerprint}\naccepted for m1\n`, err: '' });
    expect(knownRows(db)).toEqual([{ host: '127.0.0.1', port: sshd.port, key_type: 'ssh-ed25519', fingerprint: sshd.hostFingerprint }]);
    // The stored blob is the host's public key itself.
    expect(q(db, 'SELECT key FROM ssh_known_hosts')).toEqual([{ key: readFileSync(join(sshd.dir, 'host_ed25519.pub'), 'utf8').split(' ')[1] }]);

    const known = await captured(() => sshKnown(db));
    expect(known.code).toBe(0);
    expect(known.out).toMatch(new RegExp(`^127\\.0\\.0\\.1\\t${sshd.port}\\tssh-ed25519\\t${sshd.hostFingerprint.replace(/[+/]/g, '\\$&')}\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d\\n$`));

    expect(await captured(() => sshForget(db, 'm1'))).toEqual({ code: 0, out: `127.0.0.1:${sshd.port}: 1 host key removed\n`, err: '' });
    expect(knownRows(db)).toEqual([]);
    expect((await captured(() => sshKnown(db))).out).toBe('');
  });

  it('a fingerprint given without its SHA256: prefix or with base64 padding is the same fingerprint', async () => {
    const db = store({ script: 'true' });
    const r = await captured(() => sshTrust(db, 'm1', { fingerprint: `${sshd.hostFingerprint.slice('SHA256:'.length)}=` }));
    expect(r.code).toBe(0);
    expect(knownRows(db)).toHaveLength(1);
  });

  it('a missing store is exit 70 with the reason and the next step, and is not created', async () => {
    const path = join(tempDir(), 'absent', 'kanri.db');
    const gone = { code: 70, out: '', err: `kanri: store not found: ${path}; create it with 'kanri store init', or load a description with 'kanri config apply FILE' (--db PATH or KANRI_DB names another store)\n` };
    expect(await captured(() => sshKnown(path))).toEqual(gone);
    expect(await captured(() => sshForget(path, 'm1'))).toEqual(gone);
    expect(await captured(() => sshTrust(path, 'm1', { yes: true }))).toEqual(gone);
    expect(existsSync(path)).toBe(false);
  });

  it('unknown machines exit 2; an unreachable port is a bounded, clear failure', async () => {
    const db = store({ script: 'true' });
    expect(await captured(() => sshForget(db, 'nope'))).toEqual({ code: 2, out: '', err: 'kanri: machine not found: nope\n' });
    expect(await captured(() => sshTrust(db, 'nope', { yes: true }))).toEqual({ code: 2, out: '', err: 'kanri: machine not found: nope\n' });
    exec(db, 'UPDATE machines SET ssh_port = 1 WHERE name = ?', 'm1');
    const t0 = Date.now();
    const r = await captured(() => sshTrust(db, 'm1', { yes: true }));
    expect(r.code).toBe(1);
    expect(r.err).toBe('kanri: cannot connect to 127.0.0.1:1 over SSH: connect ECONNREFUSED 127.0.0.1:1\n');
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(knownRows(db)).toEqual([]);
  });
});
