// One connection to an HAProxy runtime API (the stats socket at level admin), kept
// open and shared by every job of a command: interactive mode ("prompt"), commands
// written as they come and answered in order, each answer ending at the prompt.
// The socket keeps the process alive only while a command waits for its answer;
// HAProxy closes an idle connection after its `stats timeout`, and the next command
// opens a new one.
import { type Socket, connect } from 'node:net';
import { type Endpoint, connectOptions, endpointText } from '../endpoint.js';
import { DriverError } from '../types.js';

interface Pending { command: string; settled: boolean; resolve(text: string): void; reject(err: Error): void }

const PROMPT = '\n> ';

/** The longest answer read from the runtime API (show stat of thousands of servers is far below). */
const MAX_ANSWER = 8 << 20;

/** One socket and the commands written on it, answered in order. */
class Connection {
  private buffer = '';
  readonly queue: Pending[] = [];
  closed = false;

  constructor(readonly socket: Socket, private readonly onDead: (c: Connection, err: Error) => void, where: string) {
    socket.setEncoding('utf8');
    // The answer to "prompt" itself is the first prompt: it belongs to nobody.
    this.queue.push({ command: 'prompt', settled: true, resolve: () => undefined, reject: () => undefined });
    socket.write('prompt\n');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.die(new DriverError(`HAProxy runtime API at ${where}: ${err.code ?? err.message}`, { layer: 'network', retryable: true })));
    socket.on('close', () => this.die(new DriverError(`HAProxy at ${where} closed the connection before answering`, { layer: 'network', retryable: true })));
  }

  send(p: Pending): void {
    this.queue.push(p);
    this.socket.ref();
    this.socket.write(p.command + '\n');
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    // An answer without its prompt beyond the bound: the peer is not the runtime API we speak to.
    if (this.buffer.length > MAX_ANSWER) {
      this.die(new DriverError(`HAProxy runtime API: an answer larger than ${MAX_ANSWER >> 20} MiB`, { layer: 'protocol' }));
      return;
    }
    let i: number;
    while ((i = this.buffer.indexOf(PROMPT)) >= 0) {
      // The newline before the prompt ends the answer's last line.
      const answer = this.buffer.slice(0, i + 1).replace(/\n+$/, '');
      this.buffer = this.buffer.slice(i + PROMPT.length);
      const p = this.queue.shift();
      if (p && !p.settled) p.resolve(answer);
    }
    if (!this.queue.some((p) => !p.settled)) this.socket.unref();
  }

  /** The connection is unusable: every command still waiting on it fails with err. */
  die(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.queue.splice(0)) if (!p.settled) p.reject(err);
    this.onDead(this, err);
  }
}

export class RuntimeApi {
  private conn: Connection | undefined;
  readonly where: string;

  constructor(readonly endpoint: Endpoint, private readonly timeoutMs: number) {
    this.where = endpointText(endpoint);
  }

  /**
   * Sends one command and resolves with its answer (without the prompt). A lost or
   * silent peer rejects (retryable: what was sent may or may not have run); a canceled
   * command rejects at once and its answer, when it comes, is dropped.
   */
  command(command: string, signal?: AbortSignal): Promise<string> {
    // ';' separates commands and '#' starts a comment on the CLI: a value never carries them.
    if (/[\n;#]/.test(command)) return Promise.reject(new Error(`internal: unsafe HAProxy command ${JSON.stringify(command)}`));
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('canceled'));
    const conn = this.connection();
    return new Promise<string>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => p.reject(signal?.reason instanceof Error ? signal.reason : new Error('canceled'));
      const settle = <T>(f: (v: T) => void) => (v: T): void => {
        if (p.settled) return;
        p.settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        f(v);
      };
      const p: Pending = { command, settled: false, resolve: settle(resolve), reject: settle(reject) };
      signal?.addEventListener('abort', onAbort, { once: true });
      // A peer that stops answering one command answers none after it: the connection goes.
      timer = setTimeout(() => conn.die(new DriverError(`HAProxy at ${this.where} did not answer '${command}' within ${this.timeoutMs / 1000} s`, { layer: 'network', retryable: true })), this.timeoutMs);
      conn.send(p);
    });
  }

  private connection(): Connection {
    if (this.conn && !this.conn.closed) return this.conn;
    const conn = new Connection(connect(connectOptions(this.endpoint)), (c) => { if (this.conn === c) this.conn = undefined; }, this.where);
    this.conn = conn;
    return conn;
  }

  close(): void {
    this.conn?.die(new DriverError(`the connection to HAProxy at ${this.where} was closed`, { layer: 'network' }));
  }
}
