import { RC_TEXT } from './errors.js';

export const COMMAND_HELP: Array<[string, string]> = [
  ['createServer Name key=value…', 'register a server: mgmt=ipmi|redfish|sim address= port= user= password_file=PATH|password=- cipher=3 os_address= ssh_user= ssh_port= ssh_key= model= events=on|off; redfish: system= ca_file= fingerprint= verify=off auth=auto|session|basic'],
  ['setServer Name key=value…', 'change a registration (same keys)'],
  ['deleteServer Name', 'remove a registration'],
  ['getServerList [GroupName]', 'name, mgmt type, address, last power state, status'],
  ['checkConnection ServerList', 'open a session and read the device ID (Redfish: root, login, system): ok / reason per server'],
  ['createGroup Name', 'create a dscli server group'],
  ['deleteGroup Name', 'delete a dscli server group'],
  ['addGroupServer Group ServerList', 'add servers to a group'],
  ['removeGroupServer Group ServerList', 'remove servers from a group'],
  ['getGroupList', 'groups and their members'],
  ['powerOn ServerList', 'power on (no change when already on)'],
  ['powerOff ServerList', 'hard power off'],
  ['powerCycle ServerList', 'power cycle (a machine that is off stays off)'],
  ['reset ServerList', 'hard reset'],
  ['dump ServerList', 'diagnostic interrupt (NMI) for a memory dump'],
  ['shutdownOs ServerList [via=ssh]', 'orderly OS shutdown: ACPI soft-off / GracefulShutdown, or via=ssh the shutdown command, then power read until off'],
  ['getPowerStatus ServerList', '<name> on|off|unknown (<reason>)'],
  ['getSel Name [count]', 'hardware event log, decoded (last count entries)'],
  ['clearSel ServerList', 'clear the event log (read and cleared under one reservation)'],
  ['getSensorList Name', 'sensor readings with units, status and thresholds'],
  ['getHardwareInfo Name', 'FRU inventory and controller information'],
  ['identify Name [seconds|on|off]', 'chassis identify LED (default 15 s)'],
  ['getBmcConfig Name', 'BMC LAN parameters and users (BMC servers only)'],
  ['setBmcConfig Name key=value…', 'ip_address= ip_source=static|dhcp netmask= gateway= vlan=N|off'],
  ['backupBmcConfig Name File', 'save LAN parameters and BMC users (no passwords) as versioned JSON'],
  ['restoreBmcConfig Name File', 'validate a backup completely, then write it to the BMC'],
  ['getAlertList [Name] [count]', 'received alerts, newest first'],
  ['setTrapForward Index Address[:port] [community=…]', 'trap forwarding destination 1-5 (Address off removes it)'],
  ['getTrapForward', 'trap forwarding destinations'],
  ['createUser UserName Password', 'add a manager account (level Operator; Password - reads stdin)'],
  ['deleteUser UserName', 'remove a manager account'],
  ['getUserList', '<name> Administrator|Operator, one line per user'],
  ['help', 'this text'],
];

export function helpText(): string {
  const w = Math.max(...COMMAND_HELP.map(([c]) => c.length));
  const l: string[] = [];
  l.push('Usage: dscli [--db PATH] [--json] [--yes] <command> [arguments]');
  l.push('');
  l.push('ServerList: server names, dscli group names and host ranges (web[01-24], rack[1-2]n[01-16]),');
  l.push('separated by spaces or commas. ServerList commands also take fanout=N (default 64),');
  l.push('timeout=SECONDS per controller (default 5), retries=N (default 2), wait=SECONDS (power).');
  l.push('Power changes and clearSel on more than dscli.confirm_above servers (default 10) ask for');
  l.push('confirmation; --yes confirms, a non-interactive input without --yes refuses.');
  l.push('');
  l.push('Commands:');
  for (const [c, d] of COMMAND_HELP) l.push(`  ${c.padEnd(w)}  ${d}`);
  l.push('');
  l.push('Return codes:');
  for (const [c, d] of RC_TEXT) l.push(`  ${c}  ${d}`);
  return l.join('\n') + '\n';
}
