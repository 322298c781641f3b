// A real SMTP server from Debian (aiosmtpd with its Maildir handler) on a free loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freeTcpPort } from './ipmi-sim.js';
import { tempDir } from './store.js';

export const PY = '/usr/bin/python3';

export interface SmtpPeer { port: number; maildir: string; stop(): Promise<void>; messages(): string[] }

export async function startSmtp(tls?: { cert: string; key: string }): Promise<SmtpPeer> {
  const port = await freeTcpPort();
  const maildir = join(tempDir(), 'Maildir');
  const args = ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, ...(tls ? ['--tlscert', tls.cert, '--tlskey', tls.key] : []), '-c', 'aiosmtpd.handlers.Mailbox', maildir];
  const p: ChildProcess = spawn(PY, args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => { const c = connect(port, '127.0.0.1'); c.once('connect', () => { c.destroy(); r(true); }); c.once('error', () => r(false)); });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, maildir,
    // Python's Maildir names a message time.M<microseconds>P<pid>Q<count>: the microseconds
    // are not zero-padded, so the delivery count of the one server process gives the order.
    messages: () => {
      try {
        const q = (f: string): number => Number(/Q(\d+)\./.exec(f)?.[1] ?? NaN);
        return readdirSync(join(maildir, 'new')).sort((a, b) => q(a) - q(b)).map((f) => readFileSync(join(maildir, 'new', f), 'utf8'));
      } catch {
        return [];
      }
    },
    stop: () => new Promise((r) => { if (p.exitCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGTERM'); setTimeout(() => p.kill('SIGKILL'), 3000).unref(); }),
  };
}

/** The decoded body of a message kanri sent (base64, UTF-8). */
export function bodyOf(msg: string): string {
  return Buffer.from(msg.split(/\r?\n\r?\n/).slice(1).join('\n').replace(/\s+/g, ''), 'base64').toString('utf8');
}

