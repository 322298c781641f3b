// The event catalogue (spec/events-and-policies.md §2–4): every event a policy can name,
// keyed by notifying source and event, with its event category. The standard policy and
// the detection tables name some categories differently; canonicalCategory() makes them
// one (the spec's notes explain each alias). BMC events (PET traps, SEL entries) are
// catalogued here too, as SystemMonitorEvent events of source BMC whose ID is the PET
// specific-trap number, categorised by sensor type and offset.
import { EVENT_SOURCES } from '../domain/policy-actions.js';
import { decodePetSpecificTrap } from '../ipmi/pet.js';

export type NotifyingSource = (typeof EVENT_SOURCES)[number];

/** The §2 category keys and their names as the product shows them. */
const HDR = 'ハードディスク復旧可能障害';
const HDX = 'ハードディスク交換障害';
const HDF = 'ハードディスク障害';
const CPL = 'CPU負荷障害';
const MDG = 'メモリ縮退障害';
const MEM = 'メモリ障害';
const CDG = 'CPU縮退障害';
const CPU = 'CPU障害';
const MNA = 'マシンアクセス不可能障害';
const HDRR = 'ハードディスク復旧可能障害の回復';
const CPLR = 'CPU負荷障害回復';
const MAR = 'マシンアクセス復旧';
const CLN = 'クラスタ：ノード停止';
const CLNW = 'クラスタ：ネットワーク障害';
const TNA = 'ターゲットアクセス不可能障害';
const TAR = 'ターゲットアクセス復旧';
const OTHER = 'その他';
const CUSTOM_MACHINE = 'マシン用カスタム通報';
const CUSTOM_GROUP = 'グループ用カスタム通報';
const VMS = 'VMサーバ用通報';
/** Stall monitoring (seed 000 L888–899): the BMC watchdog expired and took its action. */
const STALL = 'ストール障害';

/**
 * Names that denote the same category: the standard policy's disk categories (§7 note),
 * the VMware CPU categories (§4 observations: treated as the ESMPRO ones), and the
 * full-width colon of the cluster categories.
 */
const ALIASES: Record<string, string> = {
  'ディスク交換障害': HDX,
  'ディスク障害': HDF,
  'ディスク復旧可能障害': HDR,
  'ディスク復旧可能障害回復': HDRR,
  'CPU高負荷障害': CPL,
  'CPU高負荷障害回復': CPLR,
  'クラスタ:ノード停止': CLN,
  'クラスタ:ネットワーク障害': CLNW,
};

export function canonicalCategory(name: string): string {
  const n = name.trim();
  return ALIASES[n] ?? n;
}

/** Every category a policy rule may name (canonical names). */
export const CATEGORIES: readonly string[] = [HDR, HDX, HDF, CPL, MDG, MEM, CDG, CPU, MNA, HDRR, CPLR, MAR, CLN, CLNW, TNA, TAR, OTHER, CUSTOM_MACHINE, CUSTOM_GROUP, VMS, STALL];

/**
 * The recovery category of a fault category: a recovery event of it ends the fault's
 * suppression window (§5) for the same machine.
 */
export const RECOVERY_OF: Readonly<Record<string, string>> = { [HDR]: HDRR, [CPL]: CPLR, [MNA]: MAR, [TNA]: TAR };

export interface CatalogueEntry {
  source: NotifyingSource;
  /** The event as a policy names it: Source[0xID], an 8-digit number, or an alarm text. */
  event: string;
  category: string | null;
  summary: string;
  summaryJa: string;
  /** Perf and kanri's own events: whether the event is about a machine or a group. */
  scope?: 'machine' | 'group';
}

const hex8 = (n: number): string => '0x' + (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

/**
 * §2, every row in the source's order: category, source name, event ID, summary. Rows 24-31
 * carry no category label in the source; they are taken as HDX, the spec's most likely reading.
 */
const ESMPRO: ReadonlyArray<[string, string, number, string, string]> = [
  [HDR, 'ESMMylexService', 0x800403E9, 'System drive CRITICAL', 'システムドライブCRITICAL'],
  [HDR, 'ESM Mylex Service', 0x80040205, 'System drive CRITICAL', 'システムドライブCRITICAL'],
  [HDR, 'ESMAMIService', 0x800403E9, 'AMI logical device Degraded', 'AMI論理デバイスDegraded'],
  [HDR, 'ESMDiskArray', 0x800403E9, 'Disk Array logical device Critical', 'Disk Array 論理デバイス Critical'],
  [HDR, 'ASMBENotify', 0x0000200C, 'A physical device making up the array is down', 'アレイを構成する物理デバイスがダウン'],
  [HDR, 'ASMBENotify', 0x0000200D, 'A physical device making up the array has disappeared', 'アレイを構成する物理デバイスが消滅'],
  [HDR, 'ASMBENotify', 0x0000200E, 'Array offline because of a physical device failure', '物理デバイス障害でアレイがオフライン'],
  [HDR, 'ASMBENotify', 0x00002023, 'Array is in Degraded state', 'アレイはDegraded状態'],
  [HDR, 'ASMBENotify', 0x0000205C, 'Rebuild complete; array is in degraded state', 'リビルド完了 アレイはdegraded状態'],
  [HDR, 'ASMBENotify', 0x0000B00E, 'Device failed', 'デバイスが故障'],
  [HDR, 'ASMBENotify', 0x0000B033, 'Array degraded', 'アレイはデグレード'],
  [HDR, 'ASMBENotify', 0x0000B034, 'Second-level array degraded', 'セカンドレベルアレイはデグレード'],
  [HDR, 'ASMBENotify', 0x0000B036, 'Array degraded', 'アレイはデグレード'],
  [HDR, 'ASMBENotify', 0x0000B037, 'Second-level array degraded', 'セカンドレベルアレイはデグレード'],
  [HDX, 'ESMMylexService', 0xC00403EB, 'Physical device DEAD', '物理デバイスDEAD'],
  [HDX, 'ESMMylexService', 0x800403F0, 'Physical device predictive maintenance: threshold exceeded', '物理デバイス予防保守: 閾値オーバー'],
  [HDX, 'ESM Mylex Service', 0xC0040200, 'Physical device DEAD', '物理デバイスDEAD'],
  [HDX, 'ESMAMIService', 0xC00403ED, 'AMI physical device Failed', 'AMI物理デバイスFailed'],
  [HDX, 'ESMAMIService', 0x800403F3, 'AMI physical device predictive maintenance error', 'AMI物理デバイス予防保守エラー'],
  [HDX, 'ESMDiskArray', 0xC00403F3, 'Disk Array physical device Dead', 'Disk Array 物理デバイス Dead'],
  [HDX, 'ESMDiskArray', 0x800403FC, 'Disk Array physical device S.M.A.R.T. warning', 'Disk Array 物理デバイス S.M.A.R.T.警告'],
  [HDX, 'ESMStorageService', 0x800403E8, 'Hard disk predictive maintenance: threshold exceeded', 'ハードディスク予防保守: 閾値オーバー'],
  [HDX, 'ESMStorageService', 0x800403E9, 'Hard disk predictive maintenance: S.M.A.R.T error', 'ハードディスク予防保守: S.M.A.R.Tエラー'],
  [HDX, 'ESM Storage Service', 0xC00423F6, 'Hard disk Recovered Error count: abnormal', 'ハードディスクRecovered Error数: 異常'],
  [HDX, 'ESM Storage Service', 0x800423F5, 'Hard disk Recovered Error count: warning', 'ハードディスクRecovered Error数: 警告'],
  [HDX, 'ESM Storage Service', 0xC00423F8, 'Hard disk Not Ready count: abnormal', 'ハードディスクNot Ready数: 異常'],
  [HDX, 'ESM Storage Service', 0x800423F7, 'Hard disk Not Ready count: warning', 'ハードディスクNot Ready数: 警告'],
  [HDX, 'ESM Storage Service', 0xC00423FA, 'Hard disk Medium Error count: abnormal', 'ハードディスクMedium Error数: 異常'],
  [HDX, 'ESM Storage Service', 0x800423F9, 'Hard disk Medium Error count: warning', 'ハードディスクMedium Error数: 警告'],
  [HDX, 'ESM Storage Service', 0xC00423FC, 'Hard disk Hardware Error count: abnormal', 'ハードディスクHardware Error数: 異常'],
  [HDX, 'ESM Storage Service', 0x800423FB, 'Hard disk Hardware Error count: warning', 'ハードディスクHardware Error数: 警告'],
  [HDF, 'ASMBENotify', 0x00002014, 'Rebuild aborted by I/O error', 'I/Oエラーによりリビルド中止'],
  [HDF, 'ASMBENotify', 0x00002017, 'Verify aborted by I/O error', 'I/OエラーによりVerify中止'],
  [HDF, 'ASMBENotify', 0x00002019, 'Initialize aborted by I/O error', 'I/OエラーによりInitialize中止'],
  [HDF, 'ASMBENotify', 0x0000202D, 'Rebuild cannot start because of I/O error', 'I/Oエラーによりリビルドの開始不可'],
  [HDF, 'ASMBENotify', 0x00002035, 'Initialize failed just before completion', 'Initializeが完了直前に失敗'],
  [HDF, 'ASMBENotify', 0x00002038, 'Failed to start scheduled rebuild', 'スケジュール起動のリビルドの開始に失敗'],
  [HDF, 'ASMBENotify', 0x00002039, 'Failed to start scheduled Verify', 'スケジュール起動のVerifyの開始に失敗'],
  [HDF, 'ASMBENotify', 0x0000204E, 'Failed to start Verify; array member is Failed', 'Verifyの開始に失敗 アレイのメンバはFailed'],
  [HDF, 'ASMBENotify', 0x00002059, 'Hot spare failed', 'ホットスペアが障害'],
  [HDF, 'ASMBENotify', 0x00002085, 'Verify with fix ended abnormally with I/O error', 'Verify with fixがI/Oエラーで異常終了'],
  [HDF, 'ASMBENotify', 0x00002090, 'S.M.A.R.T. error detected on a physical device that is an array member', 'アレイメンバの物理デバイスにS.M.A.R.T.エラーを検出'],
  [HDF, 'ASMBENotify', 0x00002091, 'S.M.A.R.T. error detected on a physical device not configured in an array', 'アレイに未構成の物理デバイスにS.M.A.R.T.エラーを検出'],
  [HDF, 'ASMBENotify', 0x00002094, 'Verify aborted by I/O error', 'I/OエラーによってVerify中止'],
  [HDF, 'ASMBENotify', 0x000020AD, 'Device failed', 'デバイスが故障'],
  [HDF, 'ASMBENotify', 0x0000B069, 'Array unusable, waiting for format', 'アレイはフォーマット待ちのため使用不能'],
  [HDF, 'ASMBENotify', 0x0000B090, 'Uncorrected ECC error occurred', '訂正されないECCエラー発生'],
  [HDF, 'ASMBENotify', 0x0000B11E, 'Channel offline because diagnostic check failed', '診断チェック失敗によりチャネルはオフライン'],
  [HDF, 'ASMBENotify', 0x0000B11F, 'Channel offline because of excessive re-initialisation', '過度の再初期化によりチャネルはオフライン'],
  [HDF, 'ASMBENotify', 0x0000B121, 'Channel offline because bus reset failed', 'バスリセット失敗によりチャネルはオフライン'],
  [HDF, 'ASMBENotify', 0x0000B122, 'Channel offline because of PCI bus error', 'PCIバスエラーによりチャネルはオフライン'],
  [HDF, 'ASMBENotify', 0x0000B123, 'Channel offline because initialisation failed', '初期化失敗によりチャネルはオフライン'],
  [HDF, 'ESM Mylex Service', 0xC0040206, 'System drive OFFLINE', 'システムドライブOFFLINE'],
  [HDF, 'ESMMylexService', 0xC00403EA, 'System drive OFFLINE', 'システムドライブOFFLINE'],
  [HDF, 'ESMAMIService', 0xC00403EA, 'AMI logical device Offline', 'AMI論理デバイスOffline'],
  [HDF, 'ESMDiskArray', 0xC00403EA, 'Disk Array logical device Offline', 'Disk Array 論理デバイス Offline'],
  [HDF, 'ASMBENotify', 0x0000200F, 'Array offline because a physical device failed or is not connected', '物理デバイスが障害か未接続でアレイがオフライン'],
  [HDF, 'ASMBENotify', 0x0000B057, 'Array unusable', 'アレイは使用不能'],
  [HDF, 'ASMBENotify', 0x0000B058, 'Second-level array unusable', 'セカンドレベルアレイは使用不能'],
  [HDF, 'ASMBENotify', 0x0000B05A, 'Array unusable because multiple drives failed', 'アレイは複数ドライブの故障により使用不能'],
  [HDF, 'ASMBENotify', 0x0000B05B, 'Second-level array unusable because multiple drives failed', 'セカンドレベルアレイは複数ドライブの故障により使用不能'],
  [HDF, 'ASMBENotify', 0x0000B06A, 'Second-level array unusable, waiting for format', 'セカンドレベルアレイはフォーマット待ちのため使用不能'],
  [CPL, 'ESMCpuPerf', 0xC0000064, 'System CPU abnormally high load', 'システムCPU異常高負荷'],
  [CPL, 'ESMCpuPerf', 0xC0000068, 'System CPU abnormally high load', 'システムCPU異常高負荷'],
  [CPL, 'ESMCpuPerf', 0x80000066, 'System CPU high load', 'システムCPU高負荷'],
  [CPL, 'ESMCpuPerf', 0x8000006A, 'System CPU high load', 'システムCPU高負荷'],
  [MDG, 'ESMCommonService', 0x800002BE, 'Memory degraded state', 'メモリ縮退状態'],
  [MDG, 'ESMCommonService', 0x800002C6, 'Memory degraded state', 'メモリ縮退状態'],
  [MDG, 'ESMCommonService', 0x80000515, 'POST memory resize', 'POSTメモリリサイズ'],
  [MDG, 'ESMCommonService', 0x8000051A, 'Cache degraded', 'キャッシュ縮退'],
  [MDG, 'ESMCommonService', 0xC000051C, 'Cache ECC multi-bit error', 'キャッシュECC複数Bitエラー'],
  [MEM, 'ESMCommonService', 0xC000044C, 'ECC multi-bit error', 'ECC複数ビットエラー'],
  [MEM, 'ESMCommonService', 0xC00008FC, 'Uncorrectable memory error', '修正不可能メモリエラー'],
  [MEM, 'ESMCommonService', 0xC0000903, 'Uncorrectable memory error', '修正不可能メモリエラー'],
  [CDG, 'ESMCommonService', 0x800002BD, 'CPU degraded state', 'CPU縮退状態'],
  [CDG, 'ESMCommonService', 0x800002BF, 'CPU degraded state', 'CPU縮退状態'],
  [CDG, 'ESMCommonService', 0xC0000838, 'CPU degraded', 'CPU縮退'],
  [CPU, 'ESMCommonService', 0xC0000451, 'CPU internal error', 'CPU内部エラー'],
  [CPU, 'ESMCommonService', 0xC0000454, 'CPU thermal runaway', 'CPU熱暴走'],
  [CPU, 'ESMCommonService', 0xC0000523, 'Processor disabled', 'プロセッサ無効'],
  [CPU, 'ESMCommonService', 0x40000837, 'CPU reset', 'CPUリセット'],
  [MNA, 'ESMDSVNT', 0xC0000002, 'Server inaccessible', 'サーバアクセス不能'],
  [HDRR, 'ESM Mylex Service', 0x40040204, 'System drive ONLINE', 'システムドライブ ONLINE'],
  [HDRR, 'ESMMylexService', 0x400403E8, 'System drive ONLINE', 'システムドライブ ONLINE'],
  [HDRR, 'ESMAMIService', 0x400403E8, 'AMI logical device Optimal', 'AMI論理デバイス Optimal'],
  [HDRR, 'ESMDsikArray', 0x400403E8, 'Disk Array logical device Online', 'Disk Array 論理デバイス Online'],
  [HDRR, 'ASMBENotify', 0x00002013, 'Rebuild finished normally', 'リビルド正常終了'],
  [HDRR, 'ASMBENotify', 0x0000B02D, 'Array is normal', 'アレイは正常'],
  [CPLR, 'ESMCpuPerf', 0x40000067, 'System CPU high load recovered', 'システムCPU高負荷回復'],
  [CPLR, 'ESMCpuPerf', 0x4000006B, '', ''],
  [CPLR, 'ESMCpuPerf', 0x80000065, 'System CPU abnormally high load recovered', 'システムCPU異常高負荷回復'],
  [CPLR, 'ESMCpuPerf', 0x80000069, '', ''],
  [MAR, 'ESMDSVNT', 0x40000001, 'Server access recovered', 'サーバアクセス回復'],
  [CLN, 'CLUSTERPRO', 0xC00008A4, 'Server down', 'サーバダウン'],
  [CLNW, 'CLUSTERPRO', 0xC0005217, 'Public LAN abnormal', 'パブリックLAN異常'],
];

/**
 * kanri's own sources (SystemMonitorEvent, Source[0xID] with the ESMPRO severity bits: C error,
 * 8 warning, 4 information): scheduled operations (seed 000 L1159), arbitrary MIB monitoring
 * (L883) and the UPS (seed 004 L11134-11142). Group events are about the group the schedule or
 * UPS serves; SNMP checks are about the machine polled.
 */
const KANRI: ReadonlyArray<[string, number, string, string, 'machine' | 'group']> = [
  ['kanriSchedule', 0x80000001, 'Scheduled operation missed (not run at its time)', 'スケジュール運転を実行できませんでした (時刻に実行されていません)', 'group'],
  ['kanriSchedule', 0xC0000002, 'Scheduled operation failed', 'スケジュール運転が失敗しました', 'group'],
  ['kanriSnmpCheck', 0xC0000001, 'SNMP check: a value crossed its threshold', 'MIB監視: 値がしきい値を超えました', 'machine'],
  ['kanriSnmpCheck', 0x40000002, 'SNMP check: the value is back within its threshold', 'MIB監視: 値がしきい値内に戻りました', 'machine'],
  ['kanriSnmpCheck', 0x80000003, 'SNMP check: the agent does not answer', 'MIB監視: エージェントが応答しません', 'machine'],
  ['kanriUPS', 0x80000001, 'UPS on battery (utility power lost)', 'UPS バッテリ運転 (商用電源断)', 'group'],
  ['kanriUPS', 0xC0000002, 'UPS battery low', 'UPS バッテリ残量低下', 'group'],
  ['kanriUPS', 0x40000003, 'UPS back on utility power', 'UPS 商用電源復旧', 'group'],
  ['kanriUPS', 0x80000004, 'UPS does not answer (upsd or its driver)', 'UPS と通信できません (upsd またはドライバ)', 'group'],
];

/** The event kanri's own sources raise: Source[0xID] as the catalogue writes it. */
export const kanriEvent = (source: string, id: number): string => `${source}[${hex8(id)}]`;

/** §3: SystemMonitor performance events (the source writes the 1 of 10000001 and 11000001 full-width). */
const PERF: ReadonlyArray<[string, string, string, string, 'machine' | 'group']> = [
  ...Array.from({ length: 10 }, (_, i) => [
    (0x10000001 + i).toString(16).toUpperCase(), CUSTOM_MACHINE, `Custom notification for machine ${i + 1}`, `マシン用カスタム通報${i === 0 ? '１' : i + 1}`, 'machine',
  ] as [string, string, string, string, 'machine']),
  ...Array.from({ length: 5 }, (_, i) => [
    String(11000001 + i), CUSTOM_GROUP, `Custom notification for group ${i + 1}`, `グループ用カスタム通報${i === 0 ? '１' : i + 1}`, 'group',
  ] as [string, string, string, string, 'group']),
  ['11000006', VMS, 'VM server high load', 'VMサーバ高負荷', 'machine'],
  ['11000007', VMS, 'VM server low load', 'VMサーバ低負荷', 'machine'],
];

/** §4: the VirtualCenter alarms; the category depends on the alarm kind and the new colour. */
const VMWARE_ALARMS: ReadonlyArray<{ alarm: string; kind: 'connection' | 'cpu' | 'memory'; colours: readonly string[] }> = [
  { alarm: 'Host connection state on VMS', kind: 'connection', colours: ['gray', 'green', 'red'] },
  { alarm: 'Host CPU Usage on VMS', kind: 'cpu', colours: ['gray', 'green', 'yellow', 'red'] },
  { alarm: 'Host Memory Usage on VMS', kind: 'memory', colours: ['gray', 'green', 'yellow', 'red'] },
  { alarm: 'Virtual Machine Heartbeat on VM', kind: 'connection', colours: ['gray', 'green', 'red'] },
  { alarm: 'Virtual Machine CPU Usage on VM', kind: 'cpu', colours: ['gray', 'green', 'yellow', 'red'] },
  { alarm: 'Virtual Machine Memory Usage on VM', kind: 'memory', colours: ['gray', 'green', 'yellow', 'red'] },
];

function vmwareCategory(kind: 'connection' | 'cpu' | 'memory', to: string): string {
  if (kind === 'connection') return to === 'red' ? TNA : to === 'green' ? TAR : OTHER;
  if (kind === 'cpu') return to === 'red' ? CPL : to === 'green' ? CPLR : OTHER;
  return to === 'red' ? MDG : OTHER;
}

/** BMC events: sensor type → offset → category (assertions; a deassertion has none). */
const BMC_CATEGORIES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  // Processor: IERR, thermal trip, FRB1-3, configuration error, uncorrectable error, disabled, machine check
  0x07: { 0x00: CPU, 0x01: CPU, 0x02: CPU, 0x03: CPU, 0x04: CPU, 0x05: CPU, 0x06: CPU, 0x08: CPU, 0x0a: CDG, 0x0b: CPU, 0x0c: CDG },
  // Memory: correctable ECC, uncorrectable ECC, parity, scrub failed, device disabled, ECC logging limit, spare, overtemperature
  0x0c: { 0x00: MDG, 0x01: MEM, 0x02: MEM, 0x03: MEM, 0x04: MDG, 0x05: MDG, 0x08: MDG, 0x0a: MEM },
  // Drive slot: drive fault, predictive failure, in critical array, in failed array, rebuild aborted
  0x0d: { 0x01: HDX, 0x02: HDX, 0x04: HDR, 0x05: HDF, 0x07: HDF },
  // POST memory resize (§2 row 69 is the agent's view of the same event)
  0x0e: { 0x00: MDG },
  // Watchdog 2: timer expired, and the hard reset, power down or power cycle it took
  0x23: { 0x00: STALL, 0x01: STALL, 0x02: STALL, 0x03: STALL },
};

/** The source name of BMC events (PET traps and SEL entries). */
export const BMC_SOURCE = 'BMC';

/** The event of a BMC report: the PET specific-trap number (sensor type, event type, direction and offset). */
export function bmcEvent(sensorType: number, eventType: number, offset: number, deassertion: boolean): string {
  return `${BMC_SOURCE}[${hex8(((sensorType & 0xff) << 16) | ((eventType & 0xff) << 8) | (deassertion ? 0x80 : 0) | (offset & 0x0f))}]`;
}

function bmcEntry(id: number): CatalogueEntry {
  const t = decodePetSpecificTrap(id);
  const category = t.direction === 'assertion' ? BMC_CATEGORIES[t.sensorType]?.[t.offset] ?? null : null;
  const text = `${t.sensorTypeName}: ${t.text}${t.direction === 'deassertion' ? ' (deasserted)' : ''}`;
  return { source: 'SystemMonitorEvent', event: `${BMC_SOURCE}[${hex8(id)}]`, category, summary: text, summaryJa: text };
}

const ENTRIES: CatalogueEntry[] = [
  ...ESMPRO.map(([category, src, id, summary, summaryJa]): CatalogueEntry => ({ source: 'SystemMonitorEvent', event: `${src}[${hex8(id)}]`, category, summary, summaryJa })),
  ...KANRI.map(([src, id, summary, summaryJa, scope]): CatalogueEntry => ({ source: 'SystemMonitorEvent', event: kanriEvent(src, id), category: OTHER, summary, summaryJa, scope })),
  ...PERF.map(([event, category, summary, summaryJa, scope]): CatalogueEntry => ({ source: 'SystemMonitorPerf', event, category, summary, summaryJa, scope })),
  ...VMWARE_ALARMS.flatMap(({ alarm, kind, colours }) => colours.flatMap((from) => colours.filter((to) => to !== from).map((to): CatalogueEntry => ({
    source: 'VMwareProvider', event: `Alarm ${alarm} changed from ${from} to ${to}`, category: vmwareCategory(kind, to), summary: `${alarm}: ${from} to ${to}`, summaryJa: `${alarm}: ${from} → ${to}`,
  })))),
];

/** Source names as the catalogue spells them, by their lower case (names are matched without regard to case). */
const SOURCE_NAMES = new Map([...ESMPRO.map((r) => r[1]), ...KANRI.map((r) => r[0]), BMC_SOURCE].map((n) => [n.toLowerCase(), n]));

const key = (source: string, event: string): string => `${source}\u0000${event}`;
const BY_KEY = new Map(ENTRIES.map((e) => [key(e.source, e.event), e]));

/**
 * The event as the catalogue writes it: Source[0xID] with eight upper-case hex digits
 * (the source name exactly as given: names with and without spaces are distinct sources),
 * perf events as 8 upper-case hex digits, alarm texts as they are. Undefined when the
 * text cannot be an event of that source.
 */
export function normalizeEvent(source: NotifyingSource, event: string): string | undefined {
  const e = event.trim();
  if (source === 'SystemMonitorEvent') {
    const m = /^(.+?)\s*\[\s*0x([0-9a-f]{1,8})\s*\]$/i.exec(e);
    if (!m) return undefined;
    const name = m[1]!.trim();
    return `${SOURCE_NAMES.get(name.toLowerCase()) ?? name}[${hex8(parseInt(m[2]!, 16))}]`;
  }
  if (source === 'SystemMonitorPerf') return /^[0-9a-f]{8}$/i.test(e) ? e.toUpperCase() : undefined;
  return e.length > 0 && e.length <= 256 ? e : undefined;
}

/** The catalogue entry of an event (normalized first), if the catalogue has it. */
export function lookup(source: NotifyingSource, event: string): CatalogueEntry | undefined {
  const n = normalizeEvent(source, event);
  if (n === undefined) return undefined;
  const hit = BY_KEY.get(key(source, n)) ?? BY_KEY.get(key(source, n.replace(/^ESMDiskArray\[/, 'ESMDsikArray['))) ?? BY_KEY.get(key(source, n.replace(/^ESMDsikArray\[/, 'ESMDiskArray[')));
  if (hit) return hit;
  const bmc = source === 'SystemMonitorEvent' ? /^BMC\[0x([0-9A-F]{8})\]$/.exec(n) : null;
  return bmc ? bmcEntry(parseInt(bmc[1]!, 16)) : undefined;
}

/** §2 note 2: the source prints ESMDsikArray once; both spellings name the same source when matching. */
export function sameEvent(a: string, b: string): boolean {
  const fold = (s: string): string => s.replace(/^ESMDsikArray\[/, 'ESMDiskArray[');
  return a === b || fold(a) === fold(b);
}

export function catalogue(): readonly CatalogueEntry[] {
  return ENTRIES;
}
