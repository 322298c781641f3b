// The redfish driver's tables, as a schema component of its own (store/components.ts):
// the EventService subscription made for each controller, with the hash of the token the
// controller returns in every event (Context), by which the event listener knows it.
import type { SchemaComponent } from '../../store/components.js';

const V1 = `
CREATE TABLE redfish_event_subscriptions (
  machine_id  INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  uri         TEXT NOT NULL,
  destination TEXT NOT NULL,
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL
);
`;

export const COMPONENT: SchemaComponent = { name: 'redfish', migrations: [V1] };
