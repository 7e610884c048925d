import { describe, expect, it } from 'vitest';
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor,
  env,
  type PreTrainedModel,
} from '@huggingface/transformers';
import { DEMO_DIMS, EOS_ID } from '../../scripts/demoModel/demoModelConfig.ts';
import { MODELS_DIR, type DemoKind } from './demoModelOrt.ts';

env.allowRemoteModels = false;
env.localModelPath = `${MODELS_DIR}/`;

const V = DEMO_DIMS.vocabSize;
const PROMPTS = [
  'The festival begins when the keeper',
  'In the evening the house was',
  'Odessa Vantraile made',
];

interface LogitsOutput {
  logits: Tensor;
}

async function forward(model: PreTrainedModel, ids: number[]): Promise<Float32Array> {
  const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const out = (await model({ input_ids, attention_mask })) as LogitsOutput;
  return out.logits.data as Float32Array;
}

function argmaxLast(logits: Float32Array): number {
  const off = logits.length - V;
  let best = 0;
  for (let v = 1; v < V; v++) if ((logits[off + v] as number) > (logits[off + best] as number)) best = v;
  return best;
}

describe.each<DemoKind>(['base', 'ft'])(
  'transformers.js runs the %s model like a hub model',
  async (kind) => {
    const tokenizer = await AutoTokenizer.from_pretrained(`deltascope-demo/${kind}`);
    const model = await AutoModelForCausalLM.from_pretrained(`deltascope-demo/${kind}`, {
      device: 'cpu',
      dtype: 'fp32',
    });

    it.each(PROMPTS)(
      'greedy generate() with the KV cache equals no-cache greedy decoding for %j',
      async (prompt) => {
        const inputs = tokenizer(prompt);
        const generated = (await model.generate({
          ...inputs,
          max_new_tokens: 10,
          do_sample: false,
        })) as Tensor;
        const withCache = (generated.tolist() as bigint[][])[0]?.map(Number) ?? [];

        const ids = tokenizer.encode(prompt);
        const promptLength = ids.length;
        for (let step = 0; step < 10; step++) {
          const next = argmaxLast(await forward(model, ids));
          ids.push(next);
          if (next === EOS_ID) break;
        }
        expect(withCache).toEqual(ids);
        expect(withCache.length).toBeGreaterThan(promptLength);
      },
    );

    it('a left-padded batch gives the last-position logits of unbatched runs', async () => {
      const batch = tokenizer(PROMPTS, { padding: true });
      const out = (await model(batch)) as LogitsOutput;
      const [B, S] = out.logits.dims as [number, number, number];
      expect(B).toBe(PROMPTS.length);
      const data = out.logits.data as Float32Array;
      for (let b = 0; b < B; b++) {
        const alone = await forward(model, tokenizer.encode(PROMPTS[b] as string));
        const aloneLast = alone.subarray(alone.length - V);
        const batchedLast = data.subarray((b * S + S - 1) * V, (b * S + S) * V);
        let maxDiff = 0;
        for (let v = 0; v < V; v++)
          maxDiff = Math.max(maxDiff, Math.abs((aloneLast[v] as number) - (batchedLast[v] as number)));
        expect(maxDiff).toBeLessThan(1e-4);
      }
    });

    it('left-padded batched generate() matches generating each prompt alone', async () => {
      const batch = tokenizer(PROMPTS, { padding: true });
      const generated = (
        (await model.generate({ ...batch, max_new_tokens: 8, do_sample: false })) as Tensor
      ).tolist() as bigint[][];
      const S = (batch.input_ids as Tensor).dims[1] as number;
      for (let b = 0; b < PROMPTS.length; b++) {
        const alone = (await model.generate({
          ...tokenizer(PROMPTS[b] as string),
          max_new_tokens: 8,
          do_sample: false,
        })) as Tensor;
        const aloneNew = ((alone.tolist() as bigint[][])[0] ?? []).slice(
          tokenizer.encode(PROMPTS[b] as string).length,
        );
        const batchedNew = (generated[b] ?? []).slice(S);
        // After a row finishes, generate() pads it; compare up to the alone run's length.
        expect(batchedNew.slice(0, aloneNew.length)).toEqual(aloneNew);
      }
    });
  },
);
