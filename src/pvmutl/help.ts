// The usage text printed by `pvmutl` with no arguments (exit 1) or `pvmutl help` (exit 0).
export const HELP = `Usage: pvmutl <subcommand> [arguments]

  move             GroupNameDest GroupNameSrc [HostNameSrc | /c count]
  replace          GroupName HostName
  add              GroupName [MachineName | /c count]
  addspecname      GroupName NetInfo [MachineName]
  delete           GroupName [HostName | /c count]
  deploygrp        GroupName [/f | /p SoftwareName[,SoftwareName]...] [/seq]
  deploysrv        GroupName HostName [/a SoftwareName[,SoftwareName]... | /f | /p SoftwareName[,SoftwareName]...]
  deploypsv        MachineName SoftwareName[,SoftwareName]...
  maintenance      {On|Off} GroupName [HostName]
  list group
  list server      GroupName
  list soft        GroupName
  shutdown         GroupName [HostName...]
  reboot           GroupName [HostName...]
  poweron          GroupName [HostName...]
  vmadd            GroupName VMName [/VMS VMSName [/DATASTORE DatastoreName | /VMFS VMFSName]] [/NETINFO NetInfo] [/a]
  vmdelete         GroupName [HostName] [/d]
  vmmigrate        GroupName HostName VMSName
  vmmigrateandmove GroupName HostName VMSName
  asjob            [-a | -s | -d]
  ascancel         [JobID]
  changepassword   UserName OldPassword NewPassword
  policy show      [GroupName]
  policy set       GroupName [PolicyName] [/y]

GroupName is Category\\Group[\\Model]; \\, \u00a5 and / separate the levels.
NetInfo is a host name or an IP address of the group's host settings ("IP pool").
Options: --db PATH selects the store (default: $KANRI_DB, /var/lib/kanri/kanri.db for root).
Exit codes: 0 success; 1 format; 2 machine; 3 group; 4 host setting; 5 move; 6 could not
start; 7 failed in the action sequence; 8 software; 9 not an administrator; 10 VM exists;
11 VM already active; 14 account; 15 input or password; 16 policy. See pvmutl(1).
`;

/** What each exit code means, as the per-command help lists them. */
const CODE_TEXT: Record<number, string> = {
  0: 'success', 1: 'format error', 2: 'machine not found or not usable', 3: 'group not found or wrong kind', 4: 'host settings insufficient or in use',
  5: 'machines to move insufficient', 6: 'the action sequence could not start', 7: 'the action sequence failed or was canceled', 8: 'software not found',
  9: 'not an administrator', 10: 'VM already exists', 11: 'VM already active', 14: 'account not found or disabled', 15: 'wrong user name or password', 16: 'policy not found',
  70: 'the store cannot be used', 74: 'the output cannot be written',
};

interface CommandHelp { syntax: string; about: string; options?: Array<[string, string]>; example: string; codes: number[] }

const CHANGE = [0, 1, 2, 3, 6, 7, 9];
const READ = [0, 1, 3, 9];

/** Per-subcommand help (`pvmutl help add`, `pvmutl add --help`): syntax, options, one example, exit codes. */
export const COMMAND_HELP: Record<string, CommandHelp> = {
  move: { syntax: 'move GroupNameDest GroupNameSrc [HostNameSrc | /c count]', about: 'Moves machines active in GroupNameSrc to GroupNameDest, whose pool they must be in (purpose change, ChangeServerGroup).', options: [['/c count', 'how many machines to move (default 1); not with HostNameSrc']], example: 'pvmutl move Category1\\Grp1 Grp2 host01', codes: [0, 1, 3, 5, 6, 7, 9] },
  replace: { syntax: 'replace GroupName HostName', about: 'Replaces the machine active as HostName with a pool machine that takes over its host setting (N+1, TakeOverMachine).', example: 'pvmutl replace Category\\Grp1 host01', codes: CHANGE },
  add: { syntax: 'add GroupName [MachineName | /c count]', about: 'Activates pool machines in the group on unused host settings (MoveFromPoolToGroup).', options: [['/c count', 'how many machines to add (default 1); not with MachineName']], example: 'pvmutl add Grp1 /c 10', codes: [0, 1, 2, 3, 4, 6, 7, 9, 11] },
  addspecname: { syntax: 'addspecname GroupName NetInfo [MachineName]', about: 'Activates a pool machine on the host setting named by NetInfo (host name or IP address).', example: 'pvmutl addspecname Category\\Grp1 192.168.1.10', codes: [0, 1, 2, 3, 4, 6, 7, 9, 11] },
  delete: { syntax: 'delete GroupName [HostName | /c count]', about: 'Returns active machines to the pool they came from (MoveFromGroupToPool).', options: [['/c count', 'how many machines to delete (default 1); not with HostName']], example: 'pvmutl delete Category1\\Grp1 /c 2', codes: CHANGE },
  deploygrp: { syntax: 'deploygrp GroupName [/f | /p SoftwareName[,SoftwareName]...] [/seq]', about: 'Redistributes software to every active machine of the group: differential by default.', options: [['/f', 'full redistribution'], ['/p Soft,...', 'only the named software'], ['/seq', 'one machine at a time, stopping at the first failure']], example: 'pvmutl deploygrp Category1\\Grp1 /f /seq', codes: [0, 1, 2, 3, 6, 7, 8, 9] },
  deploysrv: { syntax: 'deploysrv GroupName HostName [/a SoftwareName,... | /f | /p SoftwareName,...]', about: 'Redistributes software to one active machine.', options: [['/a Soft,...', 'software registered on the group'], ['/f', 'full redistribution'], ['/p Soft,...', 'any software']], example: 'pvmutl deploysrv Category1\\Grp1 host01 /p Patch1', codes: [0, 1, 2, 3, 6, 7, 8, 9] },
  deploypsv: { syntax: 'deploypsv MachineName SoftwareName[,SoftwareName]...', about: 'Distributes the named software to any managed machine (not recorded as installed).', example: 'pvmutl deploypsv Machine1 Patch1,Patch2', codes: [0, 1, 2, 6, 7, 8, 9] },
  maintenance: { syntax: 'maintenance {On|Off} GroupName [HostName]', about: 'Switches maintenance mode of active machines (all of the group without HostName).', example: 'pvmutl maintenance On Category1\\Grp1 host01', codes: [0, 1, 2, 3, 9] },
  list: { syntax: 'list group | list server GroupName | list soft GroupName', about: 'Lists categories and groups, the machines of a group (active, then its pool), or its software.', example: 'pvmutl list server Category1\\Grp1', codes: READ },
  shutdown: { syntax: 'shutdown GroupName [HostName...]', about: 'Shuts machines down, one job each (every active machine without host names, except maintenance).', example: 'pvmutl shutdown Category1\\Grp1 host01 host02', codes: CHANGE },
  reboot: { syntax: 'reboot GroupName [HostName...]', about: 'Reboots machines, one job each.', example: 'pvmutl reboot Category1\\Grp1', codes: CHANGE },
  poweron: { syntax: 'poweron GroupName [HostName...]', about: 'Powers machines on, one job each.', example: 'pvmutl poweron Category1\\Grp1 host01', codes: CHANGE },
  vmadd: { syntax: 'vmadd GroupName VMName [/VMS VMSName [/DATASTORE DatastoreName | /VMFS VMFSName]] [/NETINFO NetInfo] [/a]', about: 'Creates a VM from the group template on a VM server with capacity (or, with /a, activates an existing VM).', options: [['/VMS name', 'the VM server (default: chosen by capacity)'], ['/DATASTORE name', 'the datastore (/VMFS is the same)'], ['/NETINFO n', 'the host setting by host name or IP address'], ['/a', 'activate an existing VM instead of creating one']], example: 'pvmutl vmadd Category1\\VMGrp vm01 /VMS esx01', codes: [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 15] },
  vmdelete: { syntax: 'vmdelete GroupName [HostName] [/d]', about: 'Deletes a VM of the group (with /d: only removes it from the group).', options: [['/d', 'keep the VM, only remove it from the group']], example: 'pvmutl vmdelete Category1\\VMGrp vm01', codes: CHANGE },
  vmmigrate: { syntax: 'vmmigrate GroupName HostName VMSName', about: 'Migrates a VM to another VM server (hot when on, cold when off).', example: 'pvmutl vmmigrate Category1\\VMGrp vm01 esx02', codes: CHANGE },
  vmmigrateandmove: { syntax: 'vmmigrateandmove GroupName HostName VMSName', about: 'Migrates a VM; when migration fails, moves it, and as a last resort re-creates it.', example: 'pvmutl vmmigrateandmove Category1\\VMGrp vm01 esx02', codes: CHANGE },
  asjob: { syntax: 'asjob [-a | -s | -d]', about: 'Lists running and held jobs (-a with the jobs of group jobs, -s with phases, -d with input parameters).', example: 'pvmutl asjob -d', codes: [0, 1, 9] },
  ascancel: { syntax: 'ascancel [JobID]', about: 'Lists running jobs, or cancels one (honoured within a second).', example: 'pvmutl ascancel 00012', codes: [0, 1, 2, 9] },
  changepassword: { syntax: 'changepassword UserName OldPassword NewPassword', about: 'Changes the password of a kanri account.', example: 'pvmutl changepassword user01 oldpass newpass', codes: [0, 1, 9, 14, 15] },
  policy: { syntax: 'policy show [GroupName] | policy set GroupName [PolicyName] [/y]', about: 'Shows policies, or sets (or, without PolicyName, removes) the policy of a group after a confirmation (/y: no question).', options: [['/y', 'do not ask for confirmation']], example: 'pvmutl policy set Category1\\Grp1 Policy1 /y', codes: [0, 1, 3, 9, 16] },
};

export function commandHelp(cmd: string): string | undefined {
  const h = COMMAND_HELP[cmd];
  if (!h) return undefined;
  const opts = h.options?.length ? `\nOptions:\n${h.options.map(([o, d]) => `  ${o.padEnd(Math.max(...h.options!.map(([x]) => x.length)))}  ${d}`).join('\n')}\n` : '';
  return `Usage: pvmutl ${h.syntax}\n\n${h.about}\n${opts}\nExample:\n  ${h.example}\n\nExit codes: ${[...h.codes, 70, 74].map((c) => `${c} ${CODE_TEXT[c]}`).join('; ')}.\n`;
}
