// The one cancellable wait of the code base (node:timers/promises). A wait ends early when
// its signal aborts, with the AbortError of node:timers/promises, or with the caller's own
// error when it says what a cancel is in its words (a DriverError, an IpmiError).
// node:timers/promises is loaded by the first wait, not by every command that could wait.
let timers: typeof import('node:timers/promises') | undefined;

export async function wait(ms: number, signal?: AbortSignal, cancelled?: () => Error): Promise<void> {
  timers ??= await import('node:timers/promises');
  try {
    await timers.setTimeout(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    if (cancelled && signal?.aborted) throw cancelled();
    throw e;
  }
}
