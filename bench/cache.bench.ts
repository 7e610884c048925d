import { LRUCache } from 'lru-cache';
import { BackendInstrumentation, ForwardCache, cacheKeyString, promptHash } from '../src/core/index.ts';
import { freshPrompt } from './lib/suiteWorkload.ts';
import { compared, type CacheResults } from './lib/results.ts';
import { ratio, summarize } from './lib/stats.ts';

interface Store {
  get(k: string): unknown;
  set(k: string, v: unknown): void;
}

type Op = 'get' | 'put' | 'mixed';

function hexKey(i: number): string {
  return cacheKeyString([
    'next_token_dist',
    i % 2 === 0 ? 'base' : 'ft',
    (i * 2654435761).toString(16).padStart(12, '0').slice(-12),
    256,
  ]);
}

/** The instrumentation's hot path uses the flattened-string API, so that is what is compared. */
function forwardCacheStore(capacity: number): Store {
  const c = new ForwardCache<unknown>(capacity);
  return { get: (k) => c.getByString(k), set: (k, v) => c.putByString(k, v) };
}

function lruStore(capacity: number): Store {
  const c = new LRUCache<string, object>({ max: capacity });
  return { get: (k) => c.get(k), set: (k, v) => void c.set(k, v as object) };
}

/**
 * One timed pass of `ops` operations. get: every lookup hits a full cache; put: a stream of new keys,
 * each evicting the oldest; mixed: 80% gets / 20% puts over 1.25× capacity keys, so some gets miss.
 */
function timeOps(
  store: Store,
  capacity: number,
  op: Op,
  keys: string[],
  order: Uint32Array,
  budgetMs: number,
): number {
  const value = { logprobs: null };
  for (let i = 0; i < capacity; i++) store.set(keys[i]!, value);
  let sink = 0;
  const n = order.length;
  let done = 0;
  const t0 = performance.now();
  let elapsed = 0;
  // Time-boxed in slices of 4096 ops: a pathological implementation must not stall the whole run.
  while (elapsed < budgetMs && done < n) {
    const end = Math.min(n, done + 4096);
    if (op === 'get') {
      for (let i = done; i < end; i++) if (store.get(keys[order[i]! % capacity]!) !== undefined) sink++;
    } else if (op === 'put') {
      for (let i = done; i < end; i++) store.set(keys[order[i]!]!, value);
    } else {
      for (let i = done; i < end; i++) {
        const k = keys[order[i]!]!;
        if (i % 5 === 4) store.set(k, value);
        else if (store.get(k) !== undefined) sink++;
      }
    }
    done = end;
    elapsed = performance.now() - t0;
  }
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return (done * 1000) / elapsed;
}

function orderFor(op: Op, capacity: number, n: number, seed: number): { keys: string[]; order: Uint32Array } {
  const space = op === 'get' ? capacity : op === 'put' ? capacity * 4 : Math.ceil(capacity * 1.25);
  const keys = Array.from({ length: space }, (_, i) => hexKey(i + seed * 1_000_003));
  const order = new Uint32Array(n);
  let x = seed * 7919 + 1;
  for (let i = 0; i < n; i++) {
    if (op === 'put') order[i] = (capacity + i) % space;
    else {
      x = (x * 1103515245 + 12345) >>> 0;
      order[i] = x % space;
    }
  }
  return { keys, order };
}

async function hitPath(repeats: number, calls: number): Promise<CacheResults['hitPathUs']> {
  const prompts = Array.from({ length: 256 }, (_, i) => freshPrompt(i));
  const inst = new BackendInstrumentation();
  const lru = new LRUCache<string, object>({ max: 256 });
  const value = { logprobs: null };
  for (const p of prompts) {
    await inst.cached('next_token_dist', 'base', p, 256, async () => value);
    lru.set(cacheKeyString(['next_token_dist', 'base', promptHash(p), 256]), value);
  }
  const compute = async () => {
    throw new Error('a hit must not compute');
  };
  // The floor of a cached lookup: hash the prompt, look it up, through one awaited async call.
  const bare = async (p: string) => lru.get(cacheKeyString(['next_token_dist', 'base', promptHash(p), 256]));
  const ours: number[] = [];
  const base: number[] = [];
  const hash: number[] = [];
  for (let r = -1; r < repeats; r++) {
    let t0 = performance.now();
    for (let i = 0; i < calls; i++)
      await inst.cached('next_token_dist', 'base', prompts[i & 255]!, 256, compute);
    const a = ((performance.now() - t0) * 1000) / calls;
    t0 = performance.now();
    for (let i = 0; i < calls; i++) await bare(prompts[i & 255]!);
    const b = ((performance.now() - t0) * 1000) / calls;
    t0 = performance.now();
    let len = 0;
    for (let i = 0; i < calls; i++) len += promptHash(prompts[i & 255]!).length;
    const h = ((performance.now() - t0) * 1000) / calls;
    if (len === 0) throw new Error('unreachable');
    // r = −1 is the JIT warm-up pass.
    if (r >= 0) {
      ours.push(a);
      base.push(b);
      hash.push(h);
    }
  }
  const v = summarize(ours);
  const bl = summarize(base);
  return { ...compared(v, bl, ratio(v, bl)), promptHashUs: summarize(hash) };
}

export async function cacheBench(quick: boolean): Promise<CacheResults> {
  const repeats = quick ? 5 : 9;
  const throughput: CacheResults['throughput'] = [];
  for (const capacity of [256, 100_000]) {
    for (const op of ['get', 'put', 'mixed'] as const) {
      const n = 1_000_000;
      const budgetMs = quick ? 100 : 250;
      const ours: number[] = [];
      const theirs: number[] = [];
      // Alternate the two implementations in every repeat so machine noise hits both alike.
      for (let r = -1; r < repeats; r++) {
        const { keys, order } = orderFor(op, capacity, n, r + 2);
        const a = timeOps(forwardCacheStore(capacity), capacity, op, keys, order, budgetMs);
        const b = timeOps(lruStore(capacity), capacity, op, keys, order, budgetMs);
        if (r >= 0) {
          ours.push(a);
          theirs.push(b);
        }
      }
      const v = summarize(ours);
      const bl = summarize(theirs);
      throughput.push({
        capacity,
        op,
        keys: op === 'get' ? capacity : op === 'put' ? capacity * 4 : Math.ceil(capacity * 1.25),
        opsPerS: compared(v, bl, ratio(v, bl)),
      });
      console.log(
        `  cache ${op} @${capacity}: ${(v.median / 1e6).toFixed(2)} M/s vs lru-cache ${(bl.median / 1e6).toFixed(2)} M/s`,
      );
    }
  }
  const hitPathUs = await hitPath(repeats, quick ? 50_000 : 200_000);
  console.log(
    `  cached() hit: ${hitPathUs.value.median.toFixed(2)} µs (floor ${hitPathUs.baseline.median.toFixed(2)} µs)`,
  );
  return { throughput, hitPathUs };
}
