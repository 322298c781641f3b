// The one cancellable wait of the code base (node:timers/promises). A wait ends early when
// its signal aborts, with the AbortError of node:timers/promises, or with the caller's own
// error when it says what a cancel is in its words (a DriverError, an IpmiError).
import { setTimeout as timeout } from 'node:timers/promises';

export async function wait(ms: number, signal?: AbortSignal, cancelled?: () => Error): Promise<void> {
  try {
    await timeout(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    if (cancelled && signal?.aborted) throw cancelled();
    throw e;
  }
}
