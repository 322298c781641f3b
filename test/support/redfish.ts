// Real Redfish peers on free loopback ports for the redfish driver's tests: the
// sushy-tools emulator (dynamic power and indicator, backed by the libvirt test driver,
// basic auth from an htpasswd file) and DMTF's Redfish Mockup Server with the
// public-rackmount1 mockup (LogServices, Sensors, SessionService, EventService with
// SubmitTestEvent), both over HTTPS with throw-away certificates made here with openssl;
// a TCP server that accepts and never answers; redfishtool to cross-check.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort as freePort } from './daemon.js';

// Not from store.ts: the benchmark loads this helper outside vitest.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const PYTHON = '/usr/bin/python3';
/** The peers folder next to the repository (../shared/peers), else the main checkout's. */
// Next to the project root only (as ../shared/peers/README.md describes): never a path of one machine.
export const PEERS = join(ROOT, '..', 'shared', 'peers');
export const SUSHY_DIR = join(PEERS, 'redfish', 'sushy-tools');
export const MOCKUP_DIR = join(PEERS, 'redfish', 'mockup-server');

/** Whether the Python side of the peers is usable (modules and the peers folder). */
export function redfishPeersMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(join(SUSHY_DIR, 'sushy_tools'))) return `sushy-tools not found under ${PEERS}`;
  if (!existsSync(join(MOCKUP_DIR, 'redfishMockupServer.py'))) return `the Redfish mockup server not found under ${PEERS}`;
  try {
    execFileSync(PYTHON, ['-c', 'import flask, requests, bcrypt, libvirt, tenacity, webob'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return 'python3 modules flask, requests, bcrypt, libvirt, tenacity or webob missing (scripts/peers.sh)';
  }
  return undefined;
}

export interface Certs {
  dir: string;
  /** The test CA. */
  caCert: string;
  /** A server certificate for IP 127.0.0.1 signed by the test CA, and its key. */
  caSigned: { cert: string; key: string; fingerprint: string };
  /** A self-signed certificate for IP 127.0.0.1, and its key. */
  selfSigned: { cert: string; key: string; fingerprint: string };
  /** Another CA, which signed nothing used here. */
  otherCa: string;
}

const sh = (args: string[], cwd: string): void => { execFileSync('openssl', args, { cwd, stdio: 'ignore', timeout: 30_000 }); };

export function fingerprintOf(certPath: string): string {
  // "sha256 Fingerprint=AB:CD:…"
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certPath], { encoding: 'utf8' });
  return `SHA256:${out.trim().split('=')[1]!.toUpperCase()}`;
}

/** Throw-away certificates (EC P-256: fast to make) in a temporary directory. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-rf-certs-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  sh(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=kanri test CA'], dir);
  sh(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=some other CA'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  sh(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext'], dir);
  sh(['req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], dir);
  const p = (f: string): string => join(dir, f);
  return {
    dir, caCert: p('ca.pem'), otherCa: p('other-ca.pem'),
    caSigned: { cert: p('server.pem'), key: p('server.key'), fingerprint: fingerprintOf(p('server.pem')) },
    selfSigned: { cert: p('self.pem'), key: p('self.key'), fingerprint: fingerprintOf(p('self.pem')) },
  };
}

export interface Peer {
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** A GET that does not check the certificate: only to see that a peer answers. */
function probe(port: number, path: string, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: ms }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startPython(name: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; port: number; dir: string; path: string }): Promise<Peer> {
  // The output goes to a file, not a pipe: while a test waits in spawnSync nobody would read
  // a pipe, and a peer that logs every request would block on a full one.
  const logFile = join(opts.dir, `${name.replace(/\W+/g, '-')}-${opts.port}.log`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(PYTHON, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let exited = false;
  child.once('exit', () => { exited = true; });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await Promise.race([gone, sleep(2000)]);
      }
    }
  };
  const stop = async (): Promise<void> => {
    await kill();
    rmSync(opts.dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    if (exited) break;
    if ((await probe(opts.port, opts.path, 1000)) > 0) return { port: opts.port, dir: opts.dir, log, stop };
    await sleep(100);
  }
  await kill();
  throw new Error(`${name} did not answer on 127.0.0.1:${opts.port} within 30 s:\n${log().slice(-4000)}`);
}

export interface SushyOptions {
  cert: string;
  key: string;
  users: Record<string, string>;
  /** The libvirt URI (default test:///default: one system "test" whose state lasts). */
  libvirt?: string;
  /** More lines of the emulator's configuration (Python), e.g. SUSHY_EMULATOR_STORAGE. */
  config?: string[];
}

/** The sushy-tools emulator over HTTPS with basic auth (bcrypt htpasswd). */
export async function startSushy(o: SushyOptions): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-sushy-'));
  const htpasswd = join(dir, 'htpasswd');
  const lines = Object.entries(o.users).map(([u, p]) => {
    const hash = execFileSync(PYTHON, ['-c', 'import bcrypt,sys; print(bcrypt.hashpw(sys.stdin.buffer.read(), bcrypt.gensalt(rounds=4)).decode())'], { input: p, encoding: 'utf8' }).trim();
    return `${u}:${hash}`;
  });
  writeFileSync(htpasswd, lines.join('\n') + '\n', { mode: 0o600 });
  for (let i = 0; ; i++) {
    const port = await freePort();
    const conf = join(dir, 'emu.conf');
    writeFileSync(conf, [
      "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'",
      `SUSHY_EMULATOR_LISTEN_PORT = ${port}`,
      `SUSHY_EMULATOR_LIBVIRT_URI = '${o.libvirt ?? 'test:///default'}'`,
      `SUSHY_EMULATOR_AUTH_FILE = '${htpasswd}'`,
      `SUSHY_EMULATOR_SSL_CERT = '${o.cert}'`,
      `SUSHY_EMULATOR_SSL_KEY = '${o.key}'`,
      ...(o.config ?? []),
      '',
    ].join('\n'));
    try {
      return await startPython('sushy-emulator', ['-m', 'sushy_tools.emulator.main', '--config', conf], { cwd: dir, env: { PYTHONPATH: SUSHY_DIR }, port, dir, path: '/redfish/v1/' });
    } catch (e) {
      // A free port may be taken between probing and binding: a few tries.
      if (i >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    }
  }
}

/** A libvirt test-driver node file with `names` as domains (running); their state does not outlast a connection. */
export function libvirtNode(dir: string, names: string[]): string {
  const doms = names.map((n, i) => `<domain type="test"><name>${n}</name><uuid>00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}</uuid>`
    + '<memory>1048576</memory><vcpu>1</vcpu><os><type arch="x86_64">hvm</type></os></domain>').join('\n');
  const f = join(dir, 'node.xml');
  writeFileSync(f, `<node>\n${doms}\n</node>\n`);
  return `test://${f}`;
}

export interface MockupOptions {
  cert: string;
  key: string;
  /** CA bundle the server trusts when it delivers events over HTTPS (the listener's CA). */
  eventsCa?: string;
  /** Another mockup directory (absolute), e.g. a copy of public-rackmount1 changed by a test. */
  mockup?: string;
}

/** DMTF's Redfish Mockup Server with public-rackmount1 over HTTPS. */
export async function startMockup(o: MockupOptions): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-mockup-'));
  const port = await freePort();
  return startPython('redfish mockup server', ['-u', 'redfishMockupServer.py', '-D', o.mockup ?? 'public-rackmount1', '-S', '-H', '127.0.0.1', '-p', String(port), '-s', '--cert', o.cert, '--key', o.key], {
    cwd: MOCKUP_DIR, env: { PYTHONPATH: join(MOCKUP_DIR, 'compat'), ...(o.eventsCa ? { REQUESTS_CA_BUNDLE: o.eventsCa } : {}), NO_PROXY: '*', no_proxy: '*' }, port, dir, path: '/redfish/v1/',
  });
}

/** A TCP server that accepts connections and never answers (a hung controller). */
export async function tcpBlackHole(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  let n = 0;
  const srv: Server = createServer((s) => { n++; sockets.push(s); s.on('error', () => undefined); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const a = srv.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    accepted: () => n,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
}

export interface Tool { code: number; stdout: string; stderr: string }

/** redfishtool against 127.0.0.1:port (it does not check certificates), as an independent client. */
export interface Answer { status: number; body: string }

/** An HTTPS request to a peer on 127.0.0.1 that trusts only the given CA (JSON body). */
export function httpsRequest(port: number, method: string, path: string, ca: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = https.request({ host: '127.0.0.1', port, method, path, ca: readFileSync(ca), timeout: 10_000, headers: { ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

/** A resource as redfishtool reads it (an independent client), parsed. */
export async function redfishJson(port: number, user: string, password: string, path: string): Promise<Record<string, unknown>> {
  const r = await redfishtool(port, user, password, ['raw', 'GET', path]);
  if (r.code !== 0) throw new Error(`redfishtool GET ${path}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export function redfishtool(port: number, user: string, password: string, args: string[], timeoutMs = 30_000): Promise<Tool> {
  return new Promise((resolve) => {
    execFile('redfishtool', ['-r', `127.0.0.1:${port}`, '-u', user, '-p', password, '-S', 'Always', '-T', '10', ...args], { timeout: timeoutMs, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** A 0600 file with curl's basic-auth setting, so that no password is on a command line. */
export function curlAuthFile(dir: string, user: string, password: string): string {
  const f = join(dir, `curl-${user}.conf`);
  writeFileSync(f, `user = "${user}:${password}"\n`, { mode: 0o600 });
  return f;
}

