// The runner's batching mechanics on a stand-in model that records every session run.
import { describe, expect, it } from 'vitest';
import { Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { TransformersRunner } from '../../src/backend/transformersRunner.ts';

const VOCAB = 4;

function fakeModel(inputNames: string[], logitsOf?: (batch: number, seq: number) => Tensor) {
  const runs: { batch: number; seq: number; ids: bigint[]; mask: bigint[]; pos: bigint[] }[] = [];
  const model = async (feeds: Record<string, { dims: number[]; data: BigInt64Array }>) => {
    const [batch, seq] = feeds.input_ids!.dims as [number, number];
    runs.push({
      batch,
      seq,
      ids: [...feeds.input_ids!.data],
      mask: [...feeds.attention_mask!.data],
      pos: [...feeds.position_ids!.data],
    });
    // Logit v at (row, t) = input id at (row, t) + v / 10, so outputs identify their inputs.
    if (logitsOf !== undefined) return { logits: logitsOf(batch, seq) };
    const data = new Float32Array(batch * seq * VOCAB);
    for (let i = 0; i < batch * seq; i++)
      for (let v = 0; v < VOCAB; v++) data[i * VOCAB + v] = Number(feeds.input_ids!.data[i]) + v / 10;
    return { logits: new Tensor('float32', data, [batch, seq, VOCAB]) };
  };
  Object.assign(model, {
    config: { vocab_size: VOCAB, eos_token_id: 2 },
    sessions: { model: { inputNames } },
  });
  return { model: model as unknown as PreTrainedModel, runs };
}

const tokenizer = { pad_token_id: 0, eos_token_id: 2 } as unknown as PreTrainedTokenizer;

describe('TransformersRunner.forward', () => {
  it('reads float16 logits (fp16 exports) as float32 values', async () => {
    // 1, 2, -0.5 and 0.25 as IEEE half-precision bit patterns.
    const half = Uint16Array.from([0x3c00, 0x4000, 0xb800, 0x3400]);
    const { model } = fakeModel(['input_ids', 'attention_mask', 'position_ids'], (batch, seq) => {
      expect(batch * seq).toBe(1);
      return new Tensor('float16', half, [1, 1, VOCAB]);
    });
    const out = await new TransformersRunner(model, tokenizer).forward([[5]], 'last');
    expect(Array.from(out[0]!)).toEqual([1, 2, -0.5, 0.25]);
  });

  it('pads left with position ids and mask when the export takes position_ids', async () => {
    const { model, runs } = fakeModel(['input_ids', 'attention_mask', 'position_ids']);
    const runner = new TransformersRunner(model, tokenizer);
    const out = await runner.forward([[5, 6, 7], [9]], 'last');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.ids).toEqual([5n, 6n, 7n, 0n, 0n, 9n]);
    expect(runs[0]!.mask).toEqual([1n, 1n, 1n, 0n, 0n, 1n]);
    expect(runs[0]!.pos).toEqual([0n, 1n, 2n, 1n, 1n, 0n]);
    // Each row's last real token: 7 and 9.
    expect(out.map((r) => r[0])).toEqual([7, 9]);
  });

  it('pads right and reads each row at its own last index when the export has no position_ids', async () => {
    const noPos = fakeModel(['input_ids', 'attention_mask']);
    const runner = new TransformersRunner(noPos.model, tokenizer);
    const out = await runner.forward([[5, 6, 7], [9]], 'last');
    expect(noPos.runs[0]!.ids).toEqual([5n, 6n, 7n, 9n, 0n, 0n]);
    expect(out.map((r) => r[0])).toEqual([7, 9]);
    const all = await runner.forward([[5, 6, 7], [9]], 'all');
    expect(all.map((r) => r.length)).toEqual([3 * VOCAB, 1 * VOCAB]);
  });

  it('splits a batch whose logits would exceed the budget into several runs', async () => {
    const { model, runs } = fakeModel(['input_ids', 'attention_mask', 'position_ids']);
    // Room for two rows of 3 positions × 4 vocab × 4 bytes per run.
    const runner = new TransformersRunner(model, tokenizer, 2 * 3 * VOCAB * 4);
    const out = await runner.forward([[1, 1, 3], [1, 4], [5], [1, 1, 6], [7]], 'last');
    expect(runs.map((r) => r.batch)).toEqual([2, 2, 1]);
    expect(out.map((r) => r[0])).toEqual([3, 4, 5, 6, 7]);
  });
});
