// The definitions kanri keeps of its libvirt domains (table libvirt_domains): the one
// module that reads and writes it.
import type { Db } from '../../store/db.js';

export interface Volume { pool: string; volume: string }

export interface KeptDomain { machineId: number; serverId: number | null; domain: string; uuid: string | null; xml: string; volumes: Volume[] }

interface Row { machine_id: number; server_id: number | null; domain: string; uuid: string | null; xml: string; volumes: string }

export function keptDomain(db: Db, machineId: number): KeptDomain | undefined {
  const r = db.prepare('SELECT * FROM libvirt_domains WHERE machine_id = ?').get(machineId) as Row | undefined;
  return r && { machineId: r.machine_id, serverId: r.server_id, domain: r.domain, uuid: r.uuid, xml: r.xml, volumes: JSON.parse(r.volumes) as Volume[] };
}

export function keepDomain(db: Db, d: KeptDomain): void {
  db.prepare(
    `INSERT INTO libvirt_domains (machine_id, server_id, domain, uuid, xml, volumes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (machine_id) DO UPDATE SET server_id = excluded.server_id, domain = excluded.domain, uuid = excluded.uuid,
       xml = excluded.xml, volumes = excluded.volumes, updated_at = excluded.updated_at`,
  ).run(d.machineId, d.serverId, d.domain, d.uuid, d.xml, JSON.stringify(d.volumes), new Date().toISOString());
}

export function movedDomain(db: Db, machineId: number, serverId: number, xml?: string): void {
  if (xml === undefined) db.prepare('UPDATE libvirt_domains SET server_id = ?, updated_at = ? WHERE machine_id = ?').run(serverId, new Date().toISOString(), machineId);
  else db.prepare('UPDATE libvirt_domains SET server_id = ?, xml = ?, updated_at = ? WHERE machine_id = ?').run(serverId, xml, new Date().toISOString(), machineId);
}

export function forgetDomain(db: Db, machineId: number): void {
  db.prepare('DELETE FROM libvirt_domains WHERE machine_id = ?').run(machineId);
}
