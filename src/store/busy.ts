// The store's busy timeout: the opening code sets it, the busy message names it.
//
// SQLite has one writer at a time, so concurrent commands queue: fifty started at once by
// a job scheduler on a loaded machine wait tens of seconds for their turn, and must not
// fail for it. KANRI_BUSY_TIMEOUT_S overrides the default of 60 s.
const DEFAULT_S = 60;

/** Why KANRI_BUSY_TIMEOUT_S cannot be used, or undefined when it can (or is not set). */
export function busyTimeoutProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.KANRI_BUSY_TIMEOUT_S;
  if (raw === undefined || raw === '') return undefined;
  return /^\d{1,4}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 3600 ? undefined : `KANRI_BUSY_TIMEOUT_S must be a whole number of seconds from 1 to 3600, not '${raw}'`;
}

/** How long a command waits for the others that hold the store before it reports it busy. */
export function busyTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KANRI_BUSY_TIMEOUT_S;
  return raw && !busyTimeoutProblem(env) ? Number(raw) : DEFAULT_S;
}
