// dscli return codes (spec/dscli.md). One place maps failures to them.
import { DriverError, type FailureLayer } from '../adapters/types.js';

export const RC = {
  OK: 0,
  FORMAT: 1,
  NOT_FOUND: 2,
  EXISTS: 3,
  AUTH: 4,
  UNREACHABLE: 5,
  UNSUPPORTED: 6,
  PARTIAL: 7,
  CONTROLLER: 8,
  PRIVILEGE: 9,
} as const;

export const RC_TEXT: Array<[number, string]> = [
  [0, 'success (for a ServerList: every target succeeded)'],
  [1, 'command format error (unknown command, missing/extra argument, bad key=value), or a guarded command refused'],
  [2, 'target not found (server, group, user)'],
  [3, 'already exists / limit reached (e.g. 31st user, duplicate name or BMC)'],
  [4, "authentication or privilege failure at the controller, or its TLS certificate (SSH host key) is not trusted"],
  [5, 'controller unreachable or timed out'],
  [6, 'operation not supported for this management type'],
  [7, 'partial failure: some targets of a ServerList failed (each failure printed)'],
  [8, 'other controller error (completion code printed)'],
  [9, 'caller lacks administrator rights on the manager host'],
];

export class DscliError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'DscliError';
  }
}

export const formatError = (m: string) => new DscliError(RC.FORMAT, m);
export const notFound = (m: string) => new DscliError(RC.NOT_FOUND, m);
export const exists = (m: string) => new DscliError(RC.EXISTS, m);

/**
 * The return code of a controller failure by the layer that failed: 4 authentication or
 * privilege, and a certificate (or SSH host key) that is not trusted — the controller failed
 * to authenticate itself, and retrying will not help until an administrator trusts it —,
 * 5 unreachable or timed out, 6 not supported (also a BMC that has no such command), 1 a
 * request the controller cannot take, 8 anything else the controller (or the OS) said.
 */
export function codeOfLayer(layer: FailureLayer | string, code?: number): number {
  switch (layer) {
    case 'authentication':
    case 'privilege':
    case 'cipher':
    case 'certificate':
      return RC.AUTH;
    case 'network':
      return RC.UNREACHABLE;
    case 'not-supported':
      return RC.UNSUPPORTED;
    case 'input':
      return RC.FORMAT;
    case 'completion-code':
      // Only C1h says the BMC has no such command. A refusal of a command it has (CCh for a
      // diagnostic interrupt it will not raise) is the controller's answer, not a missing feature.
      return code === 0xc1 ? RC.UNSUPPORTED : RC.CONTROLLER;
    default:
      return RC.CONTROLLER;
  }
}

/** The return code and the printable layer/message of any failure of one target. */
export function describeFailure(e: unknown): { code: number; layer: string; message: string } {
  if (e instanceof DriverError) return { code: codeOfLayer(e.layer, e.code), layer: e.layer, message: e.detail };
  if (e instanceof DscliError) return { code: e.code, layer: e.code === RC.UNSUPPORTED ? 'not-supported' : 'dscli', message: e.message };
  return { code: RC.CONTROLLER, layer: 'internal', message: (e as Error)?.message ?? String(e) };
}

/** Return code of a ServerList operation from the per-target codes. */
export function combine(codes: number[]): number {
  if (codes.length === 0) return RC.OK;
  const failed = codes.filter((c) => c !== RC.OK);
  if (failed.length === 0) return RC.OK;
  if (failed.length < codes.length) return RC.PARTIAL;
  // Every target failed: the shared reason, else partial (each failure is printed).
  return failed.every((c) => c === failed[0]) ? failed[0]! : RC.PARTIAL;
}
