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

  it('pads left with position ids and mask when the export takes position_ids and num_logits_to_keep', async () => {
    const { model, runs } = fakeModel(['input_ids', 'attention_mask', 'position_ids', 'num_logits_to_keep']);
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

  it('pads right when the export takes position_ids but not num_logits_to_keep (exact under any attention kernel)', async () => {
    const { model, runs } = fakeModel(['input_ids', 'attention_mask', 'position_ids']);
    const runner = new TransformersRunner(model, tokenizer);
    expect(runner.leftPad).toBe(false);
    const out = await runner.forward([[5, 6, 7], [9]], 'last');
    expect(runs[0]!.ids).toEqual([5n, 6n, 7n, 9n, 0n, 0n]);
    expect(runs[0]!.mask).toEqual([1n, 1n, 1n, 1n, 0n, 0n]);
    expect(runs[0]!.pos).toEqual([0n, 1n, 2n, 0n, 1n, 1n]);
    expect(out.map((r) => r[0])).toEqual([7, 9]);
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

/** fp16 bit pattern of a small non-negative integer (exact below 2048). */
function halfBits(x: number): number {
  if (x === 0) return 0;
  const e = Math.floor(Math.log2(x));
  return ((e + 15) << 10) | Math.round((x / 2 ** e - 1) * 1024);
}

/**
 * A stand-in export with a one-layer KV cache in fp16: `present.0.key` holds every token id so far, and
 * the fp16 logit v at a position is the sum of all ids up to it plus v — right only if the cache fed in
 * as `past_key_values.0.*` really is the prefix. Every present tensor's disposal is recorded.
 */
function kvModel(budgetInputs: string[] = []) {
  const presents: { seen: number[]; disposed: number }[] = [];
  const runs: { past: number; len: number; mask: number; keep: boolean }[] = [];
  const model = async (feeds: Record<string, unknown>) => {
    const ids = [...(feeds.input_ids as { data: BigInt64Array }).data].map(Number);
    const past = feeds.past_key_values as Record<string, { seen: number[]; disposed: number }> | undefined;
    const prefix = past?.['past_key_values.0.key']?.seen ?? [];
    if (past !== undefined) {
      expect(Object.keys(past).sort()).toEqual(['past_key_values.0.key', 'past_key_values.0.value']);
      expect(past['past_key_values.0.key']!.disposed).toBe(0);
    }
    const mask = (feeds.attention_mask as { dims: number[] }).dims[1]!;
    const keep = feeds.num_logits_to_keep !== undefined;
    runs.push({ past: prefix.length, len: ids.length, mask, keep });
    const seen = [...prefix, ...ids];
    const kept = keep ? 1 : ids.length;
    const bits = new Uint16Array(kept * VOCAB);
    for (let t = 0; t < kept; t++) {
      const upTo = prefix.length + ids.length - kept + t + 1;
      const sum = seen.slice(0, upTo).reduce((a, b) => a + b, 0);
      for (let v = 0; v < VOCAB; v++) bits[t * VOCAB + v] = halfBits(sum + v);
    }
    const present = () => {
      const p = { seen, disposed: 0, type: 'float16', dims: [1, 1, seen.length, 1] };
      presents.push(p);
      return Object.assign(p, { dispose: () => (p.disposed += 1) });
    };
    return {
      logits: new Tensor('float16', bits, [1, kept, VOCAB]),
      'present.0.key': present(),
      'present.0.value': present(),
    };
  };
  Object.assign(model, {
    config: { vocab_size: VOCAB, eos_token_id: 2 },
    sessions: {
      model: {
        inputNames: [
          'input_ids',
          'attention_mask',
          'past_key_values.0.key',
          'past_key_values.0.value',
          ...budgetInputs,
        ],
      },
    },
  });
  return { model: model as unknown as PreTrainedModel, runs, presents };
}

describe('TransformersRunner: a row longer than the budget, through an fp16 KV cache', () => {
  const row = [3, 1, 4, 1, 5, 9, 2, 6];
  const prefixSums = row.map((_, t) => row.slice(0, t + 1).reduce((a, b) => a + b, 0));

  it("'all': chunks of the budget's positions, each fed the previous present as past; fp16 read as fp32", async () => {
    const { model, runs, presents } = kvModel();
    // Three positions' fp32 logits per run.
    const runner = new TransformersRunner(model, tokenizer, 3 * VOCAB * 4);
    const [out] = await runner.forward([row], 'all');
    expect(runs).toEqual([
      { past: 0, len: 3, mask: 3, keep: false },
      { past: 3, len: 3, mask: 6, keep: false },
      { past: 6, len: 2, mask: 8, keep: false },
    ]);
    expect(Array.from(out!)).toEqual(prefixSums.flatMap((s) => [s, s + 1, s + 2, s + 3]));
    // Every present tensor disposed exactly once (the last pair after the final chunk).
    expect(presents.map((p) => p.disposed)).toEqual(presents.map(() => 1));
    expect(runner.memoryStats()).toMatchObject({ runs: 3, chunkedRows: 1, maxLogitsBytes: 3 * VOCAB * 2 });
  });

  it("'last' with num_logits_to_keep needs no chunks; without it, only the final chunk's last position is kept", async () => {
    const keeps = kvModel(['num_logits_to_keep']);
    const a = new TransformersRunner(keeps.model, tokenizer, 3 * VOCAB * 4);
    expect(Array.from((await a.forward([row], 'last'))[0]!)).toEqual([31, 32, 33, 34]);
    expect(keeps.runs).toEqual([{ past: 0, len: 8, mask: 8, keep: true }]);
    const plain = kvModel();
    const b = new TransformersRunner(plain.model, tokenizer, 3 * VOCAB * 4);
    expect(Array.from((await b.forward([row], 'last'))[0]!)).toEqual([31, 32, 33, 34]);
    expect(plain.runs.map((r) => r.len)).toEqual([3, 3, 2]);
    expect(plain.presents.every((p) => p.disposed === 1)).toBe(true);
  });

  it('an export without a KV cache runs the row whole (nothing to chunk through)', async () => {
    const { model, runs } = fakeModel(['input_ids', 'attention_mask', 'position_ids']);
    const runner = new TransformersRunner(model, tokenizer, 3 * VOCAB * 4);
    await runner.forward([row], 'all');
    expect(runs.map((r) => r.seq)).toEqual([8]);
  });
});

describe('TransformersRunner.forwardEach', () => {
  it('starts the next session run before handing out the current one, with one run in flight at most', async () => {
    const events: string[] = [];
    let inflight = 0;
    const model = async (feeds: Record<string, { dims: number[]; data: BigInt64Array }>) => {
      const [batch, seq] = feeds.input_ids!.dims as [number, number];
      const first = Number(feeds.input_ids!.data[0]);
      events.push(`run ${first}`);
      inflight += 1;
      expect(inflight).toBe(1);
      await new Promise((r) => setTimeout(r, 1));
      inflight -= 1;
      const data = new Float32Array(batch * seq * VOCAB);
      for (let i = 0; i < batch * seq; i++)
        for (let v = 0; v < VOCAB; v++) data[i * VOCAB + v] = Number(feeds.input_ids!.data[i]) + v / 10;
      return { logits: new Tensor('float32', data, [batch, seq, VOCAB]) };
    };
    Object.assign(model, {
      config: { vocab_size: VOCAB, eos_token_id: 2 },
      sessions: { model: { inputNames: ['input_ids', 'attention_mask'] } },
    });
    // One row per run.
    const runner = new TransformersRunner(model as unknown as PreTrainedModel, tokenizer, 2 * VOCAB * 4);
    await runner.forwardEach(
      [
        [5, 6],
        [7, 8],
        [9, 3],
      ],
      'all',
      (row, position, logits) => {
        events.push(
          `row ${row} at ${position}: ${Array.from(logits)
            .filter((_, i) => i % VOCAB === 0)
            .join(',')}`,
        );
      },
    );
    expect(events).toEqual([
      'run 5',
      'run 7',
      'row 0 at 0: 5,6',
      'run 9',
      'row 1 at 0: 7,8',
      'row 2 at 0: 9,3',
    ]);
  });
});
