// kanri register-master: the console's master machine registration, run as a
// job with pvmutl's exit codes and messages.
import { EngineError } from '../engine/errors.js';
import { openStore } from '../store/db.js';
import { processIo } from '../pvmutl/io.js';
import { fromEngine } from '../pvmutl/exit-codes.js';
import { runCommandChange } from '../pvmutl/change.js';
import { complain } from '../cli/messages.js';

export async function registerMaster(dbPath: string, group: string, machine: string, netInfo: string): Promise<number> {
  const db = openStore(dbPath);
  const io = processIo();
  try {
    return await runCommandChange(db, io, { action: 'register-master', group, machine, netInfo }, `kanri register-master ${group} ${machine} ${netInfo}`, 'kanri');
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
