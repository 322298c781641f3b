// The schema component of the console claims (table console_claims; the claims themselves
// are in ./console-claims.ts). A module of its own because every store open loads it: it
// must not pull in node:crypto, which the claims need for their tokens and which costs
// several milliseconds of every pvmutl start-up.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE console_claims (
  machine_id INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  holder     TEXT NOT NULL,
  token      TEXT NOT NULL,
  since      TEXT NOT NULL,
  seen_at    TEXT NOT NULL
);
`;

export const COMPONENT: SchemaComponent = { name: 'console', migrations: [V1] };
