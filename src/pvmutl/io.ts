// Standard streams for pvmutl commands, with a confirmation prompt that never
// hangs a scheduler: on a terminal it waits for the operator; on a pipe it
// reads what is already there (e.g. `echo y |`) and gives up after a second;
// end of input counts as no.
import { writeErr, writeOut } from '../cli/output.js';
export interface Io {
  out(text: string): void;
  err(text: string): void;
  ask(question: string): Promise<string | undefined>;
}

const PIPE_ANSWER_WAIT_MS = 1000;

async function ask(question: string): Promise<string | undefined> {
  // Loaded here: only policy set asks, and start-up time matters to schedulers.
  const { createInterface } = await import('node:readline');
  process.stderr.write(question + ' ');
  const rl = createInterface({ input: process.stdin, terminal: false });
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      rl.close();
      process.stdin.unref?.();
      if (answer === undefined) process.stderr.write('\n');
      resolve(answer);
    };
    const timer = process.stdin.isTTY ? undefined : setTimeout(() => finish(undefined), PIPE_ANSWER_WAIT_MS);
    rl.once('line', (l) => finish(l));
    rl.once('close', () => finish(undefined));
  });
}

export function processIo(): Io {
  return {
    out: writeOut,
    err: writeErr,
    ask,
  };
}
