/** One cache lookup, as sway writes it: these eight keys, in this order. */
export interface TraceEvent {
  ts: number;
  probe: string | null;
  view_id: string;
  prompt_hash: string;
  top_k: number;
  op: string;
  wall_ms: number;
  hit: boolean;
}

/**
 * Ops traced beside the lookups that are not lookups: a model's `warmup` forward and the GPU circuit
 * breaker's state changes (`breaker`). Hit rates, batch sizes and latencies leave them out.
 */
export const NON_LOOKUP_OPS: ReadonlySet<string> = new Set(['warmup', 'breaker']);

/** sway's field order; the JSONL encoder writes these first and any extra keys after them. */
export const TRACE_FIELDS = [
  'ts',
  'probe',
  'view_id',
  'prompt_hash',
  'top_k',
  'op',
  'wall_ms',
  'hit',
] as const;

export interface TraceSink {
  write(event: TraceEvent): void;
  /** Push buffered events to their destination. */
  flush?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * The sink used when tracing is off. The instrumentation compares against this exact object and skips
 * building the event, so disabled tracing costs one branch per lookup.
 */
export const noopTraceSink: TraceSink = Object.freeze({
  write(): void {},
});

/** Keeps every event in an array (tests, short interactive sessions). */
export class MemoryTraceSink implements TraceSink {
  readonly events: TraceEvent[] = [];
  write(event: TraceEvent): void {
    this.events.push(event);
  }
}

/** Forwards each event to several sinks (stats, live feed, storage). */
export class TeeTraceSink implements TraceSink {
  constructor(private readonly sinks: readonly TraceSink[]) {}
  write(event: TraceEvent): void {
    for (const sink of this.sinks) sink.write(event);
  }
  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush?.()));
  }
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close?.()));
  }
}
