/**
 * Runs one job at a time, latest request wins: a request made while a job is in flight replaces any
 * request already waiting, and runs when the job in flight settles. A λ slider dragged across fifty
 * positions during one compare therefore costs two compares (the one running and the newest
 * position), never one per position.
 */
export class LatestWins<T> {
  private running = false;
  private waiting: { arg: T } | null = null;

  constructor(private readonly job: (arg: T) => Promise<void>) {}

  /** Whether a job is in flight. */
  get busy(): boolean {
    return this.running;
  }

  request(arg: T): void {
    if (this.running) {
      this.waiting = { arg };
      return;
    }
    void this.start(arg);
  }

  /** Forgets the waiting request (the job in flight still finishes). */
  drop(): void {
    this.waiting = null;
  }

  private async start(arg: T): Promise<void> {
    this.running = true;
    try {
      await this.job(arg);
    } catch {
      // The job reports its own errors; a failure must not stop the newest request from running.
    } finally {
      this.running = false;
      const next = this.waiting;
      this.waiting = null;
      if (next !== null) void this.start(next.arg);
    }
  }
}
