// kanri status: the summary of ./summary.ts on the terminal (or as JSON).
import { withStore } from '../open-store.js';
import { L } from '../cli/locale.js';
import { summary } from './summary.js';
import { EXIT } from '../kanri/exit-codes.js';

const counts = (o: Record<string, number>): string => Object.entries(o).map(([k, n]) => `${n} ${k}`).join(', ') || '-';

export function statusCommand(dbPath: string, json: boolean): number {
  return withStore(dbPath, (db) => {
    const s = summary(db);
    if (json) {
      process.stdout.write(JSON.stringify(s) + '\n');
      return EXIT.OK;
    }
    const out: string[] = [];
    out.push(L(`Machines: ${s.machines.total} (${s.machines.pooled} in no group, ${s.machines.maintenance} in maintenance)`, `マシン: ${s.machines.total} 台 (グループ外 ${s.machines.pooled}、メンテナンス中 ${s.machines.maintenance})`));
    out.push(`  ${L('power', '電源')}: ${counts(s.machines.power)}`);
    out.push(`  ${L('hardware', 'ハードウェア')}: ${counts(s.machines.hardware)}`);
    out.push(`  ${L('management', '管理状態')}: ${counts(s.machines.management)}`);
    out.push(L('Groups:', 'グループ:'));
    const w = Math.max(5, ...s.groups.map((g) => g.group.length));
    for (const g of s.groups) {
      const trouble = [g.degraded ? `${g.degraded} degraded` : '', g.faulted ? `${g.faulted} faulted` : '', g.abnormal ? `${g.abnormal} abnormal` : '', g.maintenance ? `${g.maintenance} maintenance` : ''].filter(Boolean).join(', ');
      out.push(`  ${g.group.padEnd(w)}  ${String(g.machines).padStart(3)} ${L('machines', '台')}  ${g.on} on  ${g.off} off${trouble ? '  ' + trouble : ''}`);
    }
    out.push(L(`Jobs: ${s.jobs.running.length} running, ${s.jobs.held} held, ${s.jobs.failed_24h} failed or canceled in 24 h`, `ジョブ: 実行中 ${s.jobs.running.length}、保留 ${s.jobs.held}、24 時間以内の失敗・キャンセル ${s.jobs.failed_24h}`));
    for (const j of s.jobs.running) out.push(`  ${String(j.id).padStart(5, '0')} ${j.sequence} ${j.machine ?? j.group ?? ''} ${j.progress}%`);
    out.push(L(`Alerts (newest ${s.alerts.length}):`, `アラート (最新 ${s.alerts.length} 件):`));
    for (const a of s.alerts) out.push(`  ${a.time} ${a.server} ${a.severity} ${a.message}`);
    out.push(L('Recent events:', '最近のイベント:'));
    for (const e of s.events) out.push(`  ${e.time} ${e.type} ${e.message}`);
    process.stdout.write(out.join('\n') + '\n');
    return EXIT.OK;
  });
}
