// Types checked at the door: a request body or query parameter is what the route declares
// (type, bounds, allowed keys) or the request is refused with 422 naming what is wrong,
// before anything reads the store.
import { HttpError } from './server.js';

export type FieldType = 'string' | 'boolean' | 'integer' | 'string[]';
export interface Field { type: FieldType; required?: boolean; max?: number; min?: number; enum?: readonly string[] }

const MAX_STRING = 1024;

function checkValue(key: string, v: unknown, f: Field): void {
  const bad = (what: string): never => { throw new HttpError(422, `${key} must be ${what}`); };
  switch (f.type) {
    case 'string':
      if (typeof v !== 'string' || v.length === 0 || v.length > (f.max ?? MAX_STRING) || /[\u0000-\u001f]/.test(v)) bad(`a non-empty string of at most ${f.max ?? MAX_STRING} characters without control characters`);
      if (f.enum && !f.enum.includes(v as string)) bad(`one of ${f.enum.join(', ')}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') bad('true or false');
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < (f.min ?? 1) || v > (f.max ?? 1_000_000)) bad(`a whole number from ${f.min ?? 1} to ${f.max ?? 1_000_000}`);
      return;
    case 'string[]':
      if (!Array.isArray(v) || v.length > (f.max ?? 1000)) bad(`an array of at most ${f.max ?? 1000} strings`);
      for (const [i, s] of (v as unknown[]).entries()) checkValue(`${key}[${i}]`, s, { type: 'string' });
      return;
  }
}

/** The body as an object of exactly the declared fields (unknown keys refused). */
export function checkObject(body: unknown, fields: Record<string, Field>, what = 'the body'): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(422, `${what} must be a JSON object`);
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in fields)) throw new HttpError(422, `unknown field '${k.slice(0, 64)}' in ${what}; allowed: ${Object.keys(fields).join(', ')}`);
  for (const [k, f] of Object.entries(fields)) {
    if (o[k] === undefined || o[k] === null) {
      if (f.required) throw new HttpError(422, `${k} is required`);
      continue;
    }
    checkValue(k, o[k], f);
  }
  return o;
}

/** A query parameter that is a whole number in [min, max], else the default. */
export function queryInt(q: URLSearchParams, key: string, dflt: number, min: number, max: number): number {
  const v = q.get(key);
  if (v === null) return dflt;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpError(422, `${key} must be a whole number from ${min} to ${max}`);
  return Number(v);
}

/** A query parameter that is a short text without control characters, or undefined. */
export function queryText(q: URLSearchParams, key: string): string | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  if (v.length > 256 || /[\u0000-\u001f]/.test(v)) throw new HttpError(422, `${key} must be at most 256 characters without control characters`);
  return v;
}

/** Only the named query parameters are accepted. */
export function onlyQuery(q: URLSearchParams, allowed: readonly string[]): void {
  for (const k of q.keys()) if (!allowed.includes(k)) throw new HttpError(422, `unknown query parameter '${k.slice(0, 64)}'; allowed: ${allowed.join(', ') || 'none'}`);
}
