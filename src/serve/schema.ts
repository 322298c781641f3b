// kanri serve's tables, as a schema component of its own (store/components.ts): the API's
// bearer tokens, kept only as the SHA-256 of the token (a token is 256 random bits, so a
// fast hash is enough and a lookup per request stays cheap), with the level they grant.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE serve_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  level        TEXT NOT NULL CHECK (level IN ('administrator', 'operator')),
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL,
  last_used_at TEXT
);
`;

export const COMPONENT: SchemaComponent = { name: 'serve', migrations: [V1] };
