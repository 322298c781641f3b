// kanri config apply | check | export.
import { EXIT } from './exit-codes.js';
import { readFileSync } from 'node:fs';
import { FileError, writePrivateFile } from '../util/files.js';
import { Document, isScalar, isSeq, parse as parseYaml, visit } from 'yaml';
import { openStore, withStore } from '../open-store.js';
import { storeExists } from '../store/db.js';
import { settleStoreKey } from '../store/secrets.js';
import { ApplyRefused, applyDataCentre } from '../config/apply.js';
import { type PlanEntry, planLine } from '../config/plan.js';
import { exportDataCentre } from '../config/export.js';
import { compactDocument } from '../config/compact.js';
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
  if (!loadDataCentre(file)) return EXIT.USAGE;
  process.stdout.write(`${file}: valid\n`);
  return EXIT.OK;
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
  if (!dc) return EXIT.USAGE;
  if (flags.dryRun) {
    // A dry run never creates a store: against a missing one, everything is added.
    const db = storeExists(dbPath) ? openStore(dbPath, { readonly: true }) : openStore(':memory:');
    try {
      const { plan } = applyDataCentre(db, dc, { dryRun: true });
      for (const e of plan) process.stdout.write(planLine(e) + '\n');
      const n = (op: string): number => plan.filter((e) => e.op === op).length;
      process.stdout.write(`dry run of ${file}: ${n('add')} to add, ${n('change')} to change, ${n('remove')} to remove; nothing was written\n`);
      return EXIT.OK;
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
    const { changed, plan } = result;
    for (const e of plan.filter((x) => x.op === 'remove')) process.stdout.write(`removed ${e.kind} ${e.name}\n`);
    process.stdout.write(changed ? `applied ${file}: ${changeSummary(plan)}\n` : `no changes: the store already matches ${file}\n`);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ApplyRefused) {
      complain('kanri', `config apply refused: ${err.message}`);
      return EXIT.USAGE;
    }
    throw err;
  } finally {
    db.close();
  }
}

export function renderDataCentre(dc: DataCentre, opts: { withSecrets?: boolean } = {}): string {
  // As a person writes it (fixtures/datacentre.yaml): a mapping or list of plain values on
  // one line ({ host: web01, tags: [web] }), everything larger in blocks.
  const doc = new Document(compactDocument(dc, opts));
  const leaf = (n: unknown): boolean => isScalar(n) || (isSeq(n) && n.items.every((x) => isScalar(x)));
  const short = (n: { toJSON(): unknown }): boolean => JSON.stringify(n.toJSON()).length <= 100;
  visit(doc, {
    Map(_, node) { if (node.items.length && node.items.every((p) => leaf(p.value)) && short(node)) node.flow = true; },
    Seq(_, node) { if (node.items.every((x) => isScalar(x)) && short(node)) node.flow = true; },
  });
  return doc.toString({ lineWidth: 0 });
}

export function configExport(dbPath: string, output: string | undefined, withSecrets = false): number {
  // Hashes on a terminal end up in scrollback and screen captures: only into a file or a pipe.
  if (withSecrets && !output && process.stdout.isTTY) {
    complain('kanri', '--with-secrets writes password hashes and secret settings: give -o FILE (written 0600) or redirect standard output');
    return EXIT.USAGE;
  }
  return withStore(dbPath, (db) => {
    const text = renderDataCentre(exportDataCentre(db), { withSecrets });
    if (output) {
      try {
        writePrivateFile(output, text);
      } catch (err) {
        if (!(err instanceof FileError)) throw err;
        complain('kanri', `${err.message}`);
        return EXIT.USAGE;
      }
    } else process.stdout.write(text);
    return EXIT.OK;
  });
}

const PLURAL: Record<string, string> = { category: 'categories', policy: 'policies', software: 'software', 'controller of': 'controllers' };

/** What an apply changed, by kind: "+2 machines, ~1 group, -1 user" ("nothing" when the plan is empty). */
export function changeSummary(plan: PlanEntry[]): string {
  const parts: string[] = [];
  for (const [op, sign] of [['add', '+'], ['change', '~'], ['remove', '-']] as const) {
    const byKind = new Map<string, number>();
    for (const e of plan) if (e.op === op) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    for (const [kind, n] of byKind) parts.push(`${sign}${n} ${n === 1 ? kind.replace(/ of$/, '') : PLURAL[kind] ?? `${kind}s`}`);
  }
  return parts.join(', ') || 'nothing';
}

export function storeInit(dbPath: string): number {
  const existed = storeExists(dbPath);
  // The key is made (or checked) and recorded with the store: the managers that share it
  // import this one before they start (kanri store key export|import).
  withStore(dbPath, settleStoreKey, { create: true });
  process.stdout.write(existed ? `store ${dbPath} exists; nothing to do\n` : `created store ${dbPath}\n`);
  return EXIT.OK;
}
