// kanri register-master: the console's master machine registration, run as a
// job with pvmutl's exit codes and messages.
import { runKanriChange } from './change.js';

export async function registerMaster(dbPath: string, group: string, machine: string, netInfo: string): Promise<number> {
  return runKanriChange(dbPath, { action: 'register-master', group, machine, netInfo }, `kanri register-master ${group} ${machine} ${netInfo}`);
}
