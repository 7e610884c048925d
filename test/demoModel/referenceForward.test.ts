import { describe, expect, it } from 'vitest';
import { DEMO_DIMS } from '../../scripts/demoModel/demoModelConfig.ts';
import { readLlamaWeightsFromOnnx } from '../../scripts/demoModel/onnxModelReader.ts';
import { referenceForward } from '../../scripts/demoModel/referenceForward.ts';
import { openSession, readOnnx, runOrt, type DemoKind } from './demoModelOrt.ts';

const V = DEMO_DIMS.vocabSize;
const TOLERANCE = 1e-4;

/** Largest |ONNX − reference| over the rows where `include(b, s)` holds. */
function maxAbsDiff(
  onnx: Float32Array,
  ref: Float64Array[][],
  seqLen: number,
  include: (b: number, s: number) => boolean = () => true,
): number {
  let max = 0;
  ref.forEach((rows, b) =>
    rows.forEach((row, s) => {
      if (!include(b, s)) return;
      for (let v = 0; v < V; v++)
        max = Math.max(max, Math.abs((onnx[(b * seqLen + s) * V + v] as number) - (row[v] as number)));
    }),
  );
  return max;
}

describe.each<DemoKind>(['base', 'ft'])('ONNX %s model vs the TypeScript reference forward', (kind) => {
  const weights = readLlamaWeightsFromOnnx(readOnnx(kind));
  const sessionPromise = openSession(kind);

  it('matches on a single unpadded sequence', async () => {
    const ids = [[1, 298, 745, 313, 106, 277, 118, 362, 262, 601, 270]];
    const mask = [ids[0]!.map(() => 1)];
    const onnx = await runOrt(await sessionPromise, ids, mask);
    const ref = referenceForward(DEMO_DIMS, weights, { inputIds: ids, attentionMask: mask });
    expect(maxAbsDiff(onnx.logits, ref.logits, 11)).toBeLessThan(TOLERANCE);
  });

  it('matches on a left-padded batch, and padding does not leak into real positions', async () => {
    const ids = [
      [0, 0, 0, 1, 82, 545, 496],
      [1, 298, 745, 313, 106, 277, 118],
      [0, 1, 40, 50, 60, 70, 80],
    ];
    const mask = ids.map((row) => row.map((id) => (id === 0 ? 0 : 1)));
    const onnx = await runOrt(await sessionPromise, ids, mask);
    const ref = referenceForward(DEMO_DIMS, weights, { inputIds: ids, attentionMask: mask });
    // Every row, padded ones included: the reference mimics the graph's masking exactly.
    expect(maxAbsDiff(onnx.logits, ref.logits, 7)).toBeLessThan(TOLERANCE);

    // The real tokens of row 0, run alone, give the same logits as inside the padded batch.
    const alone = referenceForward(DEMO_DIMS, weights, {
      inputIds: [[1, 82, 545, 496]],
      attentionMask: [[1, 1, 1, 1]],
    });
    const shifted = [[...Array<Float64Array>(3).fill(new Float64Array(V)), ...(alone.logits[0] ?? [])]];
    expect(maxAbsDiff(onnx.logits, shifted, 7, (b, s) => b === 0 && s >= 3)).toBeLessThan(TOLERANCE);
  });

  it('matches when the sequence is fed in two steps through the KV cache', async () => {
    const ids = [
      [0, 0, 1, 82, 545, 496, 429, 262],
      [1, 298, 745, 313, 106, 277, 118, 362],
    ];
    const mask = ids.map((row) => row.map((id) => (id === 0 ? 0 : 1)));
    const session = await sessionPromise;
    const first = await runOrt(
      session,
      ids.map((r) => r.slice(0, 5)),
      mask.map((r) => r.slice(0, 5)),
    );
    const second = await runOrt(
      session,
      ids.map((r) => r.slice(5)),
      mask,
      first.present,
    );
    const ref = referenceForward(DEMO_DIMS, weights, { inputIds: ids, attentionMask: mask });
    const tail = ref.logits.map((rows) => rows.slice(5));
    expect(maxAbsDiff(second.logits, tail, 3)).toBeLessThan(TOLERANCE);
    expect(second.present['present.0.key']?.dims).toEqual([2, DEMO_DIMS.numKvHeads, 8, DEMO_DIMS.headDim]);
  });
});
