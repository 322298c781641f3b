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
