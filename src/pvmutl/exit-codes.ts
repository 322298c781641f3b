// pvmutl's exit codes (spec/pvmutl.md §2) are a contract with job schedulers:
// every failure path names one of these, and nothing else maps errors (the engine's
// refusal reasons and the outcome of a change included) to codes.
import type { EngineError, Reason } from '../engine/errors.js';
import { changeOutcome } from '../engine/outcome.js';
import type { ChangeResult } from '../engine/service.js';
export const Exit = {
  OK: 0,
  FORMAT: 1,
  MACHINE: 2,
  GROUP: 3,
  HOST_SETTING: 4,
  MOVE: 5,
  START_FAILED: 6,
  EXEC_FAILED: 7,
  SOFTWARE: 8,
  PRIVILEGE: 9,
  VM_EXISTS: 10,
  VM_ACTIVE: 11,
  ACCOUNT: 14,
  CREDENTIALS: 15,
  POLICY: 16,
  /** An internal fault (a bug or a damaged store), never a user error. */
  INTERNAL: 70,
} as const;

export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** A failure that ends the command with a pvmutl exit code and a one-line reason. */
export class PvmError extends Error {
  constructor(readonly code: ExitCode, message: string) {
    super(message);
    this.name = 'PvmError';
  }
}

/** The exit code of each reason the engine refuses a change for. */
export const REASON_EXIT: Record<Reason, ExitCode> = {
  'invalid': Exit.FORMAT,
  'machine': Exit.MACHINE,
  'group': Exit.GROUP,
  'host-setting': Exit.HOST_SETTING,
  'move': Exit.MOVE,
  'not-startable': Exit.START_FAILED,
  'software': Exit.SOFTWARE,
  'vm-exists': Exit.VM_EXISTS,
  'vm-active': Exit.VM_ACTIVE,
};

/** A refusal from the engine as the pvmutl failure it is. */
export function fromEngine(err: EngineError): PvmError {
  return new PvmError(REASON_EXIT[err.reason], err.message);
}

/** The command's exit code for a change: 7 if a job failed or was canceled, 6 if one could not start. */
export function exitCodeOf(result: ChangeResult): ExitCode {
  const o = changeOutcome(result);
  return o === 'completed' ? Exit.OK : o === 'not-started' ? Exit.START_FAILED : Exit.EXEC_FAILED;
}
