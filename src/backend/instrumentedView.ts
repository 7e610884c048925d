import {
  makeRollingLogprob,
  seededRng,
  tokenDistFromLogits,
  type BackendInstrumentation,
  type RollingLogprob,
  type TokenDist,
} from '../core/index.ts';
import { ScoringInputError } from './errors.ts';
import type { LogitsRunner, RunnerMemoryStats } from './logitsRunner.ts';
import type { DifferentialBackend, GenerateOptions, NextTokenOptions, ScoringView } from './types.ts';
import { sampleNextToken } from './sampling.ts';

export const DEFAULT_TOP_K = 256;

/**
 * A scoring view over one model: every scoring op goes through the instrumentation (cache, single-
 * flight, stats, trace) under this view's id, and every op has a batched form whose misses run as
 * physical batches of at most `maxBatchSize` rows.
 */
export class InstrumentedView implements ScoringView {
  constructor(
    readonly id: string,
    private readonly runner: LogitsRunner,
    private readonly inst: BackendInstrumentation,
    private readonly maxBatchSize: number,
  ) {}

  /** Peak memory of this view's forward passes so far; null for a runtime that does not record it. */
  memoryStats(): RunnerMemoryStats | null {
    return this.runner.memoryStats?.() ?? null;
  }

  async nextTokenDist(prompt: string, opts: NextTokenOptions = {}): Promise<TokenDist> {
    const [dist] = await this.nextTokenDistBatch([prompt], opts);
    return dist!;
  }

  async nextTokenDistBatch(prompts: readonly string[], opts: NextTokenOptions = {}): Promise<TokenDist[]> {
    const topK = checkTopK(opts.topK ?? DEFAULT_TOP_K);
    /** Tokens fed per prompt index (each miss event carries its count, for tokens/s). */
    const lengths = new Map<number, number>();
    // Tokenize inside the compute: cache hits never pay for tokenization.
    return this.inst.cachedBatch(
      'next_token_dist',
      this.id,
      prompts,
      topK,
      async (miss) => {
        const rows = miss.map((i) => this.encodeNonEmpty(prompts[i]!, 'prompt'));
        miss.forEach((i, r) => lengths.set(i, rows[r]!.length));
        const dists = new Array<TokenDist>(rows.length);
        const vocab = this.runner.vocabSize;
        await this.eachLogits(rows, 'last', (r, _position, logits) => {
          dists[r] = tokenDistFromLogits(logits, topK, 0, vocab);
        });
        return dists;
      },
      {
        maxBatchSize: this.maxBatchSize,
        sortKey: (i) => prompts[i]!.length,
        tokens: (i) => lengths.get(i),
      },
    );
  }

  async logprobOf(prompt: string, completion: string): Promise<number> {
    const [lp] = await this.logprobOfBatch([[prompt, completion]]);
    return lp!;
  }

  /**
   * Scores exactly the completion's tokens. The prompt (with the tokenizer's special tokens) and the
   * completion (without) are encoded separately and concatenated, so the boundary is known by
   * construction. Encoding `prompt + completion` jointly, as sway does, lets a BPE merge straddle the
   * boundary and then scores a token that is half prompt.
   */
  async logprobOfBatch(pairs: readonly (readonly [string, string])[]): Promise<number[]> {
    const keys = pairs.map(([p, c]) => `${p}\u0000${c}`);
    /** Tokens fed per pair index (prompt + completion), for the miss events. */
    const lengths = new Map<number, number>();
    return this.inst.cachedBatch(
      'logprob_of',
      this.id,
      keys,
      0,
      async (miss) => {
        const encoded = miss.map((i) => {
          const [prompt, completion] = pairs[i]!;
          const p = this.encodeNonEmpty(prompt, 'prompt');
          const c = this.runner.encode(completion, false);
          if (c.length === 0) {
            throw new ScoringInputError(
              `logprobOf: the completion ${JSON.stringify(completion)} adds no tokens; give a non-empty completion.`,
            );
          }
          lengths.set(i, p.length + c.length);
          return { row: [...p, ...c], promptLen: p.length };
        });
        const rows = encoded.map((e) => e.row);
        const lps = await this.logprobsOf(
          rows,
          encoded.map((e) => e.promptLen),
        );
        return lps.map((lp) => {
          let sum = 0;
          for (const v of lp) sum += v;
          return sum;
        });
      },
      { maxBatchSize: this.maxBatchSize, sortKey: (i) => keys[i]!.length, tokens: (i) => lengths.get(i) },
    );
  }

  async rollingLogprob(text: string): Promise<RollingLogprob> {
    const [r] = await this.rollingLogprobBatch([text]);
    return r!;
  }

  async rollingLogprobBatch(texts: readonly string[]): Promise<RollingLogprob[]> {
    return this.inst.cachedBatch(
      'rolling_logprob',
      this.id,
      texts,
      0,
      async (miss) => {
        const rows = new Map(miss.map((i) => [i, this.runner.encode(texts[i]!, true)]));
        // Rows of fewer than two tokens have nothing to score: sway returns an empty result.
        const scorable = miss.filter((i) => rows.get(i)!.length >= 2);
        const lps =
          scorable.length > 0
            ? await this.logprobsOf(
                scorable.map((i) => rows.get(i)!),
                scorable.map(() => 1),
              )
            : [];
        const byIndex = new Map(scorable.map((i, j) => [i, lps[j]!]));
        return miss.map((i) => makeRollingLogprob(rows.get(i)!, byIndex.get(i) ?? new Float32Array(0)));
      },
      { maxBatchSize: this.maxBatchSize, sortKey: (i) => texts[i]!.length },
    );
  }

  async generate(prompt: string, opts: GenerateOptions): Promise<string> {
    const ids = this.encodeNonEmpty(prompt, 'prompt');
    const maxNew = Math.max(0, Math.floor(opts.maxNewTokens));
    const temperature = opts.temperature ?? 0;
    if (maxNew === 0) return '';
    let fresh: number[];
    if (temperature <= 0) {
      fresh = await this.runner.generateGreedy(ids, maxNew);
    } else {
      // Seeded sampling: our own loop, so the same seed gives the same text on every device.
      const rand = seededRng(opts.seed ?? 0);
      const seq = [...ids];
      fresh = [];
      for (let step = 0; step < maxNew; step++) {
        const [logits] = await this.runner.forward([seq], 'last');
        const next = sampleNextToken(logits!, temperature, opts.topP ?? 1, rand);
        if (this.runner.eosTokenIds.includes(next)) break;
        seq.push(next);
        fresh.push(next);
      }
    }
    const eos = this.runner.eosTokenIds;
    const cut = fresh.findIndex((t) => eos.includes(t));
    const kept = cut === -1 ? fresh : fresh.slice(0, cut);
    // transformers.js refuses to decode an empty id list; an immediate EOS is an empty generation.
    return kept.length === 0 ? '' : this.runner.decode(kept, true);
  }

  async tokenize(text: string): Promise<{ ids: number[]; tokens: string[] }> {
    const ids = this.runner.encode(text, true);
    return { ids, tokens: this.runner.tokenStrings(ids) };
  }

  async padStuffing(tokens: number): Promise<string | null> {
    if (tokens <= 0) return '';
    const token = this.runner.stuffingToken;
    if (token === null) return null;
    // Twice the target, so it is reached even where the tokenizer merges repeats; then cut to exactly
    // `tokens` tokens (special tokens counted, as the tokenizer's default encode adds them).
    const raw = token.repeat(tokens * 2 + 4);
    const ids = this.runner.encode(raw, true);
    if (ids.length <= tokens) return `${raw}\n\n`;
    return `${this.runner.decode(ids.slice(0, tokens), false)}\n\n`;
  }

  async tokenStrings(ids: readonly number[]): Promise<string[]> {
    return this.runner.tokenStrings(ids);
  }

  /**
   * Each row's logits as the runner hands them out: streamed where it can (post-processing then
   * overlaps its next run, and a row run in chunks never exists whole), else from `forward`.
   */
  private async eachLogits(
    rows: readonly (readonly number[])[],
    want: 'last' | 'all',
    consume: (row: number, position: number, logits: Float32Array) => void,
  ): Promise<void> {
    if (this.runner.forwardEach !== undefined) {
      await this.runner.forwardEach(rows, want, consume);
      return;
    }
    const logits = await this.runner.forward(rows, want);
    logits.forEach((l, r) => consume(r, want === 'last' ? rows[r]!.length - 1 : 0, l));
  }

  /** Per row, log p(row[t] | row[<t]) for t = from[r] … len−1, gathered as the logits arrive. */
  private async logprobsOf(
    rows: readonly (readonly number[])[],
    from: readonly number[],
  ): Promise<Float32Array[]> {
    const out = rows.map((row, r) => new Float32Array(Math.max(0, row.length - from[r]!)));
    const vocab = this.runner.vocabSize;
    await this.eachLogits(rows, 'all', (r, position, logits) =>
      gatherLogprobsInto(out[r]!, logits, position, rows[r]!, from[r]!, vocab),
    );
    return out;
  }

  private encodeNonEmpty(text: string, what: string): number[] {
    const ids = this.runner.encode(text, true);
    if (ids.length === 0) {
      throw new ScoringInputError(
        `${this.id}: the ${what} ${JSON.stringify(text)} encodes to no tokens and this tokenizer adds no ` +
          'BOS token; give a non-empty text.',
      );
    }
    return ids;
  }
}

/**
 * Peak memory per view of a pair opened by `openPair` (logits tensors, run outputs with the KV cache,
 * logits held by `forward`), for benchmarks that report memory per device; null for views that do not
 * record it (the fake).
 */
export function pairMemoryStats(backend: DifferentialBackend): {
  base: RunnerMemoryStats | null;
  ft: RunnerMemoryStats | null;
} {
  const of = (view: ScoringView) => (view instanceof InstrumentedView ? view.memoryStats() : null);
  return { base: of(backend.base), ft: of(backend.ft) };
}

function checkTopK(topK: number): number {
  if (!Number.isInteger(topK) || topK <= 0) {
    throw new ScoringInputError(`topK must be a positive integer, got ${String(topK)}.`);
  }
  return topK;
}

/**
 * log p(row[t] | row[<t]) for t = from … len−1, read from per-position logits `[len, vocab]`: the
 * logits at position t−1 predict token t. Log-softmax per position in float64, stored as fp32.
 */
export function gatherLogprobs(
  logits: Float32Array,
  row: readonly number[],
  from: number,
  vocab: number,
): Float32Array {
  const out = new Float32Array(Math.max(0, row.length - from));
  gatherLogprobsInto(out, logits, 0, row, from, vocab);
  return out;
}

/**
 * `gatherLogprobs` for a slice of the positions: `logits` holds positions `[position, position + n)`
 * of the row, and each log-prob they predict for t = from … len−1 is written to `out[t − from]`.
 */
export function gatherLogprobsInto(
  out: Float32Array,
  logits: Float32Array,
  position: number,
  row: readonly number[],
  from: number,
  vocab: number,
): void {
  const n = Math.floor(logits.length / vocab);
  const first = Math.max(from, position + 1);
  const end = Math.min(row.length, position + n + 1);
  for (let t = first; t < end; t++) {
    const off = (t - 1 - position) * vocab;
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) if (logits[off + v]! > max) max = logits[off + v]!;
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[off + v]! - max);
    out[t - from] = logits[off + row[t]!]! - max - Math.log(sum);
  }
}
