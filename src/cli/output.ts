// Standard output that a scheduler can rely on: a reader that goes away (`| head -1`)
// ends the output quietly and the command still finishes what it started; a full disk or
// a broken file behind stdout is one line on stderr and the exit code of its own,
// never an unhandled error event.
//
// pvmutl and dscli write through writeOut/writeErr: straight to the file descriptor, so
// that a short command never builds Node's stream objects (and loads their modules) for
// the few lines it prints. process.stdout and process.stderr, when something does use
// them, get the same guard the moment they are first touched.
import { writeSync } from 'node:fs';

/** Exit code when the output could not be written (sysexits EX_IOERR). */
export const OUTPUT_FAILED = 74;

let failure: NodeJS.ErrnoException | undefined;
let dialectName = 'kanri';
/** Created (and guarded) streams; until then writes go to the descriptor. */
const streams: { stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {};
const muted = { stdout: false, stderr: false };

function mute(stream: NodeJS.WriteStream): void {
  stream.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof stream.write;
}

function outputError(err: NodeJS.ErrnoException): void {
  muted.stdout = true;
  if (streams.stdout) mute(streams.stdout);
  // A reader that went away (EPIPE) is no failure: the rest of the output is dropped.
  if (err.code === 'EPIPE') return;
  if (!failure) {
    failure = err;
    // The error may arrive after the command returned its code: it wins.
    process.exitCode = OUTPUT_FAILED;
    writeErr(`${dialectName}: cannot write the output: ${err.code === 'ENOSPC' ? 'no space left on the device' : err.message}${err.code ? ` (${err.code})` : ''}\n`);
  }
}

function errorOutputError(): void {
  // Nothing sensible can be said when stderr itself is gone.
  muted.stderr = true;
  if (streams.stderr) mute(streams.stderr);
}

/** Calls `guard` with process[name] when it is first touched, without touching it here. */
function onFirstUse(name: 'stdout' | 'stderr', guard: (s: NodeJS.WriteStream) => void): void {
  const d = Object.getOwnPropertyDescriptor(process, name);
  if (!d?.get || !d.configurable) {
    guard(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: d.enumerable ?? true,
    get() {
      Object.defineProperty(process, name, d);
      const s = process[name];
      guard(s);
      return s;
    },
  });
}

export function guardOutput(dialect: string): void {
  dialectName = dialect;
  onFirstUse('stdout', (s) => {
    streams.stdout = s;
    if (muted.stdout) mute(s);
    s.on('error', outputError);
  });
  onFirstUse('stderr', (s) => {
    streams.stderr = s;
    if (muted.stderr) mute(s);
    s.on('error', errorOutputError);
  });
}

/** Writes all of `text` to fd; what is left when the descriptor cannot take more now (non-blocking). */
function writeFd(fd: number, text: string): Buffer | undefined {
  const b = Buffer.from(text, 'utf8');
  let at = 0;
  while (at < b.length) {
    try {
      at += writeSync(fd, b, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return b.subarray(at);
      throw e;
    }
  }
  return undefined;
}

/** Standard output of pvmutl and dscli. */
export function writeOut(text: string): void {
  if (muted.stdout) return;
  if (streams.stdout) {
    streams.stdout.write(text);
    return;
  }
  try {
    const rest = writeFd(1, text);
    // A non-blocking descriptor: the stream waits for it to drain.
    if (rest) process.stdout.write(rest);
  } catch (e) {
    outputError(e as NodeJS.ErrnoException);
  }
}

/** Standard error of pvmutl and dscli. */
export function writeErr(text: string): void {
  if (muted.stderr) return;
  if (streams.stderr) {
    streams.stderr.write(text);
    return;
  }
  try {
    const rest = writeFd(2, text);
    if (rest) process.stderr.write(rest);
  } catch {
    errorOutputError();
  }
}

/** The exit code after the command: its own, unless its output could not be written. */
export function finalCode(code: number): number {
  return failure ? OUTPUT_FAILED : code;
}

