import type { LogitsRunner } from './logitsRunner.ts';

export const FAKE_VOCAB = 64;
const PAD = 0;
const BOS = 1;
const EOS = 2;

/**
 * A deterministic stand-in for a model: a character-level tokenizer and logits that are a fixed
 * function of (view seed, previous token, position). Used by tests of the layers above the backend;
 * it runs the very same view code as the real runner.
 */
export class FakeRunner implements LogitsRunner {
  readonly vocabSize = FAKE_VOCAB;
  readonly eosTokenIds = [EOS];
  /** No real tokenizer: filler falls back to plain English text (as sway's dummy backend does). */
  readonly stuffingToken = null;
  forwardCalls = 0;
  rowsSeen = 0;

  constructor(
    /** Different seeds give different "models"; a ft view is base with a shifted seed. */
    private readonly seed: number,
    /** How far this view's logits move from seed 0's, in logit units. */
    private readonly shift = 0,
  ) {}

  encode(text: string, addSpecialTokens: boolean): number[] {
    const ids = Array.from(text, (ch) => 3 + (ch.codePointAt(0)! % (FAKE_VOCAB - 3)));
    return addSpecialTokens ? [BOS, ...ids] : ids;
  }

  decode(ids: readonly number[], skipSpecialTokens: boolean): string {
    return ids
      .filter((id) => !(skipSpecialTokens && id < 3))
      .map((id) => (id < 3 ? `<${id}>` : String.fromCharCode(97 + ((id - 3) % 26))))
      .join('');
  }

  tokenStrings(ids: readonly number[]): string[] {
    return ids.map((id) => this.decode([id], false));
  }

  logitsAt(prev: number, position: number): Float32Array {
    const out = new Float32Array(FAKE_VOCAB);
    for (let v = 0; v < FAKE_VOCAB; v++) {
      const base = Math.sin(v * 0.7 + prev * 1.3 + position * 0.11) * 3 + ((v * 7 + prev) % 5) * 0.2;
      const delta = this.shift * Math.cos(v * 0.37 + this.seed);
      out[v] = v === PAD ? -20 : base + delta;
    }
    return out;
  }

  async forward(rows: readonly (readonly number[])[], want: 'last' | 'all'): Promise<Float32Array[]> {
    this.forwardCalls += 1;
    this.rowsSeen += rows.length;
    await Promise.resolve();
    return rows.map((row) => {
      if (want === 'last') return this.logitsAt(row[row.length - 1]!, row.length - 1);
      const out = new Float32Array(row.length * FAKE_VOCAB);
      row.forEach((tok, t) => out.set(this.logitsAt(tok, t), t * FAKE_VOCAB));
      return out;
    });
  }

  async generateGreedy(ids: readonly number[], maxNewTokens: number): Promise<number[]> {
    const seq = [...ids];
    const fresh: number[] = [];
    for (let i = 0; i < maxNewTokens; i++) {
      const logits = this.logitsAt(seq[seq.length - 1]!, seq.length - 1);
      let best = 0;
      for (let v = 1; v < FAKE_VOCAB; v++) if (logits[v]! > logits[best]!) best = v;
      fresh.push(best);
      if (best === EOS) break;
      seq.push(best);
    }
    return fresh;
  }

  async dispose(): Promise<void> {}
}
