// kanri config apply | check | export.
import { existsSync, readFileSync } from 'node:fs';
import { FileError, writePrivateFile } from '../util/files.js';
import { parse as parseYaml, stringify } from 'yaml';
import { openStore, withStore } from '../open-store.js';
import { ApplyRefused, applyDataCentre } from '../config/apply.js';
import { type PlanEntry, planLine } from '../config/plan.js';
import { exportDataCentre } from '../config/export.js';
import { readDataCentre } from '../config/validate.js';
import type { DataCentre } from '../config/document.js';
import { complain } from '../cli/messages.js';

const MAX_ERRORS_SHOWN = 100;

/** Reads and validates FILE; prints every problem as "FILE: path: what" and returns undefined on error. */
export function loadDataCentre(file: string): DataCentre | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    complain(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return undefined;
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    complain(file, (err as Error).message.split('\n')[0]!);
    return undefined;
  }
  const { dc, errors } = readDataCentre(raw);
  if (!dc) {
    for (const e of errors.slice(0, MAX_ERRORS_SHOWN)) complain(file, e);
    if (errors.length > MAX_ERRORS_SHOWN) complain(file, `… and ${errors.length - MAX_ERRORS_SHOWN} more problems`);
    if (errors.length === 1) complain(file, '1 problem; nothing was applied');
    else complain(file, `${errors.length} problems; nothing was applied`);
    return undefined;
  }
  return dc;
}

export function configCheck(file: string): number {
  if (!loadDataCentre(file)) return 1;
  process.stdout.write(`${file}: valid\n`);
  return 0;
}

export interface ApplyFlags { prune?: boolean; dryRun?: boolean }

/** On a terminal, the administrator may allow the protected removals; on a pipe only --prune does. */
async function confirmRemovals(plan: PlanEntry[]): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const { createInterface } = await import('node:readline');
  for (const e of plan.filter((x) => x.protect)) process.stderr.write(`  ${planLine(e)}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await new Promise<string>((r) => rl.question('kanri: remove these, with what they hold? [y/N] ', r));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export async function configApply(dbPath: string, file: string, flags: ApplyFlags = {}): Promise<number> {
  const dc = loadDataCentre(file);
  if (!dc) return 1;
  if (flags.dryRun) {
    // A dry run never creates a store: against a missing one, everything is added.
    const db = existsSync(dbPath) ? openStore(dbPath, { readonly: true }) : openStore(':memory:');
    try {
      const { plan } = applyDataCentre(db, dc, { dryRun: true });
      for (const e of plan) process.stdout.write(planLine(e) + '\n');
      const n = (op: string): number => plan.filter((e) => e.op === op).length;
      process.stdout.write(`dry run of ${file}: ${n('add')} to add, ${n('change')} to change, ${n('remove')} to remove; nothing was written\n`);
      return 0;
    } finally {
      db.close();
    }
  }
  const db = openStore(dbPath, { create: true });
  try {
    let prune = !!flags.prune;
    let result;
    try {
      result = applyDataCentre(db, dc, { prune });
    } catch (err) {
      if (!(err instanceof ApplyRefused) || prune) throw err;
      const { plan } = applyDataCentre(db, dc, { dryRun: true });
      if (!plan.some((e) => e.protect) || !(await confirmRemovals(plan))) throw err;
      prune = true;
      result = applyDataCentre(db, dc, { prune });
    }
    const { changed, counts, plan } = result;
    for (const e of plan.filter((x) => x.op === 'remove')) process.stdout.write(`removed ${e.kind} ${e.name}\n`);
    const summary = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
    process.stdout.write(changed ? `applied ${file}: ${summary}\n` : `no changes: the store already matches ${file}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ApplyRefused) {
      complain('kanri', `config apply refused: ${err.message}`);
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
    if (output) {
      try {
        writePrivateFile(output, text);
      } catch (err) {
        if (!(err instanceof FileError)) throw err;
        complain('kanri', `${err.message}`);
        return 1;
      }
    } else process.stdout.write(text);
    return 0;
  });
}

export function storeInit(dbPath: string): number {
  const existed = existsSync(dbPath);
  openStore(dbPath, { create: true }).close();
  process.stdout.write(existed ? `store ${dbPath} exists; nothing to do\n` : `created store ${dbPath}\n`);
  return 0;
}
