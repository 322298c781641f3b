// A read of a peer's whole state shared by concurrent callers, each of whom needs a read
// that began after they asked (to see what they, or others before them, just changed):
// while one read runs, the callers that arrive share the next one, which starts when it ends.
export class FreshRead<T> {
  private running: Promise<T> | undefined;
  private next: Promise<T> | undefined;

  constructor(private readonly read: () => Promise<T>) {}

  /** The result of a read that starts no earlier than this call. */
  fresh(): Promise<T> {
    if (!this.running) return this.start();
    if (!this.next) {
      this.next = this.running.then(() => undefined, () => undefined).then(() => {
        this.next = undefined;
        return this.start();
      });
    }
    return this.next;
  }

  private start(): Promise<T> {
    const p: Promise<T> = this.read().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}
