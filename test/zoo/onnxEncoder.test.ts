/**
 * The ONNX encoder's extensions (domains, several opset imports, float16 /
 * uint8 / int32 tensors, string and tensor attributes, streamed and lazy
 * initializers), checked by running the encoded bytes in onnxruntime-node:
 * a field written wrong either fails to load or gives different numbers.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  encodeOnnxModel,
  encodeOnnxModelStream,
  type OnnxGraph,
  type OnnxModelMeta,
} from '../../scripts/demoModel/onnxModelEncoder.ts';
import {
  float16Array,
  float16ToFloat32,
  fromFloat16Bits,
  roundToFloat16,
  toFloat16Bits,
} from '../../src/core/float16.ts';

const META: OnnxModelMeta = {
  irVersion: 8,
  opsetVersion: 17,
  extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
  producerName: 'deltascope-test',
  producerVersion: '1',
  docString: '',
};

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const parts = [...chunks];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('float16 conversion', () => {
  it('rounds to nearest, ties to even, and round-trips every finite half', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00); // rounds up to Infinity
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // tie to even (0)
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // tie to even (2)
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie to even, down
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie to even, up
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      expect(toFloat16Bits(fromFloat16Bits(bits))).toBe(bits);
    }
    expect(roundToFloat16(0.1)).toBe(0.0999755859375);
  });
});

describe('ONNX encoder extensions', () => {
  it('a com.microsoft MatMulNBits node with uint8 weights runs and dequantizes as written', async () => {
    // K = 32 (one block), N = 2: column n holds quantized values q = (k + 3n) % 16.
    const K = 32;
    const N = 2;
    const packed = new Uint8Array(N * (K / 2));
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k += 2)
        packed[n * 16 + k / 2] = ((k + 3 * n) % 16) | (((k + 1 + 3 * n) % 16) << 4);
    const scales = Float32Array.from([0.5, 0.25]);
    const graph: OnnxGraph = {
      name: 'nbits',
      nodes: [
        {
          name: '/lin/MatMul_Q4',
          opType: 'MatMulNBits',
          domain: 'com.microsoft',
          inputs: ['a', 'W_Q4', 'W_scales'],
          outputs: ['y'],
          attributes: [
            ['K', { kind: 'int', value: K }],
            ['N', { kind: 'int', value: N }],
            ['bits', { kind: 'int', value: 4 }],
            ['block_size', { kind: 'int', value: 32 }],
          ],
        },
      ],
      initializers: [
        { name: 'W_Q4', dims: [N, 1, 16], data: packed },
        { name: 'W_scales', dims: [N], data: scales },
      ],
      inputs: [{ name: 'a', elemType: 'float32', shape: ['batch', K] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: ['batch', N] }],
    };
    const session = await ort.InferenceSession.create(encodeOnnxModel(graph, META));
    const a = Float32Array.from({ length: K }, (_, k) => (k % 5) - 2);
    const out = await session.run({ a: new ort.Tensor('float32', a, [1, K]) });
    const y = out.y?.data as Float32Array;
    for (let n = 0; n < N; n++) {
      let expected = 0;
      for (let k = 0; k < K; k++) expected += (a[k] ?? 0) * (((k + 3 * n) % 16) - 8) * (scales[n] ?? 0);
      expect(y[n]).toBeCloseTo(expected, 4);
    }
  });

  it('float16 and int32 tensors, string and tensor attributes, lazy initializers, streamed bytes', async () => {
    // y = Cast<float>(Pad(x16, pads, mode='reflect')) + Gather(table, idx32) + Constant(c)
    const table = Float32Array.from([10, 20, 30, 40]);
    let produced = 0;
    const graph: OnnxGraph = {
      name: 'types',
      nodes: [
        {
          name: 'pad',
          opType: 'Pad',
          inputs: ['x16', 'pads'],
          outputs: ['padded'],
          attributes: [['mode', { kind: 'string', value: 'reflect' }]],
        },
        {
          name: 'cast',
          opType: 'Cast',
          inputs: ['padded'],
          outputs: ['p32'],
          attributes: [['to', { kind: 'int', value: 1 }]],
        },
        { name: 'gather', opType: 'Gather', inputs: ['table', 'idx'], outputs: ['g'], attributes: [] },
        {
          name: 'const',
          opType: 'Constant',
          inputs: [],
          outputs: ['c'],
          attributes: [
            ['value', { kind: 'tensor', value: { name: 'c', dims: [1], data: Float32Array.of(0.5) } }],
          ],
        },
        { name: 'add1', opType: 'Add', inputs: ['p32', 'g'], outputs: ['s'], attributes: [] },
        { name: 'add2', opType: 'Add', inputs: ['s', 'c'], outputs: ['y'], attributes: [] },
      ],
      initializers: [
        { name: 'pads', dims: [2], data: BigInt64Array.of(1n, 1n) },
        {
          name: 'table',
          dims: [4],
          elemType: 'float32',
          data: () => {
            produced++;
            return table;
          },
        },
        { name: 'idx', dims: [4], data: Int32Array.of(3, 2, 1, 0) },
      ],
      inputs: [{ name: 'x16', elemType: 'float16', shape: [2] }],
      outputs: [{ name: 'y', elemType: 'float32', shape: [4] }],
    };
    const stream = encodeOnnxModelStream(graph, META);
    expect(produced).toBe(0);
    const bytes = concat(stream.chunks());
    expect(produced).toBe(1);
    expect(bytes.length).toBe(stream.byteLength);
    expect(encodeOnnxModel(graph, META)).toEqual(bytes);

    const session = await ort.InferenceSession.create(bytes);
    const x = float16Array([1.5, 2.25]);
    const out = await session.run({ x16: new ort.Tensor('float16', x, [2]) });
    // reflect pad of [1.5, 2.25] by 1 each side: [2.25, 1.5, 2.25, 1.5] ('constant' would give 0s).
    expect([...(out.y?.data as Float32Array)]).toEqual([42.75, 32, 22.75, 12]);
    expect([...float16ToFloat32(x)]).toEqual([1.5, 2.25]);
  });

  it('refuses a lazy initializer that produces the wrong type, and bytes that do not fit the dims', () => {
    const base = { name: 'g', nodes: [], inputs: [], outputs: [] };
    const lazy: OnnxGraph = {
      ...base,
      initializers: [{ name: 'w', dims: [2], elemType: 'float16', data: () => Float32Array.of(1, 2) }],
    };
    expect(() => encodeOnnxModel(lazy, META)).toThrow(/produced float32, declared float16/);
    const short: OnnxGraph = {
      ...base,
      initializers: [{ name: 'w', dims: [3], data: Float32Array.of(1, 2) }],
    };
    expect(() => encodeOnnxModel(short, META)).toThrow(/8 bytes, dims \[3\] need 12/);
  });
});
