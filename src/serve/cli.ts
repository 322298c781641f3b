// kanri token create|list|revoke: the API's bearer tokens on the terminal.
import { complain } from '../cli/messages.js';
import { withStore } from '../open-store.js';
import { TokenError, createToken, listTokens, revokeToken } from './tokens.js';
import { EXIT } from '../kanri/exit-codes.js';

function run(dbPath: string, fn: (db: import('../store/db.js').Db) => number): number {
  try {
    return withStore(dbPath, fn);
  } catch (e) {
    if (e instanceof TokenError) {
      complain('kanri', e.message);
      return e.code;
    }
    throw e;
  }
}

export function tokenCreate(dbPath: string, name: string, level: string): number {
  return run(dbPath, (db) => {
    const token = createToken(db, name, level);
    // The one time the token is shown: on standard output, so that it can be piped into a file.
    process.stdout.write(`${token}\n`);
    if (process.stderr.isTTY) process.stderr.write(`kanri: token ${name} (${level}) created; it is not shown again\n`);
    return EXIT.OK;
  });
}

export function tokenList(dbPath: string, json: boolean): number {
  return run(dbPath, (db) => {
    const rows = listTokens(db);
    if (json) for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      const w = Math.max(4, ...rows.map((r) => r.name.length));
      process.stdout.write(`${'NAME'.padEnd(w)}  LEVEL          CREATED                   LAST USED\n`);
      for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${r.level.padEnd(13)}  ${r.created_at.padEnd(24)}  ${r.last_used_at ?? '-'}\n`);
    }
    return EXIT.OK;
  });
}

export function tokenRevoke(dbPath: string, name: string): number {
  return run(dbPath, (db) => {
    revokeToken(db, name);
    return EXIT.OK;
  });
}
