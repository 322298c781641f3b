// The audit trail: who ran which change, when, with which exit code. Callers
// pass the command already redacted; secrets never reach this table.
import type { Db } from './db.js';
import { requireModule } from '../util/require.js';

/** The operating-system user running this process (recorded with changes and confirmations). */
export function whoAmI(): string {
  try {
    // node:os when a change is recorded, not at every start-up.
    return (requireModule('node:os') as typeof import('node:os')).userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '?');
  }
}

export function recordAudit(db: Db, dialect: string, command: string, exitCode: number): void {
  try {
    db.prepare('INSERT INTO audit (time, uid, user, command, exit_code) VALUES (?, ?, ?, ?, ?)')
      .run(new Date().toISOString(), process.getuid?.() ?? null, whoAmI(), `${dialect} ${command}`, exitCode);
  } catch {
    // The audit row must never turn a finished command into a failure.
  }
}

export interface AuditRow { time: string; user: string; command: string; exitCode: number }

/** Rows of a front end that names its callers itself (kanri serve: the token), written in one transaction. */
export function recordAudits(db: Db, dialect: string, rows: AuditRow[]): void {
  const ins = db.prepare('INSERT INTO audit (time, uid, user, command, exit_code) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => { for (const r of rows) ins.run(r.time, process.getuid?.() ?? null, r.user, `${dialect} ${r.command}`, r.exitCode); })();
}
