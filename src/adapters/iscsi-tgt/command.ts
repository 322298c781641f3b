// tgtadm run as a command on this server: for a tgtd that kanri cannot reach through its
// socket, or when it must be run through sudo. The same requests as the native transport,
// as argv (ssh-command.ts runs them on a storage host).
import { execFile } from 'node:child_process';
import { DriverError } from '../types.js';
import { type TgtAnswer, type TgtRequest, type TgtTransport, codeOfMessage } from './requests.js';

/** tgtadm's arguments for a request. */
export function tgtadmArgs(req: TgtRequest, controlPort: number): string[] {
  const args = [...(controlPort ? ['-C', String(controlPort)] : []), '--lld', 'iscsi', '--op', req.op, '--mode', req.mode];
  if (req.tid !== undefined) args.push('--tid', String(req.tid));
  for (const [k, v] of req.params ?? []) args.push(`--${k}`, v);
  return args;
}

export function answerOf(code: number | null, stdout: string, stderr: string, where: string, command: string): TgtAnswer {
  if (code === 0) return { code: 0, text: stdout };
  const known = codeOfMessage(stderr);
  if (known !== undefined) return { code: known, text: stderr.trim() };
  throw new DriverError(`${command} at ${where} failed (exit ${code ?? 'by signal'}): ${(stderr.trim() || stdout.trim()).split('\n')[0] ?? ''}`, { layer: 'os' });
}

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
