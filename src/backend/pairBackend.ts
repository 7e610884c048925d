import { BackendInstrumentation, type TraceSink } from '../core/index.ts';
import { InstrumentedView } from './instrumentedView.ts';
import type { LogitsRunner } from './logitsRunner.ts';
import type { BackendInfo, DifferentialBackend, ScoringView, ViewId } from './types.ts';

export const DEFAULT_MAX_BATCH = 16;

export interface PairBackendOptions {
  /**
   * Share an instrumentation (e.g. to keep cumulative stats across model switches). Its cache is
   * cleared whenever it is bound to a different pair, so a result is never served for another model.
   */
  instrumentation?: BackendInstrumentation;
  trace?: TraceSink;
  cacheMaxsize?: number;
}

const boundPair = new WeakMap<BackendInstrumentation, string>();

/**
 * Binds an instrumentation to a pair identity; a different identity empties its cache first. The
 * identity is what was loaded and how: the same repo in another dtype, or on another device, computes
 * other numbers and must not answer from the first one's cache.
 */
export function bindInstrumentation(inst: BackendInstrumentation, pairId: string): void {
  const previous = boundPair.get(inst);
  if (previous !== undefined && previous !== pairId) inst.cache.clear();
  boundPair.set(inst, pairId);
}

/**
 * A base/ft pair of runners with both views behind one instrumentation. Each view owns its runner,
 * so the two cannot interfere, also under concurrent calls (there is no active-view toggle to race on,
 * unlike sway's adapter switching).
 */
export class PairBackend implements DifferentialBackend {
  readonly base: ScoringView;
  readonly ft: ScoringView;
  readonly instrumentation: BackendInstrumentation;
  private readonly cleanups: (() => void)[] = [];
  readonly info: BackendInfo;

  constructor(
    private readonly baseRunner: LogitsRunner,
    private readonly ftRunner: LogitsRunner,
    info: BackendInfo,
    opts: PairBackendOptions = {},
  ) {
    // The context window comes from the model the runners hold (the smaller, should they differ).
    const windows = [baseRunner.contextTokens, ftRunner.contextTokens].filter(
      (n): n is number => typeof n === 'number' && n > 0,
    );
    this.info = {
      ...info,
      contextTokens: info.contextTokens ?? (windows.length > 0 ? Math.min(...windows) : null),
    };
    this.instrumentation =
      opts.instrumentation ??
      new BackendInstrumentation({
        ...(opts.cacheMaxsize !== undefined ? { cacheMaxsize: opts.cacheMaxsize } : {}),
        ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
      });
    if (opts.instrumentation !== undefined && opts.trace !== undefined)
      this.instrumentation.trace = opts.trace;
    bindInstrumentation(this.instrumentation, `${info.pairId}|${info.dtype}|${info.device}`);
    this.base = new InstrumentedView('base', baseRunner, this.instrumentation, info.maxBatchSize);
    this.ft = new InstrumentedView('ft', ftRunner, this.instrumentation, info.maxBatchSize);
  }

  view(id: ViewId): ScoringView {
    return id === 'base' ? this.base : this.ft;
  }

  /** Runs `cleanup` when the pair is disposed (e.g. unmounting its files, stopping a device watch). */
  onDispose(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  async dispose(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    await Promise.all([this.baseRunner.dispose(), this.ftRunner.dispose()]);
  }
}
