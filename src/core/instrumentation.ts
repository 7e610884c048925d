import { BackendStats } from './backendStats.ts';
import { BackendError } from './errors.ts';
import { ForwardCache, MISS, cacheKeyString } from './forwardCache.ts';
import { promptHash } from './promptHash.ts';
import { noopTraceSink, type TraceEvent, type TraceSink } from './traceEvent.ts';

export interface InstrumentationOptions {
  /** Cache capacity in entries (default 256, as sway). */
  cacheMaxsize?: number;
  trace?: TraceSink;
  /** Wall clock in epoch milliseconds (fractional allowed). Injected so tests control time. */
  now?: () => number;
}

export interface BatchOptions {
  /** Largest physical batch; more misses are split into consecutive compute calls. */
  maxBatchSize?: number;
  /**
   * Orders the misses before they are split into batches (e.g. by prompt length), so rows of a
   * batch are alike and padding is small. Values still come back at their callers' positions.
   */
  sortKey?: (index: number) => number;
  /**
   * Tokens one miss's forward pass consumed (prompt index, computed value), written as the extra
   * key `tokens` on its miss event after sway's eight keys (readers that do not know it ignore it).
   * Without it, a value that says its own length (`numTokens`, as a RollingLogprob does) is used;
   * otherwise the event carries no `tokens`.
   */
  tokens?: (index: number, value: unknown) => number | undefined;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A flight that fails with nobody waiting must not surface as an unhandled rejection; the owner
  // rethrows the error to its own caller.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A miss's token count for its event: the caller's, else the value's own `numTokens`; never NaN. */
function tokenCount(count: BatchOptions['tokens'], index: number, value: unknown): number | undefined {
  let n: unknown;
  if (count !== undefined) {
    try {
      n = count(index, value);
    } catch {
      n = undefined;
    }
  } else if (typeof value === 'object' && value !== null) {
    n = (value as { numTokens?: unknown }).numTokens;
  }
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

const defaultNow = (): number => performance.timeOrigin + performance.now();

/**
 * Cache + stats + trace around every scoring call: sway's `BackendInstrumentation`, plus
 * single-flight: a lookup whose key is already being computed waits for that computation instead of
 * starting another, and counts as a hit. Hence `forward_passes == cache_misses` always holds.
 * A compute that throws caches nothing, counts nothing, and rejects every waiter with its error.
 */
export class BackendInstrumentation {
  readonly cache: ForwardCache<unknown>;
  readonly stats = new BackendStats();
  trace: TraceSink;
  private readonly now: () => number;
  private currentProbe: string | null = null;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(opts: InstrumentationOptions = {}) {
    this.cache = new ForwardCache<unknown>(opts.cacheMaxsize ?? 256);
    this.trace = opts.trace ?? noopTraceSink;
    this.now = opts.now ?? defaultNow;
  }

  /** The runner calls this before each probe so trace events carry the probe's name. */
  setCurrentProbe(name: string | null): void {
    this.currentProbe = name;
  }

  get currentProbeName(): string | null {
    return this.currentProbe;
  }

  /** Number of computations in flight right now (for tests and diagnostics). */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * One lookup through the same path as `cachedBatch` (a list of one prompt). As in sway, a single
   * lookup's miss is a forward pass but not a batch: the batch counters are left alone.
   */
  cached<T>(op: string, viewId: string, prompt: string, topK: number, compute: () => Promise<T>): Promise<T> {
    // Not async: no extra promise hops on the hit path (the bench's "cached() hit path").
    return this.lookup(op, viewId, [prompt], topK, async () => [await compute()], {}, false).then(
      (values) => values[0]!,
    );
  }

  /**
   * Runs `compute` outside the cache and the stats and traces it as one event of its own `op` (e.g. a
   * model's `warmup` forward, which compiles WebGPU shaders and must not count as scoring work).
   * `extra` keys follow sway's keys in the event (e.g. `device`).
   */
  async uncached<T>(
    op: string,
    viewId: string,
    prompt: string,
    compute: () => Promise<T>,
    extra: Readonly<Record<string, string | number | boolean>> = {},
  ): Promise<T> {
    const t0 = this.now();
    const value = await compute();
    this.emit(op, viewId, promptHash(prompt), 0, this.now() - t0, false, undefined, extra);
    return value;
  }

  /**
   * Looks every prompt up; the misses go to ONE `computeMisses(missIndices)` call, which must return
   * their values in miss order. Prompts whose key another call (or an earlier duplicate in this list)
   * is already computing wait for it and count as hits. With `maxBatchSize`, the misses go out in
   * consecutive physical batches of at most that many prompts, each counted as one batch.
   */
  cachedBatch<T>(
    op: string,
    viewId: string,
    prompts: readonly string[],
    topK: number,
    computeMisses: (missIndices: number[]) => Promise<T[]>,
    opts: BatchOptions = {},
  ): Promise<T[]> {
    return this.lookup(op, viewId, prompts, topK, computeMisses, opts, true);
  }

  private async lookup<T>(
    op: string,
    viewId: string,
    prompts: readonly string[],
    topK: number,
    computeMisses: (missIndices: number[]) => Promise<T[]>,
    opts: BatchOptions,
    countBatch: boolean,
  ): Promise<T[]> {
    const n = prompts.length;
    const results = new Array<T>(n);
    if (n === 0) return results;

    const hashes = new Array<string>(n);
    const keys = new Array<string>(n);
    const missIndices: number[] = [];
    const owned: Deferred<unknown>[] = [];
    const waits: { index: number; flight: Promise<unknown>; t0: number }[] = [];

    for (let i = 0; i < n; i++) {
      const t0 = this.now();
      const hash = promptHash(prompts[i]!);
      const key = cacheKeyString([op, viewId, hash, topK]);
      hashes[i] = hash;
      keys[i] = key;
      const value = this.cache.getByString(key);
      if (value !== MISS) {
        results[i] = value as T;
        this.recordHit(op, viewId, hash, topK, this.now() - t0);
        continue;
      }
      const pending = this.inflight.get(key);
      if (pending !== undefined) {
        waits.push({ index: i, flight: pending, t0 });
        continue;
      }
      const d = deferred<unknown>();
      this.inflight.set(key, d.promise);
      owned.push(d);
      missIndices.push(i);
    }

    if (opts.sortKey !== undefined && missIndices.length > 1) {
      const key = opts.sortKey;
      const order = missIndices
        .map((_, j) => j)
        .sort((a, b) => key(missIndices[a]!) - key(missIndices[b]!) || a - b);
      const sortedMisses = order.map((j) => missIndices[j]!);
      const sortedOwned = order.map((j) => owned[j]!);
      missIndices.splice(0, missIndices.length, ...sortedMisses);
      owned.splice(0, owned.length, ...sortedOwned);
    }
    const chunk = Math.max(1, Math.floor(opts.maxBatchSize ?? missIndices.length));
    for (let from = 0; from < missIndices.length; from += chunk) {
      const to = Math.min(missIndices.length, from + chunk);
      try {
        await this.computeChunk(op, viewId, topK, missIndices.slice(from, to), owned.slice(from, to), {
          keys,
          hashes,
          results,
          computeMisses,
          countBatch,
          tokens: opts.tokens,
        });
      } catch (error) {
        // Later chunks never ran: release their keys so waiters fail now rather than hang.
        for (let j = to; j < missIndices.length; j++) {
          this.inflight.delete(keys[missIndices[j]!]!);
          owned[j]!.reject(error);
        }
        throw error;
      }
    }

    for (const w of waits) {
      results[w.index] = (await w.flight) as T;
      this.recordHit(op, viewId, hashes[w.index]!, topK, this.now() - w.t0);
    }
    return results;
  }

  /** One physical batch: a single compute call over `chunkIndices`, then sway's bookkeeping. */
  private async computeChunk<T>(
    op: string,
    viewId: string,
    topK: number,
    chunkIndices: number[],
    owned: Deferred<unknown>[],
    ctx: {
      keys: string[];
      hashes: string[];
      results: T[];
      computeMisses: (missIndices: number[]) => Promise<T[]>;
      countBatch: boolean;
      tokens: BatchOptions['tokens'];
    },
  ): Promise<void> {
    const nMiss = chunkIndices.length;
    const tb0 = this.now();
    let values: T[];
    try {
      values = await ctx.computeMisses(chunkIndices.slice());
      if (!Array.isArray(values) || values.length !== nMiss) {
        const got = Array.isArray(values) ? `${values.length} values` : typeof values;
        throw new BackendError(
          `${ctx.countBatch ? 'cachedBatch' : 'cached'}(${op}, ${viewId}): compute returned ${got} for ${nMiss} misses — ` +
            'a backend bug: a batch compute must return exactly one value per miss, in miss order.',
        );
      }
    } catch (error) {
      for (let j = 0; j < nMiss; j++) {
        this.inflight.delete(ctx.keys[chunkIndices[j]!]!);
        owned[j]!.reject(error);
      }
      throw error;
    }
    const batchWallMs = this.now() - tb0;
    const perMissMs = batchWallMs / nMiss;
    const stats = this.stats;
    if (ctx.countBatch) {
      stats.batchesSent += 1;
      stats.batchedPrompts += nMiss;
      if (nMiss > stats.maxBatchSize) stats.maxBatchSize = nMiss;
    }
    stats.scoringWallS += batchWallMs / 1000;
    for (let j = 0; j < nMiss; j++) {
      const i = chunkIndices[j]!;
      const value = values[j]!;
      ctx.results[i] = value;
      this.cache.putByString(ctx.keys[i]!, value);
      this.inflight.delete(ctx.keys[i]!);
      stats.cacheMisses += 1;
      stats.forwardPasses += 1;
      this.emit(
        op,
        viewId,
        ctx.hashes[i]!,
        topK,
        perMissMs,
        false,
        ctx.countBatch ? nMiss : undefined,
        undefined,
        tokenCount(ctx.tokens, i, value),
      );
      owned[j]!.resolve(value);
    }
  }

  /** Flushes and closes the trace sink. */
  async close(): Promise<void> {
    await this.trace.flush?.();
    await this.trace.close?.();
  }

  private recordHit(op: string, viewId: string, hash: string, topK: number, wallMs: number): void {
    this.stats.cacheHits += 1;
    this.stats.scoringWallS += wallMs / 1000;
    this.emit(op, viewId, hash, topK, wallMs, true, undefined);
  }

  private emit(
    op: string,
    viewId: string,
    hash: string,
    topK: number,
    wallMs: number,
    hit: boolean,
    batchSize: number | undefined,
    extra?: Readonly<Record<string, string | number | boolean>>,
    tokens?: number,
  ): void {
    const sink = this.trace;
    if (sink === noopTraceSink) return;
    const event: TraceEvent & Record<string, unknown> = {
      ts: this.now() / 1000,
      probe: this.currentProbe,
      view_id: viewId,
      prompt_hash: hash,
      top_k: topK,
      op,
      wall_ms: wallMs,
      hit,
    };
    if (batchSize !== undefined) event.batch_size = batchSize;
    if (tokens !== undefined) event.tokens = tokens;
    if (extra !== undefined) Object.assign(event, extra);
    sink.write(event);
  }
}
