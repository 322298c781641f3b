// The one bounded fan-out of the program: dscli's ServerList operations, the engine's
// batches of jobs, the IPMI library's many-BMC calls and the monitor's polling all run
// their items through it. At most `concurrency` items run at once; results stream in
// order of completion; a consumer that stops early, or an abort, stops what is left.
import { setMaxListeners } from 'node:events';

export const DEFAULT_FANOUT = 64;
export const MAX_FANOUT = 1024;

export interface FanOutOptions {
  /** Items running at the same time (default 64, at most 1024). */
  concurrency?: number;
  /** Cancels items that have not started and aborts the signal of those running. */
  signal?: AbortSignal;
}

export interface Settled<T, R> {
  /** Position of the item in the input. */
  index: number;
  item: T;
  ok: boolean;
  value?: R;
  error?: unknown;
  elapsedMs: number;
  /** True when the item never started because the fan-out was aborted. */
  skipped?: boolean;
}

export type Task<T, R> = (item: T, index: number, signal: AbortSignal) => Promise<R>;

export function clampConcurrency(n: number | undefined): number {
  return Math.max(1, Math.min(MAX_FANOUT, Math.floor(n ?? DEFAULT_FANOUT)));
}

/** Results in order of completion. */
export async function* fanOut<T, R>(items: readonly T[], task: Task<T, R>, o: FanOutOptions = {}): AsyncGenerator<Settled<T, R>> {
  const limit = clampConcurrency(o.concurrency);
  const ctl = new AbortController();
  // Every running item listens on this one signal.
  setMaxListeners(0, ctl.signal);
  const onAbort = (): void => ctl.abort(o.signal?.reason);
  if (o.signal?.aborted) ctl.abort(o.signal.reason);
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  const done: Array<Settled<T, R>> = [];
  let wake: (() => void) | undefined;
  let next = 0;
  let running = 0;
  const start = (): void => {
    while (running < limit && next < items.length) {
      const index = next++;
      const item = items[index]!;
      running++;
      const t0 = Date.now();
      const settle = (r: Pick<Settled<T, R>, 'ok' | 'value' | 'error' | 'skipped'>): void => {
        running--;
        done.push({ index, item, elapsedMs: Date.now() - t0, ...r });
        start();
        wake?.();
      };
      if (ctl.signal.aborted) {
        settle({ ok: false, error: ctl.signal.reason, skipped: true });
        continue;
      }
      // One controller per item: the shared signal gets one listener per running item
      // instead of one per operation in flight.
      const own = new AbortController();
      const forward = (): void => own.abort(ctl.signal.reason);
      ctl.signal.addEventListener('abort', forward, { once: true });
      let p: Promise<R>;
      try {
        p = task(item, index, own.signal);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.finally(() => ctl.signal.removeEventListener('abort', forward)).then(
        (value) => settle({ ok: true, value }),
        (error: unknown) => settle({ ok: false, error }),
      );
    }
  };
  try {
    start();
    let yielded = 0;
    while (yielded < items.length) {
      if (done.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      while (done.length) {
        yielded++;
        yield done.shift()!;
      }
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    // A consumer that stops early must not leave work running in the background.
    if (next < items.length || running > 0) ctl.abort(new Error('fan-out consumer stopped'));
  }
}

/** Every result, in input order; onResult (if given) sees them in order of completion. */
export async function fanOutAll<T, R>(items: readonly T[], task: Task<T, R>, o: FanOutOptions & { onResult?: (r: Settled<T, R>) => void } = {}): Promise<Array<Settled<T, R>>> {
  const out = new Array<Settled<T, R>>(items.length);
  for await (const r of fanOut(items, task, o)) {
    out[r.index] = r;
    o.onResult?.(r);
  }
  return out;
}
