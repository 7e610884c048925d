import type { DifferentialBackend, ScoringView } from './types.ts';

/**
 * Optional backend capabilities, detected at run time (sway's runtime-checkable protocols). A probe
 * asks for one and SKIPs with the reason when it is missing; a backend gains one by implementing the
 * method, without any probe changing.
 */
export interface ScalableBackend extends DifferentialBackend {
  /** The adapter's delta scaled by λ: W + λ·(α/r)·B·A. λ=0 is base, λ=1 is ft. View id `scaled_<λ:.2f>`. */
  scaledView(lambda: number): ScoringView;
}

export interface NullAdapterOptions {
  initScale?: number;
  rankScale?: number;
}

export interface NullCalibratedBackend extends DifferentialBackend {
  /** A LoRA with the adapter's structure and seeded Gaussian weights. View id `null_<seed>`. */
  nullView(seed: number, opts?: NullAdapterOptions): ScoringView;
}

export function isScalable(b: DifferentialBackend): b is ScalableBackend {
  return typeof (b as Partial<ScalableBackend>).scaledView === 'function';
}

export function isNullCalibrated(b: DifferentialBackend): b is NullCalibratedBackend {
  return typeof (b as Partial<NullCalibratedBackend>).nullView === 'function';
}

/** sway's view id for a scaled adapter: `scaled_` and λ with two decimals. */
export const scaledViewId = (lambda: number): string => `scaled_${lambda.toFixed(2)}`;
export const nullViewId = (seed: number, rankScale = 1): string =>
  rankScale === 1 ? `null_${seed}` : `null_${seed}_rank${rankScale.toFixed(2)}`;
