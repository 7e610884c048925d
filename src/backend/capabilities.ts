import { DeltascopeError } from '../core/errors.ts';
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
  /**
   * What the null views are drawn over, as a stable string (base identity, dtype, a hash of the
   * adapter's files): the null-stats cache keys on it. Absent: the backend cannot identify itself,
   * and null statistics are never cached (sway's `backend_identity` of None).
   */
  readonly nullIdentity?: string;
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

/** The view names `viewByName` accepts, for messages and usage text. */
export const VIEW_NAMES = 'base, ft, scaled_<λ> (e.g. scaled_0.50) or null_<seed> (e.g. null_1000)';

/**
 * The view a name asks for: `base`, `ft`, `scaled_<λ>` (the adapter's delta times λ) or
 * `null_<seed>` (a seeded null adapter). The last two need runtime LoRA (a base + adapter pair); on
 * a pair of two full models they are refused with that reason. `scaled_1` and `scaled_1.00` name the
 * same view (the id has two decimals).
 */
export function viewByName(b: DifferentialBackend, name: string): ScoringView {
  if (name === 'base') return b.base;
  if (name === 'ft') return b.ft;
  const scaled = /^scaled_(-?\d+(?:\.\d+)?)$/.exec(name);
  const nul = /^null_(\d+)$/.exec(name);
  if (scaled === null && nul === null)
    throw new DeltascopeError('input/invalid', `unknown view "${name}": give ${VIEW_NAMES}`, {
      input: name,
    });
  const lora = (): never => {
    throw new DeltascopeError(
      'input/invalid',
      `view ${name} needs runtime LoRA (a base model plus an adapter); this pair is two full models and has only base and ft`,
      { input: name },
    );
  };
  if (scaled !== null) return isScalable(b) ? b.scaledView(Number(scaled[1])) : lora();
  return isNullCalibrated(b) ? b.nullView(Number(nul![1])) : lora();
}
