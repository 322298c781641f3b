// Where a peer's management interface listens, as written in a setting: a unix socket
// (`unix:/run/haproxy/admin.sock` or just the path) or a TCP address (`tcp:host:port`
// or `host:port`, `[v6]:port`).
import { isIP } from 'node:net';

export type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseEndpoint(text: string, defaultPort?: number): Endpoint | string {
  const t = text.trim();
  if (t === '') return 'is empty';
  if (t.startsWith('unix:') || t.startsWith('/')) {
    const path = t.startsWith('unix:') ? t.slice(5) : t;
    if (!path.startsWith('/')) return `'${t}': a unix socket is an absolute path (unix:/path/to/socket)`;
    return { kind: 'unix', path };
  }
  const rest = t.startsWith('tcp:') ? t.slice(4) : t;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  if (!m) return `'${t}' is neither unix:/path nor tcp:host:port`;
  const host = m[1]!;
  if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) return `'${host}' is not a host name or address`;
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (port === undefined) return `'${t}' needs a port (tcp:host:port)`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `'${t}': the port must be from 1 to 65535`;
  return { kind: 'tcp', host, port };
}

export const endpointText = (e: Endpoint): string => (e.kind === 'unix' ? `unix:${e.path}` : `tcp:${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`);

/** Options for net.connect. */
export const connectOptions = (e: Endpoint): { path: string } | { host: string; port: number } => (e.kind === 'unix' ? { path: e.path } : { host: e.host, port: e.port });
