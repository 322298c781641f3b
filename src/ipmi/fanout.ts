// Fan-out: many BMCs driven concurrently from one process and one UDP socket, with a
// global cap. A BMC that does not answer costs at most its own deadline; results stream
// as they complete.
import { setMaxListeners } from 'node:events';
import { IpmiError, isIpmiError } from './errors.js';
import type { BmcTarget } from './session.js';

export interface FanOutOptions {
  /** Simultaneous BMCs (default 64, at most 1024). */
  concurrency?: number;
  /** Cancels what has not started and aborts what is running (sessions are still closed). */
  signal?: AbortSignal;
}

/** A target without its secrets: safe to print, log or journal. */
export type PublicTarget = Omit<BmcTarget, 'password' | 'kg'>;

export function publicTarget(t: BmcTarget): PublicTarget {
  const { password: _p, kg: _k, ...rest } = t;
  return rest;
}

export interface FanOutResult<T> {
  /** Position of the target in the input list. */
  index: number;
  target: PublicTarget;
  ok: boolean;
  value?: T;
  error?: IpmiError;
  elapsedMs: number;
}

export type FanOutTask<T> = (target: BmcTarget, index: number, signal: AbortSignal) => Promise<T>;

export const DEFAULT_FANOUT = 64;
export const MAX_FANOUT = 1024;

function asIpmiError(e: unknown, t: BmcTarget): IpmiError {
  if (isIpmiError(e)) return e;
  return new IpmiError('protocol', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { host: t.host, ...(t.port ? { port: t.port } : {}) });
}

/** Results in order of completion. */
export async function* fanOut<T>(targets: readonly BmcTarget[], task: FanOutTask<T>, o: FanOutOptions = {}): AsyncGenerator<FanOutResult<T>> {
  const limit = Math.max(1, Math.min(MAX_FANOUT, Math.floor(o.concurrency ?? DEFAULT_FANOUT)));
  const ctl = new AbortController();
  // Every running task listens on this one signal.
  setMaxListeners(0, ctl.signal);
  const onAbort = () => ctl.abort(o.signal?.reason);
  if (o.signal?.aborted) ctl.abort(o.signal.reason);
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  const done: FanOutResult<T>[] = [];
  let wake: (() => void) | undefined;
  let next = 0, running = 0;
  const start = () => {
    while (running < limit && next < targets.length) {
      const index = next++;
      const target = targets[index]!;
      running++;
      const t0 = Date.now();
      const settle = (r: Omit<FanOutResult<T>, 'index' | 'target' | 'elapsedMs'>) => {
        running--;
        done.push({ index, target: publicTarget(target), elapsedMs: Date.now() - t0, ...r });
        start();
        wake?.();
      };
      if (ctl.signal.aborted) {
        settle({ ok: false, error: new IpmiError('network', 'cancelled before start', { host: target.host, aborted: true }) });
        continue;
      }
      // One controller per task: the shared signal gets one listener per running task
      // instead of one per packet in flight.
      const own = new AbortController();
      const forward = () => own.abort(ctl.signal.reason);
      ctl.signal.addEventListener('abort', forward, { once: true });
      task(target, index, own.signal).finally(() => ctl.signal.removeEventListener('abort', forward)).then(
        (value) => settle({ ok: true, value }),
        (e) => settle({ ok: false, error: asIpmiError(e, target) }),
      );
    }
  };
  try {
    start();
    let yielded = 0;
    while (yielded < targets.length) {
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
    if (next < targets.length || running > 0) ctl.abort(new Error('fan-out consumer stopped'));
  }
}

/** Callback form: onResult is called in order of completion; resolves when all are done. */
export async function fanOutEach<T>(targets: readonly BmcTarget[], task: FanOutTask<T>, onResult: (r: FanOutResult<T>) => void, o: FanOutOptions = {}): Promise<void> {
  for await (const r of fanOut(targets, task, o)) onResult(r);
}

/** All results, in input order. */
export async function fanOutAll<T>(targets: readonly BmcTarget[], task: FanOutTask<T>, o: FanOutOptions = {}): Promise<FanOutResult<T>[]> {
  const out = new Array<FanOutResult<T>>(targets.length);
  for await (const r of fanOut(targets, task, o)) out[r.index] = r;
  return out;
}
