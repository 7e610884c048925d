/** onnxruntime-node feeds for the zoo's graphs: rows of token ids with an empty KV cache. */
import * as ort from 'onnxruntime-node';
import { ONNX_DTYPE, type OnnxModel } from '../../src/adapter/onnxGraph.ts';

/** Feeds for `rows` (equal lengths, no padding) in the model's own input set and float type. */
export function zooFeeds(model: Pick<OnnxModel, 'inputs'>, rows: number[][]): Record<string, ort.Tensor> {
  const b = rows.length;
  const s = rows[0]?.length ?? 0;
  const f: Record<string, ort.Tensor> = {};
  const ints = (fn: (row: number, pos: number) => number): ort.Tensor =>
    new ort.Tensor('int64', BigInt64Array.from(rows.flatMap((r, i) => r.map((_, j) => BigInt(fn(i, j))))), [
      b,
      s,
    ]);
  for (const v of model.inputs) {
    if (v.name === 'input_ids') f[v.name] = ints((i, j) => rows[i]?.[j] ?? 0);
    else if (v.name === 'attention_mask') f[v.name] = ints(() => 1);
    else if (v.name === 'position_ids') f[v.name] = ints((_, j) => j);
    else if (v.name.startsWith('past_key_values.')) {
      const dims = v.shape.map((d, i) => (i === 0 ? b : typeof d === 'number' ? d : 0));
      const half = v.elemType === ONNX_DTYPE.float16;
      f[v.name] = new ort.Tensor(
        half ? 'float16' : 'float32',
        half ? new Uint16Array(0) : new Float32Array(0),
        dims,
      );
    }
  }
  return f;
}
