// The narrated tour. Each step shows the command line an administrator would
// type, what pvmutl printed and its exit code, on a throw-away store built
// from fixtures/datacentre.yaml.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { openStore } from '../store/db.js';
import { readDataCentre } from '../config/validate.js';
import { applyDataCentre } from '../config/apply.js';
import { runPvmutl } from '../pvmutl/main.js';
import type { Io } from '../pvmutl/io.js';

export const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'datacentre.yaml');

interface Step { say: string; args: string[]; answer?: string }

const STEPS: Step[] = [
  { say: 'The shop and its infrastructure, as groups and models (highest priority first):', args: ['list', 'group'] },
  { say: 'The Web group: active machines, then the pool that N+1 replacement draws from.', args: ['list', 'server', 'Shop\\Web'] },
  { say: 'Software the Web group installs when a machine joins it (and when it leaves):', args: ['list', 'soft', 'Shop\\Web'] },
  { say: 'Which policy watches each group and model of the shop:', args: ['policy', 'show', 'Shop'] },
  { say: 'Give the AP group the N+1 policy; /y answers the confirmation for a script.', args: ['policy', 'set', 'Shop\\AP', 'Web-N+1', '/y'] },
  { say: 'The AP group now shows the new policy:', args: ['policy', 'show', 'Shop\\AP'] },
  { say: 'Put web02 into maintenance so that policies leave it alone during a repair:', args: ['maintenance', 'on', 'Shop\\Web', 'web02'] },
  { say: 'A typo in a group name is exit code 3, which a job scheduler can branch on:', args: ['list', 'server', 'Shop\\Wbe'] },
  { say: 'A malformed command is exit code 1, with the reason on one line:', args: ['add', 'Shop\\Web', 'px-r120-03', '/c', '2'] },
  { say: 'user01 changes the password (a wrong old password would be exit 15):', args: ['changepassword', 'user01', 'pvmuser1', 'pvmuser2'] },
];

export async function demo(write: (s: string) => void = (s) => { process.stdout.write(s); }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-demo-'));
  const dbPath = join(dir, 'kanri.db');
  try {
    const { dc, errors } = readDataCentre(parse(readFileSync(FIXTURE, 'utf8')));
    if (!dc) throw new Error(`fixture invalid: ${errors.join('; ')}`);
    const db = openStore(dbPath);
    const { counts } = applyDataCentre(db, dc);
    db.close();
    write(`kanri demo: a data centre of ${counts.machines} machines in ${counts.groups} groups, served by the sim driver\n`);
    write(`(temporary store ${dbPath}, removed at the end)\n`);
    let failures = 0;
    for (const step of STEPS) {
      write(`\n# ${step.say}\n$ pvmutl ${step.args.map(quote).join(' ')}\n`);
      const io: Io = { out: write, err: write, ask: async () => step.answer };
      const code = await runPvmutl(['--db', dbPath, ...step.args], io);
      write(`[exit ${code}]\n`);
      if (code !== 0 && !step.say.includes('exit code')) failures++;
    }
    write(`\nThe action sequences (add, replace, move, vmadd, vmmigrate …) arrive with the engine.\n`);
    return failures === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function quote(a: string): string {
  return /^[\w\\/.:@+-]+$/.test(a) ? a : `"${a}"`;
}
