// Browser-safe: imported by the Node benchmarks and by the bench page's worker.
import type { DifferentialBackend } from '../../src/backend/index.ts';
import type { LogitsRunner } from '../../src/backend/logitsRunner.ts';
import {
  divergence,
  mean,
  seededRng,
  syntheticPrompt,
  tokenDistFromLogits,
  type TokenDist,
} from '../../src/core/index.ts';
import { runSuite } from '../../src/suite/runner.ts';
import type { SuiteSpec } from '../../src/suite/types.ts';
import { compared, type SuiteResults } from './results.ts';
import { ratio, summarize } from './stats.ts';

/** The top-k every probe of the standard suite asks for (deltascope's default). */
export const SUITE_TOP_K = 256;
/** Share of each later probe's prompts taken from earlier probes (sway suites reuse prompt sets). */
export const OVERLAP = 0.3;
export const PROBES = 4;

const TAILS = ['', ' at dawn', ' before the storm came', ' while the town slept and the tide turned'];

/** Distinct prompts of varied length (so batches carry padding, as real suites do). */
export function freshPrompt(i: number): string {
  return syntheticPrompt(i, TAILS[i % TAILS.length]!);
}

/**
 * `PROBES` prompt lists of `perProbe` prompts each: the first is all fresh, every later one takes
 * `OVERLAP` of its prompts from earlier probes, so the cache has cross-probe repeats to answer.
 */
export function suitePrompts(perProbe: number, seed = 7): string[][] {
  // The project's seeded PRNG, so every device scores exactly the same prompts.
  const rand = seededRng(seed);
  const probes: string[][] = [];
  const seen: string[] = [];
  let next = 0;
  for (let p = 0; p < PROBES; p++) {
    const reuse = p === 0 ? 0 : Math.round(perProbe * OVERLAP);
    const picked = new Set<string>();
    while (picked.size < reuse) picked.add(seen[Math.floor(rand() * seen.length)]!);
    const list = [...picked];
    while (list.length < perProbe) list.push(freshPrompt(next++));
    // Shuffle so repeats are interleaved with misses, as in a real prompt file.
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    probes.push(list);
    for (const s of list) if (!seen.includes(s)) seen.push(s);
  }
  return probes;
}

export interface SuiteShape {
  probes: number;
  promptsPerProbe: number;
  /** Scoring lookups of the probes (prompts × views), preflight excluded. */
  lookups: number;
  /** Distinct (op, view, prompt, top_k) keys including the runner's preflight: the ideal forward count. */
  distinctKeys: number;
  /** What the naive loop runs: one forward per prompt per view. */
  naiveForwards: number;
}

export function suiteShape(probes: readonly (readonly string[])[]): SuiteShape {
  const distinct = new Set(probes.flat());
  const lookups = probes.reduce((n, p) => n + p.length, 0) * 2;
  // The runner's preflight scores one sentinel prompt per view at top-k 8: two more keys.
  return {
    probes: probes.length,
    promptsPerProbe: probes[0]?.length ?? 0,
    lookups,
    distinctKeys: distinct.size * 2 + 2,
    naiveForwards: lookups,
  };
}

/** The standard suite as a validated spec: one delta_kl probe per prompt list. */
export function suiteSpec(probes: readonly (readonly string[])[]): SuiteSpec {
  const model = {
    kind: 'hf' as const,
    base: 'deltascope-demo/base',
    adapter: null,
    dtype: 'fp32' as const,
    device: 'auto',
    trust_remote_code: false,
    entry_point: null,
    endpoint: null,
  };
  return {
    version: 1,
    dlm_source: null,
    models: { base: model, ft: { ...model, base: 'deltascope-demo/ft' } },
    defaults: {
      seed: 0,
      top_k: SUITE_TOP_K,
      differential: true,
      coverage_threshold: 0.5,
      score_weights: {},
      concurrent_probes: 1,
    },
    suite: probes.map((prompts, i) => ({
      name: `delta_kl_${i + 1}`,
      kind: 'delta_kl',
      enabled: true,
      weight: 1,
      prompts: [...prompts],
      divergence: 'js',
      top_k: null,
      assert_mean_gte: 0.02,
      assert_z_gte: 3,
    })),
  };
}

export interface SuiteRun {
  wallMs: number;
  forwardPasses: number;
  batches: number;
  hits: number;
  /** Mean JS divergence per probe, to check both paths computed the same thing. */
  probeMeans: number[];
}

/**
 * deltascope's path: the real suite runner over the backend's instrumented views (cache, batching,
 * single-flight). The cache is emptied first and counters are read as deltas, so repeats on one
 * loaded backend are independent.
 */
export async function runDeltascopeSuite(
  backend: DifferentialBackend,
  probes: readonly (readonly string[])[],
  now: () => number = () => performance.now(),
): Promise<SuiteRun> {
  const inst = backend.instrumentation;
  inst.cache.clear();
  const before = inst.stats.toDict();
  const t0 = now();
  const result = await runSuite(suiteSpec(probes), backend);
  const wallMs = now() - t0;
  const after = inst.stats.toDict();
  const bad = result.probes.filter((p) => p.verdict === 'error');
  if (bad.length > 0) throw new Error(`suite probe failed: ${bad.map((p) => p.message).join('; ')}`);
  return {
    wallMs,
    forwardPasses: after.forward_passes - before.forward_passes,
    batches: after.batches_sent - before.batches_sent,
    hits: after.cache_hits - before.cache_hits,
    probeMeans: result.probes.filter((p) => p.kind === 'delta_kl').map((p) => p.raw ?? Number.NaN),
  };
}

/**
 * The naive loop a first version would write: for every probe and prompt, one forward per view at
 * batch 1, no cache, no batching; the same top-k and divergence work as the probe does.
 */
export async function runNaiveSuite(
  base: LogitsRunner,
  ft: LogitsRunner,
  probes: readonly (readonly string[])[],
  now: () => number = () => performance.now(),
): Promise<SuiteRun> {
  let forwardPasses = 0;
  const dist = async (runner: LogitsRunner, prompt: string): Promise<TokenDist> => {
    const [logits] = await runner.forward([runner.encode(prompt, true)], 'last');
    forwardPasses++;
    return tokenDistFromLogits(logits!, SUITE_TOP_K, 0, runner.vocabSize);
  };
  const t0 = now();
  const probeMeans: number[] = [];
  for (const prompts of probes) {
    const per: number[] = [];
    for (const prompt of prompts)
      per.push(divergence(await dist(base, prompt), await dist(ft, prompt), 'js'));
    probeMeans.push(mean(per));
  }
  return { wallMs: now() - t0, forwardPasses, batches: forwardPasses, hits: 0, probeMeans };
}

/** Prompts/s of the raw runner at one physical batch size over `prompts` distinct prompts. */
export async function batchThroughput(
  runner: LogitsRunner,
  prompts: readonly string[],
  batch: number,
  now: () => number = () => performance.now(),
): Promise<number> {
  const rows = prompts.map((p) => runner.encode(p, true));
  const t0 = now();
  for (let i = 0; i < rows.length; i += batch) await runner.forward(rows.slice(i, i + batch), 'last');
  return (rows.length * 1000) / (now() - t0);
}

export const BATCH_SIZES = [1, 2, 4, 8, 16, 32] as const;

/** The first batch size after which doubling gains less than `minGain` (10%): where the curve flattens. */
export function flattensAt(
  points: readonly { batch: number; median: number }[],
  minGain = 0.1,
): number | null {
  for (let i = 0; i + 1 < points.length; i++) {
    if (points[i + 1]!.median < points[i]!.median * (1 + minGain)) return points[i]!.batch;
  }
  return null;
}

/** The suite figures of one device: deltascope's runs against the naive loop's, paired by repeat. */
export function suiteResults(
  device: string,
  shape: SuiteShape,
  ours: readonly SuiteRun[],
  naive: readonly SuiteRun[],
  note: string,
): SuiteResults {
  const v = summarize(ours.map((r) => r.wallMs));
  const bl = summarize(naive.map((r) => r.wallMs));
  console.log(
    `  ${device} suite: ${v.median.toFixed(0)} ms vs naive ${bl.median.toFixed(0)} ms; passes ${ours[0]!.forwardPasses}/${shape.distinctKeys} ideal`,
  );
  return {
    device,
    ...shape,
    forwardPasses: { deltascope: ours[0]!.forwardPasses, naive: naive[0]!.forwardPasses },
    batches: ours[0]!.batches,
    wallMs: compared(v, bl, ratio(v, bl)),
    speedup: ratio(bl, v),
    maxMeanDiff: Math.max(...ours[0]!.probeMeans.map((m, i) => Math.abs(m - naive[0]!.probeMeans[i]!))),
    note,
  };
}
