// The SSH session layer against a real sshd: the PVM_* values reach the
// scenario exactly (quoting), the scenario cannot read its own text, is parsed
// whole before it runs, its output is capped, and a lost connection stops it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db } from '../src/store/db.js';
import { openStore } from '../src/open-store.js';
import { addKnownKey, fingerprintOf, keyTypeOf } from '../src/adapters/ssh/known-hosts.js';
import { OUTPUT_CAP, connectVerified, exportLine, fetchHostKey, runShell, scenarioInput } from '../src/adapters/ssh/session.js';
import type { SshTarget } from '../src/adapters/ssh/target.js';
import { requirePeer } from './support/peers.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { newStoreLocation, tempDir } from './support/store.js';
import { until } from './support/until.js';

const HAVE = requirePeer('sshd', 'ssh-session');

let sshd: Sshd;
let db: Db;
beforeAll(async () => {
  if (!HAVE) return;
  sshd = await startSshd();
  db = openStore(newStoreLocation(), { create: true });
  const pub = readFileSync(join(sshd.dir, 'host_ed25519.pub'), 'utf8').split(' ')[1]!;
  addKnownKey(db, '127.0.0.1', sshd.port, Buffer.from(pub, 'base64'));
});
afterAll(async () => {
  db?.close();
  await sshd?.stop();
});

const target = (): SshTarget => ({ machine: 'm1', address: '127.0.0.1', port: sshd.port, user: sshd.user, keyPath: sshd.userKey });

async function run(script: string, env: Record<string, string> = {}, opts: { timeoutMs?: number; signal?: AbortSignal } = {}) {
  const lines: string[] = [];
  const client = await connectVerified({ db, target: target(), timeoutMs: 5000 });
  try {
    const r = await runShell(client, scenarioInput(script, env), {
      timeoutMs: opts.timeoutMs ?? 10_000, signal: opts.signal ?? new AbortController().signal, log: (l) => lines.push(l),
    });
    return { r, lines };
  } finally {
    client.end();
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('export lines', () => {
  it('single-quote every value and refuse names that are not shell names', () => {
    expect(exportLine('PVM_A', "it's")).toBe("export PVM_A='it'\\''s'\n");
    expect(exportLine('PVM_B', '')).toBe("export PVM_B=''\n");
    expect(() => exportLine('PVM-X', 'v')).toThrow('not a valid environment variable name: "PVM-X"');
    expect(() => exportLine('A;rm -rf /', 'v')).toThrow('not a valid environment variable name');
  });
});

describe.runIf(HAVE)('SSH sessions with a real sshd', () => {
  it('the fetched host key is the server’s, with the fingerprint ssh-keygen -l prints', async () => {
    const blob = await fetchHostKey(target(), 5000);
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
    expect(fingerprintOf(blob)).toBe(sshd.hostFingerprint);
  });

  it('values with quotes, $, backquotes, backslashes and newlines reach the scenario unchanged', async () => {
    const dir = tempDir();
    const env = {
      PVM_QUOTE: "it's \"quoted\"",
      PVM_DOLLAR: '$HOME `id` $(id) \\n \\',
      PVM_LINES: 'line one\nline two\n',
      PVM_EMPTY: '',
      PVM_SPACES: '  a  b  ',
    };
    const script = Object.keys(env).map((k) => `printf '%s' "$${k}" > '${dir}/${k}'`).join('\n');
    const { r } = await run(script, env);
    expect(r).toEqual({ kind: 'exit', code: 0 });
    for (const [k, v] of Object.entries(env)) expect(readFileSync(join(dir, k), 'utf8')).toBe(v);
  });

  it('the scenario’s standard input is empty: it cannot read its own text', async () => {
    const { r, lines } = await run('#!/bin/sh\ncat\necho "after cat"\nread x || echo "input is empty"');
    expect(r).toEqual({ kind: 'exit', code: 0 });
    expect(lines).toEqual(['after cat', 'input is empty']);
  });

  it('a scenario with Windows line ends runs as if it had Unix ones', async () => {
    const { r, lines } = await run('x=1\r\nif [ "$x" = 1 ]; then\r\n  echo "x is $x."\r\nfi\r\n');
    expect(r).toEqual({ kind: 'exit', code: 0 });
    expect(lines).toEqual(['x is 1.']);
  });

  it('a scenario with a syntax error runs no line of it and fails', async () => {
    const { r, lines } = await run('echo "first line ran"\nif then fi');
    expect(r.kind).toBe('exit');
    expect(r.kind === 'exit' && r.code).not.toBe(0);
    expect(lines.join('\n')).not.toContain('first line ran');
    // The shell's message gives the scenario's own line number.
    expect(lines).toEqual(['/bin/sh: 2: Syntax error: "then" unexpected']);
  });

  it('output beyond the cap is cut with a note', async () => {
    const { r, lines } = await run("i=0; while [ $i -lt 2000 ]; do printf '%099d\\n' $i; i=$((i+1)); done; echo done >&2");
    expect(r).toEqual({ kind: 'exit', code: 0 });
    expect(lines.at(-1)).toBe(`… output truncated after ${OUTPUT_CAP} bytes`);
    const logged = lines.slice(0, -1);
    expect(logged.length).toBe(Math.floor(OUTPUT_CAP / 100));
    expect(logged[0]).toBe('0'.repeat(99));
  });

  it('a shell killed by a signal is reported as such', async () => {
    const { r } = await run('kill -KILL $$');
    expect(r).toEqual({ kind: 'signal', signal: 'SIGKILL' });
  });

  it('a lost connection (kanri killed) stops the scenario and what it started', async () => {
    const dir = tempDir();
    const secs = `30.${Math.floor(Math.random() * 9000) + 1000}`;
    const client = await connectVerified({ db, target: target(), timeoutMs: 5000 });
    const running = runShell(client, scenarioInput(`sleep ${secs} &\necho $! > '${dir}/child.pid'\necho $$ > '${dir}/shell.pid'\nwait`, {}), {
      timeoutMs: 60_000, signal: new AbortController().signal, log: () => {},
    });
    await until('the scenario to start', () => existsSync(join(dir, 'child.pid')) && existsSync(join(dir, 'shell.pid')), 5000, 25);
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    const shell = Number(readFileSync(join(dir, 'shell.pid'), 'utf8'));
    expect(alive(child) && alive(shell)).toBe(true);
    client.destroy();
    expect(await running).toEqual({ kind: 'lost' });
    await until('the remote shell and its background child to be gone', () => !alive(child) && !alive(shell), 4000, 25);
  });

  it('a passphrase-protected key is refused with the reason and the path, not the key', async () => {
    const key = join(tempDir(), 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret phrase', '-f', key], { stdio: 'ignore' });
    const err = await connectVerified({ db, target: { ...target(), keyPath: key }, timeoutMs: 5000 }).then(() => undefined, (e: Error) => e);
    expect(err?.message).toBe(`cannot use the SSH private key file ${key}: Encrypted private OpenSSH key detected, but no passphrase given`);
  });

  it('an abort during the handshake stops it at once with the abort reason', async () => {
    const c = new AbortController();
    const pending = connectVerified({ db, target: target(), timeoutMs: 5000, signal: c.signal });
    c.abort(new Error('canceled by ascancel'));
    await expect(pending).rejects.toThrow('canceled by ascancel');
  });

  it('a server that never answers is given up after the connect timeout', async () => {
    // Accepts TCP connections and says nothing.
    const sockets: Socket[] = [];
    const mute = createServer((sock) => { sockets.push(sock); });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    const port = (mute.address() as AddressInfo).port;
    try {
      const t0 = Date.now();
      const err = await connectVerified({ db, target: { ...target(), port }, timeoutMs: 1000 }).then(() => undefined, (e: Error) => e);
      expect(err?.message).toBe(`no SSH connection to 127.0.0.1:${port} within 1 s (setting ssh.connect_timeout_s)`);
      const t1 = Date.now();
      await expect(fetchHostKey({ ...target(), port }, 1000)).rejects.toThrow(`no SSH handshake with 127.0.0.1:${port} within 1 s`);
      expect(t1 - t0).toBeLessThan(3000);
      expect(Date.now() - t1).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      mute.close();
    }
  });

  it('an abort before the session opens resolves at once as canceled', async () => {
    const c = new AbortController();
    c.abort(new Error('canceled by ascancel'));
    const { r, lines } = await run('echo never', {}, { signal: c.signal });
    expect(r).toEqual({ kind: 'stopped', why: 'canceled' });
    expect(lines).toEqual([]);
  });
});
