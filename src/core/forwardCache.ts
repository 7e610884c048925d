/** What `ForwardCache.get` returns on a miss, so that `undefined` and `null` can be cached values. */
export const MISS: unique symbol = Symbol('deltascope.cache.miss');

/** `(op, view_id, prompt_hash, top_k)`: sway's cache key, kept exactly. */
export type CacheKey = readonly [op: string, viewId: string, promptHash: string, topK: number];

/**
 * Flattens a key into one string. The separator is a control character that cannot appear in an op
 * name, a view id or a hex hash, so two different keys never collide.
 */
export function cacheKeyString(key: CacheKey): string {
  return `${key[0]}\u0001${key[1]}\u0001${key[2]}\u0001${key[3]}`;
}

/**
 * Bounded LRU over forward-pass results. A `Map` keeps insertion order, so re-inserting on access
 * makes the first entry the least recently used: get, put and eviction are all O(1).
 */
export class ForwardCache<V> {
  readonly maxsize: number;
  private readonly entries = new Map<string, V>();

  constructor(maxsize = 256) {
    if (!Number.isInteger(maxsize) || maxsize <= 0) {
      throw new RangeError(
        `ForwardCache: maxsize must be positive integer, got ${String(maxsize)}; pass a whole number ≥ 1 (default 256).`,
      );
    }
    this.maxsize = maxsize;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: CacheKey): V | typeof MISS {
    return this.getByString(cacheKeyString(key));
  }

  put(key: CacheKey, value: V): void {
    this.putByString(cacheKeyString(key), value);
  }

  /** Lookup by a key already flattened with `cacheKeyString` (the instrumentation's hot path). */
  getByString(k: string): V | typeof MISS {
    const entries = this.entries;
    if (!entries.has(k)) return MISS;
    const value = entries.get(k) as V;
    entries.delete(k);
    entries.set(k, value);
    return value;
  }

  putByString(k: string, value: V): void {
    const entries = this.entries;
    entries.delete(k);
    entries.set(k, value);
    if (entries.size > this.maxsize) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
  }

  has(key: CacheKey): boolean {
    return this.entries.has(cacheKeyString(key));
  }

  clear(): void {
    this.entries.clear();
  }
}
