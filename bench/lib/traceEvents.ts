// Browser-safe: synthetic trace events with the shape the instrumentation emits.
import type { TraceEvent } from '../../src/core/index.ts';

/** `n` events like a suite's: alternating views, ~30% hits, a batch size on misses. */
export function syntheticEvents(
  n: number,
  t0Ms = 1_760_000_000_000,
): (TraceEvent & { batch_size?: number })[] {
  const out: (TraceEvent & { batch_size?: number })[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const hit = i % 10 < 3;
    const e: TraceEvent & { batch_size?: number } = {
      ts: (t0Ms + i * 0.7) / 1000,
      probe: `delta_kl_${(i % 4) + 1}`,
      view_id: i % 2 === 0 ? 'base' : 'ft',
      prompt_hash: ((i * 2654435761) >>> 0).toString(16).padStart(12, '0').slice(-12),
      top_k: 256,
      op: 'next_token_dist',
      wall_ms: hit ? 0.004 : 1.7 + (i % 13) * 0.11,
      hit,
    };
    if (!hit) e.batch_size = 16;
    out[i] = e;
  }
  return out;
}
