// Counterparts of sway's TestBackendInstrumentationCached and TestBackendInstrumentationCachedBatch
// (seed 000), adapted to async compute functions.
import { describe, expect, it } from 'vitest';
import { BackendError, BackendInstrumentation, MemoryTraceSink } from '../../src/core/index.ts';

const value =
  <T>(v: T) =>
  async (): Promise<T> =>
    v;

describe('BackendInstrumentation.cached (sway TestBackendInstrumentationCached)', () => {
  it('test_miss_then_hit', async () => {
    const inst = new BackendInstrumentation();
    let calls = 0;
    const compute = async () => {
      calls += 1;
      return 'computed';
    };
    const v1 = await inst.cached('next_token_dist', 'base', 'prompt', 32, compute);
    const v2 = await inst.cached('next_token_dist', 'base', 'prompt', 32, compute);
    expect(v1).toBe('computed');
    expect(v2).toBe('computed');
    expect(calls).toBe(1);
    expect(inst.stats.cacheHits).toBe(1);
    expect(inst.stats.cacheMisses).toBe(1);
    expect(inst.stats.forwardPasses).toBe(1);
  });

  it('test_view_id_isolates_cache_entries', async () => {
    const inst = new BackendInstrumentation();
    const hits: string[] = [];
    const vBase = await inst.cached('next_token_dist', 'base', 'p', 32, async () => {
      hits.push('base');
      return 'base_value';
    });
    const vFt = await inst.cached('next_token_dist', 'ft', 'p', 32, async () => {
      hits.push('ft');
      return 'ft_value';
    });
    expect(vBase).toBe('base_value');
    expect(vFt).toBe('ft_value');
    expect(hits).toEqual(['base', 'ft']);
  });

  it('test_top_k_isolates_cache_entries', async () => {
    const inst = new BackendInstrumentation();
    let hits = 0;
    const compute = async () => ++hits;
    const a = await inst.cached('next_token_dist', 'base', 'p', 8, compute);
    const b = await inst.cached('next_token_dist', 'base', 'p', 32, compute);
    expect(a).not.toBe(b);
    expect(hits).toBe(2);
  });

  it('test_op_isolates_cache_entries', async () => {
    const inst = new BackendInstrumentation();
    const calls: string[] = [];
    await inst.cached('logprob_of', 'base', 'p', 0, async () => {
      calls.push('lp');
      return -3.14;
    });
    await inst.cached('next_token_dist', 'base', 'p', 0, async () => {
      calls.push('dist');
      return 'd';
    });
    expect(calls).toEqual(['lp', 'dist']);
  });

  it('caches undefined and null values as hits', async () => {
    const inst = new BackendInstrumentation();
    let calls = 0;
    const compute = async () => {
      calls += 1;
      return undefined;
    };
    await inst.cached('op', 'base', 'p', 0, compute);
    expect(await inst.cached('op', 'base', 'p', 0, compute)).toBeUndefined();
    expect(calls).toBe(1);
    expect(inst.stats.cacheHits).toBe(1);
  });

  it('a compute that throws caches nothing and counts nothing', async () => {
    const inst = new BackendInstrumentation();
    await expect(
      inst.cached('op', 'base', 'p', 0, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // A synchronous throw inside a non-async compute is handled the same way.
    await expect(
      inst.cached('op', 'base', 'p', 0, (() => {
        throw new Error('sync boom');
      }) as () => Promise<never>),
    ).rejects.toThrow('sync boom');
    expect(inst.stats.toDict()).toMatchObject({ cache_hits: 0, cache_misses: 0, forward_passes: 0 });
    expect(inst.cache.size).toBe(0);
    expect(inst.inflightCount).toBe(0);
    expect(await inst.cached('op', 'base', 'p', 0, value(7))).toBe(7);
    expect(inst.stats.cacheMisses).toBe(1);
  });

  it('adds wall time to scoring_wall_s using the injected clock', async () => {
    let t = 1_000_000;
    const inst = new BackendInstrumentation({ now: () => t });
    await inst.cached('op', 'base', 'p', 0, async () => {
      t += 250;
      return 1;
    });
    expect(inst.stats.scoringWallS).toBeCloseTo(0.25);
  });
});

describe('BackendInstrumentation.cachedBatch (sway TestBackendInstrumentationCachedBatch)', () => {
  it('test_all_misses_fire_one_batch', async () => {
    const inst = new BackendInstrumentation();
    const calls: number[][] = [];
    const out = await inst.cachedBatch('next_token_dist', 'base', ['p1', 'p2', 'p3'], 32, async (idx) => {
      calls.push([...idx]);
      return idx.map((i) => `v${i}`);
    });
    expect(out).toEqual(['v0', 'v1', 'v2']);
    expect(calls).toEqual([[0, 1, 2]]);
    expect(inst.stats.batchesSent).toBe(1);
    expect(inst.stats.batchedPrompts).toBe(3);
    expect(inst.stats.maxBatchSize).toBe(3);
    expect(inst.stats.avgBatchSize).toBeCloseTo(3.0);
    expect(inst.stats.cacheMisses).toBe(3);
    expect(inst.stats.cacheHits).toBe(0);
    expect(inst.stats.forwardPasses).toBe(3);
  });

  it('test_partial_cache_hit_skips_cached_from_batch', async () => {
    const inst = new BackendInstrumentation();
    await inst.cached('next_token_dist', 'base', 'p1', 32, value('cached_v1'));
    const misses: number[][] = [];
    const out = await inst.cachedBatch('next_token_dist', 'base', ['p1', 'p2', 'p3'], 32, async (idx) => {
      misses.push([...idx]);
      return idx.map((i) => `fresh_${i}`);
    });
    expect(out).toEqual(['cached_v1', 'fresh_1', 'fresh_2']);
    expect(misses).toEqual([[1, 2]]);
    expect(inst.stats.batchesSent).toBe(1);
    expect(inst.stats.batchedPrompts).toBe(2);
    expect(inst.stats.cacheHits).toBe(1);
    expect(inst.stats.cacheMisses).toBe(3);
  });

  it('test_all_cached_skips_forward', async () => {
    const inst = new BackendInstrumentation();
    for (const p of ['p1', 'p2']) await inst.cached('next_token_dist', 'base', p, 32, value(`v_${p}`));
    inst.stats.batchesSent = 0;
    inst.stats.batchedPrompts = 0;
    inst.stats.maxBatchSize = 0;
    const out = await inst.cachedBatch('next_token_dist', 'base', ['p1', 'p2'], 32, async () => {
      throw new Error('compute should not have been called');
    });
    expect(out).toEqual(['v_p1', 'v_p2']);
    expect(inst.stats.batchesSent).toBe(0);
    expect(inst.stats.batchedPrompts).toBe(0);
  });

  it('test_max_batch_size_tracks_largest', async () => {
    const inst = new BackendInstrumentation();
    const c1 = async (idx: number[]) => [...idx];
    await inst.cachedBatch('next_token_dist', 'base', ['a', 'b', 'c'], 32, c1);
    await inst.cachedBatch('next_token_dist', 'base', ['d', 'e'], 32, c1);
    expect(inst.stats.maxBatchSize).toBe(3);
  });

  it('test_wrong_return_length_raises', async () => {
    const inst = new BackendInstrumentation();
    const run = inst.cachedBatch('next_token_dist', 'base', ['p1', 'p2', 'p3'], 32, async () => [0]);
    await expect(run).rejects.toThrow(/backend bug/);
    await expect(run).rejects.toBeInstanceOf(BackendError);
    // Nothing was cached or counted, and nothing stays in flight.
    expect(inst.cache.size).toBe(0);
    expect(inst.stats.cacheMisses).toBe(0);
    expect(inst.stats.batchesSent).toBe(0);
    expect(inst.inflightCount).toBe(0);
  });

  it('test_empty_prompts_returns_empty', async () => {
    const inst = new BackendInstrumentation();
    const out = await inst.cachedBatch('next_token_dist', 'base', [], 32, async () => {
      throw new Error('compute should not have been called');
    });
    expect(out).toEqual([]);
    expect(inst.stats.batchesSent).toBe(0);
  });

  it('per-miss wall time is the batch wall divided by the misses', async () => {
    let t = 5_000;
    const trace = new MemoryTraceSink();
    const inst = new BackendInstrumentation({ now: () => t, trace });
    await inst.cachedBatch('next_token_dist', 'base', ['a', 'b', 'c', 'd'], 8, async (idx) => {
      t += 100;
      return idx;
    });
    const misses = trace.events.filter((e) => !e.hit);
    expect(misses).toHaveLength(4);
    for (const e of misses) expect(e.wall_ms).toBeCloseTo(25);
    expect(inst.stats.scoringWallS).toBeCloseTo(0.1);
  });
});

describe('cachedBatch with maxBatchSize', () => {
  it('splits misses into physical batches and counts each one', async () => {
    const inst = new BackendInstrumentation();
    await inst.cached('op', 'base', 'p2', 0, value('warm'));
    const calls: number[][] = [];
    const prompts = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    const out = await inst.cachedBatch(
      'op',
      'base',
      prompts,
      0,
      async (idx) => {
        calls.push([...idx]);
        return idx.map((i) => prompts[i]!);
      },
      { maxBatchSize: 4 },
    );
    expect(out).toEqual(['p0', 'p1', 'warm', 'p3', 'p4', 'p5', 'p6']);
    expect(calls).toEqual([
      [0, 1, 3, 4],
      [5, 6],
    ]);
    expect(inst.stats.batchesSent).toBe(2);
    expect(inst.stats.maxBatchSize).toBe(4);
    expect(inst.stats.avgBatchSize).toBe(3);
    expect(inst.stats.forwardPasses).toBe(inst.stats.cacheMisses);
  });

  it('a failing chunk keeps earlier chunks cached and releases the rest', async () => {
    const inst = new BackendInstrumentation();
    let call = 0;
    const run = inst.cachedBatch(
      'op',
      'base',
      ['a', 'b', 'c', 'd', 'e'],
      0,
      async (idx) => {
        call += 1;
        if (call === 2) throw new Error('chunk 2 failed');
        return idx.map((i) => i);
      },
      { maxBatchSize: 2 },
    );
    await expect(run).rejects.toThrow('chunk 2 failed');
    expect(inst.stats.cacheMisses).toBe(2);
    expect(inst.cache.size).toBe(2);
    expect(inst.inflightCount).toBe(0);
    expect(call).toBe(2);
  });
});

describe('cachedBatch with sortKey', () => {
  it('batches misses in key order and returns values at their callers’ positions', async () => {
    const inst = new BackendInstrumentation();
    const prompts = ['ccc', 'a', 'bb', 'dddd', 'e'];
    const calls: number[][] = [];
    const out = await inst.cachedBatch(
      'op',
      'base',
      prompts,
      0,
      async (idx) => {
        calls.push([...idx]);
        return idx.map((i) => prompts[i]!.toUpperCase());
      },
      { maxBatchSize: 2, sortKey: (i) => prompts[i]!.length },
    );
    expect(calls).toEqual([[1, 4], [2, 0], [3]]);
    expect(out).toEqual(['CCC', 'A', 'BB', 'DDDD', 'E']);
  });
});
