// kanri config apply | check | export.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import { openStore, withStore } from '../store/db.js';
import { ApplyRefused, applyDataCentre } from '../config/apply.js';
import { exportDataCentre } from '../config/export.js';
import { readDataCentre } from '../config/validate.js';
import type { DataCentre } from '../config/document.js';

const MAX_ERRORS_SHOWN = 100;

/** Reads and validates FILE; prints every problem as "FILE: path: what" and returns undefined on error. */
export function loadDataCentre(file: string): DataCentre | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return undefined;
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    process.stderr.write(`${file}: ${(err as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
  const { dc, errors } = readDataCentre(raw);
  if (!dc) {
    for (const e of errors.slice(0, MAX_ERRORS_SHOWN)) process.stderr.write(`${file}: ${e}\n`);
    if (errors.length > MAX_ERRORS_SHOWN) process.stderr.write(`${file}: … and ${errors.length - MAX_ERRORS_SHOWN} more problems\n`);
    process.stderr.write(`${file}: ${errors.length} problem${errors.length > 1 ? 's' : ''}; nothing was applied\n`);
    return undefined;
  }
  return dc;
}

export function configCheck(file: string): number {
  if (!loadDataCentre(file)) return 1;
  process.stdout.write(`${file}: valid\n`);
  return 0;
}

export function configApply(dbPath: string, file: string): number {
  const dc = loadDataCentre(file);
  if (!dc) return 1;
  const db = openStore(dbPath);
  try {
    const { changed, counts } = applyDataCentre(db, dc);
    const summary = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
    process.stdout.write(changed ? `applied ${file}: ${summary}\n` : `no changes: the store already matches ${file}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ApplyRefused) {
      process.stderr.write(`kanri: config apply refused: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    db.close();
  }
}

export function renderDataCentre(dc: DataCentre): string {
  return stringify(dc, { lineWidth: 0 });
}

export function configExport(dbPath: string, output: string | undefined): number {
  return withStore(dbPath, (db) => {
    const text = renderDataCentre(exportDataCentre(db));
    if (output) writeFileSync(output, text, { mode: 0o600 });
    else process.stdout.write(text);
    return 0;
  });
}
