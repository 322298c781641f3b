// Why the engine refuses a requested change. A planner names the reason in domain
// terms; each front end maps reasons to its own codes (pvmutl: src/pvmutl/exit-codes.ts),
// so the engine serves pvmutl, kanri and the policy engine alike.
export type Reason =
  /** The request itself is malformed. */
  | 'invalid'
  /** A machine named or needed is missing, not usable, or too few are. */
  | 'machine'
  /** A group, model or category named is missing or of the wrong kind. */
  | 'group'
  /** Host settings are missing, in use, or too few are free. */
  | 'host-setting'
  /** No machine can be moved between the groups. */
  | 'move'
  /** The job cannot start: no driver, a driver that does not serve the step, or invalid driver settings. */
  | 'not-startable'
  /** Software named is missing or cannot be distributed. */
  | 'software'
  /** A VM to create exists already. */
  | 'vm-exists'
  /** A VM to activate is active already. */
  | 'vm-active';

export class EngineError extends Error {
  constructor(readonly reason: Reason, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export const refuse = (reason: Reason, message: string): EngineError => new EngineError(reason, message);
