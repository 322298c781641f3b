// EventService subscriptions: a controller is subscribed to the event listener's URL
// (setting redfish.event_destination) with a random token as its Context, which the
// controller returns in every event it sends; the store keeps the subscription's URI and
// the token's hash (table redfish_event_subscriptions, schema.ts), never the token.
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../store/db.js';
import { settingText } from '../setting-reader.js';
import { REDFISH_SETTINGS } from './spec.js';
import { prepared } from '../../store/statements.js';
import { type CallOptions, type DriverContext, DriverError, type MachineRef } from '../types.js';
import { arr, link, pathOf } from './session.js';
import { type Controller, onController } from './target.js';

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

interface Row { machine_id: number; uri: string; destination: string; token_hash: string; created_at: string }

export function subscriptionOf(db: Db, machineId: number): Row | undefined {
  return db.prepare('SELECT * FROM redfish_event_subscriptions WHERE machine_id = ?').get(machineId) as Row | undefined;
}

export interface Subscriber { machineId: number; machine: string; address: string | null }

/** The registered Redfish controller an event's Context belongs to, if any. */
export function subscriberByToken(db: Db, token: string): Subscriber | undefined {
  const r = prepared(db, `SELECT m.id, m.name, m.bmc_address FROM redfish_event_subscriptions s JOIN machines m ON m.id = s.machine_id
    WHERE s.token_hash = ? AND m.mgmt_type = 'redfish'`).get(tokenHash(token)) as { id: number; name: string; bmc_address: string | null } | undefined;
  return r ? { machineId: r.id, machine: r.name, address: r.bmc_address } : undefined;
}

/** The listener URL controllers post to, checked. */
export function eventDestination(db: Db): string {
  const d = settingText(db, REDFISH_SETTINGS, 'redfish.event_destination')?.trim();
  if (!d) {
    throw new DriverError('no event listener to subscribe to: set redfish.event_destination (the HTTPS URL controllers post events to)', { layer: 'configuration' });
  }
  let u: URL;
  try {
    u = new URL(d);
  } catch {
    throw new DriverError(`redfish.event_destination is not a URL: '${d}'`, { layer: 'configuration' });
  }
  if (u.protocol !== 'https:') throw new DriverError(`redfish.event_destination must be an https:// URL (events carry the subscription's token), not '${d}'`, { layer: 'configuration' });
  return u.toString();
}

async function remove(c: Controller, old: Row): Promise<void> {
  await c.s.request('DELETE', pathOf(c.t.ep, old.uri), undefined, { allow: [404] });
  c.ctx.db.prepare('DELETE FROM redfish_event_subscriptions WHERE machine_id = ?').run(c.m.id);
}

export async function subscribeEvents(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<string> {
  const destination = eventDestination(ctx.db);
  return onController(ctx, m, o, async (c) => {
    const old = subscriptionOf(ctx.db, m.id);
    if (old) await remove(c, old);
    const esUri = c.eventService;
    if (!esUri) throw new DriverError(`${m.name}: not-supported error: the Redfish service has no EventService`, { layer: 'not-supported', detail: 'the Redfish service has no EventService' });
    const es = await c.s.get(c.path(esUri));
    if (es.ServiceEnabled === false) throw new DriverError(`${m.name}: controller error: the EventService is disabled on the controller`, { layer: 'controller', detail: 'the EventService is disabled on the controller' });
    const subs = link(es, 'Subscriptions');
    if (!subs) throw new DriverError(`${m.name}: not-supported error: the EventService has no Subscriptions collection`, { layer: 'not-supported', detail: 'the EventService has no Subscriptions collection' });
    const token = randomBytes(24).toString('hex');
    const types = arr(es, 'EventTypesForSubscription').filter((x): x is string => typeof x === 'string');
    const r = await c.s.request('POST', c.path(subs), {
      Destination: destination, Protocol: 'Redfish', Context: token, ...(types.length ? { EventTypes: types } : {}),
    });
    const loc = typeof r.headers.location === 'string' ? r.headers.location : link(r.data);
    if (!loc) throw new DriverError(`${m.name}: protocol error: the subscription was made but the service gave no Location`, { layer: 'protocol', detail: 'the subscription was made but the service gave no Location' });
    const uri = pathOf(c.t.ep, loc);
    ctx.db.prepare(`INSERT INTO redfish_event_subscriptions (machine_id, uri, destination, token_hash, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (machine_id) DO UPDATE SET uri = excluded.uri, destination = excluded.destination, token_hash = excluded.token_hash, created_at = excluded.created_at`)
      .run(m.id, uri, destination, tokenHash(token), new Date().toISOString());
    return `events subscribed: ${uri} -> ${destination}`;
  });
}

export async function unsubscribeEvents(ctx: DriverContext, m: MachineRef, o?: CallOptions): Promise<string> {
  const old = subscriptionOf(ctx.db, m.id);
  if (!old) return 'no event subscription';
  await onController(ctx, m, o, (c) => remove(c, old));
  return `events unsubscribed: ${old.uri}`;
}
