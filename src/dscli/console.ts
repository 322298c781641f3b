// dscli console SERVER: the server's serial console on this terminal, through its
// controller's driver (IPMI Serial over LAN). One console per server: the holder is
// recorded in the store (adapters/console-claims.ts) and a second console is refused with
// the holder's name. Escapes at the start of a line, as ssh has them: ~. leaves, ~B sends
// a break, ~~ sends one ~, ~? lists them.
import { hostname, userInfo } from 'node:os';
import { claimConsole, REFRESH_MS, refreshConsole, releaseConsole } from '../adapters/console-claims.js';
import { bindController } from '../adapters/registry.js';
import type { ConsoleSession } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { localize } from '../cli/messages.js';
import { DscliError, formatError, RC } from './errors.js';
import { callContext, requireInfo, runSettings } from './ops.js';
import { needServer } from './servers.js';
import { isSetting } from './words.js';

/** The terminal the console runs on. */
export interface ConsoleTerminal {
  input: NodeJS.ReadableStream;
  /** Bytes from the serial port. */
  output(b: Buffer): void;
  /** A line of dscli's own (escape help, leaving): on standard error. */
  note(text: string): void;
  /** Raw mode on a terminal: keys go to the server as typed (Ctrl-C included). */
  setRaw?(on: boolean): void;
  /** SIGTERM / SIGHUP: leave as ~. does. */
  onSignal?(fn: () => void): () => void;
  /** Who holds the console, as the refusal names them to others. */
  holder?: string;
}

const TILDE = 0x7e;

/** Splits typed bytes into characters for the server and escapes (ssh's rules). */
export class EscapeReader {
  private atLineStart = true;
  private escaped = false;

  constructor(private readonly on: { data(b: Buffer): void; leave(): void; brk(): void; help(): void }) {}

  feed(chunk: Buffer): void {
    let out: number[] = [];
    const flush = () => {
      if (out.length) this.on.data(Buffer.from(out));
      out = [];
    };
    for (const c of chunk) {
      if (this.escaped) {
        this.escaped = false;
        if (c === 0x2e) { // .
          flush();
          this.on.leave();
          return;
        }
        if (c === 0x42) { // B
          flush();
          this.on.brk();
          continue;
        }
        if (c === 0x3f) { // ?
          flush();
          this.on.help();
          continue;
        }
        if (c !== TILDE) out.push(TILDE);
        out.push(c);
        this.atLineStart = c === 0x0d || c === 0x0a;
        continue;
      }
      if (this.atLineStart && c === TILDE) {
        this.escaped = true;
        continue;
      }
      out.push(c);
      this.atLineStart = c === 0x0d || c === 0x0a;
    }
    flush();
  }
}

export function defaultHolder(env: NodeJS.ProcessEnv = process.env): string {
  let user = env.SUDO_USER;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

export async function consoleCmd(db: Db, args: string[], term: ConsoleTerminal): Promise<number> {
  const positional = args.filter((w) => !isSetting(w));
  if (positional.length !== 1) throw formatError('usage: console Name');
  const rs = runSettings(db, args.filter(isSetting), 0);
  const row = needServer(db, positional[0]!);
  const c = await bindController(db, row, { info: 'console' });
  requireInfo(c, 'console', 'console');
  const holder = term.holder ?? defaultHolder();
  const claim = claimConsole(db, row.id, holder);
  if (!claim.ok) {
    throw new DscliError(RC.EXISTS, `the console of ${row.name} is in use by ${claim.held.holder} since ${claim.held.since}; it is free again when that console leaves (~.)`);
  }
  if (claim.tookOver) term.note(localize(`the console of ${row.name} was held by ${claim.tookOver.holder}, silent since ${claim.tookOver.seenAt}; taken over`));
  let session: ConsoleSession | undefined;
  let leave!: (why: string) => void;
  const left = new Promise<string>((r) => (leave = r));
  const keep = setInterval(() => {
    try {
      if (!refreshConsole(db, row.id, claim.token)) leave('lost');
    } catch {
      // A busy store delays the refresh; the claim stays ours until it is stale.
    }
  }, REFRESH_MS);
  const offSignal = term.onSignal?.(() => leave('signal'));
  const onInput = (chunk: Buffer | string) => reader.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const onEnd = () => leave('eof');
  const reader = new EscapeReader({
    data: (b) => {
      if (session && !session.write(b)) term.note(localize('the server is not taking characters; input dropped'));
    },
    leave: () => leave('escape'),
    brk: () => {
      session?.sendBreak();
      term.note(localize('[break sent]'));
    },
    help: () => term.note(localize('escapes at the start of a line: ~. leave, ~B send a break, ~~ send ~, ~? this list')),
  });
  try {
    session = await c.info.console!(callContext(db, new AbortController().signal), c.machine, (b) => term.output(b), rs.call);
    term.note(localize(`[console of ${row.name}: ~. to leave, ~B to send a break, ~? for help]`));
    term.setRaw?.(true);
    term.input.on('data', onInput);
    term.input.once('end', onEnd);
    term.input.resume();
    const why = await Promise.race([left, session.ended.then((w) => `ended:${w}`)]);
    if (why.startsWith('ended:')) {
      const reason = why.slice('ended:'.length);
      term.note(localize(`[console of ${row.name} ended: ${reason}]`));
      return RC.UNREACHABLE;
    }
    if (why === 'lost') {
      term.note(localize(`[console of ${row.name} was taken over by another holder]`));
      return RC.EXISTS;
    }
    term.note(localize(`[console of ${row.name} closed]`));
    return RC.OK;
  } finally {
    clearInterval(keep);
    offSignal?.();
    term.input.off('data', onInput);
    term.input.off('end', onEnd);
    term.input.pause();
    term.setRaw?.(false);
    await session?.close();
    releaseConsole(db, row.id, claim.token);
  }
}
