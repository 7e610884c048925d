import type { TraceEvent, TraceSink } from '../core/index.ts';

/**
 * Buffers trace events and hands them on in batches, at most once per `intervalMs` (200 ms: the UI
 * gets ≤ 5 messages a second however many lookups run), so the main thread never sees one message
 * per event.
 */
export class LiveFeedSink implements TraceSink {
  private buffer: TraceEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly deliver: (events: TraceEvent[]) => void,
    private readonly intervalMs = 200,
  ) {}

  write(event: TraceEvent): void {
    this.buffer.push(event);
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.deliver(batch);
  }

  close(): void {
    this.flush();
  }
}
