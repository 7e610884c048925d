import { describe, expect, it } from 'vitest';
import * as ortWeb from 'onnxruntime-web';
import { DEMO_DIMS } from '../../scripts/demoModel/demoModelConfig.ts';
import { openSession, readOnnx, runOrt } from './demoModelOrt.ts';

// The browser app runs these files on onnxruntime-web; its WASM EP also runs under Node,
// so the op set is checked here against the same kernels the page uses without WebGPU.
describe('onnxruntime-web (WASM) runs the demo model', () => {
  it('gives the onnxruntime-node logits on a left-padded batch', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const session = await ortWeb.InferenceSession.create(readOnnx('ft'), { executionProviders: ['wasm'] });
    const ids = [
      [0, 0, 1, 82, 545],
      [1, 298, 745, 313, 106],
    ];
    const mask = ids.map((row) => row.map((id) => (id === 0 ? 0 : 1)));
    const int64 = (rows: number[][]): ortWeb.Tensor =>
      new ortWeb.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [
        rows.length,
        rows[0]?.length ?? 0,
      ]);
    const feeds: Record<string, ortWeb.Tensor> = {
      input_ids: int64(ids),
      attention_mask: int64(mask),
      position_ids: int64([
        [1, 1, 0, 1, 2],
        [0, 1, 2, 3, 4],
      ]),
    };
    for (let i = 0; i < DEMO_DIMS.numLayers; i++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${i}.${kind}`] = new ortWeb.Tensor('float32', new Float32Array(0), [
          2,
          DEMO_DIMS.numKvHeads,
          0,
          DEMO_DIMS.headDim,
        ]);
      }
    }
    const web = await session.run(feeds);
    const node = await runOrt(await openSession('ft'), ids, mask);
    const a = web.logits?.data as Float32Array;
    expect(a.length).toBe(node.logits.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (node.logits[i] as number)));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(web['present.1.value']?.dims).toEqual([2, DEMO_DIMS.numKvHeads, 5, DEMO_DIMS.headDim]);
  });
});
