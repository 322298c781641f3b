// The parts of the net-snmp package (no published types) that the monitor uses.
declare module 'net-snmp' {
  export interface Varbind { oid: string; type: number; value: unknown }
  export interface Pdu {
    type: number;
    id?: number;
    varbinds: Varbind[];
    enterprise?: string;
    agentAddr?: string;
    generic?: number;
    specific?: number;
    upTime?: number;
    community?: string;
    user?: string;
  }
  export interface Notification { pdu: Pdu; rinfo: { address: string; family: string; port: number; size: number } }
  export interface User { name: string; level: number; authProtocol?: number; authKey?: string; privProtocol?: number; privKey?: string }
  export interface Authorizer {
    addCommunity(c: string): void;
    deleteCommunity(c: string): void;
    getCommunities(): string[];
    addUser(u: User): void;
    deleteUser(name: string): void;
    getUsers(): User[];
  }
  export interface Receiver {
    getAuthorizer(): Authorizer;
    close(cb?: (socket: unknown) => void): void;
    listener: { sockets: Record<string, import('node:dgram').Socket> };
  }
  export interface ReceiverOptions {
    port?: number; address?: string | null; transport?: string; disableAuthorization?: boolean; includeAuthentication?: boolean; engineID?: string;
    dgramModule?: { createSocket(type: 'udp4' | 'udp6'): import('node:dgram').Socket };
  }
  export interface Session {
    trap(typeOrOid: string | number, varbinds: Varbind[], options: Record<string, unknown> | string, cb: (e: Error | null) => void): void;
    on(event: 'error', cb: (e: Error) => void): void;
    close(): void;
  }
  export function createReceiver(o: ReceiverOptions, cb: (e: (Error & { rinfo?: { address: string; port: number }; name?: string }) | null, n: Notification | null) => void): Receiver;
  export function createSession(target: string, community: string, o?: Record<string, unknown>): Session;
  export function createV3Session(target: string, user: User, o?: Record<string, unknown>): Session;
  export const Version1: number;
  export const Version2c: number;
  export const Version3: number;
  export const PduType: Record<string, number>;
  export const ObjectType: Record<string, number>;
  export const TrapType: Record<string, number>;
  export const SecurityLevel: Record<string, number>;
  export const AuthProtocols: Record<string, number>;
  export const PrivProtocols: Record<string, number>;
  const snmp: {
    createReceiver: typeof createReceiver; createSession: typeof createSession; createV3Session: typeof createV3Session;
    Version1: number; Version2c: number; Version3: number; PduType: Record<string, number>; ObjectType: Record<string, number>;
    TrapType: Record<string, number>; SecurityLevel: Record<string, number>; AuthProtocols: Record<string, number>; PrivProtocols: Record<string, number>;
  };
  export default snmp;
}
