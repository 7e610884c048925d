import {
  isNullCalibrated,
  isScalable,
  type DifferentialBackend,
  type ScoringView,
  type ViewId,
} from '../backend/index.ts';
import type { NullAdapterOptions } from '../backend/capabilities.ts';
import type { BackendInstrumentation, TraceEvent, TraceSink } from '../core/index.ts';

/** What the failover needs from the pair host. */
export interface FailoverControl {
  /** The pair calls go to now (waits for a reload in progress; throws when there is none). */
  settled(): Promise<DifferentialBackend>;
  /**
   * Called when a call on `backend` failed: returns true when the call should run again (on the
   * same GPU while the breaker is closed, or on the fallback pair once it is loaded), false when the
   * error is not the GPU's and goes to the caller.
   */
  failed(backend: DifferentialBackend, error: unknown): Promise<boolean>;
  /** Called when a call on `backend` succeeded. */
  succeeded(backend: DifferentialBackend): void;
}

const eventKey = (e: TraceEvent): string =>
  `${e.probe ?? ''}\u0000${e.view_id}\u0000${e.op}\u0000${e.prompt_hash}\u0000${e.top_k}`;

/** One call's window on the trace: what it let through, and what its re-run must not write again. */
class CallScope {
  readonly written = new Map<string, number>();
  constructor(
    readonly viewId: string,
    readonly suppress: Map<string, number>,
  ) {}
}

/**
 * A trace sink in front of the session's sinks that keeps a re-run call from tracing twice what its
 * failed attempt already traced. The instrumentation writes an event when a lookup completes and
 * none for a lookup that failed, so a failed batch call has traced exactly the lookups that finished
 * (earlier physical batches, hits); its re-run on the fallback pair produces those keys again, and
 * this filter drops one event per key the failed attempt wrote.
 */
export class ReplayFilter implements TraceSink {
  private readonly scopes = new Set<CallScope>();
  constructor(public inner: TraceSink) {}

  openScope(viewId: string, suppress: Map<string, number>): CallScope {
    const scope = new CallScope(viewId, suppress);
    this.scopes.add(scope);
    return scope;
  }

  closeScope(scope: CallScope): void {
    this.scopes.delete(scope);
  }

  write(event: TraceEvent): void {
    if (this.scopes.size > 0) {
      const key = eventKey(event);
      for (const s of this.scopes) {
        if (s.viewId !== event.view_id) continue;
        const left = s.suppress.get(key) ?? 0;
        if (left > 0) {
          s.suppress.set(key, left - 1);
          return;
        }
      }
      for (const s of this.scopes) {
        if (s.viewId === event.view_id) s.written.set(key, (s.written.get(key) ?? 0) + 1);
      }
    }
    this.inner.write(event);
  }

  flush(): void | Promise<void> {
    return this.inner.flush?.();
  }

  close(): void | Promise<void> {
    return this.inner.close?.();
  }
}

/** Adds `more`'s counts to `into`, dropping zeros. */
function merge(into: Map<string, number>, more: Map<string, number>): Map<string, number> {
  const out = new Map([...into].filter(([, n]) => n > 0));
  for (const [k, n] of more) out.set(k, (out.get(k) ?? 0) + n);
  return out;
}

type ViewPick = (b: DifferentialBackend) => ScoringView;

/**
 * The pair as the runner, the batch and the Probe panel see it while a circuit breaker guards the
 * GPU: a stable `DifferentialBackend` whose views resolve the pair loaded *now* at every call. A call
 * that fails on the GPU is handed to the host (which counts it and, once the breaker opens, reloads
 * the pair on WASM) and then runs again, so the suite or batch in flight goes on where it stopped:
 * what finished is kept, the failed call runs again on the fallback pair, and nothing already traced
 * is traced twice (`ReplayFilter`).
 */
export class FailoverBackend implements DifferentialBackend {
  readonly base: ScoringView;
  readonly ft: ScoringView;
  private readonly filter: ReplayFilter;
  private readonly views = new Map<string, ScoringView>();

  constructor(
    private readonly control: FailoverControl,
    private readonly template: DifferentialBackend,
    private readonly current: () => DifferentialBackend,
  ) {
    this.filter = new ReplayFilter(template.instrumentation.trace);
    this.base = this.viewProxy('base', (b) => b.base);
    this.ft = this.viewProxy('ft', (b) => b.ft);
    // Capabilities are checked at run time (`isScalable`): offer what the pair offers.
    if (isScalable(template)) {
      (this as unknown as { scaledView(l: number): ScoringView }).scaledView = (lambda: number) =>
        this.cachedView(`scaled:${lambda}`, (b) => (isScalable(b) ? b.scaledView(lambda) : b.ft));
    }
    if (isNullCalibrated(template)) {
      const self = this as unknown as {
        nullView(s: number, o?: NullAdapterOptions): ScoringView;
        nullIdentity?: string;
      };
      self.nullView = (seed: number, opts?: NullAdapterOptions) =>
        this.cachedView(`null:${seed}:${JSON.stringify(opts ?? {})}`, (b) =>
          isNullCalibrated(b) ? b.nullView(seed, opts) : b.ft,
        );
      if (template.nullIdentity !== undefined) self.nullIdentity = template.nullIdentity;
    }
  }

  get instrumentation(): BackendInstrumentation {
    return this.template.instrumentation;
  }

  get info() {
    return this.current().info;
  }

  view(id: ViewId): ScoringView {
    return id === 'base' ? this.base : this.ft;
  }

  /** The pair's lifetime belongs to the host. */
  async dispose(): Promise<void> {}

  private cachedView(key: string, pick: ViewPick): ScoringView {
    let v = this.views.get(key);
    if (v === undefined) {
      v = this.viewProxy(pick(this.template).id, pick);
      this.views.set(key, v);
    }
    return v;
  }

  private readonly inflight = new Map<DifferentialBackend, Set<Promise<unknown>>>();

  private track(backend: DifferentialBackend, work: Promise<unknown>): void {
    let set = this.inflight.get(backend);
    if (set === undefined) this.inflight.set(backend, (set = new Set()));
    set.add(work);
    const done = () => {
      set.delete(work);
      if (set.size === 0) this.inflight.delete(backend);
    };
    work.then(done, done);
  }

  /**
   * Resolves once no call runs on `backend` any more (each settled, either way). The fallback waits
   * for it: onnxruntime-web runs one session call at a time through its wasm module, and a GPU run
   * still unwinding on a lost device would otherwise hand its error to the first WASM run.
   */
  async settledOn(backend: DifferentialBackend): Promise<void> {
    for (let set = this.inflight.get(backend); set !== undefined; set = this.inflight.get(backend))
      await Promise.allSettled([...set]);
  }

  /** The filter sits in front of whatever sinks the session has now (it may add one later). */
  private installFilter(): void {
    const inst = this.template.instrumentation;
    if (inst.trace !== this.filter) {
      this.filter.inner = inst.trace;
      inst.trace = this.filter;
    }
  }

  /** Runs `fn` on the pair loaded now; a GPU failure makes it run again where the host says. */
  private async run<T>(viewId: string, fn: (b: DifferentialBackend) => Promise<T>): Promise<T> {
    let suppress = new Map<string, number>();
    for (;;) {
      const backend = await this.control.settled();
      this.installFilter();
      const scope = this.filter.openScope(viewId, suppress);
      try {
        const work = fn(backend);
        this.track(backend, work);
        const value = await work;
        this.control.succeeded(backend);
        return value;
      } catch (e) {
        if (!(await this.control.failed(backend, e))) throw e;
        suppress = merge(scope.suppress, scope.written);
      } finally {
        this.filter.closeScope(scope);
      }
    }
  }

  private viewProxy(id: string, pick: ViewPick): ScoringView {
    const run = <T>(fn: (v: ScoringView) => Promise<T>) => this.run(id, (b) => fn(pick(b)));
    const view: ScoringView = {
      id,
      nextTokenDist: (prompt, opts) => run((v) => v.nextTokenDist(prompt, opts)),
      nextTokenDistBatch: (prompts, opts) => run((v) => v.nextTokenDistBatch(prompts, opts)),
      logprobOf: (prompt, completion) => run((v) => v.logprobOf(prompt, completion)),
      logprobOfBatch: (pairs) => run((v) => v.logprobOfBatch(pairs)),
      rollingLogprob: (text) => run((v) => v.rollingLogprob(text)),
      rollingLogprobBatch: (texts) => run((v) => v.rollingLogprobBatch(texts)),
      generate: (prompt, opts) => run((v) => v.generate(prompt, opts)),
      tokenize: (text) => run((v) => v.tokenize(text)),
      tokenStrings: (ids) => run((v) => v.tokenStrings(ids)),
    };
    if (pick(this.template).padStuffing !== undefined) {
      view.padStuffing = (tokens) =>
        run(async (v) => (v.padStuffing !== undefined ? v.padStuffing(tokens) : null));
    }
    return view;
  }
}
