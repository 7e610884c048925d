import { readFileSync, writeFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openPair, type DevicePreference, type DifferentialBackend } from '../backend/index.ts';
import { sectionsFromMarkdown } from '../probes/common.ts';
import { CATEGORIES, type Category, type DocSection } from '../probes/types.ts';
import {
  toHtmlReport,
  toJsonReport,
  toJunitXml,
  toMarkdownReport,
  toTerminalReport,
  fmtScore,
} from '../suite/reports/index.ts';
import { runSuite } from '../suite/runner.ts';
import { parseSuiteSpec } from '../suite/spec.ts';
import type { SuiteResult, SuiteSpec } from '../suite/types.ts';
import { InputError, UsageError } from './errors.ts';
import { cliNullStatsCache } from './nullStatsDir.ts';
import { JsonlFileTraceSink } from './fileTraceSink.ts';
import { cliLoadOptions, type CliIo } from './io.ts';
import { RunMetricsTracker } from '../core/runMetrics.ts';
import { MemoryTraceSink, TeeTraceSink, analyzeTrace } from '../core/index.ts';
import { dtypeForSpec, resolveSpecModels } from './resolveModels.ts';

export interface SuiteOutputs {
  json?: string;
  markdown?: string;
  junit?: string;
  /** `--html`: the self-contained HTML report (suite/reports/html.ts). */
  html?: string;
  trace?: string;
}

export interface SuiteRunOptions {
  specPath: string;
  outputs: SuiteOutputs;
  quiet: boolean;
  /** `--device`: cpu (default), webgpu or auto. */
  device?: DevicePreference;
  /** Category weights from `--weights`, merged over the spec's `defaults.score_weights`. */
  weights?: Partial<Record<Category, number>>;
}

/**
 * Parses sway's `--weights "attribution=0.5,adherence=0.2"`: known categories, non-negative numbers.
 * Throws UsageError naming the bad part.
 */
export function parseWeights(text: string, command: string): Partial<Record<Category, number>> {
  const out: Partial<Record<Category, number>> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z_]+)\s*=\s*(\S+)\s*$/.exec(part);
    const cat = m?.[1] as Category | undefined;
    const w = Number(m?.[2]);
    if (m === null || cat === undefined || !CATEGORIES.includes(cat) || !Number.isFinite(w) || w < 0) {
      throw new UsageError(
        `--weights: "${part.trim()}" is not category=weight with a category among ${CATEGORIES.join(', ')} and a weight ≥ 0`,
        command,
      );
    }
    out[cat] = w;
  }
  return out;
}

export function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}; check the path.`,
    );
  }
}

/** Validates a spec file; SpecError (every issue, with line:column) propagates to the caller. */
export function loadSpec(
  specPath: string,
  cwd: string,
): { spec: SuiteSpec; specDir: string; specText: string } {
  const abs = resolve(cwd, specPath);
  const specText = readInput(abs, 'spec file');
  const spec = parseSuiteSpec(specText, { path: specPath });
  return { spec, specDir: dirname(abs), specText };
}

/** The document's prose sections from `dlm_source` (read as markdown), for section-based probes. */
export function sectionsOf(spec: SuiteSpec, specDir: string): DocSection[] {
  if (spec.dlm_source === null) return [];
  return sectionsFromMarkdown(readInput(resolve(specDir, spec.dlm_source), 'dlm_source document'));
}

export function writeOutput(path: string, text: string, cwd: string): void {
  const abs = resolve(cwd, path);
  mkdirSync(dirname(abs), { recursive: true });
  // A device or pipe (/dev/stdout) is written as it is; a file is written beside it and renamed
  // over it, so a reader polling for it (a merge job waiting for shard-*.json) never reads half.
  const existing = statSync(abs, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isFile()) return writeFileSync(abs, text);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, abs);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Validate → resolve models → load on `--device` (CPU by default) → run → print the terminal report → write the requested
 * files. Everything that can be checked without a model (spec, model paths, dlm_source, dtype) is
 * checked before the load starts.
 */
export async function executeSuite(
  opts: SuiteRunOptions,
  io: CliIo,
): Promise<{ spec: SuiteSpec; result: SuiteResult }> {
  const { spec, specDir, specText } = loadSpec(opts.specPath, io.cwd);
  if (opts.weights !== undefined) {
    const merged = { ...spec.defaults.score_weights, ...opts.weights };
    if (!Object.values(merged).some((w) => w > 0)) {
      throw new UsageError(
        '--weights leaves no category with a positive weight; give at least one weight > 0',
      );
    }
    spec.defaults.score_weights = merged;
  }
  const source = resolveSpecModels(spec, specDir, io.env);
  const dtype = dtypeForSpec(spec);
  const sections = sectionsOf(spec, specDir);
  const log = (t: string) => {
    if (!opts.quiet) io.err(t);
  };
  const device = opts.device ?? 'cpu';
  for (const side of ['base', 'ft'] as const) {
    const named = spec.models[side].device;
    if (named !== 'auto' && named !== device) {
      log(`note: models.${side}.device "${named}" ignored; the CLI runs on --device (${device})\n`);
    }
  }
  const sink =
    opts.outputs.trace !== undefined ? new JsonlFileTraceSink(resolve(io.cwd, opts.outputs.trace)) : null;
  // The run's metrics (latency percentiles, prompts/s, tokens/s, hit rate, load time, heap) go into
  // the JSON report, as the workbench's do.
  const metrics = new RunMetricsTracker();
  // The HTML report's trace summary (per probe and op) is analysed from the run's events.
  const events = opts.outputs.html !== undefined ? new MemoryTraceSink() : null;
  const heap = () => ({
    heapBytes: process.memoryUsage().heapUsed,
    heapSource: 'process.memoryUsage().heapUsed',
  });
  let backend: DifferentialBackend | null = null;
  try {
    log(`loading models (${dtype}, ${device})…\n`);
    const t0 = performance.now();
    backend = await openPair(source, {
      ...cliLoadOptions(io),
      device,
      dtype,
      trace: new TeeTraceSink([
        ...(sink !== null ? [sink] : []),
        metrics,
        ...(events !== null ? [events] : []),
      ]),
    });
    metrics.note({ loadMs: performance.now() - t0, ...heap() });
    log(
      `loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${backend.info.deviceDetail}: ` +
        `${backend.info.baseModel} | ${backend.info.ftModel}\n`,
    );
    const count = spec.suite.length;
    const nullCache = cliNullStatsCache(io.env);
    const result = await runSuite(spec, backend, {
      specPath: opts.specPath,
      specText,
      sections,
      determinism: 'best_effort',
      ...(nullCache !== undefined ? { nullCache } : {}),
      ...(io.signal !== undefined ? { signal: io.signal } : {}),
      metrics: () => {
        metrics.note(heap());
        return metrics.snapshot();
      },
      onResult: (r, i) =>
        log(
          `[${i + 1}/${count}] ${r.name} (${r.kind}): ${r.verdict.toUpperCase()} score ${fmtScore(r.score)} in ${r.durationS.toFixed(2)} s\n`,
        ),
    });
    io.out(toTerminalReport(result));
    const { json, markdown, junit, html } = opts.outputs;
    if (json !== undefined) writeOutput(json, toJsonReport(result), io.cwd);
    if (markdown !== undefined) writeOutput(markdown, toMarkdownReport(result), io.cwd);
    if (junit !== undefined) writeOutput(junit, toJunitXml(result), io.cwd);
    if (html !== undefined)
      writeOutput(
        html,
        toHtmlReport(result, events !== null ? { traceSummary: analyzeTrace(events.events) } : {}),
        io.cwd,
      );
    return { spec, result };
  } finally {
    sink?.close();
    await backend?.dispose();
  }
}

export interface GateDecision {
  passed: boolean;
  reasons: string[];
}

/** sway's gate: fail on any FAIL verdict or an overall below the threshold (0 when nothing scored). */
export function gateDecision(result: SuiteResult, threshold: number): GateDecision {
  const reasons: string[] = [];
  for (const p of result.probes) {
    if (p.verdict === 'fail')
      reasons.push(`probe ${p.name} (${p.kind}) FAILED: ${p.message || 'no message'}`);
  }
  const overall = result.score.overall;
  if (overall < threshold)
    reasons.push(`overall score ${overall.toFixed(4)} is below the threshold ${threshold}`);
  return { passed: reasons.length === 0, reasons };
}
