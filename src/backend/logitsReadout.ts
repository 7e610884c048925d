/**
 * Reading rows out of a session's logits buffer without a second full copy. fp32 buffers hand out
 * views when the rows cover most of the buffer; otherwise (the last position only, or mostly padding)
 * the few rows needed are copied, so the big buffer can be freed as soon as the run is done. fp16
 * buffers are converted row by row, straight into the rows handed out (never a full fp32 copy first).
 */

import { fromFloat16Bits } from '../core/float16.ts';

/** What a logits tensor's `data` can be: fp32, or fp16 as raw bits (Node) or a `Float16Array`. */
export type LogitsData = Float32Array | Uint16Array | ArrayLike<number>;

let halfTable: Float32Array | null = null;

/** All 65,536 half-precision bit patterns as fp32 values (256 KiB, built on first use). */
function halfToFloatTable(): Float32Array {
  if (halfTable !== null) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = fromFloat16Bits(h);
  halfTable = table;
  return table;
}

/**
 * Copies `data[from, to)` into a fresh `Float32Array`, converting fp16 as it goes. `fp16Bits` says the
 * data holds half-precision bit patterns in a `Uint16Array` (a `Float16Array` converts by value).
 */
export function copyLogits(data: LogitsData, from: number, to: number, fp16Bits: boolean): Float32Array {
  if (data instanceof Float32Array) return data.slice(from, to);
  const out = new Float32Array(to - from);
  copyLogitsInto(out, 0, data, from, to, fp16Bits);
  return out;
}

/** Writes `data[from, to)` into `out` at `at`, converting fp16 bit patterns when `fp16Bits`. */
export function copyLogitsInto(
  out: Float32Array,
  at: number,
  data: LogitsData,
  from: number,
  to: number,
  fp16Bits: boolean,
): void {
  if (fp16Bits) {
    const table = halfToFloatTable();
    const bits = data as Uint16Array;
    for (let i = from; i < to; i++) out[at + i - from] = table[bits[i]!]!;
    return;
  }
  const typed = data as Float32Array;
  if (typeof typed.subarray === 'function') {
    // TypedArray.set converts element by element (Float16Array → fp32 included).
    out.set(typed.subarray(from, to), at);
    return;
  }
  for (let i = from; i < to; i++) out[at + i - from] = data[i]!;
}

/**
 * The rows `[start, start + length)` (in elements) of one logits buffer, as views when that loses no
 * memory and as copies when it would keep a mostly unused buffer alive. Views are chosen only for
 * fp32 data whose rows together cover at least half of it: holding the buffer then costs at most 2×
 * what copies would, with no copy at all; below half, copies are smaller than the buffer they free.
 */
export function readRows(
  data: LogitsData,
  spans: readonly { start: number; length: number }[],
  fp16Bits: boolean,
): { rows: Float32Array[]; copiedBytes: number } {
  let covered = 0;
  for (const s of spans) covered += s.length;
  if (data instanceof Float32Array && covered * 2 >= data.length) {
    return { rows: spans.map((s) => data.subarray(s.start, s.start + s.length)), copiedBytes: 0 };
  }
  return {
    rows: spans.map((s) => copyLogits(data, s.start, s.start + s.length, fp16Bits)),
    copiedBytes: covered * 4,
  };
}

/** Bytes per element of the ONNX tensor types a causal LM returns. */
export function bytesPerElement(type: string): number {
  switch (type) {
    case 'float16':
    case 'bfloat16':
    case 'int16':
    case 'uint16':
      return 2;
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'int8':
    case 'uint8':
    case 'bool':
      return 1;
    case 'int4':
    case 'uint4':
      return 0.5;
    default:
      return 4;
  }
}

/** Bytes of a tensor from its type and dims (also for GPU-resident tensors, whose data is not read). */
export function tensorBytes(t: { type: string; dims: readonly number[] }): number {
  let n = 1;
  for (const d of t.dims) n *= d;
  return n * bytesPerElement(t.type);
}
