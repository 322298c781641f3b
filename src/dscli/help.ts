import { DSCLI_DEFAULTS as D } from './defaults.js';
import { RC_TEXT } from './errors.js';

export const COMMAND_HELP: Array<[string, string]> = [
  ['createServer Name key=value…', 'register a server: mgmt=ipmi|redfish|sim address= port= user= password_file=PATH|password=- cipher=3 os_address= ssh_user= ssh_port= ssh_key= model= events=on|off; redfish: system= ca_file= fingerprint= verify=off auth=auto|session|basic'],
  ['setServer Name key=value…', 'change a registration (same keys)'],
  ['deleteServer Name', 'remove a registration (or those of a host range, web[01-04]: all or none)'],
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
  ['getSel ServerList [count]', 'hardware event log, decoded (last count entries)'],
  ['clearSel ServerList', 'clear the event log (read and cleared under one reservation)'],
  ['getSensorList ServerList', 'sensor readings with units, status and thresholds'],
  ['getHardwareInfo ServerList', 'FRU inventory and controller information'],
  ['identify ServerList [seconds|on|off]', 'chassis identify LED (default 15 s)'],
  ['getWatchdog ServerList', 'BMC watchdog timer: running|stopped, action, timeout, remaining, expired flags'],
  ['setWatchdog ServerList timeout=SECONDS action=reset|off|cycle|none', 'set and start the watchdog (stall monitoring: the OS watchdog daemon restarts it); action=none stops it'],
  ['getPowerReading ServerList', 'power consumption (reading, average, minimum, maximum) and the power limit: Redfish Control/Power, IPMI DCMI'],
  ['setPowerLimit ServerList watts=N|off', 'set or remove the power limit (power capping), read back'],
  ['getFirmwareList ServerList', 'firmware inventory: id | name | version | updateable | health (Redfish UpdateService; a BMC its own firmware)'],
  ['updateFirmware Name image=URI [target=system|manager|ID]', 'Redfish SimpleUpdate from the URI, its task followed to the end; versions before and after'],
  ['getBiosSettings Name', 'BIOS attributes, with the pending ones applied at the next boot (IPMI: boot options)'],
  ['setBiosSettings Name key=value…', 'change BIOS attributes (checked first); says applied or pending until the next boot'],
  ['getNicList ServerList', 'network interfaces: id | name | MAC | speed | link | IPv4 | health'],
  ['getStorageList ServerList', 'storage controllers, drives and volumes with capacity and health'],
  ['console Name', 'serial console on this terminal (IPMI Serial over LAN); ~. leaves, ~B sends a break; one console per server'],
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
  l.push(`separated by spaces or commas. ServerList commands also take fanout=N (default ${D.fanout}),`);
  l.push(`timeout=SECONDS per controller (default ${D.timeoutS}), retries=N (default ${D.retries}), wait=SECONDS (power).`);
  l.push(`Power changes and clearSel on more than dscli.confirm_above servers (default ${D.confirmAbove}) ask for`);
  l.push('confirmation; --yes confirms, a non-interactive input without --yes refuses.');
  l.push('');
  l.push('Commands:');
  for (const [c, d] of COMMAND_HELP) l.push(`  ${c.padEnd(w)}  ${d}`);
  l.push('');
  l.push('Return codes:');
  for (const [c, d] of RC_TEXT) l.push(`  ${c}  ${d}`);
  return l.join('\n') + '\n';
}

const LIST_OPTIONS: Array<[string, string]> = [
  ['fanout=N', `controllers at the same time (1-${D.fanoutMax}, default ${D.fanout})`],
  ['timeout=SECONDS', `deadline of the whole operation on one controller (default ${D.timeoutS})`],
  ['retries=N', `retransmissions of one request (0-${D.retriesMax}, default ${D.retries})`],
];
const POWER_OPTIONS: Array<[string, string]> = [...LIST_OPTIONS, ['wait=SECONDS', 'wait for the state to follow and read it back (default 10; 0 = do not wait)']];

interface Detail { example: string; codes: number[]; options?: Array<[string, string]> }

const SERVERS = [0, 1, 2, 4, 5, 6, 7, 8, 9];
const ONE = [0, 1, 2, 4, 5, 6, 8, 9];

/**
 * Per command: one example, the return codes it can give, and its options. Made when
 * `dscli help COMMAND` asks, not when dscli loads (as cli/messages-ja.ts's table).
 */
const details = (): Record<string, Detail> => ({
  createServer: { example: 'dscli createServer web01 address=10.1.0.11 user=admin password_file=/root/bmc.pw', codes: [0, 1, 2, 3, 4, 5, 6, 8, 9] },
  setServer: { example: 'dscli setServer ilo01 ca_file=/etc/kanri/ilo-ca.pem events=on', codes: [0, 1, 2, 3, 4, 5, 6, 8, 9] },
  deleteServer: { example: 'dscli deleteServer web01', codes: [0, 1, 2, 9] },
  getServerList: { example: 'dscli getServerList front', codes: [0, 1, 2, 9] },
  checkConnection: { example: 'dscli checkConnection web[01-24] timeout=2', codes: SERVERS, options: LIST_OPTIONS },
  createGroup: { example: 'dscli createGroup front', codes: [0, 1, 3, 9] },
  deleteGroup: { example: 'dscli deleteGroup front', codes: [0, 1, 2, 9] },
  addGroupServer: { example: 'dscli addGroupServer front web[01-04]', codes: [0, 1, 2, 9] },
  removeGroupServer: { example: 'dscli removeGroupServer front web03', codes: [0, 1, 2, 9] },
  getGroupList: { example: 'dscli getGroupList', codes: [0, 1, 9] },
  powerOn: { example: 'dscli powerOn web[01-24] --yes', codes: SERVERS, options: POWER_OPTIONS },
  powerOff: { example: 'dscli powerOff web07', codes: SERVERS, options: POWER_OPTIONS },
  powerCycle: { example: 'dscli powerCycle web07', codes: SERVERS, options: POWER_OPTIONS },
  reset: { example: 'dscli reset web07', codes: SERVERS, options: POWER_OPTIONS },
  dump: { example: 'dscli dump web07', codes: SERVERS, options: LIST_OPTIONS },
  shutdownOs: { example: 'dscli shutdownOs web07 via=ssh wait=300', codes: SERVERS, options: [...POWER_OPTIONS, ['via=controller|ssh', 'soft-off (IPMI) or GracefulShutdown (Redfish) through the controller (ipmi and redfish say the same), or the shutdown command over SSH, then power read until off (wait default dscli.ssh_wait_s)']] },
  getPowerStatus: { example: 'dscli getPowerStatus web[01-24] --json', codes: SERVERS, options: LIST_OPTIONS },
  getSel: { example: 'dscli getSel web[01-04] 20', codes: SERVERS, options: LIST_OPTIONS },
  clearSel: { example: 'dscli clearSel web01 --yes', codes: SERVERS, options: LIST_OPTIONS },
  getSensorList: { example: 'dscli getSensorList web01,web02', codes: SERVERS, options: LIST_OPTIONS },
  getHardwareInfo: { example: 'dscli getHardwareInfo web[01-24] --json', codes: SERVERS, options: LIST_OPTIONS },
  identify: { example: 'dscli identify web01 30', codes: SERVERS, options: LIST_OPTIONS },
  getWatchdog: { example: 'dscli getWatchdog web[01-24]', codes: SERVERS, options: LIST_OPTIONS },
  setWatchdog: { example: 'dscli setWatchdog web01,web02 timeout=300 action=reset', codes: SERVERS, options: [
    ['timeout=SECONDS', 'the countdown (1-6553 s); the per-controller deadline is dscli.timeout_s here'],
    ['action=reset|off|cycle|none', 'what the BMC does when the countdown runs out (off: power down); none stops the timer'],
    ...LIST_OPTIONS.filter(([o]) => !o.startsWith('timeout='))] },
  getPowerReading: { example: 'dscli getPowerReading rack1 --json', codes: SERVERS, options: LIST_OPTIONS },
  setPowerLimit: { example: 'dscli setPowerLimit web[01-08] watts=450 --yes', codes: SERVERS, options: [['watts=N|off', 'the limit in watts (1-65535; Redfish also checks the controller\'s AllowableMin/Max first), or off'], ...LIST_OPTIONS] },
  getFirmwareList: { example: 'dscli getFirmwareList web[01-04]', codes: SERVERS, options: LIST_OPTIONS },
  updateFirmware: { example: 'dscli updateFirmware ilo01 image=https://repo.example/bios-2.1.bin target=system', codes: ONE, options: [
    ['image=URI', 'where the controller fetches the image (http, https, ftp, sftp, scp, tftp, nfs, cifs; no credentials in it)'],
    ['target=system|manager|ID|PATH', 'what to update (default: the service decides from the image)'],
    ['wait=SECONDS', `how long to follow the update task (default dscli.firmware_wait_s, ${D.firmwareWaitS})`], ...LIST_OPTIONS.slice(1)] },
  getBiosSettings: { example: 'dscli getBiosSettings ilo01', codes: ONE, options: LIST_OPTIONS.slice(1) },
  setBiosSettings: { example: 'dscli setBiosSettings ilo01 BootMode=Uefi ProcTurboMode=Disabled', codes: ONE, options: LIST_OPTIONS.slice(1) },
  getNicList: { example: 'dscli getNicList web01,ilo01', codes: SERVERS, options: LIST_OPTIONS },
  getStorageList: { example: 'dscli getStorageList ilo[01-08] --json', codes: SERVERS, options: LIST_OPTIONS },
  console: { example: 'dscli console web01', codes: [0, 1, 2, 3, 4, 5, 6, 8, 9], options: LIST_OPTIONS.slice(1) },
  getBmcConfig: { example: 'dscli getBmcConfig web01 channel=1', codes: ONE, options: [['channel=N', 'LAN channel (1-15, default 1)'], ...LIST_OPTIONS.slice(1)] },
  setBmcConfig: { example: 'dscli setBmcConfig web01 vlan=20', codes: ONE, options: [['channel=N', 'LAN channel (1-15, default 1)'], ...LIST_OPTIONS.slice(1)] },
  backupBmcConfig: { example: 'dscli backupBmcConfig web01 web01-bmc.json', codes: ONE, options: [['channel=N', 'LAN channel (1-15, default 1)'], ...LIST_OPTIONS.slice(1)] },
  restoreBmcConfig: { example: 'dscli restoreBmcConfig web01 web01-bmc.json', codes: ONE, options: LIST_OPTIONS.slice(1) },
  getAlertList: { example: 'dscli getAlertList web01 10', codes: [0, 1, 2, 9] },
  setTrapForward: { example: 'dscli setTrapForward 1 192.0.2.40:162 community=ops', codes: [0, 1, 2, 9] },
  getTrapForward: { example: 'dscli getTrapForward', codes: [0, 1, 9] },
  createUser: { example: 'echo "$PW" | dscli createUser ops1 -', codes: [0, 1, 3, 9] },
  deleteUser: { example: 'dscli deleteUser ops1', codes: [0, 1, 2, 9] },
  getUserList: { example: 'dscli getUserList', codes: [0, 1, 9] },
});

/** `dscli help getSel`: syntax, what it does, options, one example, the return codes. */
export function commandHelpText(cmd: string): string | undefined {
  const entry = COMMAND_HELP.find(([syntax]) => syntax.split(' ')[0] === cmd);
  const d = details()[cmd];
  if (!entry || !d) return undefined;
  const l = [`Usage: dscli [--db PATH] [--json] [--yes] ${entry[0]}`, '', entry[1]];
  if (d.options?.length) {
    const w = Math.max(...d.options.map(([o]) => o.length));
    l.push('', 'Options:', ...d.options.map(([o, t]) => `  ${o.padEnd(w)}  ${t}`));
  }
  l.push('', 'Example:', `  ${d.example}`, '', 'Return codes:');
  for (const [c, t] of RC_TEXT) if (d.codes.includes(c)) l.push(`  ${c}  ${t}`);
  return l.join('\n') + '\n';
}
