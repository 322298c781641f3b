// The servers kanri registered (table haproxy_servers): the store's side of a backend.
import { prepared } from '../../store/statements.js';
import type { Db } from '../../store/db.js';

export interface Member {
  socket: string;
  backend: string;
  server: string;
  machineId: number | null;
  groupId: number | null;
  address: string;
  port: number;
  state: 'member' | 'leaving';
  jobId: number | null;
}

interface Row { socket: string; backend: string; server: string; machine_id: number | null; group_id: number | null; address: string; port: number; state: Member['state']; job_id: number | null }

const toMember = (r: Row): Member => ({
  socket: r.socket, backend: r.backend, server: r.server, machineId: r.machine_id, groupId: r.group_id, address: r.address, port: r.port, state: r.state, jobId: r.job_id,
});

export function members(db: Db, socket: string, backend: string): Member[] {
  return (prepared(db, 'SELECT * FROM haproxy_servers WHERE socket = ? AND backend = ? ORDER BY server').all(socket, backend) as Row[]).map(toMember);
}

export function member(db: Db, socket: string, backend: string, server: string): Member | undefined {
  const r = prepared(db, 'SELECT * FROM haproxy_servers WHERE socket = ? AND backend = ? AND server = ?').get(socket, backend, server) as Row | undefined;
  return r && toMember(r);
}

export function putMember(db: Db, m: Member): void {
  prepared(db, 
    `INSERT INTO haproxy_servers (socket, backend, server, machine_id, group_id, address, port, state, job_id, changed_at)
     VALUES (@socket, @backend, @server, @machineId, @groupId, @address, @port, @state, @jobId, @at)
     ON CONFLICT (socket, backend, server) DO UPDATE SET machine_id = excluded.machine_id, group_id = excluded.group_id,
       address = excluded.address, port = excluded.port, state = excluded.state, job_id = excluded.job_id, changed_at = excluded.changed_at`,
  ).run({ ...m, at: new Date().toISOString() });
}

export function setMemberState(db: Db, socket: string, backend: string, server: string, state: Member['state'], jobId: number | null): void {
  prepared(db, 'UPDATE haproxy_servers SET state = ?, job_id = ?, changed_at = ? WHERE socket = ? AND backend = ? AND server = ?')
    .run(state, jobId, new Date().toISOString(), socket, backend, server);
}

export function dropMember(db: Db, socket: string, backend: string, server: string): void {
  prepared(db, 'DELETE FROM haproxy_servers WHERE socket = ? AND backend = ? AND server = ?').run(socket, backend, server);
}

/** Whether the machine a member was registered for is still active in the group it was registered from. */
export function stillActive(db: Db, m: Member): boolean {
  if (m.machineId === null || m.groupId === null) return false;
  const r = prepared(db, 'SELECT group_id FROM machines WHERE id = ?').get(m.machineId) as { group_id: number | null } | undefined;
  return r?.group_id === m.groupId;
}
