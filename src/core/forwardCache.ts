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
 * Bounded LRU over forward-pass results: a `Map` from key to slot, and a doubly linked recency list
 * threaded through typed arrays of slot indices. A hit moves one slot to the tail with four pointer
 * writes; the Map itself is never touched on a hit (deleting and re-inserting Map entries, the
 * obvious LRU, is ~10× slower under V8). Eviction reuses the head slot, so memory stays fixed.
 */
export class ForwardCache<V> {
  readonly maxsize: number;
  private readonly index = new Map<string, number>();
  private readonly keys: (string | undefined)[];
  private readonly values: (V | undefined)[];
  private prev: Int32Array;
  private next: Int32Array;
  /** Least recently used slot, or -1 when empty. */
  private head = -1;
  /** Most recently used slot, or -1 when empty. */
  private tail = -1;
  private used = 0;

  constructor(maxsize = 256) {
    if (!Number.isInteger(maxsize) || maxsize <= 0) {
      throw new RangeError(
        `ForwardCache: maxsize must be positive integer, got ${String(maxsize)}; pass a whole number ≥ 1 (default 256).`,
      );
    }
    this.maxsize = maxsize;
    // Slot arrays grow on demand up to maxsize, so a large capacity costs nothing until it is used.
    this.keys = [];
    this.values = [];
    this.prev = new Int32Array(Math.min(maxsize, 1024));
    this.next = new Int32Array(Math.min(maxsize, 1024));
  }

  get size(): number {
    return this.index.size;
  }

  get(key: CacheKey): V | typeof MISS {
    return this.getByString(cacheKeyString(key));
  }

  put(key: CacheKey, value: V): void {
    this.putByString(cacheKeyString(key), value);
  }

  /** Lookup by a key already flattened with `cacheKeyString` (the instrumentation's hot path). */
  getByString(k: string): V | typeof MISS {
    const slot = this.index.get(k);
    if (slot === undefined) return MISS;
    this.touch(slot);
    return this.values[slot] as V;
  }

  putByString(k: string, value: V): void {
    const existing = this.index.get(k);
    if (existing !== undefined) {
      this.values[existing] = value;
      this.touch(existing);
      return;
    }
    let slot: number;
    if (this.used < this.maxsize) {
      slot = this.used++;
      if (slot === this.prev.length) this.grow();
    } else {
      // Full: reuse the least recently used slot.
      slot = this.head;
      this.index.delete(this.keys[slot]!);
      this.unlink(slot);
    }
    this.keys[slot] = k;
    this.values[slot] = value;
    this.index.set(k, slot);
    this.append(slot);
  }

  has(key: CacheKey): boolean {
    return this.index.has(cacheKeyString(key));
  }

  clear(): void {
    this.index.clear();
    this.keys.length = 0;
    this.values.length = 0;
    this.head = -1;
    this.tail = -1;
    this.used = 0;
  }

  private grow(): void {
    const size = Math.min(this.maxsize, this.prev.length * 2);
    const prev = new Int32Array(size);
    const next = new Int32Array(size);
    prev.set(this.prev);
    next.set(this.next);
    this.prev = prev;
    this.next = next;
  }

  private touch(slot: number): void {
    if (slot === this.tail) return;
    this.unlink(slot);
    this.append(slot);
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === -1) this.head = n;
    else this.next[p] = n;
    if (n === -1) this.tail = p;
    else this.prev[n] = p;
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = -1;
    if (this.tail === -1) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
  }
}
