// Fan-out over BMCs: the program's one bounded fan-out (util/fanout.ts) with the IPMI
// library's result shape: a target without its secrets and an IpmiError for every
// failure. A BMC that does not answer costs at most its own deadline; results stream
// as they complete.
import { IpmiError, isIpmiError } from './errors.js';
import type { BmcTarget } from './session.js';
import { DEFAULT_FANOUT, MAX_FANOUT, fanOut as boundedFanOut, type FanOutOptions } from '../util/fanout.js';

export { DEFAULT_FANOUT, MAX_FANOUT, type FanOutOptions };

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

function asIpmiError(e: unknown, t: BmcTarget, skipped: boolean): IpmiError {
  if (isIpmiError(e)) return e;
  if (skipped) return new IpmiError('network', 'cancelled before start', { host: t.host, aborted: true });
  return new IpmiError('protocol', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { host: t.host, ...(t.port ? { port: t.port } : {}) });
}

/** Results in order of completion. */
export async function* fanOut<T>(targets: readonly BmcTarget[], task: FanOutTask<T>, o: FanOutOptions = {}): AsyncGenerator<FanOutResult<T>> {
  for await (const r of boundedFanOut(targets, task, o)) {
    const out: FanOutResult<T> = { index: r.index, target: publicTarget(r.item), ok: r.ok, elapsedMs: r.elapsedMs };
    if (r.ok) out.value = r.value as T;
    else out.error = asIpmiError(r.error, r.item, !!r.skipped);
    yield out;
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
