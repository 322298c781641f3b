// The login of one driver call on one controller: a Redfish session (POST to the
// SessionService, X-Auth-Token, the session deleted on every way out) or HTTP basic
// authentication when the service has no sessions; JSON in and out; HTTP statuses turned
// into the driver contract's failure layers. The password is opened at the moment of the
// login and never leaves this module in a message.
import { PeerAnswerTooLarge, parsePeerJson } from '../../util/peer-answer.js';
import { printable } from '../../util/peer-gate.js';
import { DriverError, type FailureLayer } from '../types.js';
import { type Endpoint, type Limits, type Reply, send, whereOf } from './client.js';

export type Json = Record<string, unknown>;
export type AuthMode = 'auto' | 'session' | 'basic';

export interface Credentials {
  user: string;
  /** Opens the sealed password (only when a login needs it). */
  password(): string;
}

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (o: unknown, k: string): string | undefined => (isObj(o) && typeof o[k] === 'string' ? (o[k] as string) : undefined);
export const num = (o: unknown, k: string): number | undefined => (isObj(o) && typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
export const obj = (o: unknown, k: string): Json | undefined => (isObj(o) && isObj(o[k]) ? (o[k] as Json) : undefined);
export const arr = (o: unknown, k: string): unknown[] => (isObj(o) && Array.isArray(o[k]) ? (o[k] as unknown[]) : []);
/** The @odata.id of a link object or of a property holding one. */
export const link = (o: unknown, k?: string): string | undefined => str(k === undefined ? o : obj(o, k), '@odata.id');

/**
 * A path on this controller from a URI the service gave (Location, @odata.id,
 * nextLink): an absolute URL is accepted only for this controller's own address, so that
 * credentials are never sent anywhere else.
 */
export function pathOf(ep: Endpoint, uri: string): string {
  if (uri.startsWith('/')) return uri;
  try {
    const u = new URL(uri);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = u.port ? Number(u.port) : 443;
    if (u.protocol === 'https:' && host === ep.host && port === ep.port) return u.pathname + u.search;
  } catch {
    // Reported below.
  }
  throw new DriverError(`${ep.machine}: protocol error: the service pointed to ${uri}, which is not a path on ${whereOf(ep)}`, { layer: 'protocol', detail: `the service pointed to ${uri}, not a path on ${whereOf(ep)}` });
}

/** The service's own explanation in an error answer (Redfish error / @Message.ExtendedInfo), if any. */
function serviceMessage(body: Buffer): string | undefined {
  try {
    const j = parsePeerJson(body.toString('utf8'));
    const e = obj(j, 'error');
    const info = arr(e, '@Message.ExtendedInfo')[0] ?? arr(j, '@Message.ExtendedInfo')[0];
    return str(info, 'Message') ?? str(e, 'message');
  } catch {
    return undefined;
  }
}

function fail(ep: Endpoint, layer: FailureLayer, detail: string, code?: number): DriverError {
  return new DriverError(`${ep.machine}: ${layer} error: ${detail}`, { layer, detail, ...(code !== undefined ? { code } : {}), retryable: layer === 'network' || code === 503 });
}

/** The failure an unsuccessful answer stands for. */
export function statusError(ep: Endpoint, method: string, path: string, r: Reply): DriverError {
  const said = serviceMessage(r.body);
  const what = `${method} ${path}: HTTP ${r.status}${said ? ` (${said})` : ''}`;
  switch (r.status) {
    case 401: return fail(ep, 'authentication', `the controller refused the login (${what})`, 401);
    case 403: return fail(ep, 'privilege', `the account may not do this (${what})`, 403);
    case 405: case 501: return fail(ep, 'not-supported', `the service does not offer this (${what})`, r.status);
    case 503: return fail(ep, 'controller', `the controller is busy (${what}${r.headers['retry-after'] ? `; Retry-After ${String(r.headers['retry-after'])} s is beyond the deadline` : ''})`, 503);
    default: return fail(ep, r.status === 404 ? 'protocol' : 'controller', what, r.status);
  }
}

function parse(ep: Endpoint, method: string, path: string, r: Reply): Json {
  if (r.body.length === 0) return {};
  try {
    const j = parsePeerJson(r.body.toString('utf8'));
    if (isObj(j)) return j;
  } catch (e) {
    if (e instanceof PeerAnswerTooLarge) throw fail(ep, 'protocol', `${method} ${path}: ${e.message}`);
    // Otherwise reported below.
  }
  throw fail(ep, 'protocol', `${method} ${path}: the answer is not a JSON object`);
}

/** The longest session token sent back (services use tens to hundreds of bytes). */
const MAX_TOKEN = 4096;

export interface Answer { status: number; headers: Reply['headers']; data: Json }

export class RedfishSession {
  /** Requests sent (retries included). */
  attempts = 0;
  private token: string | undefined;
  private sessionUri: string | undefined;
  private basic: string | undefined;
  private loggedIn = false;

  constructor(
    readonly ep: Endpoint,
    readonly lim: Limits,
    private readonly creds: Credentials,
    private readonly mode: AuthMode,
    /** The SessionService's Sessions collection; null when the service has none. */
    public sessions: string | null,
    private readonly log: (line: string) => void,
  ) {}

  /** How this call authenticates ('session' or 'basic'), once logged in. */
  get auth(): 'session' | 'basic' {
    return this.token ? 'session' : 'basic';
  }

  private base(): Record<string, string> {
    return { accept: 'application/json', 'odata-version': '4.0', 'user-agent': 'kanri' };
  }

  private async raw(method: string, path: string, headers: Record<string, string>, body?: Json): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const r = await send(this.ep, this.lim, method, path, { ...this.base(), ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) }, payload);
    this.attempts += r.attempts;
    return r;
  }

  /** A GET without credentials (the service root is open to everyone). */
  async getPublic(path: string): Promise<Json> {
    let r = await this.raw('GET', path, {});
    if (r.status === 401) r = await this.raw('GET', path, await this.authHeaders());
    if (r.status < 200 || r.status >= 300) throw statusError(this.ep, 'GET', path, r);
    return parse(this.ep, 'GET', path, r);
  }

  private async login(): Promise<void> {
    this.loggedIn = true;
    const wantSession = this.mode === 'session' || (this.mode === 'auto' && this.sessions);
    if (wantSession && !this.sessions) {
      throw fail(this.ep, 'not-supported', 'auth=session, but the service has no SessionService');
    }
    if (wantSession) {
      const path = this.sessions!;
      const r = await this.raw('POST', path, {}, { UserName: this.creds.user, Password: this.creds.password() });
      if (r.status >= 200 && r.status < 300) {
        // Where the session lives, found first: a session made is ended, whatever else is wrong with the answer.
        let loc: string | undefined;
        try {
          loc = typeof r.headers.location === 'string' ? r.headers.location : link(parse(this.ep, 'POST', path, r));
        } catch {
          loc = undefined;
        }
        const uri = loc ? this.sessionPath(loc, path) : undefined;
        const token = r.headers['x-auth-token'];
        if (typeof token !== 'string' || !token || token.length > MAX_TOKEN) {
          const why = typeof token === 'string' && token.length > MAX_TOKEN ? `an X-Auth-Token of ${token.length} bytes (at most ${MAX_TOKEN})` : 'without an X-Auth-Token';
          if (uri) await this.endSession(uri, { authorization: `Basic ${Buffer.from(`${this.creds.user}:${this.creds.password()}`).toString('base64')}` });
          throw fail(this.ep, 'protocol', `POST ${path}: HTTP ${r.status} ${why}`);
        }
        this.token = token;
        if (uri) this.sessionUri = uri;
        else this.log(`${this.ep.machine}: the session has no Location on this service; it ends when it times out on the controller`);
        return;
      }
      // No sessions after all: basic authentication, as for a service without a SessionService.
      if (this.mode === 'auto' && [404, 405, 501].includes(r.status)) this.sessions = null;
      else throw statusError(this.ep, 'POST', path, r);
    }
    this.basic = `Basic ${Buffer.from(`${this.creds.user}:${this.creds.password()}`).toString('base64')}`;
  }

  private async authHeaders(): Promise<Record<string, string>> {
    if (!this.loggedIn) await this.login();
    return this.token ? { 'x-auth-token': this.token } : this.basic ? { authorization: this.basic } : {};
  }

  /** An authenticated request; statuses other than 2xx (and those in `allow`) are failures. */
  async request(method: string, path: string, body?: Json, o: { ifMatch?: string; allow?: number[] } = {}): Promise<Answer> {
    const r = await this.raw(method, path, { ...(await this.authHeaders()), ...(o.ifMatch ? { 'if-match': o.ifMatch } : {}) }, body);
    if ((r.status < 200 || r.status >= 300) && !o.allow?.includes(r.status)) throw statusError(this.ep, method, path, r);
    return { status: r.status, headers: r.headers, data: r.status === 204 ? {} : parse(this.ep, method, path, r) };
  }

  async get(path: string): Promise<Json> {
    return (await this.request('GET', path)).data;
  }

  /**
   * The session's path from its Location. A service may name itself in another form than the
   * one kanri uses (a host name for an address, a default port written out): a Location under
   * the Sessions collection is this service's whatever host it names — a session is never
   * somewhere else — so it is ended there instead of left open.
   */
  private sessionPath(loc: string, collection: string): string | undefined {
    try {
      return pathOf(this.ep, loc);
    } catch {
      try {
        const u = new URL(loc);
        if (u.pathname.startsWith(collection.replace(/\/?$/, '/'))) return u.pathname;
      } catch {
        // not a URL
      }
      this.log(`${this.ep.machine}: the session's Location ${printable(loc, 200)} is not under ${collection}; it ends when it times out on the controller`);
      return undefined;
    }
  }

  /** Ends the session on the controller; bounded even when the call's deadline has passed or it was canceled. */
  async close(): Promise<void> {
    if (!this.token || !this.sessionUri) return;
    const uri = this.sessionUri;
    const token = this.token;
    this.token = undefined;
    this.sessionUri = undefined;
    await this.endSession(uri, { 'x-auth-token': token });
  }

  private async endSession(uri: string, auth: Record<string, string>): Promise<void> {
    const now = Date.now();
    const lim: Limits = { deadline: now + 2000, requestTimeoutMs: 2000, retries: 1, signal: AbortSignal.timeout(2500) };
    try {
      const r = await send(this.ep, lim, 'DELETE', uri, { ...this.base(), ...auth });
      if (r.status >= 300 && r.status !== 404) this.log(`${this.ep.machine}: the session ${uri} could not be deleted (HTTP ${r.status}); it ends when it times out`);
    } catch (e) {
      this.log(`${this.ep.machine}: the session ${uri} could not be deleted (${(e as Error).message}); it ends when it times out`);
    }
  }
}
