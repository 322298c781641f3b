// A ServerList, in the manner of xCAT's noderange: server names, dscli group names and
// host ranges (web[01-24], rack[1-2]n[01-16]), separated by spaces or commas; `-X`
// removes what X names from what came before; `G@X` keeps of X what is in group G;
// `^FILE` reads a list from a file (one entry or more per line, # starts a comment).
// Unknown names are an error, never dropped; the list is sized before anything is expanded.
import { readFileSync, statSync } from 'node:fs';
import { controllerByName, type ControllerRow } from '../adapters/controller.js';
import type { Db } from '../store/db.js';
import { didYouMean } from '../util/nearest.js';
import { DscliError, formatError, RC } from './errors.js';
import { MAX_EXPANSION, expandRange, expansionSize, isRange, splitTopLevel } from './hostrange.js';
import { dscliGroupId, listServers } from './servers.js';

/** The entries of a word and of the files it names with ^FILE (one level: a file cannot name another). */
function entries(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    for (const item of splitTopLevel(w)) {
      if (!item.startsWith('^')) {
        out.push(item);
        continue;
      }
      const file = item.slice(1);
      let text: string;
      try {
        if (!statSync(file).isFile()) throw new Error('not a regular file');
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new DscliError(RC.NOT_FOUND, `server list file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
      }
      for (const line of text.split('\n')) {
        const body = line.replace(/#.*$/, '').trim();
        if (!body) continue;
        for (const x of body.split(/\s+/).flatMap((t) => splitTopLevel(t))) {
          if (x.startsWith('^')) throw formatError(`server list file ${file} names another file (${x}); files do not nest`);
          out.push(x);
        }
      }
    }
  }
  return out;
}

/** How many names an entry can stand for, before anything is expanded. */
function size(item: string): number {
  const body = item.startsWith('-') ? item.slice(1) : item;
  const at = body.indexOf('@');
  return at < 0 ? expansionSize(body) : expansionSize(body.slice(at + 1));
}

export function resolveServerList(db: Db, words: string[]): ControllerRow[] {
  if (words.length === 0) throw formatError('a ServerList is required');
  const items = entries(words);
  let names = 0;
  for (const item of items) {
    names += size(item);
    if (names > MAX_EXPANSION) throw formatError(`the ServerList is too large (more than ${MAX_EXPANSION} names)`);
  }
  const unknown: string[] = [];
  /** The servers one name, range or group stands for. */
  const expand = (term: string): ControllerRow[] => {
    if (!term) {
      unknown.push('(empty)');
      return [];
    }
    if (isRange(term)) {
      return expandRange(term).flatMap((n) => {
        const r = controllerByName(db, n);
        if (!r) unknown.push(n);
        return r ? [r] : [];
      });
    }
    const r = controllerByName(db, term);
    if (r) return [r];
    if (dscliGroupId(db, term) !== undefined) return listServers(db, term);
    unknown.push(term);
    return [];
  };
  const chosen = new Map<number, ControllerRow>();
  for (const item of items) {
    const remove = item.startsWith('-');
    const body = remove ? item.slice(1) : item;
    const at = body.indexOf('@');
    let rows: ControllerRow[];
    if (at < 0) rows = expand(body);
    else {
      const within = new Set(expand(body.slice(0, at)).map((r) => r.id));
      rows = expand(body.slice(at + 1)).filter((r) => within.has(r.id));
    }
    for (const r of rows) {
      if (remove) chosen.delete(r.id);
      else if (!chosen.has(r.id)) chosen.set(r.id, r);
    }
  }
  if (unknown.length) {
    const shown = unknown.length > 20 ? `${unknown.slice(0, 20).join(', ')} … (${unknown.length} in all)` : unknown.join(', ');
    const hint = unknown.length === 1 ? didYouMean(unknown[0]!, (db.prepare('SELECT name FROM machines WHERE mgmt_type IS NOT NULL UNION SELECT name FROM dscli_groups').all() as Array<{ name: string }>).map((x) => x.name)) : '';
    throw new DscliError(RC.NOT_FOUND, `not a registered server or dscli group: ${shown}${hint}`);
  }
  // A list that selects nothing ('rack1@bmc01' with bmc01 outside rack1, 'a,-a', an empty
  // group) is not a success: spec/dscli.md line 36 makes a ServerList "one or more targets",
  // line 66 gives 0 only when every target succeeded and line 68 gives 2 to a target not
  // found; so a script sees 2 and a reason, and no controller is asked anything.
  if (chosen.size === 0) throw new DscliError(RC.NOT_FOUND, `the ServerList selects no server: ${words.join(' ')}`);
  return [...chosen.values()];
}
