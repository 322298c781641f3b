// kanri register-master: the console's master machine registration, run as a
// job with pvmutl's exit codes and messages.
import { openStore } from '../store/db.js';
import { processIo } from '../pvmutl/io.js';
import { PvmError } from '../pvmutl/exit-codes.js';
import { runChange } from '../pvmutl/change.js';
import { planMaster } from '../pvmutl/commands/machines.js';

export async function registerMaster(dbPath: string, group: string, machine: string, netInfo: string): Promise<number> {
  const db = openStore(dbPath);
  const io = processIo();
  try {
    return await runChange(db, io, `kanri register-master ${group} ${machine} ${netInfo}`, () => planMaster(db, { group, machine, netInfo }));
  } catch (err) {
    if (err instanceof PvmError) {
      io.err(`kanri: ${err.message}\n`);
      return err.code;
    }
    throw err;
  } finally {
    db.close();
  }
}
