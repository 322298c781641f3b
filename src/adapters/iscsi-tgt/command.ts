// tgtadm run as a command, on this server or on the storage host over SSH (with the ssh
// adapter's host-key checks): for a tgtd that kanri cannot reach through its socket, or
// when it must be run through sudo. The same requests as the native transport, as argv.
import { execFile } from 'node:child_process';
import { type Socket, connect } from 'node:net';
import type { Db } from '../../store/db.js';
import { connectVerified, execCommand } from '../ssh/session.js';
import type { SshTarget } from '../ssh/target.js';
import { DriverError } from '../types.js';
import { type TgtAnswer, type TgtRequest, type TgtTransport, codeOfMessage } from './requests.js';

/** tgtadm's arguments for a request. */
export function tgtadmArgs(req: TgtRequest, controlPort: number): string[] {
  const args = [...(controlPort ? ['-C', String(controlPort)] : []), '--lld', 'iscsi', '--op', req.op, '--mode', req.mode];
  if (req.tid !== undefined) args.push('--tid', String(req.tid));
  for (const [k, v] of req.params ?? []) args.push(`--${k}`, v);
  return args;
}

function answerOf(code: number | null, stdout: string, stderr: string, where: string, command: string): TgtAnswer {
  if (code === 0) return { code: 0, text: stdout };
  const known = codeOfMessage(stderr);
  if (known !== undefined) return { code: known, text: stderr.trim() };
  throw new DriverError(`${command} at ${where} failed (exit ${code ?? 'by signal'}): ${(stderr.trim() || stdout.trim()).split('\n')[0] ?? ''}`, { layer: 'os' });
}

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

export class LocalCommand implements TgtTransport {
  readonly where = 'this server';

  constructor(private readonly command: string[], private readonly controlPort: number, private readonly timeoutMs: number) {}

  call(req: TgtRequest, signal?: AbortSignal): Promise<TgtAnswer> {
    const [prog, ...pre] = this.command;
    return new Promise<TgtAnswer>((resolve, reject) => {
      execFile(prog!, [...pre, ...tgtadmArgs(req, this.controlPort)], { timeout: this.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        if (e && typeof e.code === 'string') {
          if (e.name === 'AbortError') return reject(signal?.reason instanceof Error ? signal.reason : new Error('canceled'));
          return reject(new DriverError(`cannot run ${prog}: ${e.code}`, { layer: 'os' }));
        }
        if (e?.killed) return reject(new DriverError(`${prog} did not finish within ${this.timeoutMs / 1000} s`, { layer: 'network', retryable: true }));
        try {
          resolve(answerOf(e ? (typeof e.code === 'number' ? e.code : 1) : 0, String(stdout), String(stderr), this.where, prog!));
        } catch (x) {
          reject(x);
        }
      });
    });
  }
}

/** At most this many tgtadm runs at a time on one SSH connection (sshd's MaxSessions is 10). */
const SESSIONS = 8;

type Client = Awaited<ReturnType<typeof connectVerified>>;

export class SshCommand implements TgtTransport {
  readonly where: string;
  private client: Promise<Client> | undefined;
  private sock: Socket | undefined;
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly db: Db, private readonly target: SshTarget, private readonly privateKey: Buffer | undefined,
    private readonly command: string[], private readonly controlPort: number, private readonly timeoutMs: number, private readonly connectTimeoutMs: number) {
    this.where = `${target.user}@${target.address}:${target.port}`;
  }

  private connection(signal?: AbortSignal): Promise<Client> {
    if (!this.client) {
      const sock = connect({ host: this.target.address, port: this.target.port });
      this.sock = sock;
      const p = connectVerified({ db: this.db, target: this.target, timeoutMs: this.connectTimeoutMs, sock, ...(this.privateKey ? { privateKey: this.privateKey } : {}), ...(signal ? { signal } : {}) });
      this.client = p;
      p.then((c) => {
        c.on('close', () => { if (this.client === p) { this.client = undefined; this.sock = undefined; } });
        c.on('error', () => undefined);
      }, () => { if (this.client === p) { this.client = undefined; this.sock = undefined; } });
    }
    return this.client;
  }

  async call(req: TgtRequest, signal?: AbortSignal): Promise<TgtAnswer> {
    if (this.busy >= SESSIONS) await new Promise<void>((r) => this.waiting.push(r));
    this.busy++;
    this.sock?.ref();
    try {
      const client = await this.connection(signal);
      const line = [...this.command, ...tgtadmArgs(req, this.controlPort)].map(quote).join(' ');
      const r = await execCommand(client, line, { timeoutMs: this.timeoutMs, ...(signal ? { signal } : {}) });
      return answerOf(r.code, r.stdout, r.stderr, this.where, this.command[0]!);
    } finally {
      this.busy--;
      this.waiting.shift()?.();
      // An idle connection does not keep the command's process alive.
      if (this.busy === 0) this.sock?.unref();
    }
  }

  close(): void {
    this.client?.then((c) => c.end(), () => undefined);
    this.client = undefined;
  }
}
