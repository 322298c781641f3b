// tgtadm run on the storage host over SSH, with the ssh adapter's host-key checks and a
// sealed key: one connection per storage host, shared by a command's jobs.
import { type Socket, connect } from 'node:net';
import type { Db } from '../../store/db.js';
import { connectVerified, execCommand } from '../ssh/session.js';
import type { SshTarget } from '../ssh/target.js';
import { answerOf, tgtadmArgs } from './command.js';
import type { TgtAnswer, TgtRequest, TgtTransport } from './requests.js';

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

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
