// A task of a long-running process run now and then again every interval after each run
// ended (never two at once), until stop(): the monitor's SNMP checks, UPS reads and alert mail queue.
// The timer does not keep the process alive; stop() aborts the running task's signal and
// waits for it to end.
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private ctl = new AbortController();

  constructor(private readonly task: (signal: AbortSignal) => Promise<void>, private readonly onError: (e: Error) => void) {}

  /** Runs the task now and every intervalMs after it ends (0 or less: never). */
  start(intervalMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.ctl = new AbortController();
    if (!(intervalMs > 0)) return;
    const { signal } = this.ctl;
    const loop = (): void => {
      this.running = this.task(signal).catch((e: unknown) => this.onError(e as Error)).finally(() => {
        this.running = undefined;
        if (!signal.aborted) {
          this.timer = setTimeout(loop, intervalMs);
          this.timer.unref();
        }
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.ctl.abort(new Error('the monitor is stopping'));
    await this.running;
  }
}
