// The text of monitor.ups (read by the setting's declaration without loading the source):
// 'UPS@HOST[:PORT] GROUP[,GROUP…]' entries separated by ';' — a UPS served by a Network UPS
// Tools upsd (port 3493) and the groups it feeds.
export interface UpsEntry { key: string; name: string; host: string; port: number; groups: string[] }

export const NUT_PORT = 3493;
const MAX_UPS = 100;

export function parseUpsList(text: string): UpsEntry[] {
  const out: UpsEntry[] = [];
  for (const raw of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]{1,64})@(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+)(?::(\d{1,5}))?\s+(\S.*)$/.exec(raw);
    if (!m) throw new Error(`'${raw}' is not 'UPS@HOST[:PORT] GROUP[,GROUP…]'`);
    const port = m[3] === undefined ? NUT_PORT : Number(m[3]);
    if (port < 1 || port > 65535) throw new Error(`'${raw}': port ${port} is outside 1-65535`);
    const host = m[2]!.replace(/^\[|\]$/g, '');
    const groups = m[4]!.split(',').map((g) => g.trim()).filter(Boolean);
    out.push({ key: `${m[1]}@${host}:${port}`, name: m[1]!, host, port, groups });
  }
  if (out.length > MAX_UPS) throw new Error(`${out.length} UPSs: at most ${MAX_UPS}`);
  return out;
}
