/**
 * sway's null adapter: a LoRA with the real adapter's structure (same modules, ranks, shapes and PEFT
 * scales) whose A and B are seeded Gaussian noise, `N(0, 1) · init_scale · √rank_scale` — the
 * calibration that gives every z-score its meaning (sway's `as_null_adapter`: every `lora_A` /
 * `lora_B` overwritten with `randn(shape) * init_scale`, the std times √rank_scale).
 *
 * The noise is deltascope's own deterministic generator (mulberry32 + Box–Muller, as the rest of the
 * project), not torch's: the same seed gives the same adapter on every run and device, but not
 * sway's exact tensors — null statistics agree in distribution, not bit for bit. Modules are drawn in
 * the adapter's order, A then B each, so adding a module never changes the others' draws.
 */
import { DeltascopeError } from '../core/errors.ts';
import { seededRng } from '../core/statistics.ts';
import type { LoraModule } from './adapterWeights.ts';

export interface NullAdapterOptions {
  /** sway's default 0.02. */
  initScale?: number;
  /** Multiplies the noise variance (std × √rankScale); sway's `rank_multipliers`. Default 1. */
  rankScale?: number;
}

/** Fills `out` with standard normals from `next` (Box–Muller, both values of each pair used). */
function fillNormal(out: Float32Array, next: () => number, std: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - next(); // (0, 1]: the log is finite
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
}

/** A per-module seed, so a module's draws depend on the seed and its position only. */
const moduleSeed = (seed: number, i: number): number =>
  (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca77)) >>> 0;

export function nullAdapterModules(
  modules: readonly LoraModule[],
  seed: number,
  opts: NullAdapterOptions = {},
): LoraModule[] {
  const initScale = opts.initScale ?? 0.02;
  const rankScale = opts.rankScale ?? 1;
  if (!(initScale > 0 && Number.isFinite(initScale)) || !(rankScale > 0 && Number.isFinite(rankScale)))
    throw new DeltascopeError(
      'input/invalid',
      `a null adapter needs a positive, finite init_scale and rank_scale (got ${initScale} and ${rankScale})`,
    );
  if (!Number.isSafeInteger(seed))
    throw new DeltascopeError('input/invalid', `null adapter seed ${seed} is not an integer`);
  const std = initScale * Math.sqrt(rankScale);
  return modules.map((m, i) => {
    const next = seededRng(moduleSeed(seed, i));
    const a = new Float32Array(m.a.length);
    const b = new Float32Array(m.b.length);
    fillNormal(a, next, std);
    fillNormal(b, next, std);
    return { ...m, a, b };
  });
}
