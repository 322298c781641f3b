// The one cancellable wait of the code base. A wait ends early when its signal aborts;
// the caller says what a cancel is in its own words (a DriverError, an IpmiError),
// otherwise the signal's reason is thrown as it is.
import { setTimeout as timeout } from 'node:timers/promises';

export async function wait(ms: number, signal?: AbortSignal, cancelled?: () => Error): Promise<void> {
  if (signal?.aborted) throw cancelled ? cancelled() : signal.reason;
  try {
    await timeout(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    if (signal?.aborted) throw cancelled ? cancelled() : signal.reason;
    throw e;
  }
}
