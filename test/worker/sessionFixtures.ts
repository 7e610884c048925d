// Shared by the worker-session tests: the app URL, a load request for the fake source, and the opener.
import { openPair } from '../../src/backend/index.ts';
import type { PairOpener } from '../../src/worker/pairHost.ts';
import type { LoadRequest } from '../../src/worker/workbenchApi.ts';

export const APP = 'http://localhost:4173/';

/** The deterministic fake pair through `openPair`, batching at most 4 rows. */
export const REQ: LoadRequest = { source: { kind: 'fake' }, device: 'wasm', dtype: 'fp32', maxBatchSize: 4 };

/** `openPair` itself: the session's default, named so tests can wrap it. */
export const fakeLoader = (): PairOpener => openPair;
