// Browser-safe: the time ORT itself spends in `session.run`, and the biggest logits it returns.

/** The slice of an ORT `InferenceSession` this clock touches (onnxruntime-node and -web alike). */
interface RunnableSession {
  run: (...args: unknown[]) => Promise<unknown>;
}

/** The parts of an ORT output tensor read here. */
interface OutTensorLike {
  dims?: readonly number[];
  type?: string;
}

const BYTES_PER: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2 };

/**
 * Wraps the `run` of ORT sessions to sum the wall time spent inside them. Overlapping runs (two views
 * awaited together) count once: the clock measures the union of busy intervals, so "wall − ORT" is
 * exactly the time in which no session was running, i.e. deltascope's (or the naive loop's) own work.
 */
export class OrtClock {
  /** ms during which at least one wrapped session was inside `run`. */
  busyMs = 0;
  /** Calls to `run` (one per physical batch or slice of one). */
  runs = 0;
  /** Largest `logits` output seen, bytes (dims × element size); never reset. */
  peakLogitsBytes = 0;
  private active = 0;
  private since = 0;
  private readonly wrapped = new WeakSet<object>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Zeroes the busy time and run count (the peak logits size is kept for the whole device run). */
  reset(): void {
    this.busyMs = 0;
    this.runs = 0;
  }

  /** Wraps `session.run` in place; wrapping the same session twice is a no-op. */
  wrap(session: RunnableSession): void {
    if (this.wrapped.has(session)) return;
    this.wrapped.add(session);
    const original = session.run.bind(session);
    session.run = async (...args: unknown[]) => {
      this.enter();
      try {
        const out = await original(...args);
        this.noteOutputs(out);
        return out;
      } finally {
        this.leave();
      }
    };
  }

  private enter(): void {
    if (this.active++ === 0) this.since = this.now();
    this.runs++;
  }

  private leave(): void {
    if (--this.active === 0) this.busyMs += this.now() - this.since;
  }

  private noteOutputs(out: unknown): void {
    const logits = (out as Record<string, OutTensorLike> | null)?.logits;
    if (logits?.dims === undefined) return;
    const bytes = logits.dims.reduce((n, d) => n * d, 1) * (BYTES_PER[logits.type ?? 'float32'] ?? 4);
    if (bytes > this.peakLogitsBytes) this.peakLogitsBytes = bytes;
  }
}
