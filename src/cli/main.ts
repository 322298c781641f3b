// Dialect dispatch: the invoked name (pvmutl, dscli, kanri) or `kanri pvmutl …` /
// `kanri dscli …` selects the parser. Each dialect module is loaded on demand so
// that a pvmutl call never pays for commander or the network libraries.
import { basename } from 'node:path';
import { finalCode, guardOutput } from './output.js';

export type Dialect = 'pvmutl' | 'dscli' | 'kanri';

export function dialectOf(argv1: string | undefined): Dialect {
  const name = basename(argv1 ?? '').replace(/\.(c|m)?js$/, '').toLowerCase();
  if (name === 'pvmutl' || name === 'dscli') return name;
  return 'kanri';
}

export async function main(argv: string[]): Promise<number> {
  let dialect = dialectOf(argv[1]);
  let args = argv.slice(2);
  // A Tab press: answered before anything else is loaded.
  if (dialect === 'kanri' && args[0] === '__complete') {
    const c = await import('./completion.js');
    await c.preload(args[1] ?? 'kanri', args.slice(2));
    process.stdout.write(c.candidates(args[1] ?? 'kanri', args.slice(2)).join('\n') + '\n');
    return 0;
  }
  if (dialect === 'kanri' && (args[0] === 'pvmutl' || args[0] === 'dscli')) {
    dialect = args[0];
    args = args.slice(1);
  }
  guardOutput(dialect);
  let code: number;
  switch (dialect) {
    case 'pvmutl':
      code = await (await import('../pvmutl/main.js')).runPvmutl(args);
      break;
    case 'dscli':
      code = await (await import('../dscli/main.js')).runDscli(args);
      break;
    default:
      code = await (await import('../kanri/main.js')).runKanri(args);
  }
  return finalCode(code);
}
