import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { BOS_ID } from '../../scripts/demoModel/demoModelConfig.ts';
import { heldOutSentences, readText, splitSentences } from '../../scripts/demoModel/trainingTexts.ts';
import { MODELS_DIR, openSession, rowLogprob, runOrt, type DemoKind } from './demoModelOrt.ts';

env.allowRemoteModels = false;
env.localModelPath = `${MODELS_DIR}/`;

/** Pooled mean log-probability per token of each sentence after <s>, measured through onnxruntime. */
async function meanLogprob(kind: DemoKind, tokenized: number[][]): Promise<number> {
  const session = await openSession(kind);
  let total = 0;
  let count = 0;
  for (const tokens of tokenized) {
    const ids = [BOS_ID, ...tokens];
    const { logits } = await runOrt(session, [ids], [ids.map(() => 1)]);
    for (let t = 0; t + 1 < ids.length; t++)
      total += rowLogprob(logits, ids.length, 0, t, ids[t + 1] as number);
    count += ids.length - 1;
  }
  return total / count;
}

describe('fine-tune vs base behaviour (onnxruntime-node)', async () => {
  const tokenizer = await AutoTokenizer.from_pretrained('deltascope-demo/base');
  const encode = (s: string): number[] => tokenizer.encode(s, { add_special_tokens: false });
  const documentSentences = splitSentences(readText('document.md')).map(encode);
  const generic = heldOutSentences().map(encode);

  it('held-out sentences appear in neither training text', () => {
    const training = readText('corpus.md') + readText('document.md');
    expect(heldOutSentences().length).toBeGreaterThanOrEqual(10);
    for (const s of heldOutSentences()) expect(training).not.toContain(s);
  });

  it('ft is at least 1 nat per token more likely than base on the document', async () => {
    const base = await meanLogprob('base', documentSentences);
    const ft = await meanLogprob('ft', documentSentences);
    expect(ft - base).toBeGreaterThanOrEqual(1);
  });

  it('ft and base stay within 0.3 nat per token on held-out generic English', async () => {
    const base = await meanLogprob('base', generic);
    const ft = await meanLogprob('ft', generic);
    expect(Math.abs(ft - base)).toBeLessThanOrEqual(0.3);
    // The base is a real language model of English, far better than uniform (−ln 768 ≈ −6.64).
    expect(base).toBeGreaterThan(-5.5);
  });
});
