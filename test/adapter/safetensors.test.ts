import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  halfToFloat,
  MAX_HEADER_BYTES,
  type SafetensorsDtype,
} from '../../src/adapter/safetensors.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { decodeSafetensors as decodeF32Only } from '../../scripts/demoModel/safetensorsFormat.ts';
import { fromFloat16Bits } from '../../src/core/float16.ts';
import { encodeSafetensors, floatToBf16, floatToHalf, type EncodeTensor } from './safetensorsEncode.ts';

const DEMO_ADAPTER = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo', 'adapter');

/** The refusal `fn` throws: a DeltascopeError with the invalid-file code, naming the file. */
function refusal(fn: () => unknown, input = 'adapter_model.safetensors'): DeltascopeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DeltascopeError);
    const err = e as DeltascopeError;
    expect(err.code).toBe('model-load/invalid-file');
    expect(err.input).toBe(input);
    expect(err.message).toContain(input);
    return err;
  }
  throw new Error('expected a refusal');
}

const bf16ToFloat = (bits: number): number => new Float32Array(new Uint32Array([bits << 16]).buffer)[0] ?? 0;

/** A value exactly representable in `dtype` (finite), so a round trip must give it back bit for bit. */
function representable(dtype: SafetensorsDtype): fc.Arbitrary<number> {
  if (dtype === 'F32') return fc.float({ noNaN: true, noDefaultInfinity: true });
  const bits = fc.integer({ min: 0, max: 0xffff });
  return dtype === 'F16'
    ? bits.filter((b) => (b & 0x7c00) !== 0x7c00).map(fromFloat16Bits)
    : bits.filter((b) => (b & 0x7f80) !== 0x7f80).map(bf16ToFloat);
}

const tensorArb: fc.Arbitrary<EncodeTensor> = fc
  .record({
    dtype: fc.constantFrom<SafetensorsDtype>('F32', 'F16', 'BF16'),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc
      .array(representable(dtype), { minLength: n, maxLength: n })
      .map((values) => ({ dtype, shape, values }));
  });

const fileArb = fc
  .uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), tensorArb), {
    selector: ([name]) => name,
    maxLength: 5,
  })
  .filter((ts) => ts.every(([name]) => name !== '__metadata__' && name !== '__proto__'));

describe('decodeSafetensors', () => {
  it('reads the demo adapter as the F32-only build-script reader does', () => {
    const bytes = new Uint8Array(readFileSync(join(DEMO_ADAPTER, 'adapter_model.safetensors')));
    const { tensors } = decodeSafetensors(bytes);
    const reference = decodeF32Only(bytes);
    expect([...tensors.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [name, t] of reference) {
      expect(tensors.get(name)?.shape).toEqual(t.shape);
      expect(tensors.get(name)?.data).toEqual(t.data);
      expect(tensors.get(name)?.dtype).toBe('F32');
    }
  });

  it('round-trips F32, F16 and BF16 tensors and metadata bit for bit (property)', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          fc.string(),
          { maxKeys: 3 },
        ),
        (tensors, metadata) => {
          const file = decodeSafetensors(encodeSafetensors(tensors, metadata));
          expect(file.metadata).toEqual(metadata);
          // Sets, not order: JSON.parse puts integer-like keys first.
          expect([...file.tensors.keys()].sort()).toEqual(tensors.map(([n]) => n).sort());
          for (const [name, t] of tensors) {
            const got = file.tensors.get(name);
            expect(got?.dtype).toBe(t.dtype);
            expect(got?.shape).toEqual(t.shape);
            // Object.is per element: -0 stays -0.
            expect([...(got?.data ?? [])].map((v, i) => Object.is(v, t.values[i]))).not.toContain(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('widens F16 and BF16 exactly, including subnormals, infinities and NaN', () => {
    const halfBits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00];
    expect(halfBits.map(halfToFloat)).toEqual([
      0,
      -0,
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      1,
      -2,
      65504,
      Infinity,
      -Infinity,
    ]);
    expect(halfToFloat(0x7e00)).toBeNaN();
    const bytes = encodeSafetensors([
      ['h', { dtype: 'F16', shape: [3], values: [1 / 3, 65520, -1e-8] }],
      ['b', { dtype: 'BF16', shape: [3], values: [1 / 3, -2.5, 3e38] }],
    ]);
    const { tensors } = decodeSafetensors(bytes);
    // 1/3 in half is 0x3555; 65520 rounds to Inf; -1e-8 underflows to -0.
    expect([...(tensors.get('h')?.data ?? [])]).toEqual([halfToFloat(0x3555), Infinity, -0]);
    expect(floatToHalf(1 / 3)).toBe(0x3555);
    // 1/3 in bfloat16 is 0x3eab = 0.333984375.
    expect(floatToBf16(1 / 3)).toBe(0x3eab);
    expect([...(tensors.get('b')?.data ?? [])]).toEqual([0.333984375, -2.5, bf16ToFloat(floatToBf16(3e38))]);
  });

  it('refuses every truncation of a valid file with a message naming the file (property)', () => {
    fc.assert(
      fc.property(
        fileArb.filter((ts) => ts.some(([, t]) => t.values.length > 0)),
        fc.nat(),
        (tensors, cut) => {
          const bytes = encodeSafetensors(tensors);
          const prefix = bytes.subarray(0, cut % bytes.length);
          const err = refusal(
            () => decodeSafetensors(prefix, 'ft/adapter_model.safetensors'),
            'ft/adapter_model.safetensors',
          );
          expect(err.message).toMatch(/truncated|shorter|not UTF-8 JSON|not a JSON object/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses every truncation of the demo adapter', () => {
    const bytes = new Uint8Array(readFileSync(join(DEMO_ADAPTER, 'adapter_model.safetensors')));
    for (let cut = 0; cut < bytes.length; cut += cut < 256 ? 1 : 997)
      refusal(() => decodeSafetensors(bytes.subarray(0, cut)));
  });

  const withHeader = (header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array => {
    let json = JSON.stringify(header);
    while (pad && json.length % 8 !== 0) json += ' ';
    const h = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  const f32 = (n: number): Uint8Array => new Uint8Array(n * 4);

  it('refuses a header that claims 4 GB, or more than the file holds', () => {
    const big = new Uint8Array(64);
    new DataView(big.buffer).setBigUint64(0, 4n * 2n ** 30n, true);
    expect(refusal(() => decodeSafetensors(big)).message).toMatch(
      /claims 4294967296 bytes, more than the 100000000-byte limit/,
    );
    new DataView(big.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expect(refusal(() => decodeSafetensors(big)).message).toMatch(/more than the/);
    new DataView(big.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES), true);
    expect(refusal(() => decodeSafetensors(big)).message).toMatch(/only 56 follow/);
  });

  it('refuses a header that is not JSON, not an object, or not UTF-8', () => {
    expect(refusal(() => decodeSafetensors(withHeader('x').fill(0x7b, 8))).message).toMatch(/not UTF-8 JSON/);
    expect(refusal(() => decodeSafetensors(withHeader([1, 2]))).message).toMatch(/not a JSON object/);
    const bad = withHeader({ a: 1 });
    bad[9] = 0xff;
    expect(refusal(() => decodeSafetensors(bad)).message).toMatch(/not UTF-8 JSON/);
  });

  it('refuses offsets outside the data section, overlapping, gapped or trailing', () => {
    const entry = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
      dtype: 'F32',
      shape,
      data_offsets: [begin, end],
    });
    expect(refusal(() => decodeSafetensors(withHeader({ a: entry(0, 16) }, f32(2)))).message).toMatch(
      /"a" spans bytes 0–16 of the data section, which has 8/,
    );
    expect(
      refusal(() => decodeSafetensors(withHeader({ a: entry(0, 8), b: entry(4, 12) }, f32(3)))).message,
    ).toMatch(/"b" .* overlaps/);
    expect(
      refusal(() => decodeSafetensors(withHeader({ a: entry(0, 4), b: entry(8, 12) }, f32(3)))).message,
    ).toMatch(/gap in the data section before tensor "b"/);
    expect(refusal(() => decodeSafetensors(withHeader({ a: entry(0, 4) }, f32(2)))).message).toMatch(
      /4 trailing bytes/,
    );
    expect(
      refusal(() =>
        decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1))),
      ).message,
    ).toMatch(/ends \(0\) before it begins \(4\)/);
    expect(
      refusal(() =>
        decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1))),
      ).message,
    ).toMatch(/data_offsets \[0\], not \[begin, end\]/);
    // Out of header order but tiling the data: accepted (safetensors sorts by offset).
    const ok = decodeSafetensors(withHeader({ b: entry(4, 8), a: entry(0, 4) }, f32(2)));
    expect([...ok.tensors.keys()]).toEqual(['b', 'a']);
  });

  it('refuses a dtype it does not read and a shape that does not match the byte span', () => {
    const h = (dtype: string, shape: unknown) =>
      withHeader({ w: { dtype, shape, data_offsets: [0, 8] } }, f32(2));
    expect(refusal(() => decodeSafetensors(h('I64', [1]))).message).toMatch(
      /dtype "I64"; deltascope reads F32, F16 and BF16/,
    );
    expect(refusal(() => decodeSafetensors(h('F8_E4M3', [8]))).message).toMatch(/dtype "F8_E4M3"/);
    expect(refusal(() => decodeSafetensors(h('F32', [3]))).message).toMatch(
      /shape \[3\] \(3 F32 values, 12 bytes\) but spans 8 bytes/,
    );
    expect(refusal(() => decodeSafetensors(h('F16', [2]))).message).toMatch(/spans 8 bytes/);
    expect(refusal(() => decodeSafetensors(h('F32', [-2]))).message).toMatch(
      /not a list of non-negative integers/,
    );
    expect(refusal(() => decodeSafetensors(h('F32', 'x'))).message).toMatch(/not a list/);
    expect(decodeSafetensors(h('F16', [2, 2])).tensors.get('w')?.data).toEqual(new Float32Array(4));
  });
});
