// /metrics in the Prometheus text format (version 0.0.4): read from the store at each
// scrape, so it is true whichever process changed things. Machines by group and status,
// jobs by sequence and outcome, job and step durations, the monitor's intake counters,
// queue and polling, controller reachability, and this server's own requests.
import { listServers } from '../dscli/servers.js';
import { machineLines } from '../kanri/inventory.js';
import { finishedSpans, jobCounts } from '../kanri/jobs.js';
import { readCounters } from '../monitor/counters.js';
import { pollStats, queueDepth } from '../monitor/stats.js';
import type { Db } from '../store/db.js';
import { Histogram, type HttpStats, labelValue as lv } from './http-stats.js';

const DURATION_BOUNDS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

function family(out: string[], name: string, type: 'gauge' | 'counter' | 'histogram' | 'summary', help: string, lines: string[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
}

function durations(spans: Array<{ name: string; started_at: string; ended_at: string }>, label: string): Histogram {
  const h = new Histogram(DURATION_BOUNDS);
  for (const s of spans) {
    const d = (Date.parse(s.ended_at) - Date.parse(s.started_at)) / 1000;
    if (Number.isFinite(d) && d >= 0) h.observe(`${label}="${lv(s.name)}"`, d);
  }
  return h;
}

/** Seconds since an ISO time, or NaN. */
const ageS = (iso: string | null, now: number): number => (iso ? Math.max(0, (now - Date.parse(iso)) / 1000) : NaN);

export function metricsText(db: Db, http: HttpStats, oob: Histogram, now = Date.now()): string {
  const out: string[] = [];
  const machines = new Map<string, number>();
  for (const m of machineLines(db)) {
    const k = `group="${lv(m.group ?? '')}",power="${m.power}",hardware="${m.hardware}",management="${m.management}"`;
    machines.set(k, (machines.get(k) ?? 0) + 1);
  }
  family(out, 'kanri_machines', 'gauge', 'Machines by group (empty: in no group) and power, hardware and management status.', [...machines].map(([k, n]) => `kanri_machines{${k}} ${n}`));
  family(out, 'kanri_jobs_total', 'counter', 'Jobs in the journal by sequence and outcome (status).', jobCounts(db).map((j) => `kanri_jobs_total{sequence="${lv(j.sequence)}",outcome="${j.status}"} ${j.n}`));
  family(out, 'kanri_job_duration_seconds', 'histogram', 'Duration of finished jobs by sequence.', durations(finishedSpans(db, 'jobs'), 'sequence').lines('kanri_job_duration_seconds'));
  family(out, 'kanri_step_duration_seconds', 'histogram', 'Duration of finished job steps by step name.', durations(finishedSpans(db, 'steps'), 'step').lines('kanri_step_duration_seconds'));
  const { poll_ms: pollMs = 0, polls = 0, ...counters } = readCounters(db);
  family(out, 'kanri_monitor_intake_total', 'counter', 'What the monitor received and counted (datagrams, traps, errors, sweeps of its chains, configuration re-reads, …).', Object.entries(counters).map(([k, n]) => `kanri_monitor_intake_total{counter="${lv(k)}"} ${n}`));
  family(out, 'kanri_monitor_poll_latency_seconds', 'summary', 'Time the monitor took to poll a controller that answered.', [`kanri_monitor_poll_latency_seconds_sum ${pollMs / 1000}`, `kanri_monitor_poll_latency_seconds_count ${polls}`]);
  family(out, 'kanri_monitor_queue_depth', 'gauge', 'Received events waiting for the monitor to decide them.', [`kanri_monitor_queue_depth ${queueDepth(db)}`]);
  const p = pollStats(db);
  family(out, 'kanri_monitor_polled_controllers', 'gauge', 'Controllers the monitor polls.', [`kanri_monitor_polled_controllers ${p.controllers}`]);
  family(out, 'kanri_monitor_poll_age_seconds', 'gauge', 'Seconds since the least and the most recently polled controller was polled.', [
    `kanri_monitor_poll_age_seconds{which="oldest"} ${ageS(p.oldestPollAt, now)}`, `kanri_monitor_poll_age_seconds{which="newest"} ${ageS(p.newestPollAt, now)}`,
  ]);
  family(out, 'kanri_monitor_inaccessible_controllers', 'gauge', 'Controllers that stopped answering polls (ESMDSVNT[0xC0000002] raised, not recovered).', [`kanri_monitor_inaccessible_controllers ${p.inaccessible}`]);
  family(out, 'kanri_controller_up', 'gauge', 'Whether the last call to each managed controller succeeded (1), failed (0); absent if never called.',
    listServers(db).filter((s) => s.last_status !== null).map((s) => `kanri_controller_up{machine="${lv(s.name)}",type="${s.mgmt_type}"} ${s.last_status === 'ok' ? 1 : 0}`));
  family(out, 'kanri_controller_call_duration_seconds', 'histogram', 'Out-of-band calls through this server, per target, by operation.', oob.lines('kanri_controller_call_duration_seconds'));
  family(out, 'kanri_http_requests_total', 'counter', 'Requests to this server by route and status.', [...http.requests].map(([k, n]) => `kanri_http_requests_total{${k}} ${n}`));
  family(out, 'kanri_http_request_duration_seconds', 'histogram', 'Time to answer requests by route.', http.durations.lines('kanri_http_request_duration_seconds'));
  return out.join('\n') + '\n';
}
