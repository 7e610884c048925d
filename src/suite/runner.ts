import type { DifferentialBackend } from '../backend/index.ts';
import { probeRegistry } from '../probes/registry.ts';
import { makeResult, safeFinalize } from '../probes/result.ts';
import {
  ProbeSkip,
  type CommonProbeSpec,
  type DocSection,
  type NullStats,
  type NullStatsCache,
  type ProbeContext,
  type ProbeResult,
} from '../probes/types.ts';
import type { RunMetrics } from '../core/runMetrics.ts';
import { checkContext, promptHygiene } from './promptHygiene.ts';
import { buildProvenance } from './provenance.ts';
import { computeScore } from './score.ts';
import type { DeterminismClass, SuiteResult, SuiteSpec } from './types.ts';

export const DELTASCOPE_VERSION = '0.1.0';

export interface SuiteProgress {
  /** 0-based index of the probe running now; equals `probeCount` when done. */
  probeIndex: number;
  probeCount: number;
  probeName: string;
  /** Items done within the current probe, when the probe reports them. */
  done: number;
  total: number;
}

export interface RunOptions {
  specPath?: string;
  /** The spec's text as read: its SHA-256 goes into the report's provenance. */
  specText?: string;
  sections?: DocSection[];
  signal?: AbortSignal;
  onProgress?(p: SuiteProgress): void;
  /** Called after each probe with its result (the UI streams results). */
  onResult?(r: ProbeResult, index: number): void;
  now?: () => number;
  /** How the runtime's determinism is classed (the backend knows: CPU is best-effort, GPU loose). */
  determinism?: DeterminismClass;
  /** Where `null_adapter` keeps its statistics between runs (none: always calibrates). */
  nullCache?: NullStatsCache;
  /**
   * The suite's metrics, asked once the probes have run (e.g. a RunMetricsTracker teed into the
   * trace sink the backend was opened with); attached to the result as `metrics` unless null.
   */
  metrics?: () => RunMetrics | null;
}

const PREFLIGHT_PROMPT = 'hello';

/**
 * Runs a validated suite: preflight (one finite forward per view), then every probe in declaration
 * order with its name on the trace; a probe's exception becomes ERROR and the suite goes on; a
 * cancel marks the rest SKIP ("cancelled") and keeps everything already done.
 */
export async function runSuite(
  spec: SuiteSpec,
  backend: DifferentialBackend,
  opts: RunOptions = {},
): Promise<SuiteResult> {
  const now = opts.now ?? (() => Date.now());
  const started = now();
  const inst = backend.instrumentation;
  const results: ProbeResult[] = [];
  const nullStats: Record<string, NullStats> = {};
  const signal = opts.signal ?? new AbortController().signal;
  // Prompt hygiene before any forward pass: empty prompts and prompts past the context window are
  // refused (every one named at once), duplicates and excluded prompts dropped, text normalised.
  const { entries: probes, summary: hygiene } = promptHygiene(spec.suite, spec.hygiene?.exclude ?? []);
  // The prompts as written, so an issue's index is the one in the spec.
  await checkContext(
    spec.suite,
    backend.info.contextTokens ?? null,
    async (text) => (await backend.base.tokenize(text)).ids.length,
  );
  const notes: string[] = [];

  const pre = await preflight(backend);
  if (pre !== null) {
    results.push(
      makeResult({ name: '__preflight__', kind: '__preflight__', enabled: true, weight: 0 }, 'error', {
        message: pre,
      }),
    );
  } else {
    for (let i = 0; i < probes.length; i++) {
      const entry = probes[i]!;
      const def = probeRegistry.get(entry.kind);
      const progress = (done: number, total: number) =>
        opts.onProgress?.({ probeIndex: i, probeCount: probes.length, probeName: entry.name, done, total });
      progress(0, 0);
      let result: ProbeResult;
      const t0 = now();
      if (signal.aborted) {
        result = makeResult(entry, 'skip', { message: 'cancelled by user' });
      } else if (!entry.enabled) {
        result = makeResult(entry, 'skip', { message: 'disabled in spec' });
      } else if (def === undefined) {
        result = makeResult(entry, 'error', { message: `unknown probe kind "${entry.kind}"` });
      } else {
        const ctx: ProbeContext = {
          backend,
          seed: spec.defaults.seed,
          topK: spec.defaults.top_k,
          nullStats,
          probes: probeRegistry,
          downstream: probes.slice(i + 1),
          sections: opts.sections ?? [],
          signal,
          onProgress: (p) => progress(p.done, p.total),
          ...(opts.nullCache !== undefined ? { nullCache: opts.nullCache } : {}),
        };
        inst.setCurrentProbe(entry.name);
        try {
          result = safeFinalize(await def.run(entry as CommonProbeSpec, ctx));
        } catch (e) {
          if (e instanceof ProbeSkip) result = makeResult(entry, 'skip', { message: e.message });
          else if (signal.aborted) result = makeResult(entry, 'skip', { message: 'cancelled by user' });
          else
            result = makeResult(entry, 'error', {
              message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
            });
        } finally {
          inst.setCurrentProbe(null);
        }
        const produced = result.evidence.null_stats;
        if (typeof produced === 'object' && produced !== null) Object.assign(nullStats, produced);
      }
      result = { ...result, durationS: (now() - t0) / 1000 };
      results.push(result);
      opts.onResult?.(result, i);
    }
  }
  if (signal.aborted) notes.push('cancelled before the end; the remaining probes are marked skip');
  const finished = now();
  const metrics = opts.metrics?.() ?? null;
  return {
    swayVersion: `deltascope ${DELTASCOPE_VERSION}`,
    specPath: opts.specPath ?? '',
    baseModelId: spec.models.base.base,
    adapterId: spec.models.ft.adapter ?? spec.models.ft.base,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    wallSeconds: (finished - started) / 1000,
    determinism: {
      class: opts.determinism ?? 'best_effort',
      seed: spec.defaults.seed,
      notes: [
        'greedy decoding and seeded PRNGs throughout; float reductions may differ across devices',
        ...notes,
      ],
    },
    backendStats: inst.stats.toDict(),
    score: computeScore(results, (kind) => probeRegistry.get(kind)?.category, spec.defaults.score_weights),
    nullStats,
    hygiene,
    probes: results,
    ...(metrics !== null ? { metrics } : {}),
    provenance: buildProvenance({
      info: backend.info,
      specPath: opts.specPath ?? '',
      specText: opts.specText ?? null,
      seed: spec.defaults.seed,
      createdAt: finished,
      version: DELTASCOPE_VERSION,
    }),
  };
}

/** One forward per view on a sentinel prompt; a non-finite logprob or tail stops the suite. */
async function preflight(backend: DifferentialBackend): Promise<string | null> {
  for (const view of [backend.base, backend.ft]) {
    try {
      const d = await view.nextTokenDist(PREFLIGHT_PROMPT, { topK: 8 });
      const bad = Array.from(d.logprobs).some((v) => !Number.isFinite(v));
      if (bad || (d.tailLogprob !== null && !Number.isFinite(d.tailLogprob))) {
        return `preflight: the ${view.id} view returned non-finite log-probabilities; the model or adapter is broken (NaN weights?).`;
      }
    } catch (e) {
      return `preflight: the ${view.id} view failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return null;
}
