import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encodeInitializer,
  encodeNode,
  encodeValueInfo,
  ONNX_DTYPE,
  readOnnxModel,
  renameNodeIo,
  writeOnnxModel,
} from '../../src/adapter/onnxGraph.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { float16ToFloat32 } from '../../src/core/float16.ts';
import { readOnnxGraphSummary } from '../../scripts/demoModel/onnxModelReader.ts';
import { readOnnxNames } from '../zoo/onnxNames.ts';
import { ensureZoo, zooLayouts } from './zooLayouts.ts';
import { zooFeeds } from './ortFeeds.ts';

beforeAll(async () => {
  await ensureZoo();
}, 120_000);

const LAYOUTS = zooLayouts();

describe('readOnnxModel / writeOnnxModel', () => {
  it.each(LAYOUTS.map((l) => [l.label, l] as const))(
    '%s: reads the graph and writes it back byte for byte',
    (_, layout) => {
      const bytes = layout.bytes();
      const model = readOnnxModel(bytes);
      // The same facts as the build scripts' independent readers.
      const names = readOnnxNames(bytes);
      expect(model.nodes.map((n) => [n.name, n.opType, n.domain, n.inputs, n.outputs])).toEqual(
        names.nodes.map((n) => [n.name, n.opType, n.domain, n.inputs, n.outputs]),
      );
      expect(model.initializers.map((t) => [t.name, t.dataType, t.dims])).toEqual(
        names.initializers.map((t) => [t.name, t.dataType, t.dims]),
      );
      const summary = readOnnxGraphSummary(bytes);
      expect(model.irVersion).toBe(summary.irVersion);
      expect(Object.fromEntries(model.opsets)).toEqual(summary.opsets);
      expect(model.inputs.map((v) => [v.name, v.elemType, v.shape])).toEqual(
        summary.inputs.map((v) => [v.name, v.elemType, v.shape]),
      );
      expect(model.outputs.map((v) => v.name)).toEqual(summary.outputs.map((v) => v.name));
      // Initializer data are slices of the input, not copies.
      const big = model.initializers.find((t) => t.rawData.byteLength > 1024);
      expect(big?.rawData.buffer).toBe(bytes.buffer);
      expect(Buffer.from(writeOnnxModel(model)).equals(Buffer.from(bytes))).toBe(true);
    },
  );

  it('refuses a truncated or garbage file as invalid, naming it', () => {
    const bytes = LAYOUTS[0]!.bytes();
    for (const bad of [
      bytes.subarray(0, 1000),
      new TextEncoder().encode('{"not": "onnx"}'),
      new Uint8Array([0x3a, 0x05, 0x0a]),
    ]) {
      try {
        readOnnxModel(bad, 'base/onnx/model.onnx');
        throw new Error('expected a refusal');
      } catch (e) {
        expect(e).toBeInstanceOf(DeltascopeError);
        expect((e as DeltascopeError).code).toBe('model-load/invalid-file');
        expect((e as DeltascopeError).message).toMatch(
          /^base\/onnx\/model.onnx is not a readable ONNX model/,
        );
      }
    }
  });

  it.each(['optimum-llama/fp32', 'optimum-llama/q4f16', 'genai-qkv/q4'])(
    '%s: an edit (output moved aside, Add of a zero initializer inserted, a graph input and an opset added) runs in onnxruntime with the same logits',
    async (label) => {
      const layout = LAYOUTS.find((l) => l.label === label)!;
      const bytes = layout.bytes();
      const model = readOnnxModel(bytes);
      const target = model.nodes.find((n) =>
        /layers\.0\/(self_attn|attn)\/(q|qkv)_proj\/MatMul/.test(n.name),
      )!;
      const out = target.outputs[0]!;
      const half = layout.dtype === 'fp16' || layout.dtype === 'q4f16';
      const width =
        layout.family === 'genai' && layout.attention !== 'unfused'
          ? layout.dims.hiddenSize * 2
          : layout.dims.hiddenSize;
      const zeros = new Uint8Array(width * (half ? 2 : 4));
      const edited = writeOnnxModel(model, {
        replaceNodes: new Map([[target.index, renameNodeIo(target, { outputs: { [out]: `${out}/base` } })]]),
        insertAfter: new Map([
          [
            target.index,
            [
              encodeNode({
                name: `${target.name}/test_add`,
                opType: 'Add',
                inputs: [`${out}/base`, 'test_zero'],
                outputs: [out],
              }),
            ],
          ],
        ]),
        initializers: [
          encodeInitializer({
            name: 'test_zero',
            dims: [width],
            dataType: half ? ONNX_DTYPE.float16 : ONNX_DTYPE.float32,
            rawData: zeros,
          }),
        ],
        inputs: [
          encodeValueInfo({ name: 'unused_scale', elemType: ONNX_DTYPE.float32, shape: ['batch_size'] }),
        ],
        opsets: new Map([
          ['com.microsoft', 1],
          ['', 99],
        ]),
      });
      const re = readOnnxModel(edited);
      expect(re.nodes).toHaveLength(model.nodes.length + 1);
      expect(re.nodes[target.index]!.outputs).toEqual([`${out}/base`]);
      expect(re.nodes[target.index]!.name).toBe(target.name);
      expect(re.nodes[target.index + 1]!.opType).toBe('Add');
      expect(re.initializers.at(-1)!.name).toBe('test_zero');
      expect(re.inputs.at(-1)!.name).toBe('unused_scale');
      expect(re.opsets.get('com.microsoft')).toBe(1);
      expect(re.opsets.get('')).toBe(model.opsets.get('')); // an imported domain is left alone

      // Inserting nothing but a zero: onnxruntime's logits must be bit-identical.
      const f = zooFeeds(model, [[1, 17, 42, 7, 99]]);
      const base = await ort.InferenceSession.create(bytes);
      const edit = await ort.InferenceSession.create(edited);
      const a = (await base.run(f)).logits!.data as Float32Array | Uint16Array;
      const b = (
        await edit.run({ ...f, unused_scale: new ort.Tensor('float32', new Float32Array([1]), [1]) })
      ).logits!.data as Float32Array | Uint16Array;
      if (a instanceof Float32Array) expect(b).toEqual(a);
      else {
        // fp16: the extra Add changes which fp16 fusions onnxruntime's optimizer applies around the
        // projection, so equality is checked after widening.
        const wa = float16ToFloat32(a);
        const wb = float16ToFloat32(b as Uint16Array);
        let max = 0;
        for (let i = 0; i < wa.length; i++) max = Math.max(max, Math.abs((wa[i] ?? 0) - (wb[i] ?? 0)));
        expect(max).toBeLessThan(5e-2); // observed 0.0156: one fp16 ulp at these logits' magnitude
      }
      await base.release();
      await edit.release();
    },
  );
});
