// Caches with a lifetime. A long-running process (the monitor) must not keep a DNS
// answer, a cipher-suite probe or a driver instance forever: every entry expires after
// its time to live, and dropCaches() empties every cache at once when the configuration
// changes (config apply, a new controller registration, SIGHUP).
const all = new Set<TtlCache<unknown, unknown>>();

export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number }>();

  constructor(readonly ttlMs: number, private readonly onDrop?: (value: V) => void) {
    all.add(this as TtlCache<unknown, unknown>);
  }

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (Date.now() >= e.expires) {
      this.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V, ttlMs = this.ttlMs): void {
    const old = this.entries.get(key);
    if (old && old.value !== value) this.onDrop?.(old.value);
    this.entries.set(key, { value, expires: Date.now() + ttlMs });
  }

  delete(key: K): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.onDrop?.(e.value);
  }

  clear(): void {
    for (const k of [...this.entries.keys()]) this.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Empties every cache of the process. */
export function dropCaches(): void {
  for (const c of all) c.clear();
}
