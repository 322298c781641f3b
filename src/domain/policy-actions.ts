// Policy action identifiers (spec/events-and-policies.md §6), in the product's
// order, with the exact Japanese names the product shows.
export const POLICY_ACTIONS: Record<string, string> = {
  'notify': '通報 / E-mail通報、ESMPRO通報',
  'status-normal': 'マシン設定 / ステータス設定 正常',
  'status-degraded': 'マシン設定 / ステータス設定 一部故障',
  'status-faulted': 'マシン設定 / ステータス設定 故障',
  'machine-start': 'マシン操作 / マシン起動',
  'machine-reboot': 'マシン操作 / マシン再起動',
  'machine-shutdown': 'マシン操作 / マシン停止 (シャットダウン)',
  'machine-replace': 'マシン操作 / マシン置換',
  'group-add': 'グループ操作 / グループマシン追加',
  'group-create-add': 'グループ操作 / グループマシン作成・追加',
  'group-delete-to-pool': 'グループ操作 / グループマシン削除 (プールに移動)',
  'group-delete-vm': 'グループ操作 / グループマシン削除 (VM 削除)',
  'group-start': 'グループ操作 / グループマシン起動',
  'group-suspend': 'グループ操作 / グループマシン休止 (サスペンド)',
  'group-shutdown': 'グループ操作 / グループマシン停止 (シャットダウン)',
  'vms-migrate-all': 'VMS 操作 / VMS 上の全 VM 移動 (Hot Migration / Cold Migration)',
  'vms-migrate-all-failover': 'VMS 操作 / VMS 上の全 VM 移動 (Hot Migration / Cold Migration, Failover)',
  'vms-failover-all': 'VMS 操作 / VMS 上の全 VM 移動 (Failover)',
  'vms-power-save': 'VMS 操作 / VMS のパワーセーブ (省電力化)',
  'vms-load-balance': 'VMS 操作 / VMS ロードバランス',
  'alert-command': '通報 / コマンド実行',
  'alert-notify': '通報 / 通報先グループへの通報 (メール、SNMP トラップ)',
  'none': 'なにもしない',
};

export const EVENT_SOURCES = ['SystemMonitorEvent', 'SystemMonitorPerf', 'VMwareProvider'] as const;
