// The rewritten base opened by transformers.js as an ordinary model folder (what openPair will do):
// its forward call passes `lora_scale` through (decoder_forward keeps every input the session names),
// so scoring needs no patching. generate() is pinned as it stands: it keeps only the model's known
// forward_params, so lora_scale never reaches the session and the run fails naming the input — the
// integration must register it (or wrap generate) before views can generate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO, writeRewrittenDemoFolder } from './demoLoraFolder.ts';

const scratch = mkdtempSync(join(tmpdir(), 'deltascope-lora-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('transformers.js on the rewritten base', () => {
  it('forward(): λ = 0 is base, λ = 1 is ft, with lora_scale passed as an input', async () => {
    writeRewrittenDemoFolder(scratch);
    env.allowRemoteModels = false;
    env.localModelPath = `${scratch}/`;
    const open = (id: string) => AutoModelForCausalLM.from_pretrained(id, { device: 'cpu', dtype: 'fp32' });
    const lora = await open('demo-lora');
    env.localModelPath = `${join(DEMO, '..')}/`;
    const base = await open('deltascope-demo/base');
    const ft = await open('deltascope-demo/ft');

    const ids = [1n, 40n, 41n, 300n, 7n];
    const inputs = () => ({
      input_ids: new Tensor('int64', BigInt64Array.from(ids), [1, ids.length]),
      attention_mask: new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]),
    });
    const logits = async (m: typeof lora, lambda?: number): Promise<Float32Array> => {
      const extra =
        lambda === undefined ? {} : { lora_scale: new Tensor('float32', Float32Array.of(lambda), [1]) };
      const out = (
        await (m as unknown as (f: object) => Promise<{ logits: Tensor }>)({ ...inputs(), ...extra })
      ).logits;
      return out.data as Float32Array;
    };
    const maxDiff = (a: Float32Array, b: Float32Array) =>
      a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? 0))), 0);
    expect(maxDiff(await logits(lora, 0), await logits(base))).toBe(0);
    expect(maxDiff(await logits(lora, 1), await logits(ft))).toBeLessThan(1e-4);

    // generate() drops inputs outside forward_params: lora_scale is missing when the session runs.
    await expect(
      lora.generate({
        ...inputs(),
        lora_scale: new Tensor('float32', Float32Array.of(1), [1]),
        max_new_tokens: 2,
      } as never),
    ).rejects.toThrow(/Missing the following inputs: lora_scale/);
    await Promise.all([lora.dispose(), base.dispose(), ft.dispose()]);
  }, 60_000);
});
