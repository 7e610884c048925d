import { seededRng } from '../../src/core/statistics.ts';

/**
 * Seeded pseudo-random numbers for the demo model builder. The output files
 * must be byte-identical on every run, so nothing here touches Math.random.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

/** The project's one PRNG (`seededRng`, mulberry32) plus Box–Muller normals for weight initialisation. */
export function createSeededRandom(seed: number): SeededRandom {
  const next = seededRng(seed);
  const normal = (): number => {
    // 1 - next() is in (0, 1], so the log is finite.
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { next, normal };
}
