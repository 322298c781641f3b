// BMC user accounts (IPMI 2.0 §22.26–22.30).
import type { Session } from '../session.js';
import { privilegeName } from '../session.js';

export interface BmcUser {
  id: number;
  name: string;
  /** Channel privilege limit (2 USER, 3 OPERATOR, 4 ADMINISTRATOR, 15 NO ACCESS). */
  privilege: number;
  privilegeName: string;
  ipmiMessaging: boolean;
  linkAuth: boolean;
  callbackOnly: boolean;
  /** From the enabled-user bookkeeping of Get User Access where the BMC reports it. */
  enabled?: boolean;
}

export interface UserAccessHeader { maxUsers: number; enabledUsers: number; fixedNames: number }

export async function getUserAccess(s: Session, channel: number, id: number) {
  const r = await s.request(0x06, 0x44, Buffer.from([channel & 0x0f, id & 0x3f]), { step: 'Get User Access' });
  const d = r.data;
  const b = (i: number) => (i < d.length ? d.readUInt8(i) : 0);
  return {
    header: { maxUsers: b(0) & 0x3f, enabledUsers: b(1) & 0x3f, fixedNames: b(2) & 0x3f } as UserAccessHeader,
    enabledStatus: (b(1) >> 6) & 3,
    callbackOnly: (b(3) & 0x40) !== 0,
    linkAuth: (b(3) & 0x20) !== 0,
    ipmiMessaging: (b(3) & 0x10) !== 0,
    privilege: b(3) & 0x0f,
  };
}

export async function getUserName(s: Session, id: number): Promise<string> {
  const r = await s.request(0x06, 0x46, Buffer.from([id & 0x3f]), { step: 'Get User Name', allow: [0xcc, 0xcb] });
  if (r.cc !== 0) return '';
  return r.data.subarray(0, 16).toString('latin1').replace(/\0.*$/s, '');
}

/** Lists user slots 1..max that have a name or any access (empty slots are skipped). */
export async function listUsers(s: Session, channel = 1): Promise<BmcUser[]> {
  const first = await getUserAccess(s, channel, 1);
  const out: BmcUser[] = [];
  for (let id = 1; id <= first.header.maxUsers; id++) {
    const a = id === 1 ? first : await getUserAccess(s, channel, id);
    const name = await getUserName(s, id);
    if (!name && !a.ipmiMessaging && (a.privilege === 0 || a.privilege === 0x0f)) continue;
    const u: BmcUser = { id, name, privilege: a.privilege, privilegeName: privilegeName(a.privilege), ipmiMessaging: a.ipmiMessaging, linkAuth: a.linkAuth, callbackOnly: a.callbackOnly };
    if (a.enabledStatus === 1) u.enabled = true;
    else if (a.enabledStatus === 2) u.enabled = false;
    out.push(u);
  }
  return out;
}

export async function setUserName(s: Session, id: number, name: string): Promise<void> {
  const n = Buffer.alloc(16);
  const src = Buffer.from(name, 'latin1');
  if (src.length > 16) throw new RangeError('BMC user names are at most 16 bytes');
  src.copy(n);
  await s.request(0x06, 0x45, Buffer.concat([Buffer.from([id & 0x3f]), n]), { step: 'Set User Name' });
}

/** Sets a 20-byte (IPMI 2.0) password. The password is never part of an error message. */
export async function setUserPassword(s: Session, id: number, password: Buffer | string): Promise<void> {
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (pw.length > 20) throw new RangeError('IPMI 2.0 passwords are at most 20 bytes');
  const field = Buffer.alloc(20);
  pw.copy(field);
  try {
    await s.request(0x06, 0x47, Buffer.concat([Buffer.from([0x80 | (id & 0x3f), 0x02]), field]), { step: 'Set User Password', retries: 0 });
  } finally {
    field.fill(0);
  }
}

export async function setUserEnabled(s: Session, id: number, enabled: boolean): Promise<void> {
  await s.request(0x06, 0x47, Buffer.from([id & 0x3f, enabled ? 0x01 : 0x00]), { step: enabled ? 'Enable User' : 'Disable User' });
}

export interface UserAccessSettings {
  privilege: 'user' | 'operator' | 'administrator' | 'no-access' | 'callback';
  ipmiMessaging?: boolean;
  linkAuth?: boolean;
  callbackOnly?: boolean;
}

export async function setUserAccess(s: Session, channel: number, id: number, a: UserAccessSettings): Promise<void> {
  const priv = { callback: 1, user: 2, operator: 3, administrator: 4, 'no-access': 0x0f }[a.privilege];
  const b0 = 0x80 | (a.callbackOnly ? 0x40 : 0) | (a.linkAuth ? 0x20 : 0) | (a.ipmiMessaging ?? true ? 0x10 : 0) | (channel & 0x0f);
  await s.request(0x06, 0x43, Buffer.from([b0, id & 0x3f, priv, 0]), { step: 'Set User Access' });
}
