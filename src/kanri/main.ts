// kanri dialect: kanri's own commands (configuration, accounts, the demo).
import { Command, CommanderError } from 'commander';
import { defaultStorePath } from '../store/paths.js';

export async function runKanri(args: string[]): Promise<number> {
  const program = new Command('kanri')
    .description('Server provisioning and out-of-band management (pvmutl and dscli compatible)')
    .option('--db <path>', 'configuration store (default: $KANRI_DB, /var/lib/kanri/kanri.db for root)')
    .exitOverride()
    .showHelpAfterError();
  const dbPath = (): string => program.opts<{ db?: string }>().db ?? defaultStorePath();
  let code = 0;

  const config = program.command('config').description('load or write the data-centre description (YAML)');
  config.command('apply <file>')
    .description('make the store match FILE; validated completely first, nothing written on error')
    .action(async (file: string) => { code = (await import('./config-cli.js')).configApply(dbPath(), file); });
  config.command('check <file>')
    .description('validate FILE without touching the store')
    .action(async (file: string) => { code = (await import('./config-cli.js')).configCheck(file); });
  config.command('export')
    .description('write the store as YAML')
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .action(async (opts: { output?: string }) => { code = (await import('./config-cli.js')).configExport(dbPath(), opts.output); });

  const user = program.command('user').description("kanri's own user accounts (pvmutl changepassword)");
  user.command('add <name>')
    .description('create a user; the password is read from standard input, never from argv')
    .option('--level <level>', 'administrator or operator', 'operator')
    .action(async (name: string, opts: { level: string }) => { code = await (await import('./users.js')).userAdd(dbPath(), name, opts.level); });
  user.command('list').description('list users and their levels')
    .action(async () => { code = (await import('./users.js')).userList(dbPath()); });
  user.command('disable <name>').description('disable an account')
    .action(async (name: string) => { code = (await import('./users.js')).userSetDisabled(dbPath(), name, true); });
  user.command('enable <name>').description('enable an account')
    .action(async (name: string) => { code = (await import('./users.js')).userSetDisabled(dbPath(), name, false); });

  program.command('demo')
    .description('run a narrated tour on the built-in sim data centre (temporary store, nothing left behind)')
    .action(async () => { code = await (await import('./demo.js')).runDemo(); });

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    throw err;
  }
  return code;
}
