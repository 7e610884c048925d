/**
 * The narrow waist between the scoring views and a model runtime: tokenize, run rows of token ids,
 * get logits back as CPU arrays. `InstrumentedView` implements every op on top of this, so the
 * transformers.js runner and the fake runner share all of the op logic.
 */
export interface LogitsRunner {
  readonly vocabSize: number;
  /** The model's context window in tokens, when known (prompt hygiene refuses longer prompts). */
  readonly contextTokens?: number | null;
  /** Encodes text; with `addSpecialTokens` the tokenizer's BOS (etc.) is added as on the hub. */
  encode(text: string, addSpecialTokens: boolean): number[];
  decode(ids: readonly number[], skipSpecialTokens: boolean): string;
  /** Token strings for display. */
  tokenStrings(ids: readonly number[]): string[];
  /**
   * Runs one batch. `last`: per row, the logits at its last token (`[vocab]`). `all`: per row, the
   * logits at every position of that row (`[len, vocab]`, row-major), padding excluded.
   */
  forward(rows: readonly (readonly number[])[], want: 'last' | 'all'): Promise<Float32Array[]>;
  /**
   * The same batch, streamed: `consume(row, position, logits)` gets positions `[position, position +
   * logits.length / vocab)` of a row as soon as the run that made them is read (a row run in chunks
   * comes chunk by chunk, in position order), so the caller's post-processing can overlap the next run
   * and no row's logits need to exist whole. `logits` may be a view: read it during the call.
   */
  forwardEach?(
    rows: readonly (readonly number[])[],
    want: 'last' | 'all',
    consume: (row: number, position: number, logits: Float32Array) => void,
  ): Promise<void>;
  /** Greedy continuation with the runtime's own KV-cached loop; returns the new token ids. */
  generateGreedy(ids: readonly number[], maxNewTokens: number): Promise<number[]>;
  /** Token ids that end generation. */
  readonly eosTokenIds: readonly number[];
  /**
   * The tokenizer's pad token, else its unk, else its EOS (" " when it has none of them), for
   * content-free filler text; null for a runtime without a real tokenizer (the fake).
   */
  readonly stuffingToken: string | null;
  /** What this runner's session runs have cost in memory so far (absent for runtimes without sessions). */
  memoryStats?(): RunnerMemoryStats;
  dispose(): Promise<void>;
}

/**
 * Peak memory of a runner's forward passes, so benchmarks can report it per device. Sizes are of what
 * the session returned (fp16 logits count 2 bytes per value) and of what `forward` held on the JS heap.
 */
export interface RunnerMemoryStats {
  /** Session runs so far (one per batch slice or position chunk). */
  runs: number;
  /** Rows too long for the logits budget, run in chunks of positions through the KV cache. */
  chunkedRows: number;
  /** The largest logits tensor one run returned, in bytes, and its dims `[batch, seq, vocab]`. */
  maxLogitsBytes: number;
  maxLogitsDims: number[];
  /** The largest total of one run's outputs (logits + `present.*` KV cache), in bytes. */
  maxRunOutputBytes: number;
  /**
   * The most bytes of logits `forward` held at once: the session's buffer(s) plus the fp32 rows it
   * copied out of them (views into a buffer cost nothing extra).
   */
  maxHeldLogitsBytes: number;
  /** The logits budget the runner slices by, in bytes. */
  logitsBudgetBytes: number;
}
