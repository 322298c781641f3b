// Preloaded (node -r) by bench/store-roundtrips.mjs into a kanri command: counts its round
// trips to PostgreSQL — each exec, execParams, prepare, execPrepared and pipeline Sync of the
// libpq binding — and what each ran, and appends them as one JSON line to KANRI_RT_FILE at exit.
// It wraps the binding from outside, so that it counts a checkout without PostgresDb.roundTrips too:
// the addon's native methods ($exec, …), which the package's wrappers call (a checkout that used
// them) and src/store/libpq.ts calls directly.
const { createRequire } = require('node:module');
const { appendFileSync } = require('node:fs');
const PQ = createRequire(`${process.env.KANRI_RT_ROOT}/`)('libpq');
const counts = new Map();
const texts = new Map();
let total = 0;
for (const m of ['exec', 'execParams', 'prepare', 'execPrepared', 'sendQueryParams', 'sendQueryPrepared', 'pipelineSync']) {
  const orig = PQ.prototype[`$${m}`];
  if (typeof orig !== 'function') continue;
  PQ.prototype[`$${m}`] = function (...a) {
    // A pipeline's statements travel together: its Sync is the round trip.
    if (!m.startsWith('send')) total++;
    if (m === 'prepare') texts.set(a[0], a[1]);
    const what = m === 'pipelineSync' ? undefined : m.endsWith('Prepared') ? texts.get(a[0]) ?? a[0] : a[m === 'prepare' ? 1 : 0];
    if (what !== undefined) {
      const key = `${m}: ${String(what).replace(/\s+/g, ' ')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return orig.apply(this, a);
  };
}
process.on('exit', () => {
  if (process.env.KANRI_RT_FILE) appendFileSync(process.env.KANRI_RT_FILE, `${JSON.stringify({ argv: process.argv.slice(2), total, counts: [...counts].sort((a, b) => b[1] - a[1]) })}\n`);
});
