// Shared by the worker-session tests: the app URL, a load request, and a loader on the fake backend.
import { createFakeBackend } from '../../src/backend/index.ts';
import type { BackendLoader } from '../../src/worker/workbenchSession.ts';

export const APP = 'http://localhost:4173/';

/** A hub source resolves without fetching anything; the fake loaders never touch its files. */
export const REQ = {
  source: { kind: 'hub', base: 'org/base-model', ft: 'org/ft-model' },
  device: 'wasm',
  dtype: 'fp32',
} as const;

/** The fake pair on the session's instrumentation, batching at most `maxBatchSize` rows. */
export const fakeLoader =
  (maxBatchSize = 4): BackendLoader =>
  async (_pair, opts) =>
    createFakeBackend({
      ...(opts?.instrumentation ? { instrumentation: opts.instrumentation } : {}),
      maxBatchSize,
    });
