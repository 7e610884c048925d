// Better than sway: concurrent identical misses are computed once.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BackendInstrumentation, MemoryTraceSink } from '../../src/core/index.ts';

/** A compute whose completion the test controls. */
function gate<T>() {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('single-flight', () => {
  it('two concurrent cached() calls on one key compute once; the waiter counts as a hit', async () => {
    const inst = new BackendInstrumentation();
    const g = gate<string>();
    let calls = 0;
    const compute = () => {
      calls += 1;
      return g.promise;
    };
    const a = inst.cached('next_token_dist', 'base', 'p', 8, compute);
    const b = inst.cached('next_token_dist', 'base', 'p', 8, compute);
    await tick();
    expect(inst.inflightCount).toBe(1);
    g.open('v');
    expect(await Promise.all([a, b])).toEqual(['v', 'v']);
    expect(calls).toBe(1);
    expect(inst.stats.cacheMisses).toBe(1);
    expect(inst.stats.cacheHits).toBe(1);
    expect(inst.stats.forwardPasses).toBe(1);
  });

  it('different views of the same prompt are never merged', async () => {
    const inst = new BackendInstrumentation();
    const gb = gate<string>();
    const gf = gate<string>();
    const a = inst.cached('next_token_dist', 'base', 'p', 8, () => gb.promise);
    const b = inst.cached('next_token_dist', 'ft', 'p', 8, () => gf.promise);
    gf.open('ft');
    gb.open('base');
    expect(await Promise.all([a, b])).toEqual(['base', 'ft']);
    expect(inst.stats.forwardPasses).toBe(2);
  });

  it('a failing flight rejects every waiter with the same error and counts nothing', async () => {
    const inst = new BackendInstrumentation();
    const g = gate<string>();
    const err = new Error('device lost');
    const a = inst.cached('op', 'base', 'p', 0, () => g.promise);
    const b = inst.cached('op', 'base', 'p', 0, () => g.promise);
    const c = inst.cachedBatch('op', 'base', ['p', 'q'], 0, async (idx) => idx.map(() => 'q'));
    g.fail(err);
    const settled = await Promise.allSettled([a, b, c]);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toBe(err);
    }
    // Only 'q' (computed by the batch itself) was counted and cached.
    expect(inst.stats.cacheHits).toBe(0);
    expect(inst.stats.cacheMisses).toBe(1);
    expect(inst.cache.size).toBe(1);
    expect(inst.inflightCount).toBe(0);
  });

  it('two overlapping cachedBatch calls compute each shared key once', async () => {
    const inst = new BackendInstrumentation();
    const g = gate<void>();
    const computed: string[][] = [];
    const prompts1 = ['a', 'b', 'c'];
    const prompts2 = ['b', 'c', 'd'];
    const first = inst.cachedBatch('next_token_dist', 'base', prompts1, 8, async (idx) => {
      computed.push(idx.map((i) => prompts1[i]!));
      await g.promise;
      return idx.map((i) => prompts1[i]!.toUpperCase());
    });
    const second = inst.cachedBatch('next_token_dist', 'base', prompts2, 8, async (idx) => {
      computed.push(idx.map((i) => prompts2[i]!));
      return idx.map((i) => prompts2[i]!.toUpperCase());
    });
    await tick();
    g.open();
    expect(await first).toEqual(['A', 'B', 'C']);
    expect(await second).toEqual(['B', 'C', 'D']);
    expect(computed).toEqual([['a', 'b', 'c'], ['d']]);
    expect(inst.stats.forwardPasses).toBe(4);
    expect(inst.stats.cacheMisses).toBe(4);
    expect(inst.stats.cacheHits).toBe(2);
    expect(inst.stats.batchesSent).toBe(2);
  });

  it('a prompt repeated inside one batch is computed once', async () => {
    const trace = new MemoryTraceSink();
    const inst = new BackendInstrumentation({ trace });
    const seen: number[][] = [];
    const out = await inst.cachedBatch('next_token_dist', 'base', ['x', 'y', 'x'], 8, async (idx) => {
      seen.push(idx);
      return idx.map((i) => `v${i}`);
    });
    expect(seen).toEqual([[0, 1]]);
    expect(out).toEqual(['v0', 'v1', 'v0']);
    expect(inst.stats.cacheHits).toBe(1);
    expect(inst.stats.batchedPrompts).toBe(2);
    expect(trace.events.map((e) => e.hit)).toEqual([false, false, true]);
  });

  it('cached() waits on a key a batch is computing', async () => {
    const inst = new BackendInstrumentation();
    const g = gate<void>();
    let singles = 0;
    const batch = inst.cachedBatch('op', 'ft', ['k1', 'k2'], 4, async (idx) => {
      await g.promise;
      return idx.map((i) => i * 10);
    });
    const single = inst.cached('op', 'ft', 'k2', 4, async () => {
      singles += 1;
      return -1;
    });
    g.open();
    expect(await batch).toEqual([0, 10]);
    expect(await single).toBe(10);
    expect(singles).toBe(0);
  });

  it('invariants hold under random concurrent workloads', async () => {
    const callArb = fc.record({
      batch: fc.boolean(),
      view: fc.constantFrom('base', 'ft'),
      prompts: fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 0, maxLength: 5 }),
      failing: fc.integer({ min: 0, max: 9 }),
      delay: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(callArb, { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        async (calls, cap) => {
          const trace = new MemoryTraceSink();
          const inst = new BackendInstrumentation({ trace, cacheMaxsize: cap });
          const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
          let computedKeys = 0;
          const expected = (view: string, p: string) => `${view}:${p}`;
          const runs = calls.map(async (c) => {
            const fails = c.failing === 0;
            if (c.batch) {
              const out = await inst.cachedBatch('next_token_dist', c.view, c.prompts, 8, async (idx) => {
                await sleep(c.delay);
                if (fails) throw new Error('planned');
                computedKeys += idx.length;
                return idx.map((i) => expected(c.view, c.prompts[i]!));
              });
              out.forEach((v, i) => expect(v).toBe(expected(c.view, c.prompts[i]!)));
            } else {
              const p = c.prompts[0] ?? 'a';
              const v = await inst.cached('next_token_dist', c.view, p, 8, async () => {
                await sleep(c.delay);
                if (fails) throw new Error('planned');
                computedKeys += 1;
                return expected(c.view, p);
              });
              expect(v).toBe(expected(c.view, p));
            }
          });
          await Promise.allSettled(runs);
          const s = inst.stats;
          expect(s.forwardPasses).toBe(s.cacheMisses);
          expect(s.forwardPasses).toBe(computedKeys);
          expect(trace.events.length).toBe(s.cacheHits + s.cacheMisses);
          expect(trace.events.filter((e) => e.hit).length).toBe(s.cacheHits);
          expect(s.batchedPrompts).toBeLessThanOrEqual(s.cacheMisses);
          expect(s.maxBatchSize).toBeLessThanOrEqual(5);
          expect(inst.cache.size).toBeLessThanOrEqual(cap);
          expect(inst.inflightCount).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
