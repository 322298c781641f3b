// kanri commands that are configuration changes: run as jobs through the engine, with
// pvmutl's exit codes and messages (a refusal: its code and reason; a job that failed: 7).
import { EngineError } from '../engine/errors.js';
import type { ChangeRequest } from '../engine/service.js';
import { openStore } from '../open-store.js';
import { processIo } from '../pvmutl/io.js';
import { fromEngine } from '../pvmutl/exit-codes.js';
import { runCommandChange } from '../pvmutl/change.js';
import { complain } from '../cli/messages.js';
import { formatJobId } from '../engine/plan.js';

export async function runKanriChange(dbPath: string, request: ChangeRequest, command: string): Promise<number> {
  const db = openStore(dbPath);
  const io = processIo();
  try {
    return await runCommandChange(db, io, request, command, 'kanri', (result) => {
      // A change that says nothing leaves the caller guessing: one line per job that completed.
      for (const j of result.jobs) if (j.outcome === 'completed') io.out(`job ${formatJobId(j.id)} completed: ${j.sequence} ${j.machine}\n`);
      if (!result.jobs.length && !result.canceledWhileHeld) io.out('nothing to do\n');
    });
  } catch (err) {
    if (err instanceof EngineError) {
      const e = fromEngine(err);
      complain('kanri', e.message);
      return e.code;
    }
    throw err;
  } finally {
    db.close();
  }
}
