// Talking to libvirt through virsh, libvirt's own client: no shell, LC_ALL=C, a deadline on
// every command and a kill on cancel. A process keeps one virsh per connection URI open and
// feeds it commands on standard input (virsh's own command language, never a shell): after
// each command an `echo` marker on stdout and on stderr says where its output and its
// errors end. That costs one process start and one libvirt connection per URI and process,
// instead of one per command. A session whose command timed out, was canceled or whose
// virsh died is killed; the next command starts a new one.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { DriverError } from '../types.js';

export interface VirshOptions {
  /** The virsh executable (setting libvirt.virsh). */
  binary: string;
  /** Deadline of one command (ms). */
  timeoutMs: number;
  signal?: AbortSignal;
}

const SAFE_TOKEN = /^[A-Za-z0-9_.,:/@=+%-]+$/;

/**
 * Quotes one argument for virsh's command parser. virsh splits on blanks and honours
 * single quotes, within which nothing is special; a value that holds a quote or a line
 * break cannot be given and is refused (names and paths never need one).
 */
export function arg(value: string): string {
  if (value === '' || /['\n\r\0]/.test(value)) throw new DriverError(`libvirt: cannot pass ${JSON.stringify(value)} to virsh`, { layer: 'input' });
  return SAFE_TOKEN.test(value) ? value : `'${value}'`;
}

/** The first line of virsh's error text, without its "error: " prefixes. */
export function reasonOf(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^error: /, '').trim()).filter(Boolean);
  return lines.join('; ') || 'virsh failed without saying why';
}

/** Errors virsh prints when it cannot reach the daemon: the VM server is unreachable. */
const UNREACHABLE = /failed to connect to the hypervisor|Failed to connect socket|no valid connection|End of file while reading data|Cannot recv data|Connection reset|Broken pipe|Cannot write data|client socket is closed|connection closed|Connection refused|No such file or directory.*sock|Host key verification failed|Permission denied \(publickey/i;

export function layerOf(reason: string): 'network' | 'not-supported' | 'controller' | 'authentication' {
  if (/Host key|authenticat|Permission denied \(publickey/i.test(reason)) return 'authentication';
  if (UNREACHABLE.test(reason)) return 'network';
  if (/not supported|unsupported/i.test(reason)) return 'not-supported';
  return 'controller';
}

interface Pending {
  marker: string;
  resolve: (r: { out: string; err: string }) => void;
  reject: (e: Error) => void;
}

let seq = 0;

/** The most one virsh command may print (a domain's XML, a long list are far below). */
const MAX_OUTPUT = 16 << 20;

class Session {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  private readonly queue: Pending[] = [];
  private dead: Error | undefined;

  constructor(readonly uri: string, binary: string, private readonly onGone: () => void) {
    this.child = spawn(binary, ['-q', '-c', uri], {
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', VIRSH_DEFAULT_CONNECT_URI: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so that a kill ends what a wrapper script started too.
      detached: true,
    });
    // The session must not keep a command's process alive; its stdin closing ends virsh.
    this.child.unref();
    for (const s of [this.child.stdout, this.child.stderr, this.child.stdin]) (s as unknown as { unref?: () => void }).unref?.();
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => { this.out += d; this.settle(); this.bound(); });
    this.child.stderr.on('data', (d: string) => { this.err += d; this.settle(); this.bound(); });
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (e) => this.fail(new DriverError(`libvirt: cannot run virsh (${binary}): ${e.message}`, { layer: 'configuration' })));
    this.child.on('exit', (code, sig) => this.fail(new DriverError(`libvirt: ${reasonOf(this.err) || `virsh ended (${code ?? sig})`}`, { layer: layerOf(this.err), retryable: true })));
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  run(command: string): Promise<{ out: string; err: string }> {
    if (this.dead) return Promise.reject(this.dead);
    const marker = `@@kanri-${process.pid}-${++seq}@@`;
    return new Promise((resolve, reject) => {
      this.queue.push({ marker, resolve, reject });
      this.child.stdin.write(`${command}\necho --err ${marker}\necho ${marker}\n`);
    });
  }

  /** Hands each finished command its stdout and stderr (both markers seen, in order). */
  private settle(): void {
    while (this.queue.length) {
      const p = this.queue[0]!;
      const o = this.out.indexOf(`\n${p.marker}`) >= 0 ? this.out.indexOf(`\n${p.marker}`) + 1 : this.out.startsWith(p.marker) ? 0 : -1;
      const e = this.err.indexOf(`error: ${p.marker}`);
      if (o < 0 || e < 0) return;
      const out = this.out.slice(0, o);
      const err = this.err.slice(0, e);
      this.out = this.out.slice(o + p.marker.length).replace(/^\n/, '');
      this.err = this.err.slice(e + `error: ${p.marker}`.length).replace(/^\n/, '');
      this.queue.shift();
      p.resolve({ out: stripPrompts(out), err: err.trim() });
    }
  }

  /** An answer beyond MAX_OUTPUT ends the session (virsh is killed): memory stays bounded whatever it prints. */
  private bound(): void {
    if (this.out.length <= MAX_OUTPUT && this.err.length <= MAX_OUTPUT) return;
    this.out = '';
    this.err = '';
    this.fail(new DriverError(`libvirt: virsh printed more than ${MAX_OUTPUT >> 20} MiB for one command`, { layer: 'protocol' }));
  }

  fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    this.onGone();
    for (const p of this.queue.splice(0)) p.reject(e);
    this.kill();
  }

  kill(): void {
    try {
      if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
      else this.child.kill('SIGKILL');
    } catch {
      try {
        this.child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** virsh echoes each line it reads after its prompt when standard input is not a terminal. */
function stripPrompts(out: string): string {
  return out.split('\n').filter((l) => !l.startsWith('virsh # ')).join('\n').replace(/^\n+/, '');
}

const sessions = new Map<string, Session>();

function sessionFor(uri: string, binary: string): Session {
  const key = `${binary}\0${uri}`;
  let s = sessions.get(key);
  if (!s || !s.alive) {
    s = new Session(uri, binary, () => { if (sessions.get(key) === s) sessions.delete(key); });
    sessions.set(key, s);
  }
  return s;
}

/** Ends every virsh this process keeps open (driver close, configuration change). */
export function closeSessions(): void {
  for (const s of sessions.values()) s.fail(new DriverError('libvirt: session closed', { layer: 'controller' }));
  sessions.clear();
}

/**
 * Runs one virsh command (its words already quoted with arg()) on the connection; resolves
 * with its standard output, rejects with a DriverError carrying virsh's own reason.
 */
export async function virsh(uri: string, command: string, o: VirshOptions): Promise<string> {
  o.signal?.throwIfAborted();
  const s = sessionFor(uri, o.binary);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const r = await new Promise<{ out: string; err: string }>((resolve, reject) => {
      timer = setTimeout(() => {
        const e = new DriverError(`libvirt: '${command.split(' ')[0]}' on ${uri} did not finish within ${Math.round(o.timeoutMs / 1000)} s`, { layer: 'network', retryable: true });
        s.fail(e);
        reject(e);
      }, o.timeoutMs);
      onAbort = (): void => {
        const e = new DriverError(`libvirt: '${command.split(' ')[0]}' canceled`, { aborted: true });
        s.fail(e);
        reject(e);
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      s.run(command).then(resolve, reject);
    });
    // virsh reports failures as "error: …" lines; anything else on stderr is a warning.
    if (/^error: /m.test(r.err)) {
      const reason = reasonOf(r.err.split('\n').filter((l) => l.startsWith('error: ')).join('\n'));
      const e = new DriverError(`libvirt: ${reason}`, { layer: layerOf(reason), detail: reason, step: command.split(' ')[0]!, retryable: layerOf(reason) === 'network' });
      // A lost connection is not reopened by this virsh: the next command starts a new one.
      if (e.layer === 'network') s.fail(e);
      throw e;
    }
    return r.out;
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
  }
}
