// kanri job list | show ID: the job journal (every step's start, end, result and driver output).
import { withStore } from '../store/db.js';
import { sweepAbandoned } from '../engine/jobs.js';
import { formatJobId } from '../pvmutl/format.js';

export function jobList(dbPath: string, limit: number): number {
  return withStore(dbPath, (db) => {
    sweepAbandoned(db);
    const rows = db.prepare('SELECT id, sequence, status, progress, created_at, ended_at, error FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as
      Array<{ id: number; sequence: string; status: string; progress: number; created_at: string; ended_at: string | null; error: string | null }>;
    for (const j of rows.reverse()) {
      process.stdout.write(`${formatJobId(j.id)} ${j.status.padEnd(9)} ${String(j.progress).padStart(3)}% ${j.created_at} ${j.sequence}${j.error ? ` — ${j.error}` : ''}\n`);
    }
    return 0;
  });
}

export function jobShow(dbPath: string, id: string): number {
  return withStore(dbPath, (db) => {
    sweepAbandoned(db);
    const job = db.prepare('SELECT * FROM jobs WHERE id = ?').get(Number(id)) as Record<string, unknown> | undefined;
    if (!job) {
      process.stderr.write(`kanri: job not found: ${id}\n`);
      return 2;
    }
    process.stdout.write(`job ${formatJobId(job.id as number)} ${job.sequence} ${job.status} (${job.command})\n`);
    for (const [k, v] of Object.entries(JSON.parse(job.params as string) as Record<string, string>)) process.stdout.write(`  ${k}=${v}\n`);
    if (job.error) process.stdout.write(`  error: ${job.error}\n`);
    const steps = db.prepare('SELECT * FROM job_steps WHERE job_id = ? ORDER BY seq').all(job.id) as Array<Record<string, string | number>>;
    for (const s of steps) {
      process.stdout.write(`  ${String(s.seq).padStart(2)}. [${s.tag}] ${s.name}${s.target ? ` (${s.target})` : ''}: ${s.status}\n`);
      for (const line of String(s.output).split('\n').filter(Boolean)) process.stdout.write(`        ${line}\n`);
    }
    return 0;
  });
}
