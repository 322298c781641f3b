// tgtd's management socket spoken directly (what tgtadm does, usr/tgtadm.c of tgt): one
// request per connection, a fixed header (struct tgtadm_req), "key=value" parameters,
// and an answer of an error number, a length and text. No process is started per
// request. The socket accepts only the user tgtd runs as (normally root).
import { connect } from 'node:net';
import { DriverError } from '../types.js';
import { MODES, OPS, type TgtAnswer, type TgtRequest, type TgtTransport } from './requests.js';
import { wait } from '../../util/wait.js';

const HEADER = 120;
const EAGAIN = 11;
const LLD = 'iscsi';

/** struct tgtadm_req as tgtd reads it (little-endian, 64-bit alignment). */
export function encodeRequest(req: TgtRequest): Buffer {
  const body = req.params?.length ? Buffer.from(req.params.map(([k, v]) => `${k}=${v}`).join(',') + '\0') : Buffer.alloc(0);
  const h = Buffer.alloc(HEADER);
  h.writeInt32LE(MODES[req.mode], 0);
  h.writeInt32LE(OPS[req.op], 4);
  h.write(LLD, 8, 'latin1');
  h.writeUInt32LE(HEADER + body.length, 72);
  h.writeInt32LE(req.tid ?? -1, 76);
  h.writeBigUInt64LE(0n, 80);
  h.writeBigUInt64LE(0xffffffffffffffffn, 88);
  return Buffer.concat([h, body]);
}

/**
 * Requests in flight at once: tgtd accepts its management connections one at a time from a
 * short listen queue (a full queue refuses a connection with EAGAIN).
 */
const IN_FLIGHT = 8;

export class NativeTransport implements TgtTransport {
  readonly where: string;
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly path: string, private readonly timeoutMs: number) {
    this.where = `unix:${path}`;
  }

  async call(req: TgtRequest, signal?: AbortSignal): Promise<TgtAnswer> {
    if (this.busy >= IN_FLIGHT) await new Promise<void>((r) => this.waiting.push(r));
    this.busy++;
    try {
      const t0 = Date.now();
      for (let i = 0; ; i++) {
        try {
          return await this.once(req, signal);
        } catch (e) {
          // The listen queue was full for a moment: nothing was sent.
          if (!(e instanceof DriverError) || e.code !== EAGAIN || Date.now() - t0 > this.timeoutMs || signal?.aborted) throw e;
          await wait(Math.min(100, 5 * 2 ** i));
        }
      }
    } finally {
      this.busy--;
      this.waiting.shift()?.();
    }
  }

  private once(req: TgtRequest, signal?: AbortSignal): Promise<TgtAnswer> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('canceled'));
    return new Promise<TgtAnswer>((resolve, reject) => {
      const sock = connect({ path: this.path });
      const chunks: Buffer[] = [];
      let got = 0;
      let need = 0;
      let settled = false;
      const finish = (err: Error | null, answer?: TgtAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        sock.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const onAbort = (): void => finish(signal?.reason instanceof Error ? signal.reason : new Error('canceled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => finish(new DriverError(`tgtd at ${this.where} did not answer ${req.op} within ${this.timeoutMs / 1000} s`, { layer: 'network', retryable: true })), this.timeoutMs);
      sock.on('connect', () => sock.write(encodeRequest(req)));
      sock.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        if (got < 8) return;
        if (need === 0) {
          need = Buffer.concat(chunks).readUInt32LE(4);
          if (need < 8 || need > 64 * 1024 * 1024) return finish(new DriverError(`tgtd at ${this.where} sent an answer of ${need} bytes: not tgtd's management protocol?`, { layer: 'protocol' }));
        }
        if (got < need) return;
        const data = Buffer.concat(chunks, got);
        finish(null, { code: data.readUInt32LE(0), text: data.subarray(8, need).toString('utf8').replace(/\0+$/, '') });
      });
      sock.on('error', (err: NodeJS.ErrnoException) => finish(new DriverError(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? `tgtd is not running at ${this.where} (${err.code})` : `tgtd at ${this.where}: ${err.code ?? err.message}`,
        { layer: 'network', retryable: err.code !== 'ENOENT' && err.code !== 'ECONNREFUSED' && err.code !== 'EACCES', ...(err.code === 'EAGAIN' ? { code: EAGAIN } : {}) },
      )));
      sock.on('close', () => finish(new DriverError(`tgtd at ${this.where} closed the connection before answering${got ? '' : ' (is kanri running as the user tgtd runs as?)'}`, { layer: 'network', retryable: true })));
    });
  }
}
