// Policy notification mail over SMTP (RFC 5321): EHLO, STARTTLS when the server offers it
// (its certificate checked against mail.tls_ca or the system CAs, never accepted blindly),
// one message in UTF-8 (Japanese subjects as RFC 2047 words, the body base64), within one
// deadline for the whole delivery.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export interface MailSettings {
  host: string;
  port: number;
  from: string;
  to: string[];
  /** PEM CA certificates the server's certificate must chain to (undefined: the system CAs). */
  caFile?: string;
  timeoutMs: number;
  /** Cancels the delivery (the monitor stops: its drain bound). */
  signal?: AbortSignal;
}

export interface Delivery { tls: boolean; reply: string }

class Reader {
  private buf = '';
  private waiters: Array<() => void> = [];
  private failed: Error | undefined;

  attach(s: Socket | TLSSocket): void {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.buf += d;
      if (this.buf.length > 1 << 20) this.fail(new Error('SMTP server sent an over-long reply'));
      this.wake();
    });
    s.on('error', (e) => this.fail(e));
    s.on('close', () => this.fail(new Error('SMTP connection closed')));
  }

  fail(e: Error): void {
    this.failed ??= e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** One reply (possibly multi-line): its code and its lines. */
  async reply(): Promise<{ code: number; lines: string[] }> {
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r?\n)*(\d{3})(?: [^\r\n]*)?\r?\n/.exec(this.buf);
      if (m) {
        const text = m[0];
        this.buf = this.buf.slice(text.length);
        return { code: Number(m[1]), lines: text.split(/\r?\n/).filter(Boolean).map((l) => l.slice(4)) };
      }
      if (this.failed) throw this.failed;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

const encodeWord = (s: string): string => (/^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`);

export function composeMessage(from: string, to: string[], subject: string, body: string, date = new Date()): string {
  const b64 = Buffer.from(body.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${from}`, `To: ${to.join(', ')}`, `Subject: ${encodeWord(subject)}`, `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${hostname()}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64', 'X-Mailer: kanri monitor', '', b64, '',
  ].join('\r\n');
}

const ADDRESS = /^[^\s<>@,;:"]+@[^\s<>@,;:"]+$/;

/** Sends one message; rejects with the server's reply (or the network error) when it is not delivered. */
export async function sendMail(s: MailSettings, subject: string, body: string): Promise<Delivery> {
  for (const a of [s.from, ...s.to]) if (!ADDRESS.test(a)) throw new Error(`'${a}' is not a mail address`);
  if (s.to.length === 0) throw new Error('mail.to names no recipient');
  let sock: Socket | TLSSocket = netConnect({ host: s.host, port: s.port });
  let reader = new Reader();
  reader.attach(sock);
  const timer = setTimeout(() => {
    reader.fail(new Error(`SMTP delivery to ${s.host}:${s.port} did not finish within ${s.timeoutMs} ms`));
    sock.destroy();
  }, s.timeoutMs);
  const cancel = (): void => {
    reader.fail(new Error('canceled: the monitor is stopping'));
    sock.destroy();
  };
  if (s.signal?.aborted) cancel();
  s.signal?.addEventListener('abort', cancel, { once: true });
  const send = (line: string): void => { sock.write(line + '\r\n'); };
  const expect = async (want: number, what: string): Promise<string[]> => {
    const r = await reader.reply();
    if (Math.floor(r.code / 100) !== Math.floor(want / 100)) throw new Error(`SMTP ${what}: ${r.code} ${r.lines.join(' ')}`.trim());
    return r.lines;
  };
  let tls = false;
  try {
    await expect(220, 'greeting');
    const me = hostname() || 'localhost';
    send(`EHLO ${me}`);
    let ext = await expect(250, 'EHLO');
    if (ext.some((l) => /^STARTTLS\b/i.test(l))) {
      send('STARTTLS');
      await expect(220, 'STARTTLS');
      const plain = sock as Socket;
      plain.removeAllListeners('data');
      plain.removeAllListeners('close');
      plain.removeAllListeners('error');
      const secured = tlsConnect({ socket: plain, host: s.host, servername: /^[\d.:]+$/.test(s.host) ? '' : s.host, ...(s.caFile ? { ca: readFileSync(s.caFile) } : {}) });
      sock = secured;
      // The deadline destroys the socket, which ends a handshake that hangs.
      await new Promise<void>((res, rej) => {
        secured.once('secureConnect', () => res());
        secured.once('error', (e) => rej(new Error(`STARTTLS with ${s.host}: ${e.message}`)));
        secured.once('close', () => rej(new Error(`STARTTLS with ${s.host}: connection closed during the handshake`)));
      });
      reader = new Reader();
      reader.attach(secured);
      tls = true;
      send(`EHLO ${me}`);
      ext = await expect(250, 'EHLO after STARTTLS');
    }
    send(`MAIL FROM:<${s.from}>`);
    await expect(250, 'MAIL FROM');
    for (const r of s.to) {
      send(`RCPT TO:<${r}>`);
      await expect(250, `RCPT TO ${r}`);
    }
    send('DATA');
    await expect(354, 'DATA');
    const msg = composeMessage(s.from, s.to, subject, body);
    sock.write(msg.replace(/^\./gm, '..') + '\r\n.\r\n');
    const done = await expect(250, 'message');
    send('QUIT');
    return { tls, reply: done.join(' ') };
  } finally {
    clearTimeout(timer);
    s.signal?.removeEventListener('abort', cancel);
    sock.end();
    setTimeout(() => sock.destroy(), 1000).unref();
  }
}
