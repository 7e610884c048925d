// Node only: runtime LoRA (base + a PEFT adapter as one rewritten session) through `openPair`, on
// onnxruntime-node (CPU). Three comparisons, each side measured in the same process, interleaved:
//
//  1. views as rows (base and ft rows of one batch, per-row lora_scale) against `viewsAsRows: false`
//     (each view its own runs), on the suite workload of `suiteWorkload.ts`;
//  2. the base view of base + adapter (λ = 0, the branch computed and scaled by 0) against the base
//     view of the unrewritten base, same prompts, cache cleared each round;
//  3. memory: base + adapter against two full models, each in a child process (clean RSS).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { PreTrainedModel } from '@huggingface/transformers';
import { openPair, type DifferentialBackend, type ModelSource } from '../src/backend/index.ts';
import type { ViewRowMerger } from '../src/backend/viewRows.ts';
import type { TokenDist } from '../src/core/index.ts';
import { measureMemorySide, type MemoryReading } from './lib/adapterMemoryChild.ts';
import { writeBenchAdapter } from './lib/benchAdapter.ts';
import { OrtClock } from './lib/ortClock.ts';
import {
  compared,
  type AdapterBaseViewResult,
  type AdapterMemoryResult,
  type AdapterModelInfo,
  type AdapterPartResults,
  type AdapterRowsResult,
  type Compared,
} from './lib/results.ts';
import { ratio, summarize } from './lib/stats.ts';
import { freshPrompt, runDeltascopeSuite, suitePrompts, SUITE_TOP_K } from './lib/suiteWorkload.ts';

export const ADAPTER_DEVICE = 'Node · onnxruntime-node (CPU)';

export interface AdapterBenchOptions {
  /** The `npm run bench` part name the results are filed under. */
  part: string;
  quick: boolean;
  /** The 135M-class model folder (hub layout); null measures the demo only. */
  modelDir: string | null;
  dtype: 'fp32' | 'q4';
  /** Also measure the demo pair's shipped adapter (fp32, rows and base view). */
  demo: boolean;
  log?: (line: string) => void;
}

/** How much of each comparison to run, per model. */
interface Plan {
  /** Prompts per probe of the 4-probe suite (rows vs separate), and of its unmeasured first run. */
  perProbe: number;
  warmPerProbe: number;
  /** Paired suite repeats (one run per side each). */
  suiteRepeats: number;
  /** Prompts scored per base-view round, and the rounds (one per side each). */
  basePrompts: number;
  baseRounds: number;
  /** Memory readings per side (each a child process); 0 skips memory. */
  memoryRepeats: number;
}

function planFor(model: 'demo' | '135m', quick: boolean): Plan {
  if (model === 'demo')
    // A demo forward is ~1 ms: the standard suite (4 × 50) takes ~0.3 s a run.
    return {
      perProbe: 50,
      warmPerProbe: 50,
      suiteRepeats: quick ? 3 : 7,
      basePrompts: 32,
      baseRounds: quick ? 10 : 30,
      memoryRepeats: 0,
    };
  // 135M on 2 cores: 4 × 6 prompts = 38 forward passes in 6 session runs, 3–10 s a suite run (fp32,
  // q4 slower here); a base-view round of 6 prompts 0.4–1 s; a memory repeat (two children) 15–30 s.
  // Normal: ~2.5 minutes a part on the shared 2-core box; quick: under a minute.
  return {
    perProbe: quick ? 3 : 6,
    warmPerProbe: 1,
    suiteRepeats: quick ? 2 : 7,
    basePrompts: 6,
    baseRounds: quick ? 3 : 30,
    memoryRepeats: quick ? 1 : 3,
  };
}

/** CPU ms of this process so far (user + system, ORT's threads included). */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The ORT sessions behind a backend: the adapter pair's one model, or a plain pair's two. */
function sessionsOf(backend: DifferentialBackend): { run: (...a: unknown[]) => Promise<unknown> }[] {
  const b = backend as unknown as {
    model?: PreTrainedModel;
    baseRunner?: { model?: PreTrainedModel };
    ftRunner?: { model?: PreTrainedModel };
  };
  const models = [b.model, b.baseRunner?.model, b.ftRunner?.model].filter((m) => m !== undefined);
  return [...new Set(models)].flatMap(
    (m) =>
      Object.values((m as unknown as { sessions?: Record<string, unknown> }).sessions ?? {}) as {
        run: (...a: unknown[]) => Promise<unknown>;
      }[],
  );
}

function mergerOf(backend: DifferentialBackend): ViewRowMerger | null {
  return (backend as unknown as { merger?: ViewRowMerger | null }).merger ?? null;
}

/** value vs baseline summaries as a `Compared`. */
function compare(value: readonly number[], baseline: readonly number[]): Compared {
  const v = summarize(value);
  const b = summarize(baseline);
  return compared(v, b, ratio(v, b));
}

/** Runs `a` and `b` `rounds` times each, alternating which goes first; returns each side's results. */
async function interleaved<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  const as: T[] = [];
  const bs: T[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return [as, bs];
}

interface SuiteSample {
  wallMs: number;
  cpuMs: number;
  forwardPasses: number;
  sessionRuns: number;
  groups: number;
  rows: number;
  probeMeans: number[];
}

async function suiteSample(
  backend: DifferentialBackend,
  clock: OrtClock,
  probes: readonly (readonly string[])[],
): Promise<SuiteSample> {
  const merger = mergerOf(backend);
  const g0 = merger?.stats.groups ?? 0;
  const r0 = merger?.stats.rows ?? 0;
  clock.reset();
  const c0 = cpuNow();
  const run = await runDeltascopeSuite(backend, probes);
  return {
    wallMs: run.wallMs,
    cpuMs: cpuNow() - c0,
    forwardPasses: run.forwardPasses,
    sessionRuns: clock.runs,
    groups: (merger?.stats.groups ?? 0) - g0,
    rows: (merger?.stats.rows ?? 0) - r0,
    probeMeans: run.probeMeans,
  };
}

/** Views as rows (`rowsPair`) against separate batches (`sepPair`), the suite workload, paired. */
async function rowsVsSeparate(
  model: AdapterModelInfo,
  rowsPair: DifferentialBackend,
  sepPair: DifferentialBackend,
  plan: Plan,
  log: (s: string) => void,
): Promise<AdapterRowsResult> {
  const probes = suitePrompts(plan.perProbe);
  const clocks = [rowsPair, sepPair].map((b) => {
    const c = new OrtClock();
    for (const s of sessionsOf(b)) c.wrap(s);
    return c;
  });
  // Unmeasured: a suite run each (first session runs, first batches through the merger).
  const warm = probes.map((p) => p.slice(0, plan.warmPerProbe));
  await runDeltascopeSuite(rowsPair, warm);
  await runDeltascopeSuite(sepPair, warm);
  const [rows, sep] = await interleaved(
    plan.suiteRepeats,
    () => suiteSample(rowsPair, clocks[0]!, probes),
    () => suiteSample(sepPair, clocks[1]!, probes),
  );
  for (let i = 0; i < rows.length; i++)
    log(
      `rows ${rows[i]!.wallMs.toFixed(0)} ms (CPU ${rows[i]!.cpuMs.toFixed(0)}, ${rows[i]!.sessionRuns} runs) vs separate ${sep[i]!.wallMs.toFixed(0)} ms (CPU ${sep[i]!.cpuMs.toFixed(0)}, ${sep[i]!.sessionRuns} runs)`,
    );
  const r0 = rows[0]!;
  const s0 = sep[0]!;
  const cpuSeen = [...rows, ...sep].every((s) => s.cpuMs > 0);
  return {
    model,
    probes: probes.length,
    promptsPerProbe: plan.perProbe,
    wallMs: compare(
      rows.map((s) => s.wallMs),
      sep.map((s) => s.wallMs),
    ),
    cpuMs: cpuSeen
      ? compare(
          rows.map((s) => s.cpuMs),
          sep.map((s) => s.cpuMs),
        )
      : null,
    forwardPasses: { rows: r0.forwardPasses, separate: s0.forwardPasses },
    sessionRuns: { rows: r0.sessionRuns, separate: s0.sessionRuns },
    merged: { groups: r0.groups, rows: r0.rows },
    maxMeanDiff: Math.max(...r0.probeMeans.map((m, i) => Math.abs(m - s0.probeMeans[i]!))),
    note: `${plan.suiteRepeats} paired repeats (order alternating) after one unmeasured run per side (${plan.warmPerProbe} prompt${plan.warmPerProbe === 1 ? '' : 's'} per probe); both pairs opened from the same files, one with \`viewsAsRows: false\`; cache cleared before each run. Session runs are the \`session.run\` calls counted on the loaded session.`,
  };
}

interface BaseSample {
  wallMs: number;
  cpuMs: number;
  dists: TokenDist[];
}

async function baseViewSample(backend: DifferentialBackend, prompts: readonly string[]): Promise<BaseSample> {
  backend.instrumentation.cache.clear();
  const c0 = cpuNow();
  const t0 = performance.now();
  const dists = await backend.base.nextTokenDistBatch(prompts, { topK: SUITE_TOP_K });
  return { wallMs: performance.now() - t0, cpuMs: cpuNow() - c0, dists };
}

/** Largest |Δ logprob| over the tokens both distributions keep. */
function maxLogprobDiff(a: readonly TokenDist[], b: readonly TokenDist[]): number {
  let worst = 0;
  a.forEach((da, i) => {
    const db = b[i]!;
    const at = new Map<number, number>();
    db.tokenIds.forEach((id, j) => at.set(id, db.logprobs[j]!));
    da.tokenIds.forEach((id, j) => {
      const other = at.get(id);
      if (other !== undefined) worst = Math.max(worst, Math.abs(other - da.logprobs[j]!));
    });
  });
  return worst;
}

/** The base view of base + adapter (λ = 0, its own runs) against the unrewritten base's base view. */
async function baseViewOverhead(
  model: AdapterModelInfo,
  adapterPair: DifferentialBackend,
  plainPair: DifferentialBackend,
  loadMs: { adapterPair: number; plainPair: number },
  plan: Plan,
  log: (s: string) => void,
): Promise<AdapterBaseViewResult> {
  const prompts = Array.from({ length: plan.basePrompts }, (_, i) => freshPrompt(1000 + i));
  await baseViewSample(adapterPair, prompts);
  await baseViewSample(plainPair, prompts);
  const [lora, plain] = await interleaved(
    plan.baseRounds,
    () => baseViewSample(adapterPair, prompts),
    () => baseViewSample(plainPair, prompts),
  );
  const wallMs = compare(
    lora.map((s) => s.wallMs),
    plain.map((s) => s.wallMs),
  );
  const cpuSeen = [...lora, ...plain].every((s) => s.cpuMs > 0);
  const cpuMs = cpuSeen
    ? compare(
        lora.map((s) => s.cpuMs),
        plain.map((s) => s.cpuMs),
      )
    : null;
  log(
    `base view ${wallMs.value.median.toFixed(0)} ms vs unrewritten ${wallMs.baseline.median.toFixed(0)} ms: ${wallMs.ratio.median.toFixed(3)}× wall${cpuMs === null ? '' : `, ${cpuMs.ratio.median.toFixed(3)}× CPU`}`,
  );
  let tokens = 0;
  for (const p of prompts) tokens += (await adapterPair.base.tokenize(p)).ids.length;
  return {
    model,
    prompts: prompts.length,
    tokens,
    wallMs,
    cpuMs,
    loadMs,
    maxLogprobDiff: maxLogprobDiff(lora[0]!.dists, plain[0]!.dists),
    note: `${plan.baseRounds} paired rounds (order alternating) after one unmeasured round per side; each round scores the same ${prompts.length} prompts as one batch (\`nextTokenDistBatch\`, top-k ${SUITE_TOP_K}) with the cache cleared; base + adapter opened with \`viewsAsRows: false\`.`,
  };
}

/**
 * base + adapter against two full models, each side in its own child process. The two children of a
 * repeat run at the same time (RSS is per process; the loads are mostly single-threaded JS and file
 * reading, so on two cores this halves the wait): their load times are therefore not reported here.
 */
async function memory(
  model: AdapterModelInfo,
  modelDir: string,
  adapterDir: string,
  repeats: number,
  log: (s: string) => void,
): Promise<AdapterMemoryResult> {
  const lora: MemoryReading[] = [];
  const pair: MemoryReading[] = [];
  for (let r = 0; r < repeats; r++) {
    const [a, b] = await Promise.all([
      measureMemorySide(model.dtype, 'adapter', modelDir, adapterDir),
      measureMemorySide(model.dtype, 'pair', modelDir, adapterDir),
    ]);
    lora.push(a);
    pair.push(b);
  }
  const rssMb = compare(
    lora.map((m) => m.rssMb),
    pair.map((m) => m.rssMb),
  );
  const peakRssMb = compare(
    lora.map((m) => m.peakMb),
    pair.map((m) => m.peakMb),
  );
  log(
    `memory: base + adapter ${rssMb.value.median.toFixed(0)} MB vs two full models ${rssMb.baseline.median.toFixed(0)} MB (${rssMb.ratio.median.toFixed(2)}×; peak ${peakRssMb.ratio.median.toFixed(2)}×)`,
  );
  return {
    model,
    rssMb,
    peakRssMb,
    note: `${repeats} child process${repeats === 1 ? '' : 'es'} per side, the two sides side by side; RSS after \`openPair\` and one forward per view, the load’s garbage collected; two full models = the base folder opened as both base and ft (what a merged fine-tune costs); peak = the process’s own high-water RSS (VmHWM; the adapter side reads the base’s ONNX into JS to rewrite it).`,
  };
}

/** Opens a source and times it. */
async function open(
  source: ModelSource,
  opts: Parameters<typeof openPair>[1],
): Promise<{ backend: DifferentialBackend; ms: number }> {
  const t0 = performance.now();
  const backend = await openPair(source, opts);
  return { backend, ms: performance.now() - t0 };
}

/** One model's three comparisons (memory first: the children run while this process holds nothing). */
async function measureModel(
  name: string,
  dtype: 'fp32' | 'q4',
  sources: { adapter: ModelSource; plain: ModelSource },
  adapterText: string,
  plan: Plan,
  memoryDirs: { modelDir: string; adapterDir: string } | null,
  log: (s: string) => void,
): Promise<{ rows: AdapterRowsResult; baseView: AdapterBaseViewResult; memory: AdapterMemoryResult | null }> {
  const model: AdapterModelInfo = { name, dtype, adapter: adapterText };
  const t0 = performance.now();
  const say = (s: string) =>
    log(`  ${name} ${dtype} [${((performance.now() - t0) / 1000).toFixed(0)} s]: ${s}`);
  const mem =
    memoryDirs !== null && plan.memoryRepeats > 0
      ? await memory(model, memoryDirs.modelDir, memoryDirs.adapterDir, plan.memoryRepeats, say)
      : null;
  const opened: DifferentialBackend[] = [];
  try {
    const rows = await open(sources.adapter, { dtype, viewsAsRows: true, warmup: false });
    opened.push(rows.backend);
    const sep = await open(sources.adapter, { dtype, viewsAsRows: false, warmup: false });
    opened.push(sep.backend);
    const plain = await open(sources.plain, { dtype, warmup: false });
    opened.push(plain.backend);
    say(
      `opened base + adapter in ${(rows.ms / 1000).toFixed(1)} / ${(sep.ms / 1000).toFixed(1)} s, the plain pair in ${(plain.ms / 1000).toFixed(1)} s`,
    );
    const rowsResult = await rowsVsSeparate(model, rows.backend, sep.backend, plan, say);
    const baseView = await baseViewOverhead(
      model,
      sep.backend,
      plain.backend,
      { adapterPair: sep.ms, plainPair: plain.ms },
      plan,
      say,
    );
    return { rows: rowsResult, baseView, memory: mem };
  } finally {
    for (const b of opened) await b.dispose();
  }
}

export async function adapterBench(opts: AdapterBenchOptions): Promise<AdapterPartResults> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const out: AdapterPartResults = {
    part: opts.part,
    device: ADAPTER_DEVICE,
    quick: opts.quick,
    rows: [],
    baseView: [],
    memory: [],
    notes: [],
  };
  if (opts.demo) {
    const r = await measureModel(
      'demo',
      'fp32',
      { adapter: { kind: 'demo', adapter: true }, plain: { kind: 'demo' } },
      'the demo’s shipped PEFT adapter (r 8)',
      planFor('demo', opts.quick),
      null,
      log,
    );
    out.rows.push(r.rows);
    out.baseView.push(r.baseView);
    out.notes.push(
      'Demo: the unrewritten base is the demo pair’s base view (`{kind: "demo"}`), the same folder the adapter’s base is read from.',
    );
  }
  if (opts.modelDir !== null) {
    const modelDir = resolve(opts.modelDir);
    const scratch = mkdtempSync(join(tmpdir(), 'deltascope-bench-adapter-'));
    try {
      const adapterDir = join(scratch, 'adapter');
      const info = writeBenchAdapter(modelDir, adapterDir);
      const base = { kind: 'dir' as const, path: modelDir };
      const r = await measureModel(
        basename(modelDir),
        opts.dtype,
        {
          adapter: {
            kind: 'pair',
            base,
            ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: adapterDir } },
          },
          plain: { kind: 'pair', base, ft: base },
        },
        `seeded ${info.describe}`,
        planFor('135m', opts.quick),
        { modelDir, adapterDir },
        log,
      );
      out.rows.push(r.rows);
      out.baseView.push(r.baseView);
      if (r.memory !== null) out.memory.push(r.memory);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return out;
}
