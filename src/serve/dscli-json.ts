// dscli as the API runs it: the same command with --json in this process, its records
// collected instead of printed. What dscli --json prints is what the API answers, so the
// out-of-band results, server and group lists and alerts have one implementation.
import { runDscli } from '../dscli/main.js';

export interface DscliRun { code: number; records: unknown[]; errors: string[] }

export async function dscliJson(dbPath: string, args: string[]): Promise<DscliRun> {
  let out = '';
  let err = '';
  const code = await runDscli(['--db', dbPath, '--json', '--yes', ...args], {
    out: (t) => { out += t; },
    err: (t) => { err += t; },
    // The API never reads a password from standard input: password=- is refused there.
    stdin: () => '',
    isTTY: false,
    outIsTTY: false,
  });
  const records = out.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      return { line: l };
    }
  });
  return { code, records, errors: err.split('\n').filter(Boolean).map((l) => l.replace(/^dscli: /, '')) };
}
