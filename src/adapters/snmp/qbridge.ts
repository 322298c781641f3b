// IEEE 802.1Q Q-BRIDGE-MIB (RFC 4363) as the snmp driver uses it: the static VLAN table
// (name, egress and untagged PortLists of each VLAN) and each port's PVID. A PortList is
// an OCTET STRING with one bit per bridge port, port 1 the most significant bit of the
// first octet.
export const OID = {
  vlanName: (vid: number): string => `1.3.6.1.2.1.17.7.1.4.3.1.1.${vid}`,
  vlanNames: '1.3.6.1.2.1.17.7.1.4.3.1.1',
  egress: (vid: number): string => `1.3.6.1.2.1.17.7.1.4.3.1.2.${vid}`,
  untagged: (vid: number): string => `1.3.6.1.2.1.17.7.1.4.3.1.4.${vid}`,
  rowStatus: (vid: number): string => `1.3.6.1.2.1.17.7.1.4.3.1.5.${vid}`,
  pvid: (port: number): string => `1.3.6.1.2.1.17.7.1.4.5.1.1.${port}`,
} as const;

export function hasPort(list: Buffer, port: number): boolean {
  const i = Math.floor((port - 1) / 8);
  return i < list.length && (list[i]! & (0x80 >> ((port - 1) % 8))) !== 0;
}

/** A copy of the list with the port's bit set or cleared; lengthened with zero octets when needed. */
export function withPort(list: Buffer, port: number, on: boolean): Buffer {
  const i = Math.floor((port - 1) / 8);
  const out = Buffer.alloc(Math.max(list.length, i + 1));
  list.copy(out);
  if (on) out[i]! |= 0x80 >> ((port - 1) % 8);
  else out[i]! &= ~(0x80 >> ((port - 1) % 8)) & 0xff;
  return out;
}

/** Two PortLists name the same ports (a shorter one has no ports past its end). */
export function samePorts(a: Buffer, b: Buffer): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return false;
  return true;
}

export const portsText = (list: Buffer): string => {
  const ports: number[] = [];
  for (let p = 1; p <= list.length * 8; p++) if (hasPort(list, p)) ports.push(p);
  return ports.length ? ports.join(',') : 'none';
};
