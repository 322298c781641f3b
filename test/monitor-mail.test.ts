// Policy notification mail against a real SMTP server from Debian (aiosmtpd, its Maildir
// handler): plain SMTP, STARTTLS with the server's certificate trusted through mail.tls_ca,
// and STARTTLS with a certificate nobody trusted, which is refused.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMail } from '../src/monitor/mail.js';
import { freeTcpPort } from './support/ipmi-sim.js';
import { bodyOf, PY, type SmtpPeer, startSmtp } from './support/smtp.js';
import { requirePeer, skipReason } from './support/peers.js';
import { tempDir } from './support/store.js';

const haveAiosmtpd = spawnSync(PY, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
if (!haveAiosmtpd) skipReason('monitor mail', 'python3-aiosmtpd not installed (run scripts/peers.sh as root)');
const havePeers = haveAiosmtpd && requirePeer('openssl', 'monitor mail STARTTLS');

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('openssl req failed');
  return { cert, key };
}

describe.runIf(havePeers)('policy notification mail (aiosmtpd)', () => {
  let plain: SmtpPeer, tls: SmtpPeer;
  let good: { cert: string; key: string }, other: { cert: string; key: string };
  beforeAll(async () => {
    const dir = tempDir();
    good = selfSigned(dir, 'smtp');
    other = selfSigned(dir, 'other');
    [plain, tls] = await Promise.all([startSmtp(), startSmtp(good)]);
  }, 30_000);
  afterAll(async () => { await Promise.all([plain?.stop(), tls?.stop()]); });

  const base = { host: '127.0.0.1', from: 'kanri@example.test', to: ['ops@example.test', 'dc@example.test'], timeoutMs: 5000 };

  it('delivers a UTF-8 message over plain SMTP (no STARTTLS offered)', async () => {
    const d = await sendMail({ ...base, port: plain.port }, '[kanri] マシンアクセス不可能障害 web01', '通報を受信しました。\n.\nend');
    expect(d.tls).toBe(false);
    const [m] = plain.messages();
    expect(m).toMatch(/^Subject: =\?UTF-8\?B\?/m);
    expect(m).toMatch(/^X-RcptTo: ops@example\.test, dc@example\.test$/m);
    expect(bodyOf(m!)).toBe('通報を受信しました。\r\n.\r\nend');
  });

  it('uses STARTTLS when offered, trusting only the configured CA', async () => {
    const d = await sendMail({ ...base, port: tls.port, caFile: good.cert }, 'tls', 'over TLS');
    expect(d.tls).toBe(true);
    expect(tls.messages().map(bodyOf)).toEqual(['over TLS']);
    await expect(sendMail({ ...base, port: tls.port, caFile: other.cert }, 'x', 'y')).rejects.toThrow(/STARTTLS with 127\.0\.0\.1: .*(self[- ]signed|verify|certificate)/i);
    expect(tls.messages()).toHaveLength(1);
  });

  it('a server that does not answer ends within the deadline', async () => {
    const port = await freeTcpPort();
    const { createServer } = await import('node:net');
    const mute = createServer(() => undefined);
    await new Promise<void>((r) => mute.listen(port, '127.0.0.1', () => r()));
    const t0 = Date.now();
    await expect(sendMail({ ...base, port, timeoutMs: 800 }, 'x', 'y')).rejects.toThrow(/did not finish within 800 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    mute.close();
  });
});
