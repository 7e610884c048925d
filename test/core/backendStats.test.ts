// Counterparts of sway's TestBackendStats (seed 000).
import { describe, expect, it } from 'vitest';
import { BackendStats } from '../../src/core/index.ts';

describe('BackendStats (sway TestBackendStats)', () => {
  it('test_hit_rate_zero_when_empty', () => {
    expect(new BackendStats().hitRate).toBe(0);
  });

  it('test_to_dict_shape', () => {
    const s = new BackendStats({ cacheHits: 3, cacheMisses: 7, forwardPasses: 7, scoringWallS: 1.5 });
    const d = s.toDict();
    expect(d.cache_hits).toBe(3);
    expect(d.cache_misses).toBe(7);
    expect(d.forward_passes).toBe(7);
    expect(d.scoring_wall_s).toBeCloseTo(1.5);
    expect(d.hit_rate).toBeCloseTo(0.3);
  });

  it('test_avg_batch_size_zero_when_empty', () => {
    const s = new BackendStats();
    expect(s.avgBatchSize).toBe(0);
    expect(s.toDict().avg_batch_size).toBe(0);
  });

  it('test_batch_counters_surface_in_to_dict', () => {
    const s = new BackendStats({ batchesSent: 2, batchedPrompts: 12, maxBatchSize: 8 });
    const d = s.toDict();
    expect(d.batches_sent).toBe(2);
    expect(d.batched_prompts).toBe(12);
    expect(d.max_batch_size).toBe(8);
    expect(d.avg_batch_size).toBeCloseTo(6.0);
  });

  it("toDict keys are sway's, in sway's order", () => {
    expect(Object.keys(new BackendStats().toDict())).toEqual([
      'cache_hits',
      'cache_misses',
      'forward_passes',
      'scoring_wall_s',
      'hit_rate',
      'batches_sent',
      'batched_prompts',
      'max_batch_size',
      'avg_batch_size',
    ]);
  });

  it('reset zeroes every counter', () => {
    const s = new BackendStats({ cacheHits: 1, cacheMisses: 2, batchesSent: 3, maxBatchSize: 4 });
    s.reset();
    expect(Object.values(s.toDict()).every((v) => v === 0)).toBe(true);
  });
});
