// The event log (spec/event-log.md): every job writes a start event, then one
// of complete / failed / canceled, all carrying the job's management ID.
import type { Db } from '../store/db.js';
import { formatJobId } from './plan.js';

type Kind = 'start' | 'complete' | 'failed' | 'canceled';
type Args = { mgmtId: string; machine: string; group: string; srcGroup?: string; vmName?: string; host?: string };
type Template = { id: number; type: 'information' | 'warning' | 'error'; en: (a: Args) => string; ja: (a: Args) => string };

const info = 'information' as const;
const warn = 'warning' as const;

/** Start / complete / failed / canceled events of one kind of job (spec/event-log.md §2.11). */
type Lifecycle = Record<Kind, Template>;

const power = (base: number, en: string, ja: string, who: string, whoJa: string): Lifecycle => ({
  start: { id: base, type: info, en: (a) => `Started the process of ${en} a machine. Management ID: ${a.mgmtId} ${who} (${a.machine})`, ja: (a) => `マシンを${ja}する処理を開始しました。管理ID:”${a.mgmtId}” ${whoJa}(“${a.machine}”)` },
  complete: { id: base + 1, type: info, en: (a) => `Completed the process of ${en} a machine. Management ID: ${a.mgmtId} ${who} (${a.machine})`, ja: (a) => `マシンを${ja}する処理を完了しました。管理ID:”${a.mgmtId}” ${whoJa}(“${a.machine}”)` },
  failed: { id: base + 2, type: warn, en: (a) => `The process of ${en} a machine failed. Management ID: ${a.mgmtId} ${who} (${a.machine})`, ja: (a) => `マシンを${ja}する処理が失敗しました。管理ID:”${a.mgmtId}” ${whoJa}(“${a.machine}”)` },
  canceled: { id: base + 3, type: info, en: (a) => `Cancelled the process of ${en} a machine. Management ID: ${a.mgmtId} ${who} (${a.machine})`, ja: (a) => `マシンを${ja}する処理をキャンセルしました。 管理ID:”${a.mgmtId}” ${whoJa}(“${a.machine}”)` },
});

const ACTIVATE: Lifecycle = {
  start: { id: 2033, type: info, en: (a) => `Started the process of adding a machine to a group. Management ID: ${a.mgmtId} Machine to activate (${a.machine}) Group in which the machine runs (${a.group})`, ja: (a) => `マシンをグループに追加する処理を開始しました。 管理ID:”${a.mgmtId}” 稼動するマシン(“${a.machine}”) マシンを稼動させるグループ(“${a.group}”)` },
  complete: { id: 2034, type: info, en: (a) => `Completed the process of adding a machine to a group. Management ID: ${a.mgmtId} Machine to activate (${a.machine})`, ja: (a) => `マシンをグループに追加する処理を完了しました。 管理ID:”${a.mgmtId}” 稼動するマシン(“${a.machine}”)` },
  failed: { id: 2035, type: warn, en: (a) => `The process of adding a machine to a group failed. Management ID: ${a.mgmtId} Machine to activate (${a.machine}) Group in which the machine runs (${a.group})`, ja: (a) => `マシンをグループに追加する処理が失敗しました。 管理ID:”${a.mgmtId}” 稼動するマシン(“${a.machine}”) マシンを稼動させるグループ(“${a.group}”)` },
  canceled: { id: 2036, type: info, en: (a) => `Cancelled the process of adding a machine to a group. Management ID: ${a.mgmtId} Machine to activate (${a.machine})`, ja: (a) => `マシンをグループに追加する処理をキャンセルしました。 管理ID:”${a.mgmtId}” 稼動するマシン(“${a.machine}”)` },
};

const STANDBY: Lifecycle = {
  start: { id: 2037, type: info, en: (a) => `Started the process of putting a machine running in the group on standby. Management ID: ${a.mgmtId} Machine running in the group (${a.machine}) Group in which the machine runs (${a.group})`, ja: (a) => `グループで稼動しているマシンを待機させる処理を開始しました。 管理ID:”${a.mgmtId}” グループで稼動しているマシン(“${a.machine}”) マシンが稼動しているグループ(“${a.group}”)` },
  complete: { id: 2038, type: info, en: (a) => `Completed the process of putting a machine running in the group on standby. Management ID: ${a.mgmtId} Machine running in the group (${a.machine})`, ja: (a) => `グループで稼動しているマシンを待機させる処理を完了しました。 管理ID:”${a.mgmtId}” グループで稼動しているマシン(“${a.machine}”)` },
  failed: { id: 2040, type: warn, en: (a) => `The process of putting a machine running in the group on standby failed. Management ID: ${a.mgmtId}`, ja: (a) => `グループで稼動しているマシンを待機させる処理が失敗しました。 管理ID:”${a.mgmtId}”` },
  canceled: { id: 2041, type: info, en: (a) => `Cancelled the process of putting a machine running in the group on standby. Management ID: ${a.mgmtId}`, ja: (a) => `グループで稼動しているマシンを待機させる処理をキャンセルしました。 管理ID:”${a.mgmtId}”` },
};

const DELETE_VM: Lifecycle = {
  start: { id: 2037, type: info, en: (a) => `Started the process of deleting a machine running in the group from the group and deleting the VM entity. Management ID: ${a.mgmtId} Machine to delete running in the group (${a.machine}) Group in which the machine runs (${a.group})`, ja: (a) => `グループで稼動しているマシンをグループから削除し、VMの実体を削除する処理を開始しました。 管理ID:”${a.mgmtId}” グループで稼動している削除するマシン(“${a.machine}”) マシンが稼動しているグループ(“${a.group}”)` },
  complete: { id: 2038, type: info, en: (a) => `Completed the process of deleting a machine running in the group from the group and deleting the VM entity. Management ID: ${a.mgmtId}`, ja: (a) => `グループで稼動しているマシンをグループから削除し、VMの実体を削除する処理を完了しました。 管理ID:”${a.mgmtId}”` },
  failed: { id: 2040, type: warn, en: (a) => `The process of deleting a machine running in the group from the group and deleting the VM entity failed. Management ID: ${a.mgmtId}`, ja: (a) => `グループで稼動しているマシンをグループから削除し、VMの実体を削除する処理が失敗しました。 管理ID:”${a.mgmtId}”` },
  canceled: { id: 2041, type: info, en: (a) => `Cancelled the process of deleting a machine running in the group from the group and deleting the VM entity. Management ID: ${a.mgmtId}`, ja: (a) => `グループで稼動しているマシンをグループから削除し、VMの実体を削除する処理をキャンセルしました。 管理ID:”${a.mgmtId}”` },
};

const EXCHANGE: Lifecycle = {
  start: { id: 2042, type: info, en: (a) => `Started the process of exchanging the specified machine with a standby machine. Management ID: ${a.mgmtId} Machine to exchange (${a.machine})`, ja: (a) => `指定されたマシンを待機マシンと交換する処理を開始しました。 管理ID:”${a.mgmtId}” 交換するマシン(“${a.machine}”)` },
  complete: { id: 2043, type: info, en: (a) => `Completed the process of exchanging the specified machine with a standby machine. Management ID: ${a.mgmtId} Machine to exchange (${a.machine})`, ja: (a) => `指定されたマシンを待機マシンと交換する処理を完了しました。 管理ID:”${a.mgmtId}” 交換するマシン(“${a.machine}”)` },
  failed: { id: 2044, type: warn, en: (a) => `The process of exchanging the specified machine with a standby machine failed. Management ID: ${a.mgmtId} Machine to exchange (${a.machine})`, ja: (a) => `指定されたマシンを待機マシンと交換する処理が失敗しました。 管理ID:”${a.mgmtId}” 交換するマシン(“${a.machine}”)` },
  canceled: { id: 2045, type: info, en: (a) => `Cancelled the process of exchanging the specified machine with a standby machine. Management ID: ${a.mgmtId} Machine to exchange (${a.machine})`, ja: (a) => `指定されたマシンを待機マシンと交換する処理をキャンセルしました。 管理ID:”${a.mgmtId}” 交換するマシン(“${a.machine}”)` },
};

const PURPOSE: Lifecycle = {
  start: { id: 2050, type: info, en: (a) => `Started the process of changing the purpose of a machine. Management ID: ${a.mgmtId} Machine (${a.machine}) Source group (${a.srcGroup}) Destination group (${a.group})`, ja: (a) => `マシンの用途変更を実施する処理を開始しました。 管理ID:”${a.mgmtId}” 用途変更マシン(“${a.machine}”) 用途変更元グループ(“${a.srcGroup}”) 用途変更先グループ(“${a.group}”)` },
  complete: { id: 2051, type: info, en: (a) => `Completed the process of changing the purpose of a machine. Management ID: ${a.mgmtId} Machine (${a.machine})`, ja: (a) => `マシンの用途変更を実施する処理を完了しました。 管理ID:”${a.mgmtId}” 用途変更マシン(“${a.machine}”)` },
  failed: { id: 2052, type: warn, en: (a) => `The process of changing the purpose of a machine failed. Management ID: ${a.mgmtId}`, ja: (a) => `マシンの用途変更を実施する処理が失敗しました。 管理ID:”${a.mgmtId}”` },
  canceled: { id: 2053, type: info, en: (a) => `Cancelled the process of changing the purpose of a machine. Management ID: ${a.mgmtId}`, ja: (a) => `マシンの用途変更を実施する処理をキャンセルしました。管理ID:”${a.mgmtId}”` },
};

const CREATE_VM: Lifecycle = {
  start: { id: 2054, type: info, en: (a) => `Started the process of creating a VM and running it in the group. Management ID: ${a.mgmtId} VM name to create (${a.vmName}) Group in which the machine runs (${a.group}) Machine definition of the VM to create (${a.host})`, ja: (a) => `VMを作成し、グループで稼動する処理を開始しました。 管理ID:”${a.mgmtId}” 作成するVM名(“${a.vmName}”) マシンを稼動させるグループ(“${a.group}”) 作成するVMのマシン定義(“${a.host}”)` },
  complete: { id: 2055, type: info, en: (a) => `Completed the process of creating a VM and running it in the group. Management ID: ${a.mgmtId} Created VM (${a.machine})`, ja: (a) => `VMを作成し、グループで稼動する処理を完了しました。 管理ID:”${a.mgmtId}” 作成したVM( “${a.machine}”)` },
  failed: { id: 2056, type: warn, en: (a) => `The process of creating a VM and running it in the group failed. Management ID: ${a.mgmtId} Created VM (${a.machine})`, ja: (a) => `VMを作成し、グループで稼動する処理が失敗しました。 管理ID:”${a.mgmtId}” 作成したVM(“${a.machine}”)` },
  canceled: { id: 2057, type: info, en: (a) => `Cancelled the process of creating a VM and running it in the group. Management ID: ${a.mgmtId} Created VM (${a.machine})`, ja: (a) => `VMを作成し、グループで稼動する処理をキャンセルしました。 管理ID:”${a.mgmtId}” 作成したVM(“${a.machine}”)` },
};

const MOVE_VM: Lifecycle = {
  start: { id: 2062, type: info, en: (a) => `Started the process of moving a VM machine onto another VM server. Management ID: ${a.mgmtId} VM to move (${a.machine})`, ja: (a) => `VMマシンを別のVMサーバ上に移動する処理を開始しました。 管理ID:”${a.mgmtId}” 移動対象のVM(“${a.machine}”)` },
  complete: { id: 2063, type: info, en: (a) => `Completed the process of moving a VM machine onto another VM server. Management ID: ${a.mgmtId} VM to move (${a.machine})`, ja: (a) => `VMマシンを別のVMサーバ上に移動する処理を完了しました。 管理ID:”${a.mgmtId}” 移動対象のVM(“${a.machine}”)` },
  failed: { id: 2064, type: warn, en: (a) => `The process of moving a VM machine onto another VM server failed. Management ID: ${a.mgmtId}`, ja: (a) => `VMマシンを別のVMサーバ上に移動する処理が失敗しました。 管理ID:”${a.mgmtId}”` },
  canceled: { id: 2065, type: info, en: (a) => `Cancelled the process of moving a VM machine onto another VM server. Management ID: ${a.mgmtId}`, ja: (a) => `VMマシンを別のVMサーバ上に移動する処理をキャンセルしました。 管理ID:”${a.mgmtId}”` },
};

const TO_MACHINE: Lifecycle = {
  start: { id: 2070, type: info, en: (a) => `Started the process of distributing software to a machine. Management ID: ${a.mgmtId} Machine to distribute to (${a.machine})`, ja: (a) => `マシンに対してソフトウェアを配布する処理を開始しました。 管理ID:”${a.mgmtId}” ソフトウェアを配布するマシン(“${a.machine}”)` },
  complete: { id: 2071, type: info, en: (a) => `Completed the process of distributing software to a machine. Management ID: ${a.mgmtId}`, ja: (a) => `マシンに対してソフトウェアを配布する処理を完了しました。 管理ID:”${a.mgmtId}”` },
  failed: { id: 2072, type: warn, en: (a) => `The process of distributing software to a machine failed. Management ID: ${a.mgmtId}`, ja: (a) => `マシンに対してソフトウェアを配布する処理が失敗しました。 管理ID:”${a.mgmtId}”` },
  canceled: { id: 2073, type: info, en: (a) => `Cancelled the process of distributing software to a machine. Management ID: ${a.mgmtId}`, ja: (a) => `マシンに対してソフトウェアを配布する処理をキャンセルしました。 管理ID:”${a.mgmtId}”` },
};

const TO_GROUP: Lifecycle = {
  start: { id: 2074, type: info, en: (a) => `Started the process of distributing software to all machines of the group. Management ID: ${a.mgmtId} Group to distribute to (${a.group})`, ja: (a) => `グループの全マシンに対してソフトウェアを配布する処理を開始しました。 管理ID:”${a.mgmtId}” ソフトウェア配布するグループ(“${a.group}”)` },
  complete: { id: 2075, type: info, en: (a) => `Completed the process of distributing software to all machines of the group. Management ID: ${a.mgmtId} Group to distribute to (${a.group})`, ja: (a) => `グループの全マシンに対してソフトウェアを配布する処理を完了しました。 管理ID:”${a.mgmtId}” ソフトウェア配布するグループ(“${a.group}”)` },
  failed: { id: 2076, type: warn, en: (a) => `The process of distributing software to all machines of the group failed. Management ID: ${a.mgmtId} Group to distribute to (${a.group})`, ja: (a) => `グループの全マシンに対してソフトウェアを配布する処理が失敗しました。 管理ID:”${a.mgmtId}” ソフトウェア配布するグループ(“${a.group}”)` },
  canceled: { id: 2077, type: info, en: (a) => `Cancelled the process of distributing software to all machines of the group. Management ID: ${a.mgmtId} Group to distribute to (${a.group})`, ja: (a) => `グループの全マシンに対してソフトウェアを配布する処理をキャンセルしました。 管理ID:”${a.mgmtId}” ソフトウェア配布するグループ(“${a.group}”)` },
};

/** Which lifecycle each action sequence writes. */
const BY_SEQUENCE: Record<string, Lifecycle> = {
  StartupMachine: power(2021, 'starting', '起動', 'Machine to start', '起動するマシン'),
  ShutdownMachine: power(2025, 'stopping', '停止', 'Machine to stop', '停止するマシン'),
  RebootMachine: power(2029, 'restarting', '再起動', 'Machine to restart', '再起動するマシン'),
  MoveFromPoolToGroup: ACTIVATE,
  MoveFromManagedToGroup: ACTIVATE,
  MoveMasterMachineToGroup: ACTIVATE,
  MoveFromGroupToPool: STANDBY,
  MoveFromGroupToManaged: STANDBY,
  DeleteVirtualMachine: DELETE_VM,
  TakeOverMachine: EXCHANGE,
  ChangeServerGroup: PURPOSE,
  CreateMachineToGroup: CREATE_VM,
  MoveMachine: MOVE_VM,
  SuspendMachine: power(2080, 'suspending', 'サスペンド状態に', 'Machine to suspend', 'サスペンドするマシン'),
  DistributeSoftwareToMachine: TO_MACHINE,
  DistributeSoftwareToMachineWithScenario: TO_MACHINE,
  DistributeSoftwareToMachinesInGroup: TO_GROUP,
  DistributeSoftwareToMachinesInGroupWithScenario: TO_GROUP,
};

export function writeJobEvent(db: Db, sequence: string, kind: Kind, args: Omit<Args, 'mgmtId'> & { jobId: number }): void {
  const t = BY_SEQUENCE[sequence]?.[kind];
  if (!t) return;
  const a: Args = { ...args, mgmtId: formatJobId(args.jobId) };
  db.prepare('INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(new Date().toISOString(), 'PVM', t.id, t.type, t.en(a), t.ja(a), args.machine || null, args.group || null, args.jobId);
}

/** Per-software distribution events (spec/event-log.md §2.9). */
export function writeSoftwareEvent(db: Db, kind: 'start' | 'complete' | 'failed', software: string, machine: string, jobId: number): void {
  const t = {
    start: { id: 2500, type: info, en: `Running distribution of software (${software}) to machine (${machine}).`, ja: `マシン(“${machine}”）にソフトウェア(“${software}”)の配布を実行します。` },
    complete: { id: 2502, type: info, en: `Distribution of software (${software}) to machine (${machine}) completed.`, ja: `マシン(“${machine}”)にソフトウェア(“${software}”)の配布が完了しました。` },
    failed: { id: 2501, type: 'error' as const, en: `Distribution of software (${software}) to machine (${machine}) failed.`, ja: `マシン(“${machine}”)へのソフトウェア(“${software}”)の配布に失敗しました。` },
  }[kind];
  db.prepare('INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)')
    .run(new Date().toISOString(), 'PVM', t.id, t.type, t.en, t.ja, machine, jobId);
}

/**
 * What a VLAN step reports per port (spec/event-log.md §2.10). kanri never creates or
 * deletes a switch's VLANs, so 2652, 2655, 2666 and 2668 are not written.
 */
export type VlanEventKind = 'port-added' | 'port-removed' | 'vlan-missing' | 'add-failed' | 'remove-failed';

interface VlanArgs { switch: string; vlan: string; port: string }

const VLAN_EVENTS: Record<VlanEventKind, { id: number; type: 'information' | 'error'; en: (a: VlanArgs) => string; ja: (a: VlanArgs) => string }> = {
  'add-failed': { id: 2658, type: 'error', en: (a) => `Registering port (${a.port}) to VLAN (${a.vlan}) of Switch (${a.switch}) failed.`, ja: (a) => `Switch(“${a.switch}”)のVLAN(“${a.vlan}”)へのポート（”${a.port}”）の登録が失敗しました。` },
  'remove-failed': { id: 2659, type: 'error', en: (a) => `Removing port (${a.port}) from VLAN (${a.vlan}) failed because Switch (${a.switch}) cannot be connected.`, ja: (a) => `Switch(“${a.switch}”)に接続できないため、VLAN(“${a.vlan}”)からポート（”${a.port}”）の取り外しが失敗しました。` },
  'vlan-missing': { id: 2667, type: 'information', en: (a) => `VLAN (${a.vlan}) of Switch (${a.switch}) does not exist.`, ja: (a) => `Switch(“${a.switch}”)のVLAN(“${a.vlan}”)はありません。` },
  'port-added': { id: 2670, type: 'information', en: (a) => `(${a.port}) was registered to VLAN (${a.vlan}) of Switch (${a.switch}).`, ja: (a) => `Switch(“${a.switch}”)のVLAN(“${a.vlan}”)に(”${a.port}”)が登録されました。` },
  'port-removed': { id: 2671, type: 'information', en: (a) => `(${a.port}) was removed from VLAN (${a.vlan}) of Switch (${a.switch}).`, ja: (a) => `Switch(“${a.switch}”)のVLAN(“${a.vlan}”)から(”${a.port}”)が取り外されました。` },
};

/** One VLAN control event of a job's step, for the machine whose port it is. */
export function writeVlanEvent(db: Db, kind: VlanEventKind, a: VlanArgs & { machine: string; group: string; jobId: number }): void {
  const t = VLAN_EVENTS[kind];
  db.prepare('INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(new Date().toISOString(), 'PVM', t.id, t.type, t.en(a), t.ja(a), a.machine, a.group || null, a.jobId);
}

/** Virtual machine events (spec/event-log.md §4): a VM the hypervisor would not create or delete, with its cause. */
export function writeVmEvent(db: Db, kind: 'create-failed' | 'delete-failed', cause: string, machine: string, jobId: number): void {
  const t = kind === 'create-failed'
    ? { id: 2901, en: `Failed to create the virtual machine. The virtual machine creation request failed. Cause: ${cause}`, ja: `仮想マシンの作成に失敗しました。仮想マシンの作成要求が失敗しました。原因：${cause}` }
    : { id: 2903, en: `Failed to delete the virtual machine. The virtual machine deletion request failed. Cause: ${cause}`, ja: `仮想マシンの削除に失敗しました。仮想マシンの削除要求が失敗しました。原因：${cause}` };
  db.prepare("INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, 'PVM', ?, 'error', ?, ?, ?, NULL, ?)")
    .run(new Date().toISOString(), t.id, t.en, t.ja, machine, jobId);
}

export type PolicyEventKind = 'received' | 'start' | 'complete' | 'failed' | 'canceled';

/**
 * Policy notifications (spec/event-log.md §2.2, ID 502, all of type information): written
 * for events whose policy rule has the notification action — the notification received,
 * then the start and result of every other action of the rule. The source prints a stray
 * `}` in the failed text; it is left out here.
 */
export function writePolicyEvent(db: Db, kind: PolicyEventKind, a: { info: string; infoJa?: string; mgmtId?: string; machine?: string | null; group?: string | null; jobId?: number | null }): { en: string; ja: string } {
  const ja = a.infoJa ?? a.info;
  const id = a.mgmtId ?? '';
  const t = {
    received: { en: `Notification received. (${a.info})`, ja: `通報を受信しました。(“${ja}”)` },
    start: { en: `Started the action (${a.info}) triggered by the notification. Management ID: ${id}`, ja: `通報によるアクション(“${ja}”)を起動しました。管理ID:"${id}"` },
    complete: { en: `Completed the action (${a.info}) triggered by the notification. Management ID: ${id}`, ja: `通報によるアクション(“${ja}”)を完了しました。管理ID: "${id}"` },
    failed: { en: `The action (${a.info}) triggered by the notification failed. Management ID: ${id}`, ja: `通報によるアクション(“${ja}”)に失敗しました。管理ID: "${id}"` },
    canceled: { en: `The action (${a.info}) triggered by the notification was cancelled. Management ID: ${id}`, ja: `通報によるアクション(“${ja}”)がキャンセルされました。管理ID: "${id}"` },
  }[kind];
  db.prepare('INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(new Date().toISOString(), 'PVM', 502, info, t.en, t.ja, a.machine || null, a.group || null, a.jobId ?? null);
  return t;
}

/**
 * The service's own entries: the monitor is kanri's PVM service (spec/event-log.md §2.1:
 * 101 started, 106 stopped by a stop operation) and its trap receiver plays ESM Base
 * Service (§3, source SystemMonitorEvent: 101 not running, 102 recovered).
 */
export function writeServiceEvent(db: Db, which: 'pvm-started' | 'pvm-stopping' | 'receiver-down' | 'receiver-recovered', detail = ''): void {
  const t = {
    'pvm-started': { source: 'PVM', id: 101, type: info, en: 'The PVM service started and began operation.', ja: 'PVMサービスが起動し運用を開始しました。' },
    'pvm-stopping': { source: 'PVM', id: 106, type: info, en: 'Stopping the PVM service by a stop operation.', ja: '停止操作によりPVMサービスを停止します。' },
    'receiver-down': { source: 'SystemMonitorEvent', id: 101, type: 'error' as const, en: 'ESM Base Service is not running.', ja: 'ESM Base Serviceが起動していません。' },
    'receiver-recovered': { source: 'SystemMonitorEvent', id: 102, type: info, en: 'ESM Base Service has recovered. Resuming monitoring.', ja: 'ESM Base Serviceが復旧しました。監視を再開します。' },
  }[which];
  const more = detail ? ` (${detail})` : '';
  db.prepare('INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)')
    .run(new Date().toISOString(), t.source, t.id, t.type, t.en + more, t.ja + more);
}

/** The last service entry of the trap receiver (to know whether 102 is due at start). */
export function receiverWasDown(db: Db): boolean {
  const r = db.prepare("SELECT event_id FROM events WHERE source = 'SystemMonitorEvent' AND event_id IN (101, 102) ORDER BY id DESC LIMIT 1").get() as { event_id: number } | undefined;
  return r?.event_id === 101;
}

export type FencingEventKind = 'waiting' | 'fenced' | 'confirmed';

/**
 * Fencing before a takeover (engine/fencing.ts): kanri's own entries (source kanri), so
 * that the event log says why a takeover waited and who let it go on.
 */
export function writeFencingEvent(db: Db, kind: FencingEventKind, a: { machine: string; group: string; jobId: number | null; detail: string }): void {
  const t = {
    waiting: { id: 9101, type: 'warning' as const, en: `Waiting for fencing: machine (${a.machine}) cannot be confirmed off (${a.detail}). Run kanri machine confirm-off ${a.machine} once it is off.`, ja: `フェンシング待ち: マシン(“${a.machine}”)の停止を確認できません (${a.detail})。停止を確認後 kanri machine confirm-off ${a.machine} を実行してください。` },
    fenced: { id: 9102, type: info, en: `Machine (${a.machine}) was fenced: ${a.detail}.`, ja: `マシン(“${a.machine}”)をフェンシングしました: ${a.detail}。` },
    confirmed: { id: 9103, type: info, en: `Machine (${a.machine}) was confirmed off ${a.detail}.`, ja: `マシン(“${a.machine}”)の停止が確認されました (${a.detail})。` },
  }[kind];
  db.prepare("INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, 'kanri', ?, ?, ?, ?, ?, ?, ?)")
    .run(new Date().toISOString(), t.id, t.type, t.en, t.ja, a.machine, a.group || null, a.jobId);
}

/**
 * 2079 (seed 004 L10323–10345): the NICs a machine has differ in number from the NICs of the
 * host setting it takes; a warning for the administrator, the activation goes on.
 */
export function writeNicCountEvent(db: Db, a: { machine: string; machineNics: number; host: string; hostNics: number; group: string; jobId: number }): void {
  db.prepare("INSERT INTO events (time, source, event_id, type, message, message_ja, machine, group_path, job_id) VALUES (?, 'PVM', 2079, 'warning', ?, ?, ?, ?, ?)").run(
    new Date().toISOString(),
    `The number of NICs installed in machine (${a.machine}) (${a.machineNics}) differs from the number of NICs (${a.hostNics}) in host setting (${a.host}). Check the host setting.`,
    `マシン(“${a.machine}”)に実装されているNIC枚数(“${a.machineNics}”)とホスト設定(“${a.host}”)のNIC枚数(“${a.hostNics}”)に差異があります。ホスト設定の確認をしてください。`,
    a.machine, a.group || null, a.jobId,
  );
}
