import type { TraceEvent } from '../../src/core/index.ts';

/** A miss of 1 ms on `base` outside any probe, with `over` (extra keys such as `batch_size` too) on top. */
export function traceEvent(over: Partial<TraceEvent> & { batch_size?: number } = {}): TraceEvent {
  return {
    ts: 1000,
    probe: null,
    view_id: 'base',
    prompt_hash: 'aaaaaaaaaaaa',
    top_k: 10,
    op: 'next_token_dist',
    wall_ms: 1,
    hit: false,
    ...over,
  } as TraceEvent;
}
