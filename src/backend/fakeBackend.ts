import { FAKE_VOCAB, FakeRunner } from './fakeRunner.ts';
import { DEFAULT_MAX_BATCH, PairBackend, type PairBackendOptions } from './pairBackend.ts';

export interface FakeBackendOptions extends PairBackendOptions {
  /** How strongly ft differs from base (0 makes them identical). Default 1. */
  ftShift?: number;
  maxBatchSize?: number;
  pairId?: string;
}

/** A deterministic base/ft pair with no model files: the backend that later layers test against. */
export function createFakeBackend(opts: FakeBackendOptions = {}): PairBackend {
  const shift = opts.ftShift ?? 1;
  return new PairBackend(
    new FakeRunner(0, 0),
    new FakeRunner(1, shift),
    {
      pairId: opts.pairId ?? `fake:shift=${shift}`,
      baseModel: 'fake-base',
      ftModel: 'fake-ft',
      device: 'fake',
      deviceDetail: 'deterministic fake',
      dtype: 'fp32',
      vocabSize: FAKE_VOCAB,
      maxBatchSize: opts.maxBatchSize ?? DEFAULT_MAX_BATCH,
    },
    opts,
  );
}
