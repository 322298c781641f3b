// How kanri writes a time for a script, in one place (kanri listings on a pipe and in JSON,
// dscli getAlertList): ISO 8601 in local time with its offset. Kept apart from
// cli/listing.ts so that dscli does not load the colour code to print a time.
export const pad2 = (n: number): string => String(n).padStart(2, '0');

/** ISO 8601 in local time with its offset: 2026-12-01T21:40:12+09:00. */
export function isoWithOffset(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

