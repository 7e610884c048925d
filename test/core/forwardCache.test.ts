// Counterparts of sway's TestForwardCache (seed 000), plus property tests against a reference LRU.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ForwardCache, MISS, type CacheKey } from '../../src/core/index.ts';

const k = (name: string): CacheKey => ['next_token_dist', 'base', name, 32];

describe('ForwardCache (sway TestForwardCache)', () => {
  it('test_hit_after_put', () => {
    const cache = new ForwardCache<string>(4);
    const key: CacheKey = ['next_token_dist', 'base', 'abc', 32];
    cache.put(key, 'value');
    expect(cache.get(key)).toBe('value');
  });

  it('test_miss_returns_sentinel', () => {
    const cache = new ForwardCache<string>(4);
    expect(cache.get(['missing', '', '', 0])).toBe(MISS);
  });

  it('test_lru_eviction', () => {
    const cache = new ForwardCache<number>(2);
    cache.put(k('a'), 1);
    cache.put(k('b'), 2);
    cache.put(k('c'), 3); // evicts "a" (LRU)
    expect(cache.get(k('a'))).toBe(MISS);
    expect(cache.get(k('b'))).toBe(2);
    expect(cache.get(k('c'))).toBe(3);
  });

  it('test_get_promotes_to_mru', () => {
    const cache = new ForwardCache<number>(2);
    cache.put(k('a'), 1);
    cache.put(k('b'), 2);
    cache.get(k('a')); // promote a to MRU
    cache.put(k('c'), 3); // should evict b, not a
    expect(cache.get(k('a'))).toBe(1);
    expect(cache.get(k('b'))).toBe(MISS);
  });

  it('test_invalid_maxsize_rejected', () => {
    expect(() => new ForwardCache(0)).toThrow(/maxsize must be positive/);
    expect(() => new ForwardCache(-3)).toThrow(/maxsize must be positive/);
    expect(() => new ForwardCache(2.5)).toThrow(/maxsize must be positive/);
    expect(() => new ForwardCache(Number.NaN)).toThrow(/maxsize must be positive/);
  });

  it('test_clear', () => {
    const cache = new ForwardCache<number>(4);
    cache.put(k('a'), 1);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get(k('a'))).toBe(MISS);
  });
});

describe('ForwardCache beyond sway', () => {
  it('defaults to 256 entries', () => {
    expect(new ForwardCache().maxsize).toBe(256);
  });

  it('distinguishes a miss from cached undefined and null', () => {
    const cache = new ForwardCache<unknown>(4);
    cache.put(k('u'), undefined);
    cache.put(k('n'), null);
    expect(cache.get(k('u'))).toBeUndefined();
    expect(cache.get(k('n'))).toBeNull();
    expect(cache.get(k('absent'))).toBe(MISS);
  });

  it('keys differ in every component (no collisions across fields)', () => {
    const cache = new ForwardCache<string>(16);
    cache.put(['a', 'b', 'c', 1], 'x');
    expect(cache.get(['a', 'b', 'c', 1])).toBe('x');
    expect(cache.get(['ab', '', 'c', 1])).toBe(MISS);
    expect(cache.get(['a', 'bc', '', 1])).toBe(MISS);
    expect(cache.get(['a', 'b', 'c', 11])).toBe(MISS);
  });

  it('put on an existing key replaces the value and promotes it', () => {
    const cache = new ForwardCache<number>(2);
    cache.put(k('a'), 1);
    cache.put(k('b'), 2);
    cache.put(k('a'), 10);
    cache.put(k('c'), 3); // evicts b
    expect(cache.get(k('a'))).toBe(10);
    expect(cache.get(k('b'))).toBe(MISS);
    expect(cache.size).toBe(2);
  });

  it('behaves like a reference LRU under random op sequences', () => {
    type Op = { kind: 'get' | 'put'; key: number; value: number };
    const opArb = fc.record({
      kind: fc.constantFrom<'get' | 'put'>('get', 'put'),
      key: fc.integer({ min: 0, max: 12 }),
      value: fc.integer(),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(opArb, { maxLength: 200 }), (cap, ops: Op[]) => {
        const cache = new ForwardCache<number>(cap);
        // Reference: an array ordered from LRU (front) to MRU (back).
        const ref: { key: number; value: number }[] = [];
        for (const op of ops) {
          const key = k(String(op.key));
          const idx = ref.findIndex((e) => e.key === op.key);
          if (op.kind === 'get') {
            const got = cache.get(key);
            if (idx === -1) {
              expect(got).toBe(MISS);
            } else {
              const [entry] = ref.splice(idx, 1);
              ref.push(entry!);
              expect(got).toBe(entry!.value);
            }
          } else {
            cache.put(key, op.value);
            if (idx !== -1) ref.splice(idx, 1);
            ref.push({ key: op.key, value: op.value });
            while (ref.length > cap) ref.shift();
          }
          expect(cache.size).toBe(ref.length);
          expect(cache.size).toBeLessThanOrEqual(cap);
        }
        for (const e of ref) expect(cache.has(k(String(e.key)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ForwardCache at larger capacities', () => {
  it('grows its slot arrays and evicts in LRU order past the first 1,024 entries', () => {
    const cap = 1500;
    const cache = new ForwardCache<number>(cap);
    for (let i = 0; i < 3000; i++) {
      cache.put(k(String(i)), i);
      // Keep key 0 hot so it is never the least recently used.
      expect(cache.get(k('0'))).toBe(0);
    }
    expect(cache.size).toBe(cap);
    expect(cache.get(k('0'))).toBe(0);
    expect(cache.get(k('1500'))).toBe(MISS);
    expect(cache.get(k('1501'))).toBe(1501);
    expect(cache.get(k('2999'))).toBe(2999);
    cache.clear();
    cache.put(k('x'), 1);
    expect(cache.size).toBe(1);
  });
});
