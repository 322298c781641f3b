// The UPS source's state (seed 004 L11134-11142: UPS生存確認 / UPS制御 / UPSイベント通知), as a
// schema component of its own: what each UPS last said, and whether the standard shutdown
// ran and waits for the power to return, so that a restart neither raises a change twice nor
// forgets to power the groups on.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE ups_state (
  ups              TEXT PRIMARY KEY,         -- NAME@HOST:PORT as monitor.ups names it
  status           TEXT NOT NULL CHECK (status IN ('unknown', 'online', 'on-battery', 'low-battery')),
  failures         INTEGER NOT NULL DEFAULT 0,
  unanswered       INTEGER NOT NULL DEFAULT 0,   -- kanriUPS[0x80000004] was raised
  on_battery_since TEXT,
  shut_down        INTEGER NOT NULL DEFAULT 0,   -- the standard shutdown ran: power on when power returns
  changed_at       TEXT
);
`;

export const COMPONENT: SchemaComponent = { name: 'ups', migrations: [V1] };
