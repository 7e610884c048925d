/**
 * The narrow waist between the scoring views and a model runtime: tokenize, run rows of token ids,
 * get logits back as CPU arrays. `InstrumentedView` implements every op on top of this, so the
 * transformers.js runner and the fake runner share all of the op logic.
 */
export interface LogitsRunner {
  readonly vocabSize: number;
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
  /** Greedy continuation with the runtime's own KV-cached loop; returns the new token ids. */
  generateGreedy(ids: readonly number[], maxNewTokens: number): Promise<number[]>;
  /** Token ids that end generation. */
  readonly eosTokenIds: readonly number[];
  /**
   * The tokenizer's pad token, else its unk, else its EOS (" " when it has none of them), for
   * content-free filler text; null for a runtime without a real tokenizer (the fake).
   */
  readonly stuffingToken: string | null;
  dispose(): Promise<void>;
}
