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

  program.command('register-master <group> <machine> <netinfo>')
    .description('activate a common-pool machine as a master machine: no software, no personality (exit codes as pvmutl)')
    .action(async (group: string, machine: string, netInfo: string) => { code = await (await import('./master.js')).registerMaster(dbPath(), group, machine, netInfo); });

  const sim = program.command('sim').description('failure injection and delays for the sim driver');
  sim.command('fail <machine> <operation>')
    .description("make OPERATION fail on MACHINE ('*' = any machine)")
    .option('--times <n>', 'fail only the next N calls (default: every call)')
    .option('--message <text>', 'the error text to report')
    .action(async (machine: string, operation: string, opts: { times?: string; message?: string }) => { code = (await import('./sim.js')).simFail(dbPath(), machine, operation, opts); });
  sim.command('clear').description('remove every injected fault')
    .action(async () => { code = (await import('./sim.js')).simClear(dbPath()); });
  sim.command('delay <ms>').description('delay of every sim operation (or of one, with --operation)')
    .option('--operation <op>', 'the operation to delay')
    .action(async (ms: string, opts: { operation?: string }) => { code = (await import('./sim.js')).simDelay(dbPath(), ms, opts.operation); });
  sim.command('show').description('delays and injected faults')
    .action(async () => { code = (await import('./sim.js')).simShow(dbPath()); });

  const ssh = program.command('ssh').description('host keys of the machines kanri runs scenarios on');
  ssh.command('trust <machine>')
    .description("fetch the machine's SSH host key and accept it when it has the given fingerprint (or with --yes)")
    .option('--fingerprint <sha256>', 'the fingerprint the key must have (SHA256:…, as ssh-keygen -l prints it)')
    .option('--yes', 'accept the key that is offered (prints its fingerprint)')
    .action(async (machine: string, opts: { fingerprint?: string; yes?: boolean }) => { code = await (await import('./ssh.js')).sshTrust(dbPath(), machine, opts); });
  ssh.command('forget <machine>').description("remove the machine's accepted host keys")
    .action(async (machine: string) => { code = (await import('./ssh.js')).sshForget(dbPath(), machine); });
  ssh.command('known').description('accepted host keys')
    .action(async () => { code = (await import('./ssh.js')).sshKnown(dbPath()); });

  const redfish = program.command('redfish').description('the TLS certificates Redfish controllers are trusted by');
  redfish.command('trust <server>')
    .description("fetch the controller's certificate and pin it when it has the given fingerprint (or with --yes)")
    .option('--fingerprint <sha256>', 'the SHA-256 fingerprint the certificate must have (SHA256:AB:CD:…, as openssl x509 -fingerprint -sha256 prints it)')
    .option('--yes', 'pin the certificate that is offered (prints its fingerprint)')
    .action(async (server: string, opts: { fingerprint?: string; yes?: boolean }) => { code = await (await import('./redfish.js')).redfishTrust(dbPath(), server, opts); });
  redfish.command('forget <server>').description("remove the controller's pinned certificate fingerprint")
    .action(async (server: string) => { code = (await import('./redfish.js')).redfishForget(dbPath(), server); });

  const driver = program.command('driver').description('what each driver serves and reads; secrets of driver settings');
  driver.command('list').description('every driver and the interfaces it serves')
    .action(async () => { code = (await import('./drivers.js')).driverList(); });
  driver.command('show <name>').description("a driver's interfaces and settings (name, scope, type, default, description)")
    .action(async (name: string) => { code = (await import('./drivers.js')).driverShow(name); });
  driver.command('secret <driver> <key>')
    .description("seal a secret setting of a machine's or group's driver, read from standard input (never from argv)")
    .option('--machine <name>', 'the machine whose driver setting it is')
    .option('--group <path>', 'the group whose driver setting it is')
    .option('--clear', 'remove the secret')
    .action(async (d: string, key: string, opts: { machine?: string; group?: string; clear?: boolean }) => { code = await (await import('./drivers.js')).driverSecret(dbPath(), d, key, opts); });

  const software = program.command('software').description('distribution software');
  software.command('collect')
    .description('register the executables of the local-script folder as <name>/<localhost> software')
    .action(async () => { code = (await import('./software.js')).collectLocalScripts(dbPath()); });

  const machine = program.command('machine').description('managed machines');
  machine.command('list [group]').description('every machine: where it is and its power, hardware and management status')
    .action(async (group: string | undefined) => { code = (await import('./inventory.js')).machineList(dbPath(), group); });
  machine.command('reset <name>').description('clear the abnormal management status a failed job left, once its cause is removed')
    .action(async (name: string) => { code = (await import('./inventory.js')).machineReset(dbPath(), name); });

  program.command('events').description('the event log, oldest first').option('-n <count>', 'how many', '50')
    .action(async (opts: { n: string }) => { code = (await import('./inventory.js')).eventList(dbPath(), Math.max(1, Number(opts.n) || 50)); });

  const job = program.command('job').description('the job journal');
  job.command('list').description('recent jobs, oldest first').option('-n <count>', 'how many', '20')
    .action(async (opts: { n: string }) => { code = (await import('./jobs.js')).jobList(dbPath(), Math.max(1, Number(opts.n) || 20)); });
  job.command('show <id>').description("a job's steps with their results and driver output")
    .action(async (id: string) => { code = (await import('./jobs.js')).jobShow(dbPath(), id); });

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
