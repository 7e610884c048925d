/**
 * `deltascope sweep SPEC [--shard i/n]`: the sweep spec's suite on each of this shard's adapters, the
 * base loaded once and each adapter swapped onto it (runtime LoRA: new A/B feeds, no new session);
 * an adapter of another structure (rank, target modules) reloads the base with a note. Every
 * adapter's suite starts from an empty forward cache and zeroed stats, so its report is the one a
 * run of that adapter alone would give, whichever shard ran it and whatever ran before it.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openPair, type DevicePreference, type DifferentialBackend } from '../backend/index.ts';
import { AdapterPairBackend } from '../backend/adapterPair.ts';
import { resolveAdapterPair, type ModelLocation, type ModelSource } from '../backend/modelSource.ts';
import { nodeResolveContext } from '../backend/nodeModelFiles.ts';
import { BackendStats, DeltascopeError, errorCode, errorMessage, type ErrorCode } from '../core/index.ts';
import { RunMetricsTracker } from '../core/runMetrics.ts';
import type { DocSection } from '../probes/types.ts';
import { sha256Hex } from '../core/sha256.ts';
import { fmtScore } from '../suite/reports/index.ts';
import { DELTASCOPE_VERSION, runSuite } from '../suite/runner.ts';
import {
  SWEEP_SCHEMA,
  SWEEP_SCHEMA_VERSION,
  expandAdapters,
  parseShard,
  resultEntry,
  shardIndices,
  suiteForAdapter,
  sweepHeader,
  sweepPlan,
  toSweepJson,
  type AdapterLoad,
  type Shard,
  type SweepAdapter,
  type SweepFailure,
  type SweepPlan,
  type SweepReport,
  type SweepResultEntry,
  type SweepRun,
} from '../suite/sweep.ts';
import { toSweepHtmlReport } from '../suite/reports/htmlSweep.ts';
import { toSweepMarkdown, toSweepTerminal } from '../suite/sweepReport.ts';
import { parseSweepSpec } from '../suite/sweepSpec.ts';
import type { SuiteResult, SuiteSpec } from '../suite/types.ts';
import { parseCliArgs, parseDevice } from './args.ts';
import { EXIT, UsageError, exitCodeFor } from './errors.ts';
import { cliLoadOptions, type CliIo } from './io.ts';
import { cliNullStatsCache } from './nullStatsDir.ts';
import { HUB_HOST_ENV, modelLocation } from './resolveModels.ts';
import { loadSpec, readInput, sectionsOf, writeOutput } from './suiteCommand.ts';
import { usageFor } from './usage.ts';

/** Kubernetes Indexed Jobs set this (0-based) in each pod. */
export const JOB_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** The shard count that goes with JOB_COMPLETION_INDEX when `--shard-count` is not given. */
export const SHARD_COUNT_ENV = 'DELTASCOPE_SHARD_COUNT';

export interface SweepOptions {
  specPath: string;
  /** `--shard i/n`. */
  shard?: string;
  /** `--shard-count n` (with JOB_COMPLETION_INDEX). */
  shardCount?: string;
  json?: string;
  markdown?: string;
  html?: string;
  quiet: boolean;
  device?: DevicePreference;
}

/**
 * Which shard this process runs: `--shard i/n` if given; else, under a Kubernetes Indexed Job,
 * JOB_COMPLETION_INDEX + 1 of `--shard-count` (or $DELTASCOPE_SHARD_COUNT); else 1/1 (everything).
 */
export function resolveShard(
  opts: Pick<SweepOptions, 'shard' | 'shardCount'>,
  env: Readonly<Record<string, string | undefined>>,
): Shard {
  if (opts.shard !== undefined) {
    const s = parseShard(opts.shard);
    if (s === null)
      throw new UsageError(`--shard must be i/n with 1 ≤ i ≤ n (e.g. 2/3), got "${opts.shard}"`, 'sweep', {
        input: '--shard',
      });
    return s;
  }
  const jobIndex = env[JOB_INDEX_ENV]?.trim();
  const countText = opts.shardCount ?? env[SHARD_COUNT_ENV]?.trim();
  const countFrom = opts.shardCount !== undefined ? '--shard-count' : SHARD_COUNT_ENV;
  if (jobIndex === undefined || jobIndex === '') {
    if (opts.shardCount !== undefined)
      throw new UsageError(
        `--shard-count goes with ${JOB_INDEX_ENV} (a Kubernetes Indexed Job), which is not set; use --shard i/n`,
        'sweep',
        { input: '--shard-count' },
      );
    return { index: 1, count: 1 };
  }
  const index = Number(jobIndex);
  if (!/^\d+$/.test(jobIndex))
    throw new UsageError(`${JOB_INDEX_ENV} must be a whole number ≥ 0, got "${jobIndex}"`, 'sweep', {
      input: JOB_INDEX_ENV,
    });
  if (countText === undefined || countText === '')
    throw new UsageError(
      `${JOB_INDEX_ENV} is set (${jobIndex}) but not the shard count: pass --shard-count N or set ${SHARD_COUNT_ENV} (the Job's completions)`,
      'sweep',
      { input: '--shard-count' },
    );
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1)
    throw new UsageError(`${countFrom} must be a whole number ≥ 1, got "${countText}"`, 'sweep', {
      input: countFrom,
    });
  if (index >= count)
    throw new UsageError(
      `${JOB_INDEX_ENV} ${index} is not below the shard count ${count} (${countFrom}); set completions and the count alike`,
      'sweep',
      { input: JOB_INDEX_ENV },
    );
  return { index: index + 1, count };
}

/** A plan and what the suite needs from disk (dlm_source sections). */
export interface LoadedSweep {
  plan: SweepPlan;
  sections: DocSection[];
  specDir: string;
  /** The sweep spec's text as read (its SHA-256 goes into each result's provenance). */
  specText: string;
  /** SHA-256 of the suite file's text as read (the report's `sweep.suite_sha256`); null inline. */
  suiteSha256: string | null;
}

/**
 * Reads the sweep spec, its suite file (relative to the spec's folder) and its globs; checks the
 * base and hub ids. Everything that can be wrong without a model is found here.
 */
export function loadSweep(specPath: string, io: Pick<CliIo, 'cwd' | 'env'>): LoadedSweep {
  const abs = resolve(io.cwd, specPath);
  const specDir = dirname(abs);
  const specText = readInput(abs, 'sweep spec');
  const spec = parseSweepSpec(specText, { path: specPath });
  let suite: SuiteSpec;
  let sections: DocSection[];
  let suiteSha256: string | null = null;
  if ('path' in spec.suite) {
    const loaded = loadSpec(spec.suite.path, specDir);
    suite = loaded.spec;
    suiteSha256 = sha256Hex(loaded.specText);
    sections = sectionsOf(suite, loaded.specDir);
  } else {
    suite = spec.suite.inline;
    sections = sectionsOf(suite, specDir);
  }
  const adapters = expandAdapters(
    spec,
    specPath,
    {
      subfolders: (dir) => {
        try {
          return readdirSync(dir, { withFileTypes: true })
            .filter(
              (e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory()),
            )
            .map((e) => e.name);
        } catch {
          return null;
        }
      },
      isAdapter: (dir) => existsSync(join(dir, 'adapter_config.json')),
    },
    (relative) => resolve(specDir, relative),
  );
  // The base now, so a bad folder or hub id fails before the first load.
  modelLocation('base', spec.base, specDir, io.env, "the sweep spec's folder");
  return { plan: sweepPlan(spec, specPath, suite, adapters), sections, specDir, specText, suiteSha256 };
}

function baseLocation(plan: SweepPlan, specDir: string, env: CliIo['env']): ModelLocation {
  const loc = modelLocation('base', plan.base, specDir, env, "the sweep spec's folder");
  return loc.kind === 'hub' && plan.baseRevision !== null ? { ...loc, revision: plan.baseRevision } : loc;
}

function adapterLocation(a: SweepAdapter, env: CliIo['env']): ModelLocation {
  if (a.location.kind === 'dir') return { kind: 'dir', path: a.location.path };
  const host = env[HUB_HOST_ENV]?.trim() || undefined;
  return { ...a.location, ...(host !== undefined ? { host } : {}) };
}

/** An adapter's load error, with the adapter named and the error's code kept (for the exit code). */
function aboutAdapter(a: SweepAdapter, e: unknown): unknown {
  if (!(e instanceof DeltascopeError)) return e;
  return new DeltascopeError(e.code, `adapter "${a.label}" (${a.ref}): ${errorMessage(e)}`, {
    input: a.ref,
    details: e.details,
    cause: e,
  });
}

/**
 * Runs this shard's adapters and writes its sweep report (`--json`, `--markdown`); prints the
 * terminal summary. Returns the report.
 */
export async function executeSweep(opts: SweepOptions, io: CliIo): Promise<SweepReport> {
  const shard = resolveShard(opts, io.env);
  const { plan, sections, specDir, specText, suiteSha256 } = loadSweep(opts.specPath, io);
  const log = (t: string) => {
    if (!opts.quiet) io.err(t);
  };
  const indices = shardIndices(plan.adapters.length, shard);
  const device = opts.device ?? 'cpu';
  const base = baseLocation(plan, specDir, io.env);
  const dtype = plan.dtype === 'fp16' ? 'fp16' : 'fp32';
  const nullCache = cliNullStatsCache(io.env);
  log(
    `sweep: ${plan.adapters.length} adapters; shard ${shard.index}/${shard.count} runs ${indices.length}` +
      (indices.length > 0 ? `: ${indices.map((i) => plan.adapters[i]!.label).join(', ')}` : '') +
      '\n',
  );
  const started = new Date().toISOString();
  const loads: SweepRun['loads'] = [];
  const results: SweepResultEntry[] = [];
  const failed: SweepFailure[] = [];
  let backend: DifferentialBackend | null = null;
  let deviceName: string | null = null;
  const report = (): SweepReport => ({
    schema: SWEEP_SCHEMA,
    schema_version: SWEEP_SCHEMA_VERSION,
    sweep: sweepHeader(plan, suiteSha256),
    runs: [
      {
        shard,
        adapters: indices,
        started_at: started,
        finished_at: new Date().toISOString(),
        deltascope_version: DELTASCOPE_VERSION,
        device: deviceName,
        loads,
        ...(failed.length > 0 ? { failed } : {}),
      },
    ],
    results,
  });
  try {
    for (const [k, index] of indices.entries()) {
      if (io.signal?.aborted) break;
      const adapter = plan.adapters[index]!;
      // One adapter that cannot be loaded (a checkpoint folder still being written) or whose suite
      // breaks is recorded and skipped: the others' results still make the report.
      try {
        const result = await runAdapter(adapter, index);
        // A suite cut short by a cancel is not this adapter's result: leave it out (merge names it).
        if (io.signal?.aborted) break;
        results.push(resultEntry(adapter, result.suite));
        log(
          `[${k + 1}/${indices.length}] ${adapter.label} (${result.how} in ${(result.loadMs / 1000).toFixed(1)} s): ` +
            `overall ${fmtScore(result.suite.score.overall)} (${result.suite.score.band}) in ${result.suite.wallSeconds.toFixed(1)} s\n`,
        );
      } catch (e) {
        if (io.signal?.aborted) break;
        const err = aboutAdapter(adapter, e);
        failed.push({ index, label: adapter.label, code: errorCode(err), message: errorMessage(err) });
        io.err(
          `[${k + 1}/${indices.length}] ${adapter.label} failed (${errorCode(err)}): ${errorMessage(err)}\n`,
        );
      }
    }
  } finally {
    // (Set in runAdapter, which the compiler's narrowing does not see.)
    await (backend as DifferentialBackend | null)?.dispose().catch(() => {});
    // Whatever happened, the adapters that finished are written (a merge names the rest).
    const r = report();
    if (opts.json !== undefined) writeOutput(opts.json, toSweepJson(r), io.cwd);
    if (opts.markdown !== undefined) writeOutput(opts.markdown, toSweepMarkdown(r), io.cwd);
    if (opts.html !== undefined) writeOutput(opts.html, toSweepHtmlReport(r), io.cwd);
  }
  if (io.signal?.aborted)
    log(
      `cancelled: ${indices.length - results.length - failed.length} of this shard's adapters did not run\n`,
    );
  const done = report();
  io.out(toSweepTerminal(done));
  return done;

  /** Puts `adapter` on the base (a load, a swap or a reload) and runs the suite on it. */
  async function runAdapter(
    adapter: SweepAdapter,
    index: number,
  ): Promise<{ suite: SuiteResult; how: AdapterLoad; loadMs: number }> {
    const source: Extract<ModelSource, { kind: 'pair' }> = {
      kind: 'pair',
      base,
      ft: { kind: 'adapter', base, adapter: adapterLocation(adapter, io.env) },
    };
    const t0 = performance.now();
    let how: AdapterLoad = 'loaded';
    // Tied to Ctrl-C: a cancelled load ends the loop (the report is still written).
    const open = () =>
      openPair(source, {
        ...cliLoadOptions(io),
        device,
        dtype,
        ...(io.signal !== undefined ? { signal: io.signal } : {}),
      });
    if (backend === null) {
      log(`loading the base with ${adapter.label} (${dtype}, ${device})…\n`);
      backend = await open();
    } else if (backend instanceof AdapterPairBackend) {
      try {
        const ref = resolveAdapterPair(source, nodeResolveContext());
        await backend.swapAdapter(ref.adapter, {
          pairId: ref.pairId,
          ...(io.signal !== undefined ? { signal: io.signal } : {}),
        });
        how = 'swapped';
      } catch (e) {
        // A refused swap leaves the backend as it was (the next adapter may still swap onto it).
        if (errorCode(e) !== 'model-load/mismatch') throw e;
        log(`note: ${errorMessage(e)} Reloading the base for it.\n`);
        await backend.dispose();
        backend = null;
        backend = await open();
        how = 'reloaded';
      }
    } else {
      await backend.dispose();
      backend = null;
      backend = await open();
      how = 'reloaded';
    }
    const loadMs = performance.now() - t0;
    loads.push({ index, how, ms: loadMs });
    deviceName = backend.info.device;
    // Each adapter's suite as if it ran alone: an empty cache, zeroed stats, its own metrics.
    const inst = backend.instrumentation;
    inst.cache.clear();
    Object.assign(inst.stats, new BackendStats());
    const metrics = new RunMetricsTracker();
    metrics.note({ loadMs });
    inst.trace = metrics;
    try {
      const suite = await runSuite(suiteForAdapter(plan, adapter), backend, {
        specPath: opts.specPath,
        specText,
        sections,
        determinism: 'best_effort',
        ...(nullCache !== undefined ? { nullCache } : {}),
        ...(io.signal !== undefined ? { signal: io.signal } : {}),
        metrics: () => {
          metrics.note({
            heapBytes: process.memoryUsage().heapUsed,
            heapSource: 'process.memoryUsage().heapUsed',
          });
          return metrics.snapshot();
        },
      });
      return { suite, how, loadMs };
    } catch (e) {
      // A suite that broke may leave the backend mid-way: the next adapter loads afresh.
      const broken = backend;
      backend = null;
      await broken.dispose().catch(() => {});
      throw e;
    }
  }
}

/**
 * `deltascope sweep SPEC [--shard i/n] [--shard-count N] [--device D] [--json F] [--markdown F] [--html F] [--quiet]`.
 * Exits 130 when cancelled, else with the first failed adapter's code (3 for a load failure), else 0;
 * the report with the adapters that finished is written in every case.
 */
export async function sweepCli(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliArgs('sweep', args, {
    shard: { type: 'string' },
    'shard-count': { type: 'string' },
    device: { type: 'string' },
    json: { type: 'string' },
    markdown: { type: 'string' },
    html: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.out(usageFor('sweep'));
    return EXIT.ok;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? 'missing sweep spec (e.g. examples/sweep-demo.yaml)'
        : `expected one sweep spec, got ${positionals.length}: ${positionals.join(' ')}`,
      'sweep',
    );
  const device = parseDevice('sweep', values.device);
  const report = await executeSweep(
    {
      specPath: positionals[0]!,
      ...(values.shard !== undefined ? { shard: values.shard } : {}),
      ...(values['shard-count'] !== undefined ? { shardCount: values['shard-count'] } : {}),
      ...(values.json !== undefined ? { json: values.json } : {}),
      ...(values.markdown !== undefined ? { markdown: values.markdown } : {}),
      ...(values.html !== undefined ? { html: values.html } : {}),
      quiet: values.quiet === true,
      device,
    },
    io,
  );
  if (io.signal?.aborted) return EXIT.cancelled;
  const failure = report.runs[0]?.failed?.[0];
  return failure !== undefined ? exitCodeFor(failure.code as ErrorCode) : EXIT.ok;
}
