// Waiting on state (a store row, a peer's file, a process's output), never on a fixed sleep:
// fn is asked every `everyMs` until it gives a value, or the bound passes.
export async function until<T>(what: string, fn: () => T | undefined | false, ms = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
