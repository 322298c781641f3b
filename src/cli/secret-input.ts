// A secret read from standard input: a no-echo prompt on a terminal, else the first line
// of what is piped in. Secrets never come from argv.
/** Ctrl-C at the prompt: the command stops, it does not go on with an empty secret. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted at the prompt; nothing was changed');
  }
}

export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    // Raw before the prompt shows: a Ctrl-C typed as soon as it shows is read here, not
    // turned into SIGINT by the terminal.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
  }
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (interrupted = false): void => {
      stdin.off('data', onData);
      if (stdin.isTTY) { stdin.setRawMode(false); process.stderr.write('\n'); }
      stdin.pause();
      if (interrupted) reject(new Interrupted());
      else resolve(buf);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\n' || ch === '\r' || ch === '\u0004') return done();
        if (ch === '\u0003') { buf = ''; return done(true); }
        buf += ch;
      }
    };
    stdin.on('data', onData);
    stdin.once('end', () => done());
    stdin.resume();
  });
}
