// How kanri prints a listing, in one place. On a terminal: a header and aligned columns,
// status words in colour (never with NO_COLOR), times in local time. On a pipe: one
// tab-separated row per line, no header, times in ISO 8601 with their offset. With
// --json: one JSON object per line with stable field names, times in ISO 8601 with offset.
import { Chalk } from 'chalk';
import { isoWithOffset, pad2 } from '../util/time.js';


export interface Column<T> {
  header: string;
  /** The JSON field name. */
  key: string;
  value(row: T): string | number | boolean | null | undefined;
  /** A time (ISO 8601 in the store): printed local on a terminal, with its offset elsewhere. */
  time?: boolean;
  /** A status word, coloured on a terminal. */
  status?: boolean;
}

export interface ListingMode {
  json: boolean;
  tty: boolean;
  color: boolean;
}

export function listingMode(json = false, stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): ListingMode {
  const tty = !!stream.isTTY && !json;
  return { json, tty, color: tty && !env.NO_COLOR && env.TERM !== 'dumb' };
}


/** Local time for a person: 2026-12-01 21:40:12. */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const GOOD = new Set(['completed', 'ok', 'normal', 'on', 'enabled', 'accepted']);
const BAD = new Set(['failed', 'abandoned', 'abnormal', 'faulted', 'error', 'disabled', 'unknown']);
const WARN = new Set(['running', 'held', 'canceled', 'degraded', 'warning', 'off', 'maintenance']);

// Colour is decided here (a terminal, no NO_COLOR), not by chalk's own guess.
const chalk = new Chalk({ level: 1 });

function colour(word: string): string {
  if (GOOD.has(word)) return chalk.green(word);
  if (BAD.has(word)) return chalk.red(word);
  if (WARN.has(word)) return chalk.yellow(word);
  return word;
}

/** Tabs and newlines inside a value would forge columns and rows of a tab-separated listing. */
const cell = (v: string): string => v.replace(/[\t\r\n]/g, ' ');

export function renderListing<T>(rows: readonly T[], cols: ReadonlyArray<Column<T>>, mode: ListingMode): string {
  if (mode.json) {
    return rows.map((r) => JSON.stringify(Object.fromEntries(cols.map((c) => {
      const v = c.value(r);
      return [c.key, c.time ? isoWithOffset(v as string | null | undefined) : v ?? null];
    })))).map((l) => l + '\n').join('');
  }
  const text = (c: Column<T>, r: T): string => {
    const v = c.value(r);
    if (c.time) return mode.tty ? localTime(v as string | null) : isoWithOffset(v as string | null) ?? '-';
    return v === null || v === undefined || v === '' ? '-' : cell(String(v));
  };
  const table = rows.map((r) => cols.map((c) => text(c, r)));
  if (!mode.tty) return table.map((r) => r.join('\t') + '\n').join('');
  const widths = cols.map((c, i) => Math.max(c.header.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[], paint: boolean): string => cells.map((s, i) => {
    const shown = paint && cols[i]!.status && mode.color ? colour(s) : s;
    return i === cells.length - 1 ? shown : shown + ' '.repeat(widths[i]! - s.length);
  }).join('  ').trimEnd() + '\n';
  const head = line(cols.map((c) => c.header), false);
  return (mode.color ? chalk.bold(head.trimEnd()) + '\n' : head) + table.map((r) => line(r, true)).join('');
}
