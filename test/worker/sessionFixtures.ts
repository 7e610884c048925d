// Shared by the worker-session tests: the app URL, a load request for the fake source, the opener,
// and suite specs for the fake pair.
import { openPair } from '../../src/backend/index.ts';
import type { PairOpener } from '../../src/worker/pairHost.ts';
import type { LoadRequest } from '../../src/worker/workbenchApi.ts';

export const APP = 'http://localhost:4173/';

/** The deterministic fake pair through `openPair`, batching at most 4 rows. */
export const REQ: LoadRequest = { source: { kind: 'fake' }, device: 'wasm', dtype: 'fp32', maxBatchSize: 4 };

/** `openPair` itself: the session's default, named so tests can wrap it. */
export const fakeLoader = (): PairOpener => openPair;

/**
 * A suite spec for the fake pair (the workbench runs it on the loaded pair; the models name it):
 * seed 0, `topK`, and `suite` as YAML list items (each starting `  - name:`).
 */
export function fakeSuiteSpec(topK: number, suite: string): string {
  return `version: 1
models:
  base: { kind: hf, base: fake-base }
  ft: { kind: hf, base: fake-ft }
defaults: { seed: 0, top_k: ${topK} }
suite:
${suite}`;
}
