// Browser-safe: the 135M-scale measurement, shared by Node (`scale.bench.ts`) and the bench page's
// worker. Everything device-specific (how the pair is opened, how memory is read) comes in as hooks.
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import type { DifferentialBackend } from '../../src/backend/index.ts';
import { pairMemoryStats } from '../../src/backend/instrumentedView.ts';
import type { TransformersRunner } from '../../src/backend/transformersRunner.ts';
import {
  divergence,
  exactDivergence,
  mean,
  tokenDistFromLogits,
  truncateDist,
} from '../../src/core/index.ts';
import { OrtClock } from './ortClock.ts';
import {
  compared,
  type ScaleCpu,
  type ScaleDeviceResults,
  type ScaleMemory,
  type ScaleModelInfo,
  type ScaleOverhead,
  type ScaleScaling,
  type SuiteResults,
} from './results.ts';
import { ratio, summarize } from './stats.ts';
import {
  SUITE_TOP_K,
  flattensAt,
  freshPrompt,
  runDeltascopeSuite,
  suitePrompts,
  suiteResults,
  suiteShape,
  type SuiteRun,
} from './suiteWorkload.ts';

export type ScaleDevice = 'cpu' | 'wasm' | 'webgpu';

/** How much work one device run does; SwiftShader runs the 135M pair at seconds per forward. */
export interface ScalePlan {
  /**
   * Prompts per probe of the 4-probe suite (12 = the issue's quick measurement, 4 × 12); 0 skips the
   * suite and the batch scaling (load, first and warm pass only), for a device too slow for them.
   */
  perProbe: number;
  /** Why the suite is skipped, when it is. */
  skipReason?: string;
  suiteRepeats: number;
  /** Distinct prompts per batch-scaling point. */
  scalePrompts: number;
  scaleRepeats: number;
  batchSizes: readonly number[];
}

export function scalePlan(device: ScaleDevice, quick: boolean, cpuEmulatedGpu: boolean): ScalePlan {
  if (device === 'webgpu' && cpuEmulatedGpu) {
    // Measured here (Node --liftoff-only): the fp32 pair loads in ~20 s, a 4-token forward takes ~40 s.
    return {
      perProbe: 0,
      skipReason:
        'not measured on a CPU-emulated GPU: SwiftShader takes 20–40 s per forward of a 4-token row of the 135M model here (q4 / fp32), so the suite (~170 forwards with the naive loop) would take hours; load, first and warm pass are measured.',
      suiteRepeats: 0,
      scalePrompts: 0,
      scaleRepeats: 0,
      batchSizes: [],
    };
  }
  return {
    perProbe: 12,
    suiteRepeats: quick ? 2 : 4,
    scalePrompts: 32,
    // One batch-1 pass over 32 prompts of ~27 tokens takes ~20 s on two loaded cores.
    scaleRepeats: quick ? 1 : 3,
    batchSizes: [1, 2, 4, 8, 16, 32],
  };
}

/** A memory reading; each field null where the platform has no such counter. */
export interface MemorySample {
  rssMb: number | null;
  peakRssMb: number | null;
  heapUsedMb: number | null;
  uaMemoryMb: number | null;
}

export interface ScaleHooks {
  /** Opens the base/ft pair with the warm-up pass off (the first pass is measured here). */
  open(): Promise<DifferentialBackend>;
  memory(): Promise<MemorySample>;
  log(line: string): void;
  now?: () => number;
  /** CPU ms used so far by the process running the model (absent where it cannot be read). */
  cpuMs?: () => Promise<number> | number;
}

export interface ScaleRunOptions {
  /** Row label, e.g. 'Node · onnxruntime-node (CPU)'. */
  label: string;
  device: ScaleDevice;
  quick: boolean;
  model: ScaleModelInfo;
  plan: ScalePlan;
  /** Caveats the caller already knows (e.g. "CPU-emulated GPU"). */
  notes?: string[];
}

/** One view's transformers.js objects, as deltascope's loader opened them. */
interface ViewModels {
  runner: TransformersRunner;
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
}

/**
 * The runners and transformers.js models behind a pair. The naive loop runs on the very sessions the
 * suite uses (same session options and threads, and one copy of the weights in memory — four 135M
 * sessions would not fit a 4 GB wasm heap), so the comparison is the loop around ORT and nothing else.
 * PairBackend and TransformersRunner keep these private; the bench reads them structurally.
 */
function pairModels(backend: DifferentialBackend): { base: ViewModels; ft: ViewModels } {
  const b = backend as unknown as { baseRunner?: TransformersRunner; ftRunner?: TransformersRunner };
  const view = (runner: TransformersRunner | undefined, id: string): ViewModels => {
    const r = runner as unknown as { model?: PreTrainedModel; tokenizer?: PreTrainedTokenizer } | undefined;
    if (runner === undefined || r?.model === undefined || r.tokenizer === undefined) {
      throw new Error(
        `scale bench: the ${id} view is not a transformers.js runner (PairBackend.${id}Runner.model/tokenizer); the bench needs the loaded sessions.`,
      );
    }
    return { runner, model: r.model, tokenizer: r.tokenizer };
  };
  return { base: view(b.baseRunner, 'base'), ft: view(b.ftRunner, 'ft') };
}

/** Every ORT session of a transformers.js model (`model.sessions`), for the clock to wrap. */
function sessionsOf(model: PreTrainedModel): { run: (...a: unknown[]) => Promise<unknown> }[] {
  const sessions = (model as unknown as { sessions?: Record<string, unknown> }).sessions ?? {};
  return Object.values(sessions) as { run: (...a: unknown[]) => Promise<unknown> }[];
}

/**
 * The naive loop a first version would write with transformers.js: for every probe and prompt,
 * `model(tokenizer(prompt))` per view at batch 1 (full logits, every position), the last row's
 * full distribution, and the same divergences the probe reports (sway's top-k JS and the exact
 * full-vocabulary one). No cache, no batching, no padding.
 */
export async function runNaiveTransformersSuite(
  pair: { base: ViewModels; ft: ViewModels },
  probes: readonly (readonly string[])[],
  now: () => number = () => performance.now(),
): Promise<SuiteRun> {
  let forwardPasses = 0;
  const dist = async (v: ViewModels, prompt: string) => {
    const inputs = v.tokenizer(prompt) as unknown as Record<string, Tensor>;
    const out = (await (v.model as unknown as (f: Record<string, Tensor>) => Promise<unknown>)(
      inputs,
    )) as Record<string, Tensor>;
    forwardPasses++;
    const logits = out.logits!;
    const [, seq, vocab] = logits.dims as [number, number, number];
    const row = (logits.data as Float32Array).subarray((seq - 1) * vocab, seq * vocab);
    const full = tokenDistFromLogits(row, vocab, 0, vocab);
    // GPU-resident outputs (the KV cache on WebGPU) leak unless disposed; a no-op on the CPU.
    for (const t of Object.values(out)) (t as { dispose?: () => void }).dispose?.();
    return full;
  };
  const t0 = now();
  const probeMeans: number[] = [];
  for (const prompts of probes) {
    const per: number[] = [];
    for (const prompt of prompts) {
      const a = await dist(pair.base, prompt);
      const b = await dist(pair.ft, prompt);
      exactDivergence(a, b);
      per.push(divergence(truncateDist(a, SUITE_TOP_K), truncateDist(b, SUITE_TOP_K), 'js'));
    }
    probeMeans.push(mean(per));
  }
  return { wallMs: now() - t0, forwardPasses, batches: forwardPasses, hits: 0, probeMeans };
}

const WARM_PROMPT = 'hello';

/** Opens the pair and measures everything of one device, side by side, in one run. */
export async function measureScale(opts: ScaleRunOptions, hooks: ScaleHooks): Promise<ScaleDeviceResults> {
  const now = hooks.now ?? (() => performance.now());
  const { plan, label } = opts;
  const log = (s: string) => hooks.log(`  ${label}: ${s}`);
  const before = await hooks.memory();
  const t0 = now();
  const backend = await hooks.open();
  const loadMs = now() - t0;
  try {
    const afterLoad = await hooks.memory();
    const pair = pairModels(backend);
    const clock = new OrtClock(now);
    for (const v of [pair.base, pair.ft]) for (const s of sessionsOf(v.model)) clock.wrap(s);
    log(`pair opened in ${(loadMs / 1000).toFixed(1)} s on ${backend.info.deviceDetail}`);

    // First pass per view (WebGPU: shader compilation), then the same pass warm.
    const firstPassMs: number[] = [];
    for (const v of [pair.base, pair.ft]) {
      const t = now();
      await v.runner.forward([v.runner.encode(WARM_PROMPT, true)], 'last');
      firstPassMs.push(now() - t);
    }
    const warm: number[] = [];
    for (let i = 0; i < (plan.perProbe === 0 ? 1 : 3); i++) {
      const t = now();
      await pair.base.runner.forward([pair.base.runner.encode(WARM_PROMPT, true)], 'last');
      warm.push(now() - t);
    }
    log(
      `first pass ${firstPassMs.map((m) => m.toFixed(0)).join('/')} ms, warm ${summarize(warm).median.toFixed(0)} ms`,
    );

    const { suite, overhead, scaling, cpu } =
      plan.perProbe === 0
        ? unmeasured(label, plan.skipReason ?? 'not measured on this device.')
        : await measureSuiteAndScaling(backend, pair, clock, opts, now, log, hooks.cpuMs);
    const end = await hooks.memory();
    const runnerPeak = runnerHeldLogits(backend);
    const memory: ScaleMemory = {
      rssBeforeMb: before.rssMb,
      rssAfterLoadMb: afterLoad.rssMb,
      peakRssMb: end.peakRssMb,
      heapUsedMb: afterLoad.heapUsedMb,
      uaMemoryMb: afterLoad.uaMemoryMb,
      peakLogitsBytes: clock.peakLogitsBytes,
      runnerPeakLogitsBytes: runnerPeak,
      note: 'RSS and peak RSS are the whole process (both views’ sessions, which the naive loop shares); peak RSS is the process’s lifetime peak, so a part run after another in the same process may show the earlier part’s peak; peak logits is the largest `logits` tensor any session.run returned during this device run.',
    };
    return {
      device: label,
      deviceDetail: backend.info.deviceDetail,
      quick: opts.quick,
      model: opts.model,
      loadMs,
      firstPassMs,
      warmPassMs: summarize(warm),
      suite,
      overhead,
      scaling,
      memory,
      cpu,
      notes: [...(opts.notes ?? [])],
    };
  } finally {
    await backend.dispose();
  }
}

/** The most logits bytes `forward` held at once (session buffer plus rows copied out), over both views. */
function runnerHeldLogits(backend: DifferentialBackend): number | null {
  const { base, ft } = pairMemoryStats(backend);
  const held = [base, ft].filter((m) => m !== null).map((m) => m.maxHeldLogitsBytes);
  return held.length === 0 ? null : Math.max(...held);
}

/** Suite against the naive loop (paired, order alternating, ORT time clocked per run), then batch scaling. */
async function measureSuiteAndScaling(
  backend: DifferentialBackend,
  pair: { base: ViewModels; ft: ViewModels },
  clock: OrtClock,
  opts: ScaleRunOptions,
  now: () => number,
  log: (s: string) => void,
  cpuMs?: () => Promise<number> | number,
): Promise<{ suite: SuiteResults; overhead: ScaleOverhead; scaling: ScaleScaling; cpu: ScaleCpu | null }> {
  const { plan, label } = opts;
  const cpuNow = async () => (cpuMs === undefined ? Number.NaN : await cpuMs());
  // Suite against the naive loop, paired repeats in alternating order, ORT time clocked per run.
  const probes = suitePrompts(plan.perProbe);
  const shape = suiteShape(probes);
  const ours: SuiteRun[] = [];
  const naive: SuiteRun[] = [];
  const ortOurs: number[] = [];
  const ortNaive: number[] = [];
  let sessionRuns = 0;
  const cpuOurs: number[] = [];
  const cpuNaive: number[] = [];
  const clocked = async (fn: () => Promise<SuiteRun>): Promise<[SuiteRun, number, number, number]> => {
    clock.reset();
    const c0 = await cpuNow();
    const r = await fn();
    return [r, clock.busyMs, clock.runs, (await cpuNow()) - c0];
  };
  const oursOnce = () => clocked(() => runDeltascopeSuite(backend, probes, now));
  const naiveOnce = () => clocked(() => runNaiveTransformersSuite(pair, probes, now));
  // Unmeasured: one suite round (new batch shapes) and a few naive passes.
  await runDeltascopeSuite(backend, probes, now);
  await runNaiveTransformersSuite(pair, [probes[0]!.slice(0, 2)], now);
  for (let r = 0; r < plan.suiteRepeats; r++) {
    const oursFirst = r % 2 === 0;
    const a = oursFirst ? await oursOnce() : await naiveOnce();
    const b = oursFirst ? await naiveOnce() : await oursOnce();
    const [o, n] = oursFirst ? [a, b] : [b, a];
    ours.push(o[0]);
    ortOurs.push(o[1]);
    sessionRuns = o[2];
    naive.push(n[0]);
    ortNaive.push(n[1]);
    cpuOurs.push(o[3]);
    cpuNaive.push(n[3]);
    log(
      `suite ${o[0].wallMs.toFixed(0)} ms (ORT ${o[1].toFixed(0)}, CPU ${o[3].toFixed(0)}) vs naive ${n[0].wallMs.toFixed(0)} ms (ORT ${n[1].toFixed(0)}, CPU ${n[3].toFixed(0)})`,
    );
  }
  const suite = suiteResults(
    label,
    shape,
    ours,
    naive,
    `${plan.suiteRepeats} paired repeats (order alternating) after one unmeasured suite round; the naive loop runs \`model(tokenizer(prompt))\` on the same loaded sessions and computes the same top-k and exact divergences.`,
  );
  const wallS = summarize(ours.map((r) => r.wallMs));
  const ortS = summarize(ortOurs);
  const overhead: ScaleOverhead = {
    wallVsOrt: compared(wallS, ortS, ratio(wallS, ortS)),
    ownPct: summarize(ours.map((r, i) => ((r.wallMs - ortOurs[i]!) / r.wallMs) * 100)),
    sessionRuns,
    naiveOwnPct: summarize(naive.map((r, i) => ((r.wallMs - ortNaive[i]!) / r.wallMs) * 100)),
    note: 'ORT time is the union of intervals spent inside the loaded sessions’ `run` (wrapped for the bench); own work is everything else in the suite’s wall time: tokenizing, padding and tensor building, copying logits out, log-softmax and sorting 49k entries per row, divergences, cache, stats. No trace sink is attached (tracing overhead is measured on the demo pair).',
  };

  const { scaling, perCpuS } = await measureScaling(pair.base.runner, plan, now, log, cpuNow);
  const oc = summarize(cpuOurs);
  const nc = summarize(cpuNaive);
  // A reader that saw no CPU time at all (a process it could not find) gives no figure, not 0/0.
  const cpuSeen = [...cpuOurs, ...cpuNaive].every((c) => Number.isFinite(c) && c > 0);
  const cpu: ScaleCpu | null =
    cpuMs === undefined || !cpuSeen
      ? null
      : {
          suiteCpuMs: compared(oc, nc, ratio(oc, nc)),
          speedup: summarize(cpuNaive.map((n, i) => n / cpuOurs[i]!)),
          scalingPromptsPerCpuS: perCpuS,
          note: 'CPU time of the process running the model (user + system, ORT’s threads included), read around each run of the same paired repeats.',
        };
  return { suite, overhead, scaling, cpu };
}

/** What a skipped suite leaves: empty summaries (n = 0), which reports print as "not measured". */
function unmeasured(
  label: string,
  reason: string,
): { suite: SuiteResults; overhead: ScaleOverhead; scaling: ScaleScaling; cpu: null } {
  const none = summarize([]);
  return {
    cpu: null,
    suite: {
      device: label,
      probes: 0,
      promptsPerProbe: 0,
      lookups: 0,
      distinctKeys: 0,
      forwardPasses: { deltascope: 0, naive: 0 },
      batches: 0,
      wallMs: compared(none, none, none),
      speedup: none,
      maxMeanDiff: Number.NaN,
      note: reason,
    },
    overhead: {
      wallVsOrt: compared(none, none, none),
      ownPct: none,
      sessionRuns: 0,
      naiveOwnPct: none,
      note: reason,
    },
    scaling: { prompts: 0, tokens: 0, points: [], flattensAt: null, note: reason },
  };
}

/** Prompts/s and tokens/s of the base runner (deltascope's forward path) at each physical batch size. */
async function measureScaling(
  runner: TransformersRunner,
  plan: ScalePlan,
  now: () => number,
  log: (s: string) => void,
  cpuNow: () => Promise<number>,
): Promise<{ scaling: ScaleScaling; perCpuS: ScaleCpu['scalingPromptsPerCpuS'] }> {
  // Prompts beyond the suite's, so no row repeats what the suite just ran.
  const rows = Array.from({ length: plan.scalePrompts }, (_, i) =>
    runner.encode(freshPrompt(1000 + i), true),
  );
  const tokens = rows.reduce((n, r) => n + r.length, 0);
  const cpu = new Map<number, number[]>(plan.batchSizes.map((b) => [b, []]));
  const pass = async (batch: number): Promise<number> => {
    const c0 = await cpuNow();
    const t0 = now();
    for (let i = 0; i < rows.length; i += batch) await runner.forward(rows.slice(i, i + batch), 'last');
    const ms = now() - t0;
    cpu.get(batch)?.push((await cpuNow()) - c0);
    return ms;
  };
  const largest = plan.batchSizes[plan.batchSizes.length - 1]!;
  await pass(largest);
  cpu.get(largest)!.length = 0;
  const ms = new Map<number, number[]>(plan.batchSizes.map((b) => [b, []]));
  for (let r = 0; r < plan.scaleRepeats; r++) for (const b of plan.batchSizes) ms.get(b)!.push(await pass(b));
  const per = (b: number, n: number) => summarize(ms.get(b)!.map((m) => (n * 1000) / m));
  const b1 = per(plan.batchSizes[0]!, rows.length);
  const points = plan.batchSizes.map((batch) => {
    const p = per(batch, rows.length);
    return { batch, promptsPerS: p, tokensPerS: per(batch, tokens), vsBatch1: ratio(p, b1) };
  });
  log(`scaling ${points.map((p) => `${p.batch}:${p.promptsPerS.median.toFixed(1)}`).join(' ')} prompts/s`);
  const perCpuS = plan.batchSizes.map((batch) => ({
    batch,
    promptsPerCpuS: summarize(cpu.get(batch)!.map((c) => (rows.length * 1000) / c)),
  }));
  const scaling: ScaleScaling = {
    prompts: rows.length,
    tokens,
    points,
    flattensAt: flattensAt(points.map((p) => ({ batch: p.batch, median: p.promptsPerS.median }))),
    note: `base view, deltascope's runner (padded batches, next-token logits); ${plan.scaleRepeats} repeat(s) per batch size, sizes interleaved, after one unmeasured pass at batch ${largest}.`,
  };
  return { scaling, perCpuS };
}
