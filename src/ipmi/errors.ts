// One error class for the whole library. Callers branch on `layer` (the ipmi driver turns
// it into the driver contract's failure layer, which each front end maps to its own codes;
// the library knows no front end) and print `message`, which names the layer and the next
// step. Secrets never reach a message: only user names, hosts and codes are formatted in.

export type IpmiErrorLayer =
  | 'network' // unreachable, timed out, deadline passed, cancelled
  | 'authentication' // wrong user or password (RAKP status or RAKP2 HMAC mismatch)
  | 'cipher' // requested cipher suite not offered by the BMC
  | 'privilege' // account or channel limited below the privilege the operation needs
  | 'completion-code' // the BMC answered a command with a non-zero completion code
  | 'protocol'; // malformed or unexpected answer

export interface IpmiErrorDetails {
  host?: string;
  port?: number;
  /** IPMI completion code or RAKP status code, when one caused the error. */
  code?: number;
  /** Meaning of `code`. */
  codeText?: string;
  /** Cipher suites the BMC offers (layer 'cipher'). */
  offeredSuites?: number[];
  /** Set when the network error was a cancellation through an AbortSignal. */
  aborted?: boolean;
  /** What the driver was doing, e.g. 'open session', 'Get Chassis Status'. */
  step?: string;
  /** Transmissions of the request that failed (network errors). */
  attempts?: number;
}

export class IpmiError extends Error {
  override readonly name = 'IpmiError';
  readonly layer: IpmiErrorLayer;
  readonly host?: string;
  readonly port?: number;
  readonly code?: number;
  readonly codeText?: string;
  readonly offeredSuites?: number[];
  readonly aborted?: boolean;
  readonly step?: string;
  readonly attempts?: number;

  constructor(layer: IpmiErrorLayer, message: string, details: IpmiErrorDetails = {}) {
    const where = details.host ? `${details.host}${details.port && details.port !== 623 ? ':' + details.port : ''}: ` : '';
    super(`${where}${layer}: ${message}`);
    this.layer = layer;
    if (details.host !== undefined) this.host = details.host;
    if (details.port !== undefined) this.port = details.port;
    if (details.code !== undefined) this.code = details.code;
    if (details.codeText !== undefined) this.codeText = details.codeText;
    if (details.offeredSuites !== undefined) this.offeredSuites = details.offeredSuites;
    if (details.aborted !== undefined) this.aborted = details.aborted;
    if (details.step !== undefined) this.step = details.step;
    if (details.attempts !== undefined) this.attempts = details.attempts;
  }

  /** A plain object for --json output and for the job journal. */
  toJSON(): Record<string, unknown> {
    return {
      layer: this.layer, message: this.message, host: this.host, port: this.port, code: this.code,
      codeText: this.codeText, offeredSuites: this.offeredSuites, aborted: this.aborted, step: this.step,
    };
  }
}

export function isIpmiError(e: unknown): e is IpmiError {
  return e instanceof IpmiError;
}

const COMPLETION_CODES: Record<number, string> = {
  0x00: 'command completed normally',
  0xc0: 'node busy',
  0xc1: 'invalid command (not supported by this BMC)',
  0xc2: 'command invalid for given LUN',
  0xc3: 'timeout while processing command',
  0xc4: 'out of space',
  0xc5: 'reservation canceled or invalid reservation ID',
  0xc6: 'request data truncated',
  0xc7: 'request data length invalid',
  0xc8: 'request data field length limit exceeded',
  0xc9: 'parameter out of range',
  0xca: 'cannot return number of requested data bytes',
  0xcb: 'requested sensor, data, or record not present',
  0xcc: 'invalid data field in request',
  0xcd: 'command illegal for specified sensor or record type',
  0xce: 'command response could not be provided',
  0xcf: 'cannot execute duplicated request',
  0xd0: 'SDR repository in update mode',
  0xd1: 'device in firmware update mode',
  0xd2: 'BMC initialization in progress',
  0xd3: 'destination unavailable',
  0xd4: 'insufficient privilege level',
  0xd5: 'command not supported in present state',
  0xd6: 'command sub-function disabled or unavailable',
  0xff: 'unspecified error',
};

export function completionCodeText(cc: number, perCommand?: Record<number, string>): string {
  const own = perCommand?.[cc];
  if (own) return own;
  const generic = COMPLETION_CODES[cc];
  if (generic) return generic;
  if (cc >= 0x01 && cc <= 0x7e) return 'device-specific (OEM) completion code';
  if (cc >= 0x80 && cc <= 0xbe) return 'command-specific completion code';
  return 'unknown completion code';
}

// IPMI 2.0 table 13-15: RMCP+ and RAKP message status codes.
export const RAKP_STATUS: Record<number, string> = {
  0x00: 'no errors',
  0x01: 'insufficient resources to create a session',
  0x02: 'invalid session ID',
  0x03: 'invalid payload type',
  0x04: 'invalid authentication algorithm',
  0x05: 'invalid integrity algorithm',
  0x06: 'no matching authentication payload',
  0x07: 'no matching integrity payload',
  0x08: 'inactive session ID',
  0x09: 'invalid role',
  0x0a: 'unauthorized role or privilege level requested',
  0x0b: 'insufficient resources to create a session at the requested role',
  0x0c: 'invalid name length',
  0x0d: 'unauthorized name',
  0x0e: 'unauthorized GUID',
  0x0f: 'invalid integrity check value',
  0x10: 'invalid confidentiality algorithm',
  0x11: 'no cipher suite match with proposed security algorithms',
  0x12: 'illegal or unrecognized parameter',
};

export function rakpStatusText(code: number): string {
  return RAKP_STATUS[code] ?? `unknown RMCP+ status 0x${code.toString(16)}`;
}

/** Which layer a non-zero RMCP+/RAKP status code belongs to. */
export function rakpStatusLayer(code: number): IpmiErrorLayer {
  switch (code) {
    case 0x04: case 0x05: case 0x06: case 0x07: case 0x10: case 0x11:
      return 'cipher';
    case 0x09: case 0x0a:
      return 'privilege';
    case 0x0c: case 0x0d: case 0x0e: case 0x0f:
      return 'authentication';
    default:
      return 'protocol';
  }
}

export function hex(n: number, width = 2): string {
  return '0x' + n.toString(16).padStart(width, '0');
}
