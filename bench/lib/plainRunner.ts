// Browser-safe: the naive baseline's models for the Node benchmarks and the bench page's worker.
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel } from '@huggingface/transformers';
import { TransformersRunner } from '../../src/backend/transformersRunner.ts';

/**
 * One demo model opened straight through transformers.js (no deltascope loader, no instrumentation),
 * wrapped in the same runner so both paths run identical per-row compute and the difference is cache
 * + batching only. `modelRoot` is the folder holding `deltascope-demo/` (a path in Node; in the
 * browser a root-relative URL path, since transformers.js collapses '//' in `http://`).
 */
export async function loadPlainRunner(
  view: 'base' | 'ft',
  device: 'cpu' | 'wasm' | 'webgpu',
  modelRoot: string,
): Promise<TransformersRunner> {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = modelRoot.endsWith('/') ? modelRoot : `${modelRoot}/`;
  (env as unknown as { useBrowserCache: boolean }).useBrowserCache = false;
  const id = `deltascope-demo/${view}`;
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model: PreTrainedModel = await AutoModelForCausalLM.from_pretrained(id, {
    device,
    dtype: 'fp32',
  } as Parameters<typeof AutoModelForCausalLM.from_pretrained>[1]);
  return new TransformersRunner(model, tokenizer);
}
