// kanri commands that are configuration changes: run as jobs through the engine, with
// pvmutl's exit codes and messages (a refusal: its code and reason; a job that failed: 7).
import { EngineError } from '../engine/errors.js';
import type { ChangeRequest } from '../engine/service.js';
import { openStore } from '../open-store.js';
import { processIo } from '../pvmutl/io.js';
import { fromEngine } from '../pvmutl/exit-codes.js';
import { runCommandChange } from '../pvmutl/change.js';
import { complain } from '../cli/messages.js';

export async function runKanriChange(dbPath: string, request: ChangeRequest, command: string): Promise<number> {
  const db = openStore(dbPath);
  const io = processIo();
  try {
    return await runCommandChange(db, io, request, command, 'kanri');
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
