#!/usr/bin/env node
// Which PostgreSQL client for the store: one round trip of a simple prepared query, measured
// on a private cluster (test/support/postgres.ts: initdb in a temporary directory, unix
// socket), for the synchronous libpq binding (npm libpq, Debian's libpq) and the asynchronous
// client (npm pg), with better-sqlite3 for scale. Median and 99th percentile of N sequential
// round trips after a warm-up; also the first connection (start-up cost of a command).
// Usage: node bench/pg-roundtrip.mjs [N]
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cleanup, load, tempDir, testSupport } from './support.mjs';

const require = createRequire(import.meta.url);
const N = Number(process.argv[2] ?? 2000);
const pgSupport = await testSupport('postgres');
const cluster = pgSupport.startCluster();
const conn = { host: cluster.socketDir, user: 'kanri', database: 'postgres' };

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${(q(0.5) * 1000).toFixed(0)} µs, p99 ${(q(0.99) * 1000).toFixed(0)} µs`;
}
const lines = [];
const report = (what, text) => { lines.push(`${what.padEnd(34)} ${text}`); };

try {
  // libpq, synchronous: the call returns with the row; nothing else runs meanwhile.
  {
    const Libpq = require('libpq');
    let t0 = process.hrtime.bigint();
    const pq = new Libpq();
    pq.connectSync(`host='${conn.host}' user='${conn.user}' dbname='${conn.database}'`);
    report('libpq connect (sync)', `${ms(t0).toFixed(2)} ms`);
    pq.prepare('q', 'SELECT $1::int + 1 AS n', 1);
    const once = (i) => {
      pq.execPrepared('q', [String(i)]);
      if (pq.resultStatus() !== 'PGRES_TUPLES_OK' || Number(pq.getvalue(0, 0)) !== i + 1) throw new Error('libpq: wrong answer');
    };
    for (let i = 0; i < 200; i++) once(i);
    const samples = [];
    for (let i = 0; i < N; i++) { t0 = process.hrtime.bigint(); once(i); samples.push(ms(t0)); }
    report('libpq execPrepared (sync)', stats(samples));
    pq.finish();
  }
  // pg, asynchronous: each round trip yields to the event loop.
  {
    const { Client } = require('pg');
    let t0 = process.hrtime.bigint();
    const client = new Client({ host: conn.host, user: conn.user, database: conn.database });
    await client.connect();
    report('pg connect (async)', `${ms(t0).toFixed(2)} ms`);
    const once = async (i) => {
      const r = await client.query({ name: 'q', text: 'SELECT $1::int + 1 AS n', values: [i] });
      if (r.rows[0].n !== i + 1) throw new Error('pg: wrong answer');
    };
    for (let i = 0; i < 200; i++) await once(i);
    const samples = [];
    for (let i = 0; i < N; i++) { t0 = process.hrtime.bigint(); await once(i); samples.push(ms(t0)); }
    report('pg prepared query (async)', stats(samples));
    await client.end();
  }
  // better-sqlite3, for scale: today's store.
  {
    const Database = require('better-sqlite3');
    const db = new Database(join(tempDir(), 'b.db'));
    const st = db.prepare('SELECT ? + 1 AS n');
    const samples = [];
    for (let i = 0; i < 200; i++) st.get(i);
    for (let i = 0; i < N; i++) { const t0 = process.hrtime.bigint(); st.get(i); samples.push(ms(t0)); }
    report('better-sqlite3 get (sync)', stats(samples));
    db.close();
  }
} finally {
  cluster.stop();
  await cleanup();
}
console.log(`round trip of a prepared query, N=${N}, unix socket, load average ${load()}`);
for (const l of lines) console.log(l);
