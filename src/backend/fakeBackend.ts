import {
  nullViewId,
  scaledViewId,
  type NullAdapterOptions,
  type NullCalibratedBackend,
  type ScalableBackend,
} from './capabilities.ts';
import { FAKE_VOCAB, FakeRunner } from './fakeRunner.ts';
import { InstrumentedView } from './instrumentedView.ts';
import { DEFAULT_MAX_BATCH, PairBackend, type PairBackendOptions } from './pairBackend.ts';
import type { BackendInfo, ScoringView } from './types.ts';

export interface FakeBackendOptions extends PairBackendOptions {
  /** How strongly ft differs from base (0 makes them identical). Default 1. */
  ftShift?: number;
  maxBatchSize?: number;
  pairId?: string;
  /** Offer scaled-adapter and null-adapter views (as a runtime-LoRA backend would). Default true. */
  adapterViews?: boolean;
}

/**
 * The fake with adapter views: a scaled view moves ft's logit shift by λ (λ=0 is base, λ=1 is ft),
 * a null view adds a small seeded shift of the same shape, as a random LoRA would.
 */
class FakeAdapterBackend extends PairBackend implements ScalableBackend, NullCalibratedBackend {
  private readonly views = new Map<string, ScoringView>();
  constructor(
    base: FakeRunner,
    ft: FakeRunner,
    info: BackendInfo,
    opts: PairBackendOptions,
    private readonly shift: number,
  ) {
    super(base, ft, info, opts);
    this.nullIdentity = `${info.pairId}|${info.dtype}`;
  }

  readonly nullIdentity: string;

  private viewFor(id: string, make: () => FakeRunner): ScoringView {
    let v = this.views.get(id);
    if (v === undefined) {
      v = new InstrumentedView(id, make(), this.instrumentation, this.info.maxBatchSize);
      this.views.set(id, v);
    }
    return v;
  }

  scaledView(lambda: number): ScoringView {
    return this.viewFor(scaledViewId(lambda), () => new FakeRunner(1, this.shift * lambda));
  }

  nullView(seed: number, opts: NullAdapterOptions = {}): ScoringView {
    const scale = ((opts.initScale ?? 0.02) / 0.02) * Math.sqrt(opts.rankScale ?? 1);
    return this.viewFor(nullViewId(seed, opts.rankScale ?? 1), () => new FakeRunner(seed + 7, 0.05 * scale));
  }
}

/** A deterministic base/ft pair with no model files: the backend that later layers test against. */
export function createFakeBackend(opts: FakeBackendOptions = {}): PairBackend {
  const shift = opts.ftShift ?? 1;
  const info: BackendInfo = {
    pairId: opts.pairId ?? `fake:shift=${shift}`,
    baseModel: 'fake-base',
    ftModel: 'fake-ft',
    device: 'fake',
    deviceDetail: 'deterministic fake',
    dtype: 'fp32',
    vocabSize: FAKE_VOCAB,
    maxBatchSize: opts.maxBatchSize ?? DEFAULT_MAX_BATCH,
  };
  const pairOpts = { ...opts };
  if (opts.adapterViews === false)
    return new PairBackend(new FakeRunner(0, 0), new FakeRunner(1, shift), info, pairOpts);
  return new FakeAdapterBackend(new FakeRunner(0, 0), new FakeRunner(1, shift), info, pairOpts, shift);
}
