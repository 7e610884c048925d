// The onnx-community / ORT GenAI builder layout (GroupQueryAttention, RotaryEmbedding,
// (Skip)SimplifiedLayerNormalization contrib ops, the builder's names) opened through openPair in
// Node (onnxruntime-node CPU), checked against the float64 reference forward of the same weights,
// and run on onnxruntime-web's WASM provider. Findings are pinned as they stand: left-padded batches
// on the unfused layout, and the builder's newer symbolic KV-cache dim.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { roundToFloat16 } from '../../src/core/float16.ts';
import { logSoftmax, referenceForward } from '../../scripts/demoModel/referenceForward.ts';
import {
  buildGenaiGraph,
  encodeGenaiOnnx,
  genaiQ4EffectiveWeights,
} from '../../scripts/demoModel/zoo/genaiGraph.ts';
import {
  GENAI_DIMS as D,
  GENAI_LAYOUTS,
  GENAI_SEEDS,
  genaiWeights,
  writeGenaiZoo,
  type GenaiLayoutName,
  type GenaiPairDirs,
} from '../../scripts/demoModel/zoo/genaiModels.ts';
import { openPair, type DifferentialBackend } from '../../src/backend/index.ts';
import { DeltascopeError, errorCode } from '../../src/core/errors.ts';

/**
 * Log-probabilities through openPair against the float64 reference: 1e-4 nats. (Observed: ~6e-6 on
 * logits, the fp32 rounding of two layers; the contrib kernels add nothing measurable.)
 */
const TOL = 1e-4;
const LOADABLE = ['genai-unfused', 'genai-qkv', 'genai-qkv-split'] as const;
const PROMPTS = ['The festival', 'The keeper of the old lighthouse said', 'In the evening the house was'];

const scratch = mkdtempSync(join(tmpdir(), 'deltascope-genai-'));
let dirs: Record<GenaiLayoutName, GenaiPairDirs>;
const fp32Weights = {
  base: genaiWeights(D, GENAI_SEEDS.base),
  ft: genaiWeights(D, GENAI_SEEDS.base, GENAI_SEEDS.ft),
};
/** What model_q4.onnx computes with: the dequantized 4-bit blocks (the q4 reference's weights). */
const q4Weights = {
  base: genaiQ4EffectiveWeights(D, fp32Weights.base),
  ft: genaiQ4EffectiveWeights(D, fp32Weights.ft),
};
const weights = fp32Weights;
let tokenizer: PreTrainedTokenizer;

beforeAll(() => {
  dirs = writeGenaiZoo(scratch);
  const read = (f: string): unknown => JSON.parse(readFileSync(join(dirs['genai-qkv'].base, f), 'utf8'));
  tokenizer = new PreTrainedTokenizer(
    read('tokenizer.json') as object,
    read('tokenizer_config.json') as object,
  );
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const dirPair = (p: GenaiPairDirs) =>
  ({ kind: 'pair', base: { kind: 'dir', path: p.base }, ft: { kind: 'dir', path: p.ft } }) as const;
const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: true });

/** Full-vocabulary next-token log-probabilities of the float64 reference. */
function refNext(kind: 'base' | 'ft', ids: number[], w = weights): Float64Array {
  const out = referenceForward(D, w[kind], { inputIds: [ids], attentionMask: [ids.map(() => 1)] });
  return logSoftmax(out.logits[0]!.at(-1)!);
}

function sortedIds(lp: Float64Array): number[] {
  return Array.from(lp.keys()).sort((a, b) => lp[b]! - lp[a]!);
}

/**
 * deltascope's top-5 against the reference: every returned log-prob within TOL of the reference's
 * for that id, and the ids in the reference's order wherever the reference separates neighbours by
 * more than 2·TOL (a closer pair may swap in fp32). Returns the largest deviation.
 */
function expectTop5(
  got: { tokenIds: Int32Array; logprobs: Float32Array },
  ref: Float64Array,
  tol = TOL,
): number {
  const want = sortedIds(ref).slice(0, 6);
  let worst = 0;
  for (let i = 0; i < 5; i++) {
    const id = got.tokenIds[i]!;
    worst = Math.max(worst, Math.abs(got.logprobs[i]! - ref[id]!));
    const separated =
      (i === 0 || ref[want[i - 1]!]! - ref[want[i]!]! > 2 * tol) &&
      ref[want[i]!]! - ref[want[i + 1]!]! > 2 * tol;
    if (separated) expect(id).toBe(want[i]);
  }
  expect(worst).toBeLessThan(tol);
  return worst;
}

describe('the builder layout as written', () => {
  it('has the builder node names, contrib ops and domains', () => {
    for (const name of LOADABLE) {
      const g = buildGenaiGraph(D, weights.base, GENAI_LAYOUTS[name]);
      const byName = new Map(g.nodes.map((n) => [n.name, n]));
      const at = (n: string) => {
        const node = byName.get(n);
        if (!node) throw new Error(`${name}: no node ${n}`);
        return { op: node.opType, domain: node.domain ?? '' };
      };
      expect(at('/model/layers.0/attn/GroupQueryAttention')).toEqual({
        op: 'GroupQueryAttention',
        domain: 'com.microsoft',
      });
      expect(at('/model/layers.0/input_layernorm/LayerNorm')).toEqual({
        op: 'SimplifiedLayerNormalization',
        domain: '',
      });
      expect(at('/model/layers.1/input_layernorm/SkipLayerNorm')).toEqual({
        op: 'SkipSimplifiedLayerNormalization',
        domain: 'com.microsoft',
      });
      expect(at(`/model/layers.${D.numLayers}/final_norm_layernorm/SkipLayerNorm`).op).toBe(
        'SkipSimplifiedLayerNormalization',
      );
      expect(at('/model/layers.1/mlp/down_proj/MatMul').op).toBe('MatMul');
      expect(at('/lm_head/MatMul').op).toBe('MatMul');
      expect(at('/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast').op).toBe('Cast');
      const gqa = byName.get('/model/layers.1/attn/GroupQueryAttention')!;
      expect(gqa.inputs.slice(3, 7)).toEqual([
        'past_key_values.1.key',
        'past_key_values.1.value',
        '/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast/output_0',
        '/model/attn_mask_reformat/attn_mask_subgraph/Gather/Cast/output_0',
      ]);
      expect(gqa.outputs.slice(1)).toEqual(['present.1.key', 'present.1.value']);
      if (name === 'genai-unfused') {
        expect(at('/model/layers.0/attn/q_proj/MatMul').op).toBe('MatMul');
        expect(at('/model/layers.0/attn/k_rotary/RotaryEmbedding')).toEqual({
          op: 'RotaryEmbedding',
          domain: 'com.microsoft',
        });
        expect(g.inputs.map((i) => i.name)).toContain('position_ids');
      } else {
        expect(at('/model/layers.0/attn/qkv_proj/MatMul').op).toBe('MatMul');
        expect(byName.has('/model/layers.0/attn/q_proj/MatMul')).toBe(false);
        expect(gqa.inputs.slice(7)).toEqual(['cos_cache', 'sin_cache']);
        expect(g.inputs.map((i) => i.name)).not.toContain('position_ids');
        expect(byName.has('/model/layers.0/attn/qkv_proj/Split')).toBe(name === 'genai-qkv-split');
        // Packed: Q·K·V in one tensor, key and value inputs left empty.
        if (name === 'genai-qkv') expect(gqa.inputs.slice(1, 3)).toEqual(['', '']);
      }
    }
  });
});

describe.each(LOADABLE)('%s through openPair (Node, onnxruntime-node CPU)', (name) => {
  let pair: DifferentialBackend;
  beforeAll(async () => {
    pair = await openPair(dirPair(dirs[name]), { warmup: false });
  }, 60_000);
  afterAll(async () => pair?.dispose());

  it('top-5 next tokens of base and ft agree with the float64 reference', async () => {
    for (const prompt of PROMPTS) {
      const ids = encode(prompt);
      expect((await pair.base.tokenize(prompt)).ids).toEqual(ids);
      expectTop5(await pair.base.nextTokenDist(prompt, { topK: 5 }), refNext('base', ids));
      expectTop5(await pair.ft.nextTokenDist(prompt, { topK: 5 }), refNext('ft', ids));
    }
    // The pair really differs: the fine-tune moved the distribution.
    const ids = encode(PROMPTS[1]!);
    const b = refNext('base', ids);
    const f = refNext('ft', ids);
    expect(Math.max(...b.map((v, i) => Math.abs(v - f[i]!)))).toBeGreaterThan(0.05);
  });

  it('scores a continuation (logits at every position) as the reference does', async () => {
    const prompt = 'The keeper of';
    const completion = ' the old lighthouse';
    const p = encode(prompt);
    const full = encode(prompt + completion);
    expect(full.slice(0, p.length)).toEqual(p);
    const out = referenceForward(D, weights.ft, { inputIds: [full], attentionMask: [full.map(() => 1)] });
    let want = 0;
    for (let t = p.length; t < full.length; t++) want += logSoftmax(out.logits[0]![t - 1]!)[full[t]!]!;
    expect(Math.abs((await pair.ft.logprobOf(prompt, completion)) - want)).toBeLessThan(TOL * full.length);
  });

  it('greedy generation through the KV cache (past_key_values fed back) matches the reference', async () => {
    const prompt = 'In the evening';
    const ids = encode(prompt);
    const seq = [...ids];
    for (let i = 0; i < 6; i++) {
      const lp = refNext('base', seq);
      const [first, second] = sortedIds(lp);
      expect(lp[first!]! - lp[second!]!).toBeGreaterThan(1e-3);
      seq.push(first!);
    }
    const want = tokenizer.decode(seq.slice(ids.length), { skip_special_tokens: true });
    expect(await pair.base.generate(prompt, { maxNewTokens: 6 })).toBe(want);
  });

  // The runner pads right unless the export takes num_logits_to_keep (none of the builder's do):
  // right padding is exact for GroupQueryAttention, which derives each row's length from
  // sum(attention_mask) and assumes the row starts at index 0.
  it('a batch of unequal rows agrees with the reference row by row (right-padded)', async () => {
    const batchPrompts = ['A lantern', 'Odessa Vantraile made the first lanterns of the town', 'The sea was'];
    const got = await pair.base.nextTokenDistBatch(batchPrompts, { topK: 5 });
    batchPrompts.forEach((p, i) => expectTop5(got[i]!, refNext('base', encode(p))));
  });
});

describe('why the runner must not left-pad GroupQueryAttention exports', () => {
  it('HAZARD: left padding (position_ids given) gives a shorter row wrong logits; right padding is exact', async () => {
    const session = await ort.InferenceSession.create(join(dirs['genai-unfused'].base, 'onnx', 'model.onnx'));
    const short = [1, 298, 745];
    const seq = 5;
    const ref = referenceForward(D, weights.base, { inputIds: [short], attentionMask: [[1, 1, 1]] });
    const run = async (left: boolean): Promise<number> => {
      const off = left ? seq - short.length : 0;
      const ids = new BigInt64Array(seq);
      const mask = new BigInt64Array(seq);
      const pos = new BigInt64Array(seq).fill(1n);
      short.forEach((t, j) => {
        ids[off + j] = BigInt(t);
        mask[off + j] = 1n;
        pos[off + j] = BigInt(j);
      });
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', ids, [1, seq]),
        attention_mask: new ort.Tensor('int64', mask, [1, seq]),
        position_ids: new ort.Tensor('int64', pos, [1, seq]),
      };
      for (let i = 0; i < D.numLayers; i++)
        for (const kind of ['key', 'value'])
          feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
            1,
            D.numKvHeads,
            0,
            D.headDim,
          ]);
      const logits = (await session.run(feeds)).logits!.data as Float32Array;
      const last = logits.subarray(
        (off + short.length - 1) * D.vocabSize,
        (off + short.length) * D.vocabSize,
      );
      return Math.max(...Array.from(last, (v, i) => Math.abs(v - ref.logits[0]![2]![i]!)));
    };
    expect(await run(false)).toBeLessThan(1e-4);
    expect(await run(true)).toBeGreaterThan(0.1);
    await session.release();
  });
});

describe("genai-qkv-kvdim: the builder's symbolic KV-cache last dim", () => {
  it('is refused: transformers.js makes the empty cache [b, kv, 0, 0], GroupQueryAttention refuses it, and the error says so', async () => {
    // transformers.js resolves every symbolic cache dim but batch_size to 0 (resolveCacheShape).
    const run = openPair(dirPair(dirs['genai-qkv-kvdim']));
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    // The warm-up forward fails inside onnxruntime; openPair reports it as a model-load error naming
    // the model, the device, onnxruntime's message and what to do.
    expect(err).toBeInstanceOf(DeltascopeError);
    expect(errorCode(err)).toBe('model-load/failed');
    const message = (err as Error).message;
    expect(message).toContain('The base model opened, but its first forward pass on cpu failed: ');
    expect(message).toContain(
      "Non-zero status code returned while running GroupQueryAttention node. Name:'/model/layers.0/attn/GroupQueryAttention' " +
        "Status Message: Input 'past_key' dimension 3 should match the packed KV head dimension, got 0 expected 16",
    );
    expect(message).toContain('kv_cache_dim');
  });
});

/**
 * The other dtypes through openPair in Node, each against the float64 reference over the weights it
 * computes with (fp16-rounded; dequantized 4-bit blocks), with a tolerance per dtype:
 *  - fp16 (float16 weights, activations, KV cache, logits): 0.02 nats (observed 8e-3);
 *  - q4 / q4f16: MatMulNBits at accuracy level 4, as the builder's CPU int4 models on the hub. On
 *    onnxruntime-node's CPU EP level 4 quantizes each MatMul's activations to int8: 0.3 nats
 *    (observed 0.18 for q4, 0.12 for q4f16). onnxruntime-web's WASM kernel ignores the level and
 *    agrees to 1e-4 (q4), as does onnxruntime-node at level 0 (the builder's default today).
 */
const DTYPE_TOL = { fp16: 0.02, q4: 0.3, q4f16: 0.3 } as const;
const round16 = (w: Map<string, Float32Array>) =>
  new Map([...w].map(([n, a]) => [n, Float32Array.from(a, roundToFloat16)]));
const dtypeWeights = {
  fp16: { base: round16(fp32Weights.base), ft: round16(fp32Weights.ft) },
  q4: q4Weights,
  q4f16: {
    base: round16(genaiQ4EffectiveWeights(D, fp32Weights.base, true)),
    ft: round16(genaiQ4EffectiveWeights(D, fp32Weights.ft, true)),
  },
};

describe('fp16, q4 and q4f16 (MatMulNBits, block 32, symmetric) in the builder layout', () => {
  it.each([
    ['genai-qkv', 'fp16'],
    ['genai-qkv', 'q4'],
    ['genai-qkv', 'q4f16'],
    ['genai-unfused', 'fp16'],
    ['genai-unfused', 'q4'],
  ] as const)(
    '%s: openPair dtype %s in Node: top-5 within the dtype tolerance of its reference',
    async (name, dtype) => {
      const pair = await openPair(dirPair(dirs[name]), { warmup: false, dtype });
      try {
        let worst = 0;
        for (const prompt of PROMPTS) {
          const ids = encode(prompt);
          for (const kind of ['base', 'ft'] as const) {
            const got = await pair[kind].nextTokenDist(prompt, { topK: 5 });
            worst = Math.max(
              worst,
              expectTop5(got, refNext(kind, ids, dtypeWeights[dtype]), DTYPE_TOL[dtype]),
            );
          }
        }
        // FINDING: int4 at accuracy level 4 is not exact on CPU (int8 activations); < 1e-4 at level 0.
        if (dtype !== 'fp16') expect(worst).toBeGreaterThan(1e-3);
      } finally {
        await pair.dispose();
      }
    },
  );

  it('accuracy level 0 on onnxruntime-node and level 4 on onnxruntime-web WASM equal the q4 reference (1e-4)', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const ids = [1, 82, 545, 17];
    const ref = referenceForward(D, q4Weights.base, { inputIds: [ids], attentionMask: [ids.map(() => 1)] });
    const feeds = <T>(Tensor: new (type: string, data: unknown, dims: number[]) => T) => {
      const f: Record<string, T> = {
        input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, 4]),
        attention_mask: new Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
      };
      for (let i = 0; i < D.numLayers; i++)
        for (const kind of ['key', 'value'])
          f[`past_key_values.${i}.${kind}`] = new Tensor('float32', new Float32Array(0), [
            1,
            D.numKvHeads,
            0,
            D.headDim,
          ]);
      return f;
    };
    const level0 = encodeGenaiOnnx(
      D,
      fp32Weights.base,
      { attention: 'packed', q4: { accuracyLevel: 0 } },
      'q4 level 0',
    );
    const node = await ort.InferenceSession.create(level0);
    const web = await ortWeb.InferenceSession.create(
      new Uint8Array(readFileSync(join(dirs['genai-qkv'].base, 'onnx', 'model_q4.onnx'))),
      { executionProviders: ['wasm'] },
    );
    for (const logits of [
      (await node.run(feeds(ort.Tensor as never))).logits!.data as Float32Array,
      (await web.run(feeds(ortWeb.Tensor as never))).logits!.data as Float32Array,
    ]) {
      let maxDiff = 0;
      for (let t = 0; t < ids.length; t++)
        for (let v = 0; v < D.vocabSize; v++)
          maxDiff = Math.max(maxDiff, Math.abs(logits[t * D.vocabSize + v]! - ref.logits[0]![t]![v]!));
      expect(maxDiff).toBeLessThan(1e-4);
    }
    // The q4 weights really are 4-bit: the fp32 model's logits are far from these.
    const fp32 = referenceForward(D, fp32Weights.base, {
      inputIds: [ids],
      attentionMask: [ids.map(() => 1)],
    });
    expect(Math.abs(fp32.logits[0]![3]![0]! - ref.logits[0]![3]![0]!)).toBeGreaterThan(1e-3);
    await node.release();
    await web.release();
  });
});

describe('onnxruntime-web WASM provider (in Node)', () => {
  const feeds = <T>(
    Tensor: new (type: string, data: unknown, dims: number[]) => T,
    withPos: boolean,
    kvLast: number,
  ) => {
    // Two rows, right-padded: [1, 82, 545, 17] and [1, 298, pad, pad].
    const f: Record<string, T> = {
      input_ids: new Tensor('int64', BigInt64Array.from([1n, 82n, 545n, 17n, 1n, 298n, 0n, 0n]), [2, 4]),
      attention_mask: new Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n]), [2, 4]),
    };
    if (withPos)
      f.position_ids = new Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 3n, 0n, 1n, 1n, 1n]), [2, 4]);
    for (let i = 0; i < D.numLayers; i++)
      for (const kind of ['key', 'value'])
        f[`past_key_values.${i}.${kind}`] = new Tensor('float32', new Float32Array(0), [
          2,
          D.numKvHeads,
          0,
          kvLast,
        ]);
    return f;
  };

  it.each(LOADABLE)('%s: runs the contrib ops and gives the onnxruntime-node logits (1e-4)', async (name) => {
    ortWeb.env.wasm.numThreads = 1;
    const bytes = new Uint8Array(readFileSync(join(dirs[name].ft, 'onnx', 'model.onnx')));
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const node = await ort.InferenceSession.create(bytes);
    const withPos = name === 'genai-unfused';
    const a = (await web.run(feeds(ortWeb.Tensor as never, withPos, D.headDim))).logits!.data as Float32Array;
    const b = (await node.run(feeds(ort.Tensor as never, withPos, D.headDim))).logits!.data as Float32Array;
    // The valid positions: row 0's four and row 1's first two.
    const valid = [0, 1, 2, 3, 4, 5];
    let maxDiff = 0;
    for (const p of valid)
      for (let v = 0; v < D.vocabSize; v++)
        maxDiff = Math.max(maxDiff, Math.abs(a[p * D.vocabSize + v]! - b[p * D.vocabSize + v]!));
    expect(maxDiff).toBeLessThan(1e-4);
    await web.release();
    await node.release();
  });

  it('genai-qkv-kvdim: the WASM kernel refuses the [b, kv, 0, 0] empty cache too', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const bytes = new Uint8Array(readFileSync(join(dirs['genai-qkv-kvdim'].base, 'onnx', 'model.onnx')));
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    await expect(web.run(feeds(ortWeb.Tensor as never, false, 0))).rejects.toThrow(
      /GroupQueryAttention.*past_key' dimension 3 should match the packed KV head dimension, got 0 expected 16/,
    );
    await web.release();
  });
});
