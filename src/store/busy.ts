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

/**
 * Runs fn with the connection's busy timeout lowered to ms, then puts it back: a long-running
 * process (the monitor) tries its writes briefly and retries them later, instead of freezing
 * its event loop for the whole busy timeout while another process holds the store.
 */
export function withBusyTimeout<T>(db: { pragma(s: string, o?: { simple: boolean }): unknown }, ms: number, fn: () => T): T {
  const before = Number(db.pragma('busy_timeout', { simple: true }));
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  try {
    return fn();
  } finally {
    db.pragma(`busy_timeout = ${before}`);
  }
}

/** Whether an error is SQLite's "the store is held by another writer" (busy or locked). */
export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
