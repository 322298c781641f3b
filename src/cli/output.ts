// Standard output that a scheduler can rely on: a reader that goes away (`| head -1`)
// ends the output quietly and the command still finishes what it started; a full disk or
// a broken file behind stdout is one line on stderr and the exit code of its own,
// never an unhandled error event.
/** Exit code when the output could not be written (sysexits EX_IOERR). */
export const OUTPUT_FAILED = 74;

let failure: NodeJS.ErrnoException | undefined;
let closed = false;

/** Whether the output failed (not merely closed by its reader), and why. */
export function outputFailure(): NodeJS.ErrnoException | undefined {
  return failure;
}

function mute(stream: NodeJS.WriteStream): void {
  stream.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof stream.write;
}

export function guardOutput(dialect: string): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    mute(process.stdout);
    if (err.code === 'EPIPE') {
      closed = true;
      return;
    }
    if (!failure) {
      failure = err;
      // The error may arrive after the command returned its code: it wins.
      process.exitCode = OUTPUT_FAILED;
      process.stderr.write(`${dialect}: cannot write the output: ${err.code === 'ENOSPC' ? 'no space left on the device' : err.message}${err.code ? ` (${err.code})` : ''}\n`);
    }
  });
  // Nothing sensible can be said when stderr itself is gone.
  process.stderr.on('error', () => mute(process.stderr));
}

/** The exit code after the command: its own, unless its output could not be written. */
export function finalCode(code: number): number {
  return failure ? OUTPUT_FAILED : code;
}

export function outputClosed(): boolean {
  return closed;
}
