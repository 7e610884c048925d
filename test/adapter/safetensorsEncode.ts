/**
 * A safetensors encoder for the adapter tests: F32, F16 and BF16 tensors laid out in the order given,
 * the header padded with spaces to a multiple of 8 (as safetensors writes it). Values are rounded
 * to the dtype here, so a decoded F16/BF16 tensor equals the rounded input exactly.
 */
import type { SafetensorsDtype } from '../../src/adapter/safetensors.ts';
import { toFloat16Bits } from '../../src/core/float16.ts';

export interface EncodeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  values: ArrayLike<number>;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE half bits, round to nearest even (subnormals, overflow to ±Inf, NaN). */
export const floatToHalf = toFloat16Bits;

/** float → bfloat16 bits, round to nearest even (NaN kept quiet). */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0] ?? 0;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

export function encodeSafetensors(
  tensors: [string, EncodeTensor][],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  const sizes = tensors.map(([, t]) => t.values.length * (t.dtype === 'F32' ? 4 : 2));
  tensors.forEach(([name, t], i) => {
    const size = sizes[i] ?? 0;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  });
  let json = JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of tensors) {
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i] ?? 0;
      if (t.dtype === 'F32') view.setFloat32(pos + i * 4, v, true);
      else view.setUint16(pos + i * 2, t.dtype === 'F16' ? floatToHalf(v) : floatToBf16(v), true);
    }
    pos += t.values.length * (t.dtype === 'F32' ? 4 : 2);
  }
  return out;
}
