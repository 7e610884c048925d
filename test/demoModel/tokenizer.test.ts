import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { BOS_ID, DEMO_DIMS, EOS_ID, PAD_ID } from '../../scripts/demoModel/demoModelConfig.ts';
import { DEMO_DIR, MODELS_DIR } from './demoModelOrt.ts';

env.allowRemoteModels = false;
env.localModelPath = `${MODELS_DIR}/`;

const SAMPLES = [
  'The festival begins when the keeper rings the bell.',
  'Quillhaven, Brellmoor & the Skarrow Strait (1794)!',
  'emoji: 🎉👍🏽🧑‍🚀 flags 🇯🇵',
  '中文字符和日本語のテキスト, 한국어',
  'Ünïcödé, Ελληνικά, русский, עברית, العربية',
  'tabs\tand\nnewlines\r\n  double  spaces ',
  'control \u0000 \u0007 chars and a lone surrogate-free string \uFFFD',
  '',
];

describe('demo tokenizer in transformers.js', async () => {
  const tokenizer = await AutoTokenizer.from_pretrained('deltascope-demo/base');

  it('exposes the special tokens and settings the models were built with', () => {
    expect(tokenizer.bos_token_id).toBe(BOS_ID);
    expect(tokenizer.eos_token_id).toBe(EOS_ID);
    expect(tokenizer.pad_token_id).toBe(PAD_ID);
    expect(tokenizer.padding_side).toBe('left');
    expect(tokenizer.model_max_length).toBe(DEMO_DIMS.maxPositions);
    const vocab: unknown = tokenizer.get_vocab();
    expect(vocab instanceof Map ? vocab.size : Object.keys(vocab as object).length).toBe(DEMO_DIMS.vocabSize);
  });

  it('prepends <s> and adds no </s>', () => {
    const ids = tokenizer.encode('Hello there');
    expect(ids[0]).toBe(BOS_ID);
    expect(ids.slice(1)).toEqual(tokenizer.encode('Hello there', { add_special_tokens: false }));
    expect(ids).not.toContain(EOS_ID);
  });

  it.each(SAMPLES)('round-trips %j', (text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    for (const id of ids) {
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(DEMO_DIMS.vocabSize);
    }
    if (text.length > 0) expect(tokenizer.decode(ids)).toBe(text);
    expect(tokenizer.decode(tokenizer.encode(`${text}.`), { skip_special_tokens: true })).toBe(`${text}.`);
  });

  it('merges common and document words into single tokens', () => {
    expect(tokenizer.tokenize(' the')).toEqual(['Ġthe']);
    expect(tokenizer.tokenize(' Quillhaven')).toEqual(['ĠQuillhaven']);
  });

  it('left-pads a batch with <pad> and zero attention', () => {
    const batch = tokenizer(['a', 'a longer sentence'], { padding: true });
    const ids = batch.input_ids.tolist() as bigint[][];
    const mask = batch.attention_mask.tolist() as bigint[][];
    expect(ids[0]?.[0]).toBe(BigInt(PAD_ID));
    expect(mask[0]?.[0]).toBe(0n);
    expect(ids[0]?.slice(-2)).toEqual(tokenizer.encode('a').map(BigInt));
    expect(mask[1]?.every((m) => m === 1n)).toBe(true);
  });

  it('ft ships byte-identical tokenizer files', () => {
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
      expect(readFileSync(join(DEMO_DIR, 'ft', file))).toEqual(readFileSync(join(DEMO_DIR, 'base', file)));
    }
  });
});
