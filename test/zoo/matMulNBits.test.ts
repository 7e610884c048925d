/**
 * The TypeScript 4-bit quantizer against onnxruntime's MatMulNBits kernel:
 * for symmetric (no zero points) and asymmetric (packed zero points) blocks,
 * with K a multiple of the block and not (the last block padded), the op's
 * output equals x · dequantizeQ4(W) — so the reference forward's dequantized
 * weights are exactly what the runtime computes with.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encodeOnnxModel, type OnnxGraph } from '../../scripts/demoModel/onnxModelEncoder.ts';
import { dequantizeQ4, quantizeQ4, type Q4Options } from '../../scripts/demoModel/zoo/matMulNBits.ts';
import { seededRng } from '../../src/core/statistics.ts';

async function runNBits(
  x: Float32Array,
  rows: number,
  q: ReturnType<typeof quantizeQ4>,
): Promise<Float32Array> {
  const kBlocks = Math.ceil(q.k / q.blockSize);
  const inputs = ['x', 'W_Q4', 'W_scales', ...(q.zeroPoints ? ['W_zero_points'] : [])];
  const graph: OnnxGraph = {
    name: 'nbits',
    nodes: [
      {
        name: '/lin/MatMul_Q4',
        opType: 'MatMulNBits',
        domain: 'com.microsoft',
        inputs,
        outputs: ['y'],
        attributes: [
          ['K', { kind: 'int', value: q.k }],
          ['N', { kind: 'int', value: q.n }],
          ['bits', { kind: 'int', value: 4 }],
          ['block_size', { kind: 'int', value: q.blockSize }],
        ],
      },
    ],
    initializers: [
      { name: 'W_Q4', dims: [q.n, kBlocks, q.blockSize / 2], data: q.packed },
      { name: 'W_scales', dims: [q.n * kBlocks], data: q.scales },
      ...(q.zeroPoints ? [{ name: 'W_zero_points', dims: [q.zeroPoints.length], data: q.zeroPoints }] : []),
    ],
    inputs: [{ name: 'x', elemType: 'float32', shape: ['rows', q.k] }],
    outputs: [{ name: 'y', elemType: 'float32', shape: ['rows', q.n] }],
  };
  const meta = {
    irVersion: 8,
    opsetVersion: 17,
    extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
    producerName: 'test',
    producerVersion: '1',
    docString: '',
  };
  const session = await ort.InferenceSession.create(encodeOnnxModel(graph, meta));
  const out = await session.run({ x: new ort.Tensor('float32', x, [rows, q.k]) });
  return out.y?.data as Float32Array;
}

describe('4-bit quantization matches MatMulNBits', () => {
  const cases: [string, number, number, Q4Options][] = [
    ['symmetric, K = 64', 64, 24, { blockSize: 32, symmetric: true }],
    ['symmetric, K = 48 (padded last block)', 48, 24, { blockSize: 32, symmetric: true }],
    ['asymmetric with zero points, K = 96 (odd block count)', 96, 16, { blockSize: 32, symmetric: false }],
    ['asymmetric, K = 80, block 16', 80, 8, { blockSize: 16, symmetric: false }],
  ];
  for (const [label, k, n, opts] of cases) {
    it(label, async () => {
      const rng = seededRng(k * 31 + n);
      const w = Float32Array.from({ length: n * k }, () => (rng() - 0.3) * 2); // off-centre: asymmetry matters
      const q = quantizeQ4(w, n, k, opts);
      expect(q.zeroPoints === undefined).toBe(opts.symmetric);
      const deq = dequantizeQ4(q);
      // Error ≤ half a step (|scale|), or one step for a symmetric block's value clipped at level +7.
      const kBlocks = Math.ceil(k / opts.blockSize);
      for (let col = 0; col < n; col++)
        for (let i = 0; i < k; i++) {
          const step = Math.abs(q.scales[col * kBlocks + Math.floor(i / opts.blockSize)] ?? 0);
          expect(Math.abs((deq[col * k + i] ?? 0) - (w[col * k + i] ?? 0))).toBeLessThanOrEqual(
            step / 2 + 1e-7,
          );
        }
      const rows = 3;
      const x = Float32Array.from({ length: rows * k }, () => rng() * 2 - 1);
      const y = await runNBits(x, rows, q);
      for (let r = 0; r < rows; r++)
        for (let col = 0; col < n; col++) {
          let expected = 0;
          for (let i = 0; i < k; i++) expected += (x[r * k + i] ?? 0) * (deq[col * k + i] ?? 0);
          expect(Math.abs((y[r * n + col] ?? 0) - expected)).toBeLessThan(1e-4);
        }
    });
  }

  it('symmetric blocks map their largest-magnitude value exactly (scale = that value / -8)', () => {
    const w = Float32Array.from({ length: 32 }, (_, i) => (i === 5 ? -3 : (i % 7) / 10));
    const q = quantizeQ4(w, 1, 32, { blockSize: 32, symmetric: true });
    expect(q.scales[0]).toBe(Math.fround(-3 / -8));
    expect(dequantizeQ4(q)[5]).toBe(-3);
  });
});
