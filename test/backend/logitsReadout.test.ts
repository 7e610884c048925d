// Reading rows out of a logits buffer: views vs copies, and fp16 conversion.
import { describe, expect, it } from 'vitest';
import { copyLogits, readRows, tensorBytes } from '../../src/backend/logitsReadout.ts';

describe('logitsReadout', () => {
  it('converts fp16 bit patterns exactly: normals, subnormals, signs, infinities', () => {
    const bits = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0xfc00, 0x0000, 0x8000]);
    const out = copyLogits(bits, 0, bits.length, true);
    expect(Array.from(out)).toEqual([1, -2, 0.333251953125, 2 ** -24, 65504, -Infinity, 0, -0]);
    expect(Number.isNaN(copyLogits(Uint16Array.from([0x7e00]), 0, 1, true)[0])).toBe(true);
  });

  it('hands out views when the rows cover at least half of an fp32 buffer', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    const { rows, copiedBytes } = readRows(
      data,
      [
        { start: 0, length: 4 },
        { start: 6, length: 4 },
      ],
      false,
    );
    expect(copiedBytes).toBe(0);
    expect(rows.every((r) => r.buffer === data.buffer)).toBe(true);
    expect(rows.map((r) => Array.from(r))).toEqual([
      [0, 1, 2, 3],
      [6, 7, 8, 9],
    ]);
  });

  it('copies few rows out of a mostly unused buffer, and always converts fp16', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    const last = readRows(data, [{ start: 8, length: 4 }], false);
    expect(last.copiedBytes).toBe(16);
    expect(last.rows[0]!.buffer).not.toBe(data.buffer);
    expect(Array.from(last.rows[0]!)).toEqual([8, 9, 10, 11]);
    const half = readRows(
      Uint16Array.from([0x3c00, 0x4000, 0x4200, 0x4400]),
      [{ start: 1, length: 3 }],
      true,
    );
    expect(Array.from(half.rows[0]!)).toEqual([2, 3, 4]);
    expect(half.copiedBytes).toBe(12);
  });

  it('sizes tensors from type and dims', () => {
    expect(tensorBytes({ type: 'float32', dims: [2, 3, 5] })).toBe(120);
    expect(tensorBytes({ type: 'float16', dims: [1, 512, 49152] })).toBe(512 * 49152 * 2);
    expect(tensorBytes({ type: 'int64', dims: [4] })).toBe(32);
  });
});
