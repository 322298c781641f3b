// Bounded retries of a driver's step against a peer: only a failure the driver marked
// retryable (a lost connection, a silent peer) is tried again, never after a cancel, and
// `fn` must read the peer afresh each time (it never repeats a change blindly).
import { DriverError } from './types.js';

export async function withRetries<T>(retries: number, signal: AbortSignal | undefined, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof DriverError) || !e.retryable || i >= retries || signal?.aborted) throw e;
      log(`${e.message}; trying again`);
    }
  }
}
