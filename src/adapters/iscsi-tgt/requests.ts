// The requests tgtd's management interface takes (the ones tgtadm sends, usr/tgtadm.h of
// tgt), the error numbers it answers with and the words tgtadm prints for them, and the
// target listing of `--op show --mode target`.
import { DriverError } from '../types.js';

export interface TgtRequest {
  mode: 'system' | 'target';
  op: 'show' | 'bind' | 'unbind';
  tid?: number;
  /** initiator-address=… or initiator-name=… */
  params?: Array<[string, string]>;
}

/** 0 for success, else tgtd's tgtadm_errno. */
export interface TgtAnswer { code: number; text: string }

export interface TgtTransport {
  readonly where: string;
  call(req: TgtRequest, signal?: AbortSignal): Promise<TgtAnswer>;
  close?(): void;
}

export const MODES = { system: 0, target: 1 } as const;
export const OPS = { show: 2, bind: 3, unbind: 4 } as const;

/** tgtadm_errno, in order, with tgtadm's words for each (tgtadm_strerror). */
export const ERRORS = [
  'success', 'unknown error', 'out of memory', "can't find the driver", "can't find the target",
  "can't find the logical unit", "can't find the session", "can't find the connection", "can't find the binding", 'this target already exists',
  'this logical unit number already exists', 'this binding already exists', 'this access control rule already exists', 'this access control rule does not exist', 'this account already exists',
  "can't find the account", 'too many accounts', 'invalid request', 'this target already has an outgoing account', 'this target is still active',
  'this logical unit is still active', 'this driver is busy', "this operation isn't supported", 'unknown parameter', 'this device has Prevent Removal set',
] as const;
export const E = { NO_TARGET: 4, ACL_EXIST: 12, ACL_NOEXIST: 13 } as const;

export const errorText = (code: number): string => ERRORS[code] ?? `tgtadm error ${code}`;

/** The tgtadm_errno of a message tgtadm printed ("tgtadm: this access control rule already exists"). */
export function codeOfMessage(stderr: string): number | undefined {
  const m = /tgtadm: (.+)$/m.exec(stderr);
  if (!m) return undefined;
  const i = ERRORS.indexOf(m[1]!.trim() as (typeof ERRORS)[number]);
  return i > 0 ? i : undefined;
}

export interface Target { tid: number; iqn: string; acl: string[] }

/** Parses the listing of `tgtadm --op show --mode target`. */
export function parseTargets(text: string, where: string): Target[] {
  const out: Target[] = [];
  let cur: Target | undefined;
  let inAcl = false;
  for (const line of text.split('\n')) {
    const t = /^Target (\d+): (\S+)\s*$/.exec(line);
    if (t) {
      cur = { tid: Number(t[1]), iqn: t[2]!, acl: [] };
      out.push(cur);
      inAcl = false;
      continue;
    }
    if (!cur) {
      if (line.trim() !== '') throw new DriverError(`tgtd at ${where}: unexpected target listing: ${line.slice(0, 80)}`, { layer: 'protocol' });
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (indent === 4) inAcl = line.trim() === 'ACL information:';
    else if (inAcl && indent >= 8 && line.trim() !== '') cur.acl.push(line.trim());
  }
  return out;
}
