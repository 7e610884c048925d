/**
 * transformers.js queues every ONNX session load and run in the browser on one promise chain
 * (`webInitChain = webInitChain.then(load)`, `webInferenceChain = webInferenceChain.then(run)`), so
 * that onnxruntime-web's wasm module runs one call at a time. A call that rejects leaves the chain
 * rejected, and every later `.then(...)` skips its work and rejects with the same error: one failed
 * run (a lost WebGPU device, one bad input) fails every later load and run in that worker, on any
 * device. The GPU circuit breaker's fallback to WASM in the same worker is such a later run.
 *
 * This rewrites both chains so that the caller still gets its call's rejection while the stored
 * chain settles either way. Applied by vite.config.ts to transformers.js's browser build; it throws
 * when the code it rewrites is not found, so an upgrade that changes it is noticed at build time.
 */
const CHAINS: readonly (readonly [string, string])[] = [
  ['webInitChain', 'load'],
  ['webInferenceChain', 'run'],
];

export const SETTLE_RUN_CHAINS_FILE = /@huggingface[\\/]transformers[\\/]dist[\\/]transformers\.web\.js$/;

/** The rewritten source of transformers.js's browser build. */
export function settleRunChains(code: string, id = 'transformers.web.js'): string {
  let out = code;
  for (const [chain, fn] of CHAINS) {
    const from = `${chain} = ${chain}.then(${fn})`;
    const count = out.split(from).length - 1;
    if (count !== 1) {
      throw new Error(
        `${id}: expected "${from}" once, found it ${count} times; transformers.js changed how it queues session calls, so scripts/settleRunChains.ts needs updating.`,
      );
    }
    // The call's own promise goes to the caller; the chain keeps one that always fulfils.
    out = out.replace(from, `((p) => ((${chain} = p.catch(() => {})), p))(${chain}.then(${fn}))`);
  }
  return out;
}
