// asjob [-a | -s | -d] and ascancel [JobID] (spec/pvmutl.md §4.20–4.21,
// spec/decisions.md): read from the store, so they work from any shell.
import type { Db } from '../../store/db.js';
import { L } from '../../cli/locale.js';
import { requestCancel, sweepAbandoned } from '../../engine/jobs.js';
import { Exit, PvmError } from '../exit-codes.js';
import { formatJobId } from '../../engine/plan.js';
import { formatCancelList } from '../format.js';

interface Row { id: number; sequence: string; progress: number; started_at: string | null; created_at: string; phase: string; params: string }

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** YYYY/MM/DD HH:MM:SS in local time. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function activeJobs(db: Db, mainOnly: boolean): Row[] {
  return db.prepare(
    `SELECT id, sequence, progress, started_at, created_at, phase, params FROM jobs
      WHERE status IN ('running', 'held') ${mainOnly ? 'AND main = 1' : ''} ORDER BY id`,
  ).all() as Row[];
}

export function asjob(db: Db, detail: 'main' | 'all' | 'phase' | 'params'): string {
  sweepAbandoned(db);
  const jobs = activeJobs(db, detail === 'main');
  let out = 'JobID Progress(%) StartTime          ActionSequence Name\n-----+----------+------------------+------------------\n';
  for (const j of jobs) {
    out += `${formatJobId(j.id)} ${String(j.progress).padEnd(10)} ${localTime(j.started_at ?? j.created_at)} ${j.sequence}`;
    if (detail === 'phase' || detail === 'params') out += ` ${j.phase}`;
    out += '\n';
    if (detail === 'params') {
      for (const [k, v] of Object.entries(JSON.parse(j.params) as Record<string, string>)) out += `      ${k}=${v}\n`;
    }
  }
  return out + `\nTotal job : ${jobs.length}\n`;
}

export function ascancel(db: Db, jobId: number | undefined): string {
  if (jobId === undefined) {
    sweepAbandoned(db);
    return formatCancelList(activeJobs(db, false).map((j) => j.id));
  }
  if (requestCancel(db, jobId) === 'not-found') {
    throw new PvmError(Exit.MACHINE, L(`job ${formatJobId(jobId)} is not running`, `ジョブ ${formatJobId(jobId)} は実行中ではありません`));
  }
  return '';
}
