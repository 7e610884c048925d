import type { DifferentialBackend } from '../backend/index.ts';
import { DeltascopeError, StateError } from '../core/index.ts';
import { sectionsFromMarkdown } from '../probes/common.ts';
import type { DocSection, NullStatsCache } from '../probes/types.ts';
import { IdbNullStatsCache } from '../store/nullStatsDb.ts';
import { IdbSuiteRuns } from '../store/suiteRunDb.ts';
import { toJsonReport, toJunitXml, toMarkdownReport } from '../suite/reports/index.ts';
import { runSuite } from '../suite/runner.ts';
import { parseSuiteSpec, SpecError } from '../suite/spec.ts';
import type { SuiteResult, SuiteSpec } from '../suite/types.ts';
import type { ReportFormat, SuiteEvent, SuiteValidation } from './workbenchApi.ts';

/**
 * A suite whose pair moved to another device while it ran (the GPU circuit breaker fell back to
 * WASM) says so in its determinism notes: results before the switch come from the first device.
 */
function withDeviceNote(result: SuiteResult, from: string, to: string): SuiteResult {
  if (from === to) return result;
  const note =
    `the GPU circuit breaker moved the pair from ${from} to ${to} during the run: the probes and ` +
    `lookups finished before the switch ran on ${from}, the rest (the failed call included) on ${to}`;
  return { ...result, determinism: { ...result.determinism, notes: [...result.determinism.notes, note] } };
}

/**
 * Suites in the worker: validate a spec as the user types, run it on the loaded pair with progress
 * and cancel, and render the last result's reports. The spec's `models` are not loaded here: the
 * workbench runs the suite on the pair already open (the Model panel), and says so.
 */
export class SuiteService {
  private controller: AbortController | null = null;
  private last: SuiteResult | null = null;

  /**
   * @param nullCache where `null_adapter` keeps its statistics between runs: IndexedDB where the
   *   worker has it (a reload or another suite on the same base + adapter reads them back).
   */
  constructor(
    private readonly appBaseUrl: () => string,
    private readonly nullCache: NullStatsCache | undefined = typeof indexedDB !== 'undefined'
      ? new IdbNullStatsCache()
      : undefined,
    /** Where finished runs are kept for the Traces panel's run comparison (never throws). */
    private readonly savedRuns: Pick<IdbSuiteRuns, 'save'> | undefined = typeof indexedDB !== 'undefined'
      ? new IdbSuiteRuns()
      : undefined,
  ) {}

  validate(yamlText: string): SuiteValidation {
    try {
      const spec = parseSuiteSpec(yamlText);
      return {
        ok: true,
        issues: [],
        probes: spec.suite.map((p) => ({ name: p.name, kind: p.kind, enabled: p.enabled })),
      };
    } catch (e) {
      if (e instanceof SpecError) return { ok: false, issues: [...e.issues], probes: [] };
      throw e;
    }
  }

  get running(): boolean {
    return this.controller !== null;
  }

  async run(
    yamlText: string,
    backend: DifferentialBackend,
    onEvent: (e: SuiteEvent) => void,
  ): Promise<SuiteResult> {
    if (this.controller !== null)
      throw new StateError('A suite is already running; cancel it or wait for it to finish.');
    const spec = parseSuiteSpec(yamlText, { path: 'workbench' });
    const controller = new AbortController();
    this.controller = controller;
    const startDevice = backend.info.device;
    try {
      const sections = await this.sections(spec);
      const ran = await runSuite(spec, backend, {
        specPath: 'workbench',
        specText: yamlText,
        sections,
        signal: controller.signal,
        ...(this.nullCache !== undefined ? { nullCache: this.nullCache } : {}),
        determinism: backend.info.device === 'webgpu' ? 'loose' : 'best_effort',
        onProgress: (p) => onEvent({ type: 'progress', ...p }),
        onResult: (r, index) => onEvent({ type: 'result', index, result: r }),
      });
      const result = withDeviceNote(ran, startDevice, backend.info.device);
      this.last = result;
      // On the next task: the session adds the run's metrics to this result once it is returned.
      setTimeout(() => void this.savedRuns?.save(result), 0);
      return result;
    } finally {
      this.controller = null;
    }
  }

  cancel(): void {
    this.controller?.abort();
  }

  /** The last finished suite's result. */
  get lastResult(): SuiteResult | null {
    return this.last;
  }

  /** A result carried over from a previous worker (the page restarted the engine). */
  adopt(result: SuiteResult): void {
    this.last = result;
  }

  report(format: ReportFormat): string {
    if (this.last === null) throw new StateError('No suite has finished yet: run one first.');
    if (format === 'json') return toJsonReport(this.last);
    if (format === 'markdown') return toMarkdownReport(this.last);
    return toJunitXml(this.last);
  }

  /**
   * The document behind `dlm_source`. Specs name it relative to their file (e.g.
   * `../public/models/…`); in the browser the repo's `public/` folder is the app's root, so the part
   * after `public/` is fetched from our own origin.
   */
  private async sections(spec: SuiteSpec): Promise<DocSection[]> {
    if (spec.dlm_source === null) return [];
    const rel = spec.dlm_source.includes('public/')
      ? spec.dlm_source.split('public/').pop()!
      : spec.dlm_source;
    const url = new URL(rel.replace(/^\.?\//, ''), this.appBaseUrl()).href;
    const res = await fetch(url);
    if (!res.ok) {
      throw new DeltascopeError(
        'input/unreadable',
        `dlm_source ${spec.dlm_source}: not found at ${url} (HTTP ${res.status}).`,
        { input: spec.dlm_source },
      );
    }
    return sectionsFromMarkdown(await res.text());
  }
}
