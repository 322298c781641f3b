// kanri's exit codes, in one table: what each command returns and what its --help lists.
// The commands that run jobs (register-master, suspend, pool add, vm delete, vmserver
// failover/evacuate/balance/power-save) take pvmutl's codes for the same outcomes
// (src/pvmutl/exit-codes.ts); 70 and 74 are sysexits.h's EX_SOFTWARE-range codes for
// the store and the output.
export const EXIT = {
  OK: 0,
  /** invalid input, or a refused change */
  USAGE: 1,
  /** a name (machine, group, job, user, driver, setting…) that does not exist */
  NOT_FOUND: 2,
  /** as pvmutl: group not found */
  GROUP_NOT_FOUND: 3,
  /** as pvmutl: host setting not usable */
  HOST_UNUSABLE: 4,
  /** the job could not start (pvmutl's 6) */
  NOT_STARTABLE: 6,
  /** the job failed or was canceled (pvmutl's 7) */
  JOB_FAILED: 7,
  /** the caller is not an administrator (pvmutl's and dscli's 9) */
  NOT_ADMIN: 9,
  /** as pvmutl: VM already active */
  VM_ACTIVE: 11,
  /** the store cannot be used (missing, busy, damaged, unreadable) */
  STORE: 70,
  /** the output cannot be written */
  OUTPUT: 74,
  /** interrupted (Ctrl-C) at a prompt: 128 + SIGINT, as a shell reports it */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_TEXT: Record<ExitCode, string> = {
  0: 'success',
  1: 'invalid input, or a refused change',
  2: 'not found',
  3: 'group not found (as pvmutl)',
  4: 'host setting not usable (as pvmutl)',
  6: 'the job could not start',
  7: 'the job failed or was canceled',
  9: 'not an administrator',
  11: 'VM already active (as pvmutl)',
  70: 'the store cannot be used',
  74: 'the output cannot be written',
  130: 'interrupted at a prompt',
};

/** The codes of a command that only reads the store. */
export const READS: ExitCode[] = [EXIT.OK, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT];
/** The codes of a command that changes the store without a job. */
export const WRITES: ExitCode[] = [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE];
/** The codes of a command that runs jobs, as pvmutl's. */
export const JOBS: ExitCode[] = [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.GROUP_NOT_FOUND, EXIT.HOST_UNUSABLE, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.VM_ACTIVE, EXIT.STORE];

/** The end of a command's --help: one example and the exit codes it can give. */
export function helpTail(example: string, codes: readonly ExitCode[]): string {
  return `\nExample:\n  ${example}\n\nExit codes: ${codes.map((c) => `${c} ${EXIT_TEXT[c]}`).join('; ')}.\n`;
}
