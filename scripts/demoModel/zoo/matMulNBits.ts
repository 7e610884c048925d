/**
 * 4-bit block quantization as onnxruntime's MatMulNBitsQuantizer writes it for
 * `com.microsoft.MatMulNBits` (bits 4, blocks along K), and the exact inverse
 * the op applies. The builder quantizes here and the reference forward uses
 * `dequantize` of the same bytes, so "q4 against its own reference" measures
 * the runtime, not the quantizer.
 *
 * Layout (ContribOperators.md, MatMulNBits): B is uint8 [N, kBlocks, blockSize/2],
 * column n's block b holds W[b*bs .. b*bs+bs-1][n], two values per byte, the
 * first in the low nibble; scales are [N * kBlocks]; zero points (asymmetric
 * only) are uint8 [N * ceil(kBlocks/2)], packed the same way. Without zero
 * points the op uses 8. Dequantized w = (q - zp) * scale.
 *
 * Symmetric (transformers.js's q4 preset: block 32, is_symmetric=True): the
 * block's value of largest magnitude, sign kept, divided by -8, so that value
 * maps to q = 0 exactly (quant_slice_symmetric in matmul_nbits_quantizer.py).
 * Asymmetric (the quantizer's own default): range [min(x, 0), max(x, 0)] over
 * 15 steps, zero point round(-min/scale). Rounding is numpy's, half to even.
 */

export interface Q4Options {
  blockSize: number;
  symmetric: boolean;
}

export const TRANSFORMERS_JS_Q4: Q4Options = { blockSize: 32, symmetric: true };

export interface Q4Weight {
  /** K (input features) and N (output features) of the [K, N] MatMul weight. */
  k: number;
  n: number;
  blockSize: number;
  /** uint8 [N, kBlocks, blockSize / 2]. */
  packed: Uint8Array;
  /** [N * kBlocks], float32 values (rounded to float16 when `scales16` is used). */
  scales: Float32Array;
  /** uint8 [N * ceil(kBlocks / 2)], asymmetric only. */
  zeroPoints?: Uint8Array;
}

/** numpy's round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes an HF-orientation [N (out), K (in)] weight — row n is column n of
 * the ONNX [K, N] MatMul weight, so blocks run along each row here.
 * `roundScale` rounds each scale as it will be stored (float16 for q4f16)
 * before the values are quantized against it.
 */
export function quantizeQ4(
  hfWeight: Float32Array,
  n: number,
  k: number,
  opts: Q4Options,
  roundScale: (s: number) => number = Math.fround,
): Q4Weight {
  const bs = opts.blockSize;
  const kBlocks = Math.ceil(k / bs);
  const blob = bs / 2;
  const packed = new Uint8Array(n * kBlocks * blob);
  const scales = new Float32Array(n * kBlocks);
  const zpBytes = Math.ceil(kBlocks / 2);
  const zeroPoints = opts.symmetric ? undefined : new Uint8Array(n * zpBytes);
  const q = new Uint8Array(bs);
  for (let col = 0; col < n; col++) {
    const row = col * k;
    for (let b = 0; b < kBlocks; b++) {
      const start = b * bs;
      const end = Math.min(start + bs, k);
      let min = Infinity;
      let max = -Infinity;
      for (let i = start; i < end; i++) {
        const v = hfWeight[row + i] ?? 0;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      // Padding past K (when K is not a multiple of the block) quantizes zeros, as np.pad does.
      if (end - start < bs) {
        min = Math.min(min, 0);
        max = Math.max(max, 0);
      }
      let scale: number;
      let zp = 8;
      if (opts.symmetric) {
        const absMax = Math.abs(max) > Math.abs(min) ? max : min;
        scale = roundScale(absMax / -8);
      } else {
        const lo = Math.min(min, 0);
        const hi = Math.max(max, 0);
        scale = roundScale((hi - lo) / 15);
        zp = scale === 0 ? 8 : Math.min(15, Math.max(0, roundHalfEven(-lo / scale)));
      }
      for (let i = 0; i < bs; i++) {
        const v = start + i < end ? (hfWeight[row + start + i] ?? 0) : 0;
        const level = scale === 0 ? 0 : roundHalfEven(v / scale);
        q[i] = Math.min(15, Math.max(0, level + zp));
      }
      const out = (col * kBlocks + b) * blob;
      for (let i = 0; i < blob; i++) packed[out + i] = (q[2 * i] ?? 0) | ((q[2 * i + 1] ?? 0) << 4);
      scales[col * kBlocks + b] = scale;
      if (zeroPoints) {
        const at = col * zpBytes + (b >> 1);
        zeroPoints[at] = (zeroPoints[at] ?? 0) | (zp << ((b & 1) * 4));
      }
    }
  }
  return zeroPoints
    ? { k, n, blockSize: bs, packed, scales, zeroPoints }
    : { k, n, blockSize: bs, packed, scales };
}

/** The weight the op computes with, in HF orientation [N, K]: (q - zp) * scale, in float32. */
export function dequantizeQ4(w: Q4Weight): Float32Array {
  const { k, n, blockSize: bs } = w;
  const kBlocks = Math.ceil(k / bs);
  const blob = bs / 2;
  const zpBytes = Math.ceil(kBlocks / 2);
  const out = new Float32Array(n * k);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < kBlocks; b++) {
      const scale = w.scales[col * kBlocks + b] ?? 0;
      const zp = w.zeroPoints ? ((w.zeroPoints[col * zpBytes + (b >> 1)] ?? 0) >> ((b & 1) * 4)) & 0xf : 8;
      const base = (col * kBlocks + b) * blob;
      for (let i = 0; i < bs && b * bs + i < k; i++) {
        const byte = w.packed[base + (i >> 1)] ?? 0;
        const level = (i & 1 ? byte >> 4 : byte) & 0xf;
        out[col * k + b * bs + i] = Math.fround((level - zp) * scale);
      }
    }
  }
  return out;
}
