// SSH connections to machines (ssh2): host keys checked against the store
// before anything is sent, public-key authentication with a key file read at
// connect time (never logged), bounded waits, and scenario runs that stop the
// remote process group on timeout or cancel.
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import type { Db } from '../../store/db.js';
import { DriverError, type PvmEnvironment } from '../types.js';
import { hostKeyAlgorithms, knownKeys, verifyHostKey } from './known-hosts.js';
import type { SshTarget } from './target.js';

type Client = InstanceType<typeof ssh2.Client>;

const where = (t: SshTarget): string => `${t.address}:${t.port}`;

/** An error's message, with its code when the message does not already name it. */
const withCode = (err: Error & { code?: string }): string =>
  (err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message);

function readKey(t: SshTarget): Buffer {
  if (!t.keyPath) {
    throw new DriverError(`no SSH private key for ${t.machine}: set the machine's ssh_key_path or the setting ssh.key_path`, { layer: 'configuration' });
  }
  try {
    return readFileSync(t.keyPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new DriverError(`cannot read the SSH private key file ${t.keyPath} for ${t.machine} (${code})`, { layer: 'configuration' });
  }
}

export interface ConnectOptions {
  db: Db;
  target: SshTarget;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The private key itself (a sealed setting opened by the caller) instead of the target's key file. */
  privateKey?: Buffer;
  /** A connected socket to run SSH over (the caller can then ref/unref it). */
  sock?: Socket;
}

/** Waits for a client's 'ready' (or its failure), bounded and abortable; ends the client on failure. */
function handshake(client: Client, config: ConnectConfig, opts: { timeoutMs: number; signal?: AbortSignal; explain: (err: Error & { level?: string }) => Error }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.end();
        client.destroy();
        reject(err);
      } else {
        resolve();
      }
    };
    const onAbort = (): void => settle(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('canceled'));
    // ssh2's readyTimeout covers the handshake; this guard also covers a stalled TCP connect.
    const guard = setTimeout(() => settle(opts.explain(Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }))), opts.timeoutMs + 2000);
    client.once('ready', () => settle());
    client.on('error', (err: Error & { level?: string }) => settle(opts.explain(err)));
    client.once('close', () => settle(opts.explain(new Error('the connection was closed during the handshake'))));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      client.connect(config);
    } catch (err) {
      settle(opts.explain(err as Error));
    }
  });
}

/** Connects and authenticates, refusing any host key that is not accepted in the store. */
export async function connectVerified(opts: ConnectOptions): Promise<Client> {
  const { db, target: t } = opts;
  const privateKey = opts.privateKey ?? readKey(t);
  const trust = t.trustArgs ?? t.machine;
  const known = knownKeys(db, t.address, t.port);
  const algs = hostKeyAlgorithms(known);
  let refusal: DriverError | undefined;
  const client = new ssh2.Client();
  const config: ConnectConfig = {
    host: t.address,
    port: t.port,
    username: t.user,
    privateKey,
    readyTimeout: opts.timeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    // Only public-key authentication: never a password prompt, never an agent.
    authHandler: ['publickey'],
    ...(algs.length ? { algorithms: { serverHostKey: algs as never } } : {}),
    ...(opts.sock ? { sock: opts.sock } : {}),
    hostVerifier: (blob: Buffer): boolean => {
      const v = verifyHostKey(db, t.address, t.port, blob);
      if (v.ok) return true;
      refusal = v.reason === 'unknown'
        ? new DriverError(`host key of ${where(t)} is not trusted (${v.fingerprint}); check it and run kanri ssh trust ${trust}`, { layer: 'certificate' })
        : new DriverError(`host key changed for ${where(t)}: it now offers ${v.keyType} ${v.fingerprint} but the accepted key is ${v.expected}; `
          + `refusing to connect (the machine may have been reinstalled, or someone is intercepting the connection). Check it, then run kanri ssh forget ${trust} and kanri ssh trust ${trust}`, { layer: 'certificate' });
      return false;
    },
  };
  const secs = Math.round(opts.timeoutMs / 1000);
  const explain = (err: Error & { level?: string; code?: string }): Error => {
    if (refusal) return refusal;
    if (err instanceof DriverError) return err;
    if (opts.signal?.aborted) return opts.signal.reason instanceof Error ? opts.signal.reason : new Error('canceled');
    if (err.level === 'client-authentication') {
      return new DriverError(`SSH authentication as ${t.user} at ${where(t)} failed: the server accepted no key from ${opts.privateKey ? 'the sealed key setting' : t.keyPath}`, { layer: 'authentication' });
    }
    if (err.level === 'client-timeout') return new DriverError(`no SSH connection to ${where(t)} within ${secs} s (setting ssh.connect_timeout_s)`, { layer: 'network', retryable: true });
    if (/Cannot parse privateKey|privateKey value/i.test(err.message)) {
      // ssh2's message names the problem (e.g. an encrypted key), never the key's content.
      return new DriverError(`cannot use the SSH private key ${opts.privateKey ? '(sealed setting)' : `file ${t.keyPath}`}: ${err.message.replace(/^Cannot parse privateKey: /, '')}`, { layer: 'configuration' });
    }
    if (algs.length && /host key/i.test(err.message)) {
      return new DriverError(`host key changed for ${where(t)}: it offers none of the accepted key types (${known.map((k) => k.keyType).join(', ')}); `
        + `check it, then run kanri ssh forget ${trust} and kanri ssh trust ${trust}`, { layer: 'certificate' });
    }
    return new DriverError(`cannot connect to ${where(t)} over SSH: ${withCode(err)}`, { retryable: !!err.code, layer: 'network' });
  };
  await handshake(client, config, { timeoutMs: opts.timeoutMs, signal: opts.signal, explain });
  return client;
}

/** Fetches the host key a server offers, without authenticating. */
export async function fetchHostKey(t: SshTarget, timeoutMs: number): Promise<Buffer> {
  let captured: Buffer | undefined;
  const client = new ssh2.Client();
  const config: ConnectConfig = {
    host: t.address,
    port: t.port,
    username: t.user,
    readyTimeout: timeoutMs,
    authHandler: ['none'],
    hostVerifier: (blob: Buffer): boolean => {
      captured = Buffer.from(blob);
      return false;
    },
  };
  try {
    await handshake(client, config, {
      timeoutMs,
      explain: (err: Error & { level?: string; code?: string }) => (captured
        ? new Error('host key captured')
        : err.level === 'client-timeout'
          ? new DriverError(`no SSH handshake with ${where(t)} within ${Math.round(timeoutMs / 1000)} s`)
          : new DriverError(`cannot connect to ${where(t)} over SSH: ${withCode(err)}`)),
    });
  } catch (err) {
    if (captured) return captured;
    throw err;
  } finally {
    client.end();
  }
  if (captured) return captured;
  throw new DriverError(`${where(t)} offered no host key`);
}

/** `export NAME='value'` with the value single-quoted for sh. */
export function exportLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DriverError(`not a valid environment variable name: ${JSON.stringify(name)}`);
  return `export ${name}='${value.replace(/'/g, `'\\''`)}'\n`;
}

/**
 * What /bin/sh -s reads. Everything is one brace group, so the shell has parsed
 * all of it before anything runs and nothing is left in its input:
 * - the PVM_* variables, exported;
 * - a watcher that waits for the end of the session's input and then kills
 *   the session's process group (TERM, then KILL). kanri ends the input to
 *   stop a scenario (timeout, cancel); a lost connection ends it too. This
 *   does not depend on SSH signal requests, which OpenSSH refuses for root;
 * - the scenario as a background brace group with its input from /dev/null,
 *   waited for; the watcher is removed before the shell exits with the
 *   scenario's status.
 * CRLF line ends become LF. The preamble shares the scenario's first line, so
 * that the shell's error messages give the scenario's own line numbers (unless
 * a value contains a newline). sshd starts the command in a new session, so the
 * process group is exactly the scenario's shell and what it started (unless a
 * program leaves the group itself).
 */
export function scenarioInput(script: string, env: PvmEnvironment): string {
  // Scenarios written on Windows: /bin/sh would take each CR for part of a word.
  script = script.replace(/\r\n/g, '\n');
  const preamble = [
    ...Object.entries(env).map(([k, v]) => exportLine(k, v).trimEnd()),
    // A background list's input is /dev/null unless redirected from a saved descriptor.
    'exec 3<&0',
    // ('&' ends the list item itself: no ';' after it.)
    "( trap '' TERM HUP INT; read __kanri_line <&3 || :; kill -TERM 0; sleep 2; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & __kanri_watcher=$!",
    'exec 3<&-',
  ].join('; ');
  return `{ ${preamble}; { ${script}\n} </dev/null &\nwait $!\n__kanri_status=$?\nkill -KILL $__kanri_watcher 2>/dev/null\nexit $__kanri_status\n}\n`;
}

export const OUTPUT_CAP = 64 * 1024;
const STOP_GRACE_MS = 3000;
/** After the exit status, how long the output may still drain before the session is closed. */
const DRAIN_MS = 2000;
const CLOSE_GRACE_MS = 500;

export interface RunOptions {
  timeoutMs: number;
  signal: AbortSignal;
  log(line: string): void;
}

export type RunResult =
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signal: string }
  | { kind: 'stopped'; why: 'timeout' | 'canceled' }
  | { kind: 'lost' };

/** Output lines, capped in total; a very long line is logged in pieces. */
function lineLogger(log: (line: string) => void): { stream(): { push(chunk: Buffer): void; flush(): void } } {
  let used = 0;
  let truncated = false;
  const emit = (line: string): void => {
    if (truncated) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (used + bytes > OUTPUT_CAP) {
      truncated = true;
      log(`… output truncated after ${OUTPUT_CAP} bytes`);
      return;
    }
    used += bytes;
    log(line);
  };
  return {
    stream() {
      const dec = new StringDecoder('utf8');
      let pending = '';
      return {
        push(chunk) {
          pending += dec.write(chunk);
          let i: number;
          while ((i = pending.indexOf('\n')) >= 0) {
            emit(pending.slice(0, i).replace(/\r$/, ''));
            pending = pending.slice(i + 1);
          }
          while (pending.length > 4096) {
            emit(pending.slice(0, 4096));
            pending = pending.slice(4096);
          }
        },
        flush() {
          pending += dec.end();
          if (pending) emit(pending);
          pending = '';
        },
      };
    },
  };
}

/**
 * Runs `/bin/sh -s` on the connection with the given input and streams its
 * output to `log`. On timeout or abort the session's input is ended (the
 * watcher of scenarioInput then kills the remote process group) and the
 * channel is closed if the shell has not gone within a grace period. The
 * caller ends the connection.
 */
export function runShell(client: Client, input: string, opts: RunOptions): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    if (opts.signal.aborted) return resolve({ kind: 'stopped', why: 'canceled' });
    const lines = lineLogger(opts.log);
    const out = lines.stream();
    const errOut = lines.stream();
    let channel: ClientChannel | undefined;
    let exit: RunResult | undefined;
    let stopped: 'timeout' | 'canceled' | undefined;
    let done = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(runTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeTimer);
      opts.signal.removeEventListener('abort', onAbort);
      out.flush();
      errOut.flush();
      if (err) reject(err);
      else resolve(stopped ? { kind: 'stopped', why: stopped } : exit ?? { kind: 'lost' });
    };
    const stop = (why: 'timeout' | 'canceled'): void => {
      if (stopped || done) return;
      stopped = why;
      // No session yet: nothing runs remotely that the end of the connection would not stop.
      if (!channel) return finish();
      // The end of input makes the remote watcher kill the process group
      // (TERM, KILL 2 s later); the channel closes when the shell is gone.
      const ch = channel;
      ch.end();
      graceTimer = setTimeout(() => {
        ch.close();
        closeTimer = setTimeout(() => finish(), CLOSE_GRACE_MS);
      }, STOP_GRACE_MS);
    };
    const runTimer = setTimeout(() => stop('timeout'), opts.timeoutMs);
    const onAbort = (): void => stop('canceled');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    client.exec('/bin/sh -s', (err, ch: ClientChannel) => {
      if (done) {
        ch?.close();
        return;
      }
      if (err) return finish(new DriverError(`the SSH server refused to run /bin/sh: ${err.message}`));
      channel = ch;
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.on('data', (d: Buffer) => errOut.push(d));
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = code !== null && code !== undefined ? { kind: 'exit', code } : { kind: 'signal', signal: signal ?? 'unknown' };
        // A program the scenario left running in the background may hold the
        // output open: the result does not wait for it beyond a short drain.
        if (!stopped) closeTimer = setTimeout(() => finish(), DRAIN_MS);
      });
      ch.on('close', () => finish());
      ch.on('error', () => { /* reported through close */ });
      ch.write(input);
    });
  });
}

export interface ExecResult { code: number | null; signal?: string; stdout: string; stderr: string }

/**
 * Runs one command (no shell script, no input) on the connection, bounded: on timeout
 * or cancel the channel is closed and the call fails. Output is capped.
 */
export function execCommand(client: Client, command: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('canceled'));
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let sig: string | undefined;
    let channel: ClientChannel | undefined;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        channel?.close();
        reject(err);
      } else resolve({ code, ...(sig ? { signal: sig } : {}), stdout, stderr });
    };
    const onAbort = (): void => finish(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('canceled'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(new DriverError(`'${command.split(' ')[0]}' over SSH did not finish within ${opts.timeoutMs / 1000} s`, { layer: 'network', retryable: true })), opts.timeoutMs);
    client.exec(command, (err, ch) => {
      if (done) {
        ch?.close();
        return;
      }
      if (err) return finish(new DriverError(`the SSH server refused to run ${command.split(' ')[0]}: ${err.message}`, { layer: 'os' }));
      channel = ch;
      ch.on('data', (d: Buffer) => { if (stdout.length < OUTPUT_CAP) stdout += d.toString('utf8'); });
      ch.stderr.on('data', (d: Buffer) => { if (stderr.length < OUTPUT_CAP) stderr += d.toString('utf8'); });
      ch.on('exit', (c: number | null, s?: string) => { code = c ?? null; sig = s; });
      ch.on('close', () => finish());
      ch.on('error', () => { /* reported through close */ });
      ch.end();
    });
  });
}
