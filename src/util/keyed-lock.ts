// One holder at a time per key (a backend's server, a switch), in this process: the
// peers' read-modify-write sequences of concurrent jobs must not interleave.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Whether someone holds or waits for `key`. */
  held(key: string): boolean {
    return this.tails.has(key);
  }

  /** Runs fn once every earlier holder of `key` has finished, and releases the key after it. */
  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
