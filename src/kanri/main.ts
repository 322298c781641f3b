// kanri dialect: kanri's own commands (configuration, accounts, the demo).
import { Command, CommanderError } from 'commander';
import { defaultStorePath } from '../store/paths.js';
import { isAdministrator, notAdministrator } from '../cli/privilege.js';
import { L } from '../cli/locale.js';
import { packageVersion } from '../cli/version.js';
import { complain, localize } from '../cli/messages.js';
import { EXIT, JOBS, READS, WRITES, helpTail } from './exit-codes.js';
import { commandPath, helpAsOption, helpTopicProblem, usageLine } from './usage.js';

class UsageError extends Error {}

class NotAdministrator extends Error {
  constructor() {
    const m = notAdministrator('this command');
    super(L(m.en, m.ja));
  }
}

export async function runKanri(args: string[]): Promise<number> {
  const program = new Command('kanri')
    .description('Server provisioning and out-of-band management (pvmutl and dscli compatible)')
    .option('--db <path>', 'configuration store (default: $KANRI_DB, /var/lib/kanri/kanri.db for root)')
    .version(`kanri ${packageVersion()}`, '--version', 'print the version')
    .exitOverride()
    // A mistake is one line on stderr (written below, where the command it concerns is
    // known), never the whole help: the same shape as pvmutl's and dscli's.
    .configureOutput({ outputError: () => undefined });
  // One rule for all three names: what reads or changes the store is for administrators.
  const dbPath = (): string => {
    if (!isAdministrator()) throw new NotAdministrator();
    return program.opts<{ db?: string }>().db ?? defaultStorePath();
  };
  const safeDefaultPath = (): string => {
    try {
      return defaultStorePath();
    } catch {
      return '';
    }
  };
  let code: number = EXIT.OK;
  /** -n COUNT: a whole number of 1 or more, or a usage error naming it. */
  const count = (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 1_000_000) throw new UsageError(`-n needs a whole number from 1 to 1000000, not '${raw}'`);
    return Number(raw);
  };

  const config = program.command('config').description('load or write the data-centre description (YAML)');
  config.command('apply <file>')
    .description('make the store match FILE; validated completely first, nothing written on error')
    .option('--dry-run', 'print what would be added, changed and removed; write nothing')
    .option('--prune', 'also remove what the file cannot restore (machines with history, controller passwords) and the accounts it does not name')
    .addHelpText('after', helpTail('kanri config apply datacentre.yaml --dry-run', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (file: string, opts: { dryRun?: boolean; prune?: boolean }) => { code = await (await import('./config-cli.js')).configApply(dbPath(), file, opts); });
  config.command('check <file>')
    .description('validate FILE without touching the store')
    .addHelpText('after', helpTail('kanri config check datacentre.yaml', [EXIT.OK, EXIT.USAGE]))
    .action(async (file: string) => { code = (await import('./config-cli.js')).configCheck(file); });
  config.command('export')
    .description('write the store as YAML')
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .option('--with-secrets', "include the accounts' password hashes and the secret settings in clear (refused on a terminal)")
    .addHelpText('after', helpTail('kanri config export -o backup.yaml', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (opts: { output?: string; withSecrets?: boolean }) => { code = (await import('./config-cli.js')).configExport(dbPath(), opts.output, !!opts.withSecrets); });

  const settings = program.command('settings').description("kanri's global settings (the settings: section of the YAML), one at a time");
  settings.command('list').description('every setting: its value (or default), whether it is set, what it does')
    .option('--json', 'one JSON object per setting').option('--set', 'only the settings that are set')
    .addHelpText('after', helpTail('kanri settings list --set', READS))
    .action(async (o: { json?: boolean; set?: boolean }) => { code = (await import('./settings-cli.js')).settingsList(dbPath(), !!o.json, !!o.set); });
  settings.command('get <key>').description("a setting's value (its default when it is not set)")
    .addHelpText('after', helpTail('kanri settings get monitor.listen', READS))
    .action(async (key: string) => { code = (await import('./settings-cli.js')).settingsGet(dbPath(), key); });
  settings.command('set <key> [value]').description('set a setting, checked as kanri config check checks it; audited. A secret one (monitor.communities) is read from standard input or a prompt, never from argv')
    .addHelpText('after', helpTail('kanri settings set monitor.listen 127.0.0.1:1162', WRITES))
    .action(async (key: string, value: string | undefined) => { code = await (await import('./settings-cli.js')).settingsSet(dbPath(), key, value); });
  settings.command('unset <key>').description('remove a setting: its default applies again; audited')
    .addHelpText('after', helpTail('kanri settings unset monitor.listen', WRITES))
    .action(async (key: string) => { code = (await import('./settings-cli.js')).settingsUnset(dbPath(), key); });

  const store = program.command('store').description('the configuration store itself');
  store.command('init').description('create an empty store at the --db path (the default path without --db); an existing store is left as it is')
    .addHelpText('after', helpTail('kanri --db /srv/kanri/kanri.db store init', [EXIT.OK, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async () => { code = (await import('./config-cli.js')).storeInit(dbPath()); });
  store.command('status').description('which store this is: its back end, schema version, key file and live managers')
    .addHelpText('after', helpTail('kanri --db postgresql://kanri@/kanri?host=/run/postgresql store status', [0, 9, 70]))
    .action(async () => { code = (await import('./store-cli.js')).storeStatus(dbPath()); });
  store.command('copy <from> <to>')
    .description('copy every row of store FROM into store TO (an SQLite path or a postgresql:// URI), which must be empty')
    .addHelpText('after', helpTail('kanri store copy /var/lib/kanri/kanri.db postgresql://kanri@/kanri?host=/run/postgresql', [0, 1, 9, 70]))
    .action(async (from: string, to: string) => { dbPath(); code = (await import('./store-cli.js')).storeCopy(from, to); });
  const key = store.command('key').description('the key that seals secrets: every manager of a shared store needs the same key file');
  key.command('export [file]').description("write this manager's key to FILE (created 0600), or to standard output with --stdout (never to a terminal)")
    .option('--stdout', 'write the key to standard output (a pipe or a file), not to FILE')
    .option('--force', 'replace FILE when it exists')
    .addHelpText('after', helpTail('kanri store key export /root/kanri.key.export', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (file: string | undefined, o: { stdout?: boolean; force?: boolean }) => { code = (await import('./store-key.js')).storeKeyExport(dbPath(), file, o); });
  key.command('import [file]').description("install the key in FILE (or on standard input with --stdin) as this manager's key file (0600)")
    .option('--stdin', 'read the key from standard input (a pipe or a file), not from FILE')
    .option('--replace', 'replace a different key file; secrets sealed with the old key become unreadable (the old file is kept beside it)')
    .addHelpText('after', helpTail('kanri store key import /root/kanri.key.export', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (file: string | undefined, o: { stdin?: boolean; replace?: boolean }) => { code = (await import('./store-key.js')).storeKeyImport(dbPath(), file, o); });

  const manager = program.command('manager').description('the managers that share this store (KANRI_MANAGER names a process\'s manager, default the host name)');
  manager.command('list').description('live processes of every manager: role (cli, monitor, serve), host, pid, jobs owned, last heartbeat and lease')
    .option('--json', 'one JSON object per process')
    .addHelpText('after', helpTail('kanri manager list --json', [EXIT.OK, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (opts: { json?: boolean }) => { code = (await import('./managers-cli.js')).managerList(dbPath(), !!opts.json); });

  const user = program.command('user').description("kanri's own user accounts (pvmutl changepassword)");
  user.command('add <name>')
    .description('create a user; the password is read from standard input, never from argv')
    .option('--level <level>', 'administrator or operator', 'operator')
    .addHelpText('after', helpTail('echo "$PW" | kanri user add ops1 --level operator', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.INTERRUPTED]))
    .action(async (name: string, opts: { level: string }) => { code = await (await import('./users.js')).userAdd(dbPath(), name, opts.level); });
  user.command('list').description('list users and their levels').option('--json', 'one JSON object per user')
    .addHelpText('after', helpTail('kanri user list --json', [EXIT.OK, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (opts: { json?: boolean }) => { code = (await import('./users.js')).userList(dbPath(), !!opts.json); });
  user.command('disable <name>').description('disable an account')
    .addHelpText('after', helpTail('kanri user disable ops1', WRITES))
    .action(async (name: string) => { code = (await import('./users.js')).userSetDisabled(dbPath(), name, true); });
  user.command('enable <name>').description('enable an account')
    .addHelpText('after', helpTail('kanri user enable ops1', WRITES))
    .action(async (name: string) => { code = (await import('./users.js')).userSetDisabled(dbPath(), name, false); });

  program.command('register-master <group> <machine> <netinfo>')
    .description('activate a common-pool machine as a master machine: no software, no personality (exit codes as pvmutl)')
    .addHelpText('after', helpTail('kanri register-master Shop/Web cp-new-01 web05', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.GROUP_NOT_FOUND, EXIT.HOST_UNUSABLE, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.VM_ACTIVE]))
    .action(async (group: string, machine: string, netInfo: string) => { code = await (await import('./master.js')).registerMaster(dbPath(), group, machine, netInfo); });

  const change = async (request: import('../engine/service.js').ChangeRequest, command: string): Promise<void> => {
    code = await (await import('./change.js')).runKanriChange(dbPath(), request, command);
  };
  const vms = program.command('vmserver').description('VM servers: failover, load balance, power saving (jobs, exit codes as pvmutl); capacity and events');
  vms.command('list').description('every VM server: capacity, cost of the VMs that run, load, what its hypervisor reported').option('--json', 'one JSON object per VM server')
    .addHelpText('after', helpTail('kanri vmserver list --json', [EXIT.OK, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (opts: { json?: boolean }) => { code = (await import('./vmservers.js')).vmServerList(dbPath(), !!opts.json); });
  vms.command('collect [server...]').description('read CPUs and free memory of VM servers (all without names) from their hypervisor now')
    .addHelpText('after', helpTail('kanri vmserver collect vms01 vms02', [EXIT.OK, EXIT.NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (names: string[]) => { code = await (await import('./vmservers.js')).vmServerCollect(dbPath(), names); });
  vms.command('watch [server...]').description("print the VM servers' connection and domain-crash events (VMwareProvider rows) until interrupted; a server whose driver reports none is named (exit 6 when none can be watched)")
    .addHelpText('after', helpTail('kanri vmserver watch vms01', [EXIT.OK, EXIT.NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (names: string[]) => { code = await (await import('./vmservers.js')).vmServerWatch(dbPath(), names); });
  vms.command('failover <server>')
    .description("FailoverVMServer: define and start the server's VMs on the other servers of its group from their kept definitions")
    .option('--migrate-first', 'try live/cold migration first, failover when it fails (policy action 4.2.17)')
    .addHelpText('after', helpTail('kanri vmserver failover vms01 --migrate-first', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.GROUP_NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (server: string, o: { migrateFirst?: boolean }) => change({ action: 'vms-evacuate', server, how: o.migrateFirst ? 'migrate-then-failover' : 'failover' }, `kanri vmserver failover ${server}${o.migrateFirst ? ' --migrate-first' : ''}`));
  vms.command('evacuate <server>').description('move every running VM of the server to the other servers of its group by migration (policy action 4.2.16)')
    .addHelpText('after', helpTail('kanri vmserver evacuate vms01', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.GROUP_NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (server: string) => change({ action: 'vms-evacuate', server, how: 'migrate' }, `kanri vmserver evacuate ${server}`));
  vms.command('balance <group>').description('LoadBalanceVMServer: move VMs off servers above their high-load boundary (policy action 4.2.20)')
    .option('--server <name>', 'balance this server only')
    .addHelpText('after', helpTail('kanri vmserver balance Infra/VMServers', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.GROUP_NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (group: string, o: { server?: string }) => change({ action: 'vms-load-balance', group, ...(o.server ? { server: o.server } : {}) }, `kanri vmserver balance ${group}${o.server ? ` --server ${o.server}` : ''}`));
  vms.command('power-save <group>').description('empty servers below their low-load boundary and shut them down (policy action 4.2.19)')
    .option('--server <name>', 'empty this server only')
    .addHelpText('after', helpTail('kanri vmserver power-save Infra/VMServers', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.GROUP_NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (group: string, o: { server?: string }) => change({ action: 'vms-power-save', group, ...(o.server ? { server: o.server } : {}) }, `kanri vmserver power-save ${group}${o.server ? ` --server ${o.server}` : ''}`));

  program.command('suspend <group> [hosts...]').description('SuspendMachine: suspend the VMs named (every running one of the group without names)')
    .addHelpText('after', helpTail('kanri suspend Shop/VMs vm-web01', JOBS))
    .action(async (group: string, hosts: string[]) => change({ action: 'suspend', group, hosts }, `kanri suspend ${[group, ...hosts].join(' ')}`));
  const vm = program.command('vm').description('virtual machines that are in no group');
  vm.command('delete <machine>').description('DeleteManagedVirtualMachine: delete a common-pool VM from its VM server and from kanri')
    .addHelpText('after', helpTail('kanri vm delete vm-old01', JOBS))
    .action(async (machine: string) => change({ action: 'vm-delete-managed', machine }, `kanri vm delete ${machine}`));
  const pool = program.command('pool').description('pools of groups');
  pool.command('add <group> <machine>').description('MoveFromManagedToPool: a machine active nowhere joins the pool of GROUP (or of a model: GROUP/MODEL)')
    .addHelpText('after', helpTail('kanri pool add Shop/Web px-spare-02', JOBS))
    .action(async (group: string, machine: string) => change({ action: 'pool-add', group, machine }, `kanri pool add ${group} ${machine}`));
  pool.command('remove <group> <machine>').description('MoveFromPoolToManaged: a machine standing by in the pool of GROUP leaves it (for the common pool)')
    .addHelpText('after', helpTail('kanri pool remove Shop/Web px-spare-02', JOBS))
    .action(async (group: string, machine: string) => change({ action: 'pool-remove', group, machine }, `kanri pool remove ${group} ${machine}`));

  const sim = program.command('sim').description('failure injection and delays for the sim driver');
  sim.command('fail <machine> <operation>')
    .description("make OPERATION fail on MACHINE ('*' = any machine)")
    .option('--times <n>', 'fail only the next N calls (default: every call)')
    .option('--message <text>', 'the error text to report')
    .addHelpText('after', helpTail('kanri sim fail px-spare-01 power-on --times 1', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (machine: string, operation: string, opts: { times?: string; message?: string }) => { code = (await import('./sim.js')).simFail(dbPath(), machine, operation, opts); });
  sim.command('clear').description('remove every injected fault')
    .addHelpText('after', helpTail('kanri sim clear', [EXIT.OK, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async () => { code = (await import('./sim.js')).simClear(dbPath()); });
  sim.command('delay <ms>').description('delay of every sim operation (or of one, with --operation)')
    .option('--operation <op>', 'the operation to delay')
    .addHelpText('after', helpTail('kanri sim delay 200 --operation power-on', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (ms: string, opts: { operation?: string }) => { code = (await import('./sim.js')).simDelay(dbPath(), ms, opts.operation); });
  sim.command('show').description('delays and injected faults').option('--json', 'one JSON object: settings and faults')
    .addHelpText('after', helpTail('kanri sim show --json', READS))
    .action(async (opts: { json?: boolean }) => { code = (await import('./sim.js')).simShow(dbPath(), !!opts.json); });

  const ssh = program.command('ssh').description('host keys of the machines (and storage hosts) kanri reaches over SSH');
  ssh.command('trust [machine]')
    .description("fetch the machine's SSH host key (or that of --address) and accept it when it has the given fingerprint (or with --yes)")
    .option('--fingerprint <sha256>', 'the fingerprint the key must have (SHA256:…, as ssh-keygen -l prints it)')
    .option('--yes', 'accept the key that is offered (prints its fingerprint)')
    .option('--address <host>', 'a host that is not a machine, e.g. a storage host (iscsi-tgt setting host)')
    .option('--port <n>', 'its SSH port (with --address)', '22')
    .addHelpText('after', helpTail('kanri ssh trust web01 --fingerprint SHA256:…', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (machine: string | undefined, opts: { fingerprint?: string; yes?: boolean; address?: string; port: string }) => { code = await (await import('./ssh.js')).sshTrust(dbPath(), machine, opts); });
  ssh.command('forget [machine]').description("remove the machine's (or --address's) accepted host keys")
    .option('--address <host>', 'a host that is not a machine')
    .option('--port <n>', 'its SSH port (with --address)', '22')
    .addHelpText('after', helpTail('kanri ssh forget web01', WRITES))
    .action(async (machine: string | undefined, opts: { address?: string; port: string }) => { code = (await import('./ssh.js')).sshForget(dbPath(), machine, opts); });
  ssh.command('known').description('accepted host keys').option('--json', 'one JSON object per key')
    .addHelpText('after', helpTail('kanri ssh known --json', READS))
    .action(async (opts: { json?: boolean }) => { code = (await import('./ssh.js')).sshKnown(dbPath(), !!opts.json); });

  const redfish = program.command('redfish').description('the TLS certificates Redfish controllers are trusted by');
  redfish.command('trust <server>')
    .description("fetch the controller's certificate and pin it when it has the given fingerprint (or with --yes)")
    .option('--fingerprint <sha256>', 'the SHA-256 fingerprint the certificate must have (SHA256:AB:CD:…, as openssl x509 -fingerprint -sha256 prints it)')
    .option('--yes', 'pin the certificate that is offered (prints its fingerprint)')
    .addHelpText('after', helpTail('kanri redfish trust ilo01 --fingerprint SHA256:3F:A2:…', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (server: string, opts: { fingerprint?: string; yes?: boolean }) => { code = await (await import('./redfish.js')).redfishTrust(dbPath(), server, opts); });
  redfish.command('forget <server>').description("remove the controller's pinned certificate fingerprint")
    .addHelpText('after', helpTail('kanri redfish forget ilo01', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (server: string) => { code = (await import('./redfish.js')).redfishForget(dbPath(), server); });

  const driver = program.command('driver').description('what each driver serves and reads; secrets of driver settings');
  driver.command('list').description('every driver and the interfaces it serves').option('--json', 'one JSON object per driver')
    .addHelpText('after', helpTail('kanri driver list --json', [EXIT.OK, EXIT.OUTPUT]))
    .action(async (opts: { json?: boolean }) => { code = (await import('./drivers.js')).driverList(!!opts.json); });
  driver.command('show <name>').description("a driver's interfaces and settings (name, scope, type, default, description)")
    .addHelpText('after', helpTail('kanri driver show ipmi', [EXIT.OK, EXIT.NOT_FOUND]))
    .action(async (name: string) => { code = (await import('./drivers.js')).driverShow(name); });
  driver.command('secret <driver> <key>')
    .description("seal a secret setting of a machine's or group's driver, read from standard input (never from argv)")
    .option('--machine <name>', 'the machine whose driver setting it is')
    .option('--group <path>', 'the group whose driver setting it is')
    .option('--clear', 'remove the secret')
    .addHelpText('after', helpTail('kanri driver secret haproxy password --group Shop/Web < pw.txt', WRITES))
    .action(async (d: string, key: string, opts: { machine?: string; group?: string; clear?: boolean }) => { code = await (await import('./drivers.js')).driverSecret(dbPath(), d, key, opts); });

  const lb = program.command('lb').description('load balancers');
  lb.command('sync <group>')
    .description("put the group's load-balancing group in line with the store (after a reload of HAProxy) and say what changed")
    .addHelpText('after', helpTail('kanri lb sync Shop/Web', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (group: string) => { code = await (await import('./lb.js')).lbSync(dbPath(), group); });

  const software = program.command('software').description('distribution software');
  software.command('collect')
    .description('register the executables of the local-script folder as <name>/<localhost> software')
    .addHelpText('after', helpTail('kanri software collect', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async () => { code = (await import('./software.js')).collectLocalScripts(dbPath()); });

  const machine = program.command('machine').description('managed machines');
  machine.command('list [group]').description('every machine: where it is and its power, hardware and management status')
    .option('--json', 'one JSON object per machine')
    .addHelpText('after', helpTail('kanri machine list Shop/Web --json', [EXIT.OK, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (group: string | undefined, opts: { json?: boolean }) => { code = (await import('./inventory.js')).machineList(dbPath(), group, !!opts.json); });
  machine.command('reset <name>').description('clear the abnormal management status a failed job left, once its cause is removed')
    .addHelpText('after', helpTail('kanri machine reset px-r120-01', WRITES))
    .action(async (name: string) => { code = (await import('./inventory.js')).machineReset(dbPath(), name); });
  machine.command('confirm-off <name>').description('vouch that a machine a takeover waits on ("waiting for fencing") is off; the takeover goes on (recorded with who and when)')
    .addHelpText('after', helpTail('kanri machine confirm-off px-r120-01', [0, 1, 2, 9, 70]))
    .action(async (name: string) => { code = (await import('./inventory.js')).machineConfirmOff(dbPath(), name); });

  program.command('events').description('the event log, oldest first; filtered, and followed with --follow')
    .option('-n <count>', 'how many (the newest)', '50').option('--json', 'one JSON object per event')
    .option('--follow', 'keep printing new entries until interrupted')
    .option('--machine <name>', 'entries about this machine')
    .option('--group <path>', 'entries about this group (or a group under this path)')
    .option('--since <time>', 'entries since an ISO time or a duration ago (30s, 10m, 2h, 1d)')
    .addHelpText('after', helpTail('kanri events --group Shop/Web --since 2h', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (opts: { n: string; json?: boolean; follow?: boolean; machine?: string; group?: string; since?: string }) => {
      code = await (await import('./inventory.js')).eventList(dbPath(), { ...opts, limit: count(opts.n) });
    });

  const monitor = program.command('monitor').description('the event-driven half: traps, polling, policies, trap forwarding');
  monitor.command('run', { isDefault: true }).description('run in the foreground (SIGHUP re-reads the settings, SIGTERM stops)')
    .addHelpText('after', helpTail('kanri monitor run', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async () => { code = await (await import('./monitor-cli.js')).monitorRun(dbPath()); });
  monitor.command('status').description('whether a monitor runs, its queue, chains and counters')
    .option('--json', 'one JSON object: running, pid, host, events_waiting, chains, counters, recent_chains')
    .addHelpText('after', helpTail('kanri monitor status --json', READS))
    .action(async (o: { json?: boolean }) => { code = await (await import('./monitor-cli.js')).monitorStatus(dbPath(), !!o.json); });
  const snmpUser = monitor.command('user').description('SNMPv3 users whose authPriv traps are accepted');
  snmpUser.command('add <name>').description('add or replace a user; the authentication and privacy keys are read from standard input (two lines)')
    .option('--auth <protocol>', 'md5, sha, sha224, sha256, sha384 or sha512', 'sha')
    .option('--priv <protocol>', 'des, aes, aes256b or aes256r', 'aes')
    .addHelpText('after', helpTail('printf \'%s\\n%s\\n\' "$AUTH" "$PRIV" | kanri monitor user add trapper --auth sha256', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (name: string, o: { auth: string; priv: string }) => { code = await (await import('./monitor-cli.js')).monitorUserAdd(dbPath(), name, o); });
  snmpUser.command('list').description('the users (never their keys)')
    .addHelpText('after', helpTail('kanri monitor user list', READS))
    .action(async () => { code = (await import('./monitor-cli.js')).monitorUserList(dbPath()); });
  snmpUser.command('remove <name>').description('remove a user')
    .addHelpText('after', helpTail('kanri monitor user remove trapper', WRITES))
    .action(async (name: string) => { code = (await import('./monitor-cli.js')).monitorUserRemove(dbPath(), name); });

  const schedule = program.command('schedule').description('scheduled power operations of groups, run by kanri monitor at the times of a cron expression');
  schedule.command('add <group> <operation>')
    .description('power on, shut down or restart every active machine of GROUP (operation poweron, shutdown or reboot) at the times of --at')
    .requiredOption('--at <cron>', "when: five cron fields 'minute hour day-of-month month day-of-week' (local time in --tz) or @daily, @weekly…")
    .option('--tz <zone>', 'the IANA time zone the times are read in, on every manager (default: this process\'s, from TZ or /etc/localtime)')
    .option('--run-late', 'after the monitor was stopped, run the last missed time late (once) instead of only reporting it')
    .addHelpText('after', helpTail("kanri schedule add Shop/Web shutdown --at '0 22 * * 1-5'", [0, 1, 2, 9, 70]))
    .action(async (group: string, operation: string, o: { at: string; tz?: string; runLate?: boolean }) => { code = await (await import('./schedules.js')).scheduleAdd(dbPath(), group, operation, o); });
  schedule.command('list').description('every schedule: its next time, its last run and how many runs were missed').option('--json', 'one JSON object per schedule')
    .addHelpText('after', helpTail('kanri schedule list --json', [0, 9, 70, 74]))
    .action(async (opts: { json?: boolean }) => { code = (await import('./schedules.js')).scheduleList(dbPath(), !!opts.json); });
  schedule.command('remove <id>').description('remove a schedule (its record of runs goes with it)')
    .addHelpText('after', helpTail('kanri schedule remove 3', [0, 1, 2, 9, 70]))
    .action(async (id: string) => { code = (await import('./schedules.js')).scheduleRemove(dbPath(), id); });

  const alert = program.command('alert').description('AlertManager: the command a policy rule runs (action alert-command), destination groups (action alert-notify)');
  const alertCmd = alert.command('command').description('the command of a policy rule');
  alertCmd.command('set <policy> <rule> <argv...>')
    .description('the command (after --, an absolute path and its arguments; no shell) that action alert-command of the rule runs, with the event in KANRI_EVENT_* variables')
    .option('--timeout <s>', 'kill it (with its process group) after this many seconds', '60')
    .addHelpText('after', helpTail("kanri alert command set 標準ポリシー CPU障害 -- /usr/local/bin/page-oncall --urgent", [0, 1, 2, 9, 70]))
    .action(async (policy: string, rule: string, argv: string[], o: { timeout: string }) => { code = (await import('./alerts.js')).alertCommandSet(dbPath(), policy, rule, argv, o); });
  alertCmd.command('remove <policy> <rule>').description("remove a rule's command")
    .addHelpText('after', helpTail('kanri alert command remove 標準ポリシー CPU障害', [0, 2, 9, 70]))
    .action(async (policy: string, rule: string) => { code = (await import('./alerts.js')).alertCommandRemove(dbPath(), policy, rule); });
  const dest = alert.command('destination').description('destination groups: mail lists and trap destinations chosen by event category');
  dest.command('add <name>').description('add or replace a destination group')
    .option('--mail <addresses>', 'mail recipients, comma-separated (sent through mail.smtp_host)')
    .option('--trap <targets>', 'SNMP v2c notification destinations host:port, comma-separated')
    .option('--community <c>', 'community of the notifications', 'public')
    .option('--category <names>', 'event categories it takes, comma-separated (default: every event)')
    .option('--window <HH:MM-HH:MM>', 'server local time mail may be sent in; outside it, mail waits for the next opening')
    .option('--retry <seconds>', 'waits before each new try of a mail the server did not take, comma-separated (e.g. 60,300,900)')
    .addHelpText('after', helpTail('kanri alert destination add night-ops --mail ops@example.com --category CPU障害,メモリ障害 --window 22:00-06:00 --retry 60,300', [0, 1, 9, 70]))
    .action(async (name: string, o: { mail?: string; trap?: string; community: string; category?: string; window?: string; retry?: string }) => { code = (await import('./alerts.js')).alertDestinationAdd(dbPath(), name, o); });
  dest.command('remove <name>').description('remove a destination group')
    .addHelpText('after', helpTail('kanri alert destination remove night-ops', [0, 2, 9, 70]))
    .action(async (name: string) => { code = (await import('./alerts.js')).alertDestinationRemove(dbPath(), name); });
  alert.command('list').description('the commands, and the destination groups with their queued, sent and failed mail').option('--json', 'one JSON object per line')
    .addHelpText('after', helpTail('kanri alert list --json', [0, 9, 70, 74]))
    .action(async (opts: { json?: boolean }) => { code = (await import('./alerts.js')).alertList(dbPath(), !!opts.json); });

  const event = program.command('event').description('custom notifications');
  event.command('raise <source> <event>').description('queue an event for the monitor, e.g. SystemMonitorPerf 10000001 --machine web01')
    .option('--machine <name>', 'the machine it is about')
    .option('--group <path>', 'the group it is about')
    .option('--detail <text>', 'text kept with the event')
    .addHelpText('after', helpTail('kanri event raise SystemMonitorPerf 10000001 --machine web01', WRITES))
    .action(async (source: string, ev: string, o: { machine?: string; group?: string; detail?: string }) => { code = await (await import('./monitor-cli.js')).eventRaise(dbPath(), source, ev, o); });

  const policy = program.command('policy').description('policies: the standard templates, and what a policy would do');
  policy.command('templates [name]').description('the standard policies (with NAME: its rules)')
    .addHelpText('after', helpTail('kanri policy templates', [EXIT.OK, EXIT.NOT_FOUND]))
    .action(async (name: string | undefined) => { code = (await import('./monitor-cli.js')).policyTemplates(name); });
  policy.command('events [source]').description('every event a policy rule can match: source, event, category, summary (SOURCE: SystemMonitorEvent, SystemMonitorPerf, VMwareProvider)')
    .addHelpText('after', helpTail('kanri policy events VMwareProvider', [0, 2, 9, 70, 74]))
    .action(async (source: string | undefined) => { code = (await import('./monitor-cli.js')).policyEvents(source); });
  policy.command('explain <group> <source> <event>').description('which rule matches, which actions would run in which order and which guard would stop them (changes nothing)')
    .option('--machine <name>', 'the machine the event is about')
    .addHelpText('after', helpTail('kanri policy explain Shop/Web SystemMonitorPerf 10000001 --machine px-r120-01', [EXIT.OK, EXIT.USAGE, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (group: string, source: string, ev: string, o: { machine?: string }) => { code = (await import('./monitor-cli.js')).policyExplain(dbPath(), group, source, ev, o); });

  const job = program.command('job').description('the job journal');
  job.command('list').description('recent jobs, oldest first: status, progress, sequence, group and machine')
    .option('-n <count>', 'how many (the newest)', '20').option('--json', 'one JSON object per job')
    .addHelpText('after', helpTail('kanri job list -n 5', [EXIT.OK, EXIT.USAGE, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (opts: { n: string; json?: boolean }) => { code = (await import('./jobs.js')).jobList(dbPath(), count(opts.n), !!opts.json); });
  job.command('show <id>').description("a job's steps with their results and driver output (id: 00011, 11 or last)")
    .option('--json', 'one JSON object with the steps')
    .addHelpText('after', helpTail('kanri job show last --json', [EXIT.OK, EXIT.NOT_FOUND, EXIT.NOT_ADMIN, EXIT.STORE, EXIT.OUTPUT]))
    .action(async (id: string, opts: { json?: boolean }) => { code = (await import('./jobs.js')).jobShow(dbPath(), id, !!opts.json); });
  job.command('watch <id>').description('follow a job (00011, 11 or last) to its end; exits 0 if it completed, 6 if it could not start, 7 otherwise')
    .addHelpText('after', helpTail('kanri job watch last', [EXIT.OK, EXIT.NOT_FOUND, EXIT.NOT_STARTABLE, EXIT.JOB_FAILED, EXIT.NOT_ADMIN, EXIT.STORE]))
    .action(async (id: string) => { code = await (await import('./jobs.js')).jobWatch(dbPath(), id); });

  program.command('serve')
    .description('run the HTTP API, /metrics and the web console in the foreground (serve.listen; HTTPS off loopback; SIGTERM stops)')
    .option('--listen <address:port>', 'listen here instead of the serve.listen setting')
    .addHelpText('after', helpTail('kanri serve --listen 127.0.0.1:8484', [0, 1, 9, 70]))
    .action(async (opts: { listen?: string }) => { code = await (await import('../serve/app.js')).serveRun(dbPath(), opts); });
  const token = program.command('token').description('bearer tokens of the HTTP API (kanri serve)');
  token.command('create <name>')
    .description('create a token and print it once (stored only hashed); operators read, administrators change')
    .option('--level <level>', 'administrator or operator', 'operator')
    .addHelpText('after', helpTail('kanri token create grafana --level operator > grafana.token', [0, 1, 9, 70]))
    .action(async (name: string, opts: { level: string }) => { code = (await import('../serve/cli.js')).tokenCreate(dbPath(), name, opts.level); });
  token.command('list').description('tokens: name, level, when created and last used (never the token)').option('--json', 'one JSON object per token')
    .addHelpText('after', helpTail('kanri token list', [0, 9, 70]))
    .action(async (opts: { json?: boolean }) => { code = (await import('../serve/cli.js')).tokenList(dbPath(), !!opts.json); });
  token.command('revoke <name>').description('revoke a token: requests with it are refused from now on')
    .addHelpText('after', helpTail('kanri token revoke grafana', [0, 2, 9, 70]))
    .action(async (name: string) => { code = (await import('../serve/cli.js')).tokenRevoke(dbPath(), name); });
  program.command('status').description('the data centre at a glance: machines by status and group, running jobs, alerts, recent events')
    .option('--json', 'one JSON object (as GET /api/v1/summary)')
    .addHelpText('after', helpTail('kanri status --json', [0, 9, 70, 74]))
    .action(async (opts: { json?: boolean }) => { code = (await import('../serve/status-cli.js')).statusCommand(dbPath(), !!opts.json); });

  program.command('completion <shell>').description('print the completion script for pvmutl, dscli and kanri (bash or zsh)')
    .addHelpText('after', helpTail('eval "$(kanri completion bash)"', [EXIT.OK, EXIT.USAGE]))
    .action(async (shell: string) => {
      const script = (await import('../cli/completion.js')).completionScript(shell);
      if (!script) throw new UsageError(`completion is for bash or zsh, not '${shell}'`);
      process.stdout.write(script);
    });

  program.command('demo')
    .description('run a narrated tour on the built-in sim data centre (temporary store, nothing left behind)')
    .addHelpText('after', helpTail('kanri demo', [EXIT.OK, EXIT.USAGE]))
    .action(async () => { code = await (await import('./demo.js')).runDemo(); });

  // commander's `help X` prints the overview for an X it does not know, and succeeds.
  const helpProblem = helpTopicProblem(program, args);
  if (helpProblem) {
    process.stderr.write(`kanri: ${helpProblem}\n`);
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync(helpAsOption(args), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK;
      // 'commander.help' and the like: help already written on stderr (a command group without its subcommand)
      if (!/^error: /.test(err.message)) return EXIT.USAGE;
      process.stderr.write(`kanri: ${usageLine(err.message, commandPath(program, args))}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof NotAdministrator) {
      complain('kanri', `${err.message}`);
      return EXIT.NOT_ADMIN;
    }
    if (err instanceof UsageError) {
      complain('kanri', `${err.message}`);
      return EXIT.USAGE;
    }
    const { Interrupted } = await import('../cli/secret-input.js');
    if (err instanceof Interrupted) {
      complain('kanri', `${err.message}`);
      return EXIT.INTERRUPTED;
    }
    const { unusableStore } = await import('../store/errors.js');
    const problem = unusableStore(err, program.opts<{ db?: string }>().db ?? safeDefaultPath());
    if (problem) {
      complain('kanri', `${problem}`);
      return EXIT.STORE;
    }
    throw err;
  }
  return code;
}
