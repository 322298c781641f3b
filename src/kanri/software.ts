// kanri software collect: the console's [Collect] for local scripts (spec §5).
import { EXIT } from './exit-codes.js';
import { readdirSync, statSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../open-store.js';
import { scriptDir, scriptSoftwareName } from '../adapters/local/script.js';
import { byName, foldName } from '../domain/names.js';
import { complain } from '../cli/messages.js';

export function collectLocalScripts(dbPath: string): number {
  const db = openStore(dbPath);
  try {
    const dir = scriptDir(db);
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch (err) {
      complain('kanri', `cannot read the local-script folder ${dir}: ${(err as NodeJS.ErrnoException).code}`);
      return EXIT.USAGE;
    }
    const found = new Set<string>();
    db.transaction(() => {
      for (const f of files.sort()) {
        const path = join(dir, f);
        const st = statSync(path);
        if (!st.isFile()) continue;
        try { accessSync(path, constants.X_OK); } catch { continue; }
        const name = scriptSoftwareName(f);
        const version = st.mtime.toISOString();
        found.add(foldName(name));
        const existing = byName<{ id: number; kind: string }>(db, 'SELECT id, kind FROM software WHERE {name}', 'name', name);
        if (existing && existing.kind !== 'local_script') {
          complain('kanri', `${name} is already registered as a ${existing.kind}; ${f} skipped`);
          continue;
        }
        if (existing) db.prepare('UPDATE software SET source = ?, version = ?, content_date = ? WHERE id = ?').run(f, version, version.slice(0, 10), existing.id);
        else db.prepare("INSERT INTO software (name, kind, source, version, content_date) VALUES (?, 'local_script', ?, ?, ?)").run(name, f, version, version.slice(0, 10));
        process.stdout.write(`${name} (${f})\n`);
      }
    })();
    for (const s of db.prepare("SELECT name, source FROM software WHERE kind = 'local_script'").all() as Array<{ name: string; source: string }>) {
      if (!found.has(foldName(s.name))) complain('kanri', `${s.name}: ${s.source} is no longer in ${dir}`);
    }
    return EXIT.OK;
  } finally {
    db.close();
  }
}
