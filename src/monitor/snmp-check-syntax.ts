// The text of monitor.snmp_checks (read by the setting's declaration without loading SNMP):
// 'MACHINE[@HOST[:PORT]] OID OP NUMBER [clear NUMBER]' entries separated by ';'.
const OPS = ['>=', '<=', '==', '!=', '>', '<'] as const;
export type Op = (typeof OPS)[number];
const MAX_CHECKS = 1000;

export interface SnmpCheck {
  key: string;
  machine: string;
  /** host:port, or undefined for the machine's os_address on port 161. */
  agent?: { host: string; port: number };
  oid: string;
  op: Op;
  threshold: number;
  clear: number;
}

export const compare = (v: number, op: Op, t: number): boolean =>
  op === '>' ? v > t : op === '>=' ? v >= t : op === '<' ? v < t : op === '<=' ? v <= t : op === '==' ? v === t : v !== t;

/** The checks of monitor.snmp_checks; throws with the entry that is wrong. */
export function parseSnmpChecks(text: string): SnmpCheck[] {
  const out: SnmpCheck[] = [];
  for (const raw of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^\s@]+)(?:@(\[[0-9a-fA-F:.]+\]|[^\s:]+)(?::(\d{1,5}))?)?\s+\.?((?:\d+\.)+\d+)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)(?:\s+clear\s+(-?\d+(?:\.\d+)?))?$/.exec(raw);
    if (!m) throw new Error(`'${raw}' is not 'MACHINE[@HOST[:PORT]] OID >|>=|<|<=|==|!= NUMBER [clear NUMBER]'`);
    const port = m[3] === undefined ? 161 : Number(m[3]);
    if (port < 1 || port > 65535) throw new Error(`'${raw}': port ${port} is outside 1-65535`);
    const threshold = Number(m[6]);
    const c: SnmpCheck = {
      key: '', machine: m[1]!, oid: m[4]!, op: m[5] as Op, threshold, clear: m[7] === undefined ? threshold : Number(m[7]),
      ...(m[2] ? { agent: { host: m[2].replace(/^\[|\]$/g, ''), port } } : {}),
    };
    c.key = `${c.machine}|${c.agent ? `${c.agent.host}:${c.agent.port}` : ''}|${c.oid}|${c.op}|${c.threshold}|${c.clear}`;
    out.push(c);
  }
  if (out.length > MAX_CHECKS) throw new Error(`${out.length} checks: at most ${MAX_CHECKS}`);
  return out;
}

